/**
 * The plain-text table `npm run bench` prints, and the target checks it shows.
 */
import { formatSize } from './options.ts';
import type { BenchReport, TargetResult } from './results-schema.ts';

const MiB = 1024 * 1024;

/**
 * Returns issue #7's targets judged against this run: seal+upload ≥ 0.9 ×
 * plain, download+open ≥ 0.9 × plain, seal ≥ 0.8 × raw AES-GCM, peak heap
 * < 256 MiB (only judged for runs of at least 1 GiB), shell ≤ 100 KiB gzipped.
 */
export function judgeTargets(r: Omit<BenchReport, 'targets'>): TargetResult[] {
  const ratio = (name: string, value: number, min: number): TargetResult => ({
    name,
    target: `≥ ${min.toFixed(2)} ×`,
    value: `${value.toFixed(3)} ×`,
    met: value >= min,
  });
  const heapNote = r.sizeBytes >= 1024 * MiB ? '' : ` (at ${formatSize(r.sizeBytes)}; the target is for 1 GiB and 4 GiB)`;
  const heap = (name: string, bytes: number): TargetResult => ({
    name,
    target: '< 256 MiB',
    value: `${(bytes / MiB).toFixed(1)} MiB${heapNote}`,
    met: bytes < 256 * MiB,
  });
  return [
    ratio('seal+upload vs plain SDK upload', r.ratios.sealUploadVsPlainUpload, 0.9),
    ratio('download+open vs plain download', r.ratios.openDownloadVsPlainDownload, 0.9),
    ratio('seal only vs raw AES-GCM', r.ratios.sealVsRawAesGcm, 0.8),
    heap('peak JS heap, seal+upload', r.peakHeapBytes.upload),
    heap('peak JS heap, download+open', r.peakHeapBytes.download),
    {
      name: 'app shell JavaScript, gzipped (sign-in page)',
      target: '≤ 100 KiB',
      value: `${(r.shellGzipBytes / 1024).toFixed(1)} KiB`,
      met: r.shellGzipBytes <= 100 * 1024,
    },
    ...r.series.map((pt) => ratio(`seal+upload vs plain SDK upload at ${formatSize(pt.sizeBytes)} (issue 19)`, pt.sealUpload / pt.plainUpload, 1)),
    ...r.series.map((pt) => ratio(`download+open vs plain download at ${formatSize(pt.sizeBytes)} (issue 19)`, pt.openDownload / pt.plainDownload, 1)),
    ratio(`many files (${r.manyFiles.files}): Sealdrop files/s vs the SDK's`, r.manyFiles.ratioFilesPerSecond, 1),
    {
      name: `${formatSize(r.smallFileLatencyMs.sizeBytes)} latency, Sealdrop vs the SDK`,
      target: '≤ 1.50 ×',
      value: `${r.smallFileLatencyMs.ratio.toFixed(3)} ×`,
      met: r.smallFileLatencyMs.ratio <= 1.5,
    },
    ...(r.shell.firstScreens ?? []).slice(1).map((s) => ({
      name: `first screen JavaScript, gzipped: ${s.screen}`,
      target: '≤ 100 KiB',
      value: `${(s.gzipBytes / 1024).toFixed(1)} KiB`,
      met: s.gzipBytes <= 100 * 1024,
    })),
  ];
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length))) ?? [];
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n');
}

/** Returns the report as plain text tables for the terminal (and for bench/PERFORMANCE.md). */
export function renderTerminal(r: BenchReport): string {
  const f = (n: number): string => n.toFixed(1);
  const series = table([
    ['size', 'raw AES-GCM', 'seal only', 'seal, format only', 'plain upload', 'seal+upload', 'plain download', 'download+open', 'runs'],
    ...r.series.map((p) => [
      formatSize(p.sizeBytes),
      f(p.rawAesGcm),
      f(p.sealOnly),
      f(p.sealFormat),
      f(p.plainUpload),
      f(p.sealUpload),
      f(p.plainDownload),
      f(p.openDownload),
      String(p.repeats),
    ]),
  ]);
  const x = (n: number): string => `${n.toFixed(3)} ×`;
  const upload = table([
    ['size', 'plain SDK upload', 'seal+upload', 'ratio', 'runs'],
    ...r.series.map((p) => [formatSize(p.sizeBytes), f(p.plainUpload), f(p.sealUpload), x(p.sealUpload / p.plainUpload), String(p.repeats)]),
  ]);
  const download = table([
    ['size', 'plain streamed GET', 'download+open', 'ratio', 'runs'],
    ...r.series.map((p) => [formatSize(p.sizeBytes), f(p.plainDownload), f(p.openDownload), x(p.openDownload / p.plainDownload), String(p.repeats)]),
  ]);
  const m = r.manyFiles;
  const lat = r.smallFileLatencyMs;
  const many = table([
    ['many files', 'wall time', 'files/s', 'MiB/s', 'samples (ms)'],
    [`Sealdrop (app upload queue, ${m.appParallelFiles} files at once)`, `${m.sealdrop.medianMs.toFixed(0)} ms`, f(m.sealdrop.filesPerSecond), f(m.sealdrop.mibps), m.sealdrop.samplesMs.map((v) => v.toFixed(0)).join(' ')],
    [`SDK uploadData, ${m.sdkInFlight} in flight`, `${m.sdk.medianMs.toFixed(0)} ms`, f(m.sdk.filesPerSecond), f(m.sdk.mibps), m.sdk.samplesMs.map((v) => v.toFixed(0)).join(' ')],
    ['ratio (median of per-run ratios)', '', x(m.ratioFilesPerSecond), '', m.ratioSamples.map((v) => v.toFixed(3)).join(' ')],
  ]);
  const latency = table([
    [`${formatSize(lat.sizeBytes)} file latency`, 'median', 'samples (ms)'],
    ['Sealdrop (drop → sealed and uploaded)', `${f(lat.sealdrop.medianMs)} ms`, lat.sealdrop.samplesMs.map((v) => v.toFixed(0)).join(' ')],
    ['SDK uploadData', `${f(lat.sdk.medianMs)} ms`, lat.sdk.samplesMs.map((v) => v.toFixed(0)).join(' ')],
    ['ratio (Sealdrop ÷ SDK, lower is better)', x(lat.ratio), ''],
  ]);
  const targets = table([
    ['target', 'goal', 'measured', 'result'],
    ...r.targets.map((t) => [t.name, t.target, t.value, t.met ? 'met' : 'NOT MET']),
  ]);
  const heap = table([
    ['operation', 'peak heap+buffers', 'peak JS heap', 'baseline'],
    ...(
      [
        ['seal+upload', r.heap.sealUpload],
        ['plain upload', r.heap.plainUpload],
        ['download+open', r.heap.openDownload],
        ['plain download', r.heap.plainDownload],
      ] as const
    ).map(([name, h]) => [
      name,
      `${f(h.jsHeapAndBuffersBytes / MiB)} MiB`,
      `${f(h.jsHeapBytes / MiB)} MiB`,
      `${f(h.baselineBytes / MiB)} MiB`,
    ]),
  ]);
  const p = r.params;
  return [
    `Sealdrop bench (${r.mode}), ${r.date}, ${r.machine.cores} cores, Chromium ${r.machine.chromium}, Node ${r.machine.node}`,
    `Sealdrop side: ${r.sealdropApi}`,
    `Parameters (${p.source}): segment ${formatSize(p.segmentSize)}, ${p.segmentsPerBlock} segments per block (${formatSize(p.blockBytes)}), ${p.concurrency} blocks in flight`,
    '',
    'Throughput, MiB/s of plaintext (median of runs):',
    series,
    '',
    'Upload, MiB/s at every size (ratio = seal+upload ÷ plain):',
    upload,
    '',
    'Download, MiB/s at every size (ratio = download+open ÷ plain):',
    download,
    '',
    `Many files: ${m.files} files, ${formatSize(m.minBytes)}–${formatSize(m.maxBytes)} (seed ${m.seed}, ${formatSize(m.totalBytes)} in all), dropped at once, ` +
      `until every file is done; median of ${m.repeats} alternating runs:`,
    many,
    '',
    `Small-file latency: one ${formatSize(lat.sizeBytes)} file (seed ${lat.seed}), ${lat.samples} samples per side, alternating:`,
    latency,
    '',
    `Heap at ${formatSize(r.sizeBytes)} (CDP Runtime.getHeapUsage every 50 ms):`,
    heap,
    '',
    `Identity key generation (RSA-OAEP-3072 + ECDSA P-256): ${f(r.identityKeygen.medianMs)} ms median of ${r.identityKeygen.samplesMs.length}`,
    `Passphrase KDF at default parameters (${r.passphraseKdf.params}): ${f(r.passphraseKdf.medianMs)} ms median of ${r.passphraseKdf.samplesMs.length}`,
    `App shell: ${(r.shellGzipBytes / 1024).toFixed(1)} KiB gzipped JS (level ${r.shell.gzipLevel}) in ${r.shell.initial.map((c) => c.file).join(', ')}`,
    ...(r.shell.firstScreens ?? []).map((s) => `  first screen "${s.screen}": ${(s.gzipBytes / 1024).toFixed(1)} KiB gzipped in ${s.files.join(', ')}`),
    ...r.shell.lazy.map((c) => `  lazy ${c.file}: ${(c.gzipBytes / 1024).toFixed(1)} KiB gzipped`),
    ...r.shell.otherEntries.map((c) => `  other entry ${c.file}: ${(c.gzipBytes / 1024).toFixed(1)} KiB gzipped`),
    '',
    'Targets (the bench never fails on these):',
    targets,
    '',
    Number.isFinite(r.throughputMiBps.plainUploadDirect)
      ? `Local storage proxy (both sides above go through it): plain upload ${f(r.throughputMiBps.plainUpload)} MiB/s through it vs ` +
        `${f(r.throughputMiBps.plainUploadDirect)} MiB/s straight to Azurite (${(r.throughputMiBps.plainUpload / r.throughputMiBps.plainUploadDirect).toFixed(3)} ×)`
      : 'Local storage proxy: not measured (a running endpoint was given)',
    '',
    r.progressCost === undefined
      ? 'Progress cost: not measured'
      : `Progress cost (not judged): ${formatSize(r.progressCost.sizeBytes)} as ${formatSize(r.progressCost.blockBytes)} Put Blocks, ` +
        `${r.progressCost.inFlight} in flight, through the app's putBlock: XHR with progress ${f(r.progressCost.xhrMiBps)} MiB/s vs fetch ` +
        `${f(r.progressCost.fetchMiBps)} MiB/s = ${r.progressCost.ratio.toFixed(3)} × (median of ${r.progressCost.repeats}; ` +
        `${r.progressCost.xhrEvents} progress events)`,
    '',
    'Not judged, explains "seal only": seal, format only (crypto core seal stream, same 16 MiB reads, no request bodies)',
    `vs raw AES-GCM: ${r.ratios.sealFormatVsRawAesGcm.toFixed(3)} × (${f(r.throughputMiBps.sealFormat)} vs ${f(r.throughputMiBps.rawAesGcm)} MiB/s; ` +
      `seal only through sendFile: ${f(r.throughputMiBps.sealOnly)} MiB/s)`,
  ].join('\n');
}
