/**
 * The HTML page of a bench run: static SVG charts of throughput against file
 * size (plain vs sealed: upload, download, encryption) and the terminal's tables.
 * No scripts: the chart is drawn here, in Node.
 */
import { formatSize } from './options.ts';
import type { BenchReport, SeriesPoint } from './results-schema.ts';
import { renderTerminal } from './report-terminal.ts';

const W = 460;
const H = 320;
// Room above the plot for the title and a legend of up to three lines, so lines never cross it.
const PAD = { left: 56, right: 16, top: 88, bottom: 48 };

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

interface Line {
  label: string;
  color: string;
  dashed: boolean;
  pick: (p: SeriesPoint) => number;
}

function panel(title: string, series: SeriesPoint[], lines: Line[], unit = 'MiB/s'): string {
  const xs = series.map((p) => Math.log2(p.sizeBytes));
  const minX = Math.min(...xs);
  const maxX = Math.max(...xs, minX + 1);
  const maxY = Math.max(1, ...series.flatMap((p) => lines.map((l) => l.pick(p)))) * 1.1;
  const x = (v: number): number => PAD.left + ((v - minX) / (maxX - minX)) * (W - PAD.left - PAD.right);
  const y = (v: number): number => H - PAD.bottom - (v / maxY) * (H - PAD.top - PAD.bottom);

  const parts: string[] = [];
  parts.push(`<text x="${W / 2}" y="20" text-anchor="middle" font-weight="bold">${escapeHtml(title)}</text>`);
  const step = maxY > 400 ? 100 : maxY > 150 ? 50 : maxY > 40 ? 10 : maxY > 8 ? 5 : maxY > 2 ? 0.5 : 0.25;
  for (let v = 0; v <= maxY; v += step) {
    parts.push(`<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`);
    parts.push(`<text x="${PAD.left - 6}" y="${y(v) + 4}" text-anchor="end" font-size="11">${v}</text>`);
  }
  for (const p of series) {
    const px = x(Math.log2(p.sizeBytes));
    parts.push(`<text x="${px}" y="${H - PAD.bottom + 16}" text-anchor="middle" font-size="11">${formatSize(p.sizeBytes)}</text>`);
  }
  parts.push(`<text x="${W / 2}" y="${H - 8}" text-anchor="middle" font-size="12">file size (log scale)</text>`);
  parts.push(
    `<text x="14" y="${H / 2}" text-anchor="middle" font-size="12" transform="rotate(-90 14 ${H / 2})">${escapeHtml(unit)}</text>`,
  );
  lines.forEach((line, i) => {
    const points = series.map((p) => `${x(Math.log2(p.sizeBytes)).toFixed(1)},${y(line.pick(p)).toFixed(1)}`);
    const dash = line.dashed ? ' stroke-dasharray="6 4"' : '';
    parts.push(`<polyline fill="none" stroke="${line.color}" stroke-width="2"${dash} points="${points.join(' ')}"/>`);
    for (const pt of points) {
      const [cx, cy] = pt.split(',');
      parts.push(`<circle cx="${cx}" cy="${cy}" r="3" fill="${line.color}"/>`);
    }
    const ly = 36 + i * 16;
    parts.push(`<line x1="${PAD.left + 10}" x2="${PAD.left + 34}" y1="${ly}" y2="${ly}" stroke="${line.color}" stroke-width="2"${dash}/>`);
    parts.push(`<text x="${PAD.left + 40}" y="${ly + 4}" font-size="12">${escapeHtml(line.label)}</text>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${escapeHtml(title)}" font-family="system-ui, sans-serif">${parts.join('')}</svg>`;
}

/** Horizontal bars, each scaled within its unit (files/s bars against each other, ms bars against each other). */
function bars(items: { label: string; value: number; unit: string; color: string }[]): string {
  const rowH = 26;
  const width = 640;
  const labelW = 300;
  const maxOf = (unit: string): number => Math.max(1e-9, ...items.filter((i) => i.unit === unit).map((i) => (Number.isFinite(i.value) ? i.value : 0)));
  const parts = items.map((item, i) => {
    const y = 8 + i * rowH;
    const v = Number.isFinite(item.value) ? item.value : 0;
    const w = (v / maxOf(item.unit)) * (width - labelW - 90);
    return (
      `<text x="0" y="${y + 14}" font-size="12">${escapeHtml(item.label)}</text>` +
      `<rect x="${labelW}" y="${y}" width="${w.toFixed(1)}" height="18" fill="${item.color}"/>` +
      `<text x="${(labelW + w + 6).toFixed(1)}" y="${y + 14}" font-size="12">${item.value.toFixed(1)} ${escapeHtml(item.unit)}</text>`
    );
  });
  const h = 16 + items.length * rowH;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${h}" viewBox="0 0 ${width} ${h}" role="img" aria-label="Many files and small-file latency" font-family="system-ui, sans-serif">${parts.join('')}</svg>`;
}

/** Returns a self-contained HTML page for the report (no scripts, no external resources). */
export function renderHtml(r: BenchReport): string {
  const upload = panel('Upload', r.series, [
    { label: 'plain (SDK uploadData)', color: '#777', dashed: true, pick: (p) => p.plainUpload },
    { label: 'Sealdrop seal+upload', color: '#1f5fbf', dashed: false, pick: (p) => p.sealUpload },
  ]);
  const download = panel('Download', r.series, [
    { label: 'plain (streamed GET)', color: '#777', dashed: true, pick: (p) => p.plainDownload },
    { label: 'Sealdrop download+open', color: '#1f8f4f', dashed: false, pick: (p) => p.openDownload },
  ]);
  const encryption = panel('Encryption (no network)', r.series, [
    { label: 'raw AES-GCM', color: '#777', dashed: true, pick: (p) => p.rawAesGcm },
    { label: 'seal, format only', color: '#b5651d', dashed: false, pick: (p) => p.sealFormat },
    { label: 'seal only (sendFile)', color: '#1f5fbf', dashed: false, pick: (p) => p.sealOnly },
  ]);
  const ratios = panel(
    'Sealdrop ÷ plain (1 = no cost)',
    r.series,
    [
      { label: 'even (1 ×)', color: '#777', dashed: true, pick: () => 1 },
      { label: 'seal+upload ÷ SDK upload', color: '#1f5fbf', dashed: false, pick: (p) => p.sealUpload / p.plainUpload },
      { label: 'download+open ÷ plain GET', color: '#1f8f4f', dashed: false, pick: (p) => p.openDownload / p.plainDownload },
    ],
    'ratio',
  );
  const rows = bars([
    { label: `${r.manyFiles.files} files: Sealdrop files/s`, value: r.manyFiles.sealdrop.filesPerSecond, unit: 'files/s', color: '#1f5fbf' },
    { label: `${r.manyFiles.files} files: SDK files/s (${r.manyFiles.sdkInFlight} in flight)`, value: r.manyFiles.sdk.filesPerSecond, unit: 'files/s', color: '#777' },
    { label: `${formatSize(r.smallFileLatencyMs.sizeBytes)} latency: Sealdrop`, value: r.smallFileLatencyMs.sealdrop.medianMs, unit: 'ms', color: '#1f5fbf' },
    { label: `${formatSize(r.smallFileLatencyMs.sizeBytes)} latency: SDK`, value: r.smallFileLatencyMs.sdk.medianMs, unit: 'ms', color: '#777' },
  ]);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Sealdrop bench ${escapeHtml(r.date)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
.charts { display: flex; flex-wrap: wrap; gap: 1rem; }
pre { background: #f6f6f6; padding: 1rem; overflow-x: auto; }
</style>
</head>
<body>
<h1>Sealdrop bench</h1>
<p>Throughput of plaintext bytes against file size, headless Chromium, one run (${escapeHtml(r.mode)}).</p>
<div class="charts">${upload}${download}${ratios}${encryption}</div>
<h2>Many files and small-file latency</h2>
<p>Many files: ${r.manyFiles.files} files dropped at once, Sealdrop ${r.manyFiles.ratioFilesPerSecond.toFixed(3)} × the SDK's files/s (median of ${r.manyFiles.repeats} alternating runs).
${escapeHtml(formatSize(r.smallFileLatencyMs.sizeBytes))} latency: Sealdrop ${r.smallFileLatencyMs.ratio.toFixed(3)} × the SDK's (median of ${r.smallFileLatencyMs.samples}; lower is better).</p>
${rows}
<pre>${escapeHtml(renderTerminal(r))}</pre>
</body>
</html>
`;
}
