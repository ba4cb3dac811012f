import { describe, expect, it } from 'vitest';
import { renderHtml } from './report-html.ts';
import { judgeTargets, renderTerminal } from './report-terminal.ts';
import { benchReportSchema, type BenchReport } from './results-schema.ts';
import { median, sealdropFirst } from './small-files.ts';

const MiB = 1024 * 1024;

function sampleReport(): BenchReport {
  const point = (sizeBytes: number, up: [number, number], down: [number, number]) => ({
    sizeBytes,
    repeats: 3,
    rawAesGcm: 300,
    sealOnly: 250,
    sealFormat: 320,
    plainUpload: up[0],
    plainUploadDirect: up[0] * 1.1,
    sealUpload: up[1],
    plainDownload: down[0],
    openDownload: down[1],
  });
  const heap = { jsHeapAndBuffersBytes: 100 * MiB, jsHeapBytes: 50 * MiB, baselineBytes: 10 * MiB, samples: 10 };
  const base: Omit<BenchReport, 'targets'> = {
    schemaVersion: 1,
    mode: 'smoke',
    date: '2026-12-02T13:00:00.000Z',
    sizeBytes: 16 * MiB,
    ratios: {
      sealUploadVsPlainUpload: 0.5,
      openDownloadVsPlainDownload: 1.2,
      sealVsRawAesGcm: 0.83,
      sealFormatVsRawAesGcm: 1.07,
      sealUploadVsPlainUploadBySize: { [String(MiB)]: 0.8, [String(16 * MiB)]: 0.5 },
      openDownloadVsPlainDownloadBySize: { [String(MiB)]: 1.1, [String(16 * MiB)]: 1.2 },
    },
    manyFiles: {
      seed: 19_100,
      files: 4,
      minBytes: 16 * 1024,
      maxBytes: 256 * 1024,
      totalBytes: 600_000,
      sdkInFlight: 4,
      appParallelFiles: 2,
      repeats: 3,
      sealdrop: { medianMs: 400, filesPerSecond: 10, mibps: 1.43, samplesMs: [400, 420, 390] },
      sdk: { medianMs: 200, filesPerSecond: 20, mibps: 2.86, samplesMs: [200, 210, 190] },
      ratioFilesPerSecond: 0.5,
      ratioSamples: [0.5, 0.5, 0.49],
    },
    smallFileLatencyMs: {
      sizeBytes: 1024,
      seed: 19_001,
      samples: 3,
      sealdrop: { medianMs: 30, samplesMs: [30, 31, 29] },
      sdk: { medianMs: 12, samplesMs: [12, 13, 11] },
      ratio: 2.5,
    },
    throughputMiBps: { rawAesGcm: 300, sealOnly: 250, sealFormat: 320, plainUpload: 40, plainUploadDirect: 44, sealUpload: 20, plainDownload: 100, openDownload: 120 },
    peakHeapBytes: { upload: 100 * MiB, download: 90 * MiB },
    heap: { sealUpload: heap, openDownload: heap, plainUpload: heap, plainDownload: heap },
    identityKeygen: { medianMs: 120, samplesMs: [120] },
    passphraseKdf: { medianMs: 400, samplesMs: [400], params: 'scrypt N=2^17 r=8 p=1' },
    shellGzipBytes: 57 * 1024,
    shell: { gzipLevel: 9, initial: [], lazy: [], otherEntries: [] },
    series: [point(MiB, [25, 20], [60, 66]), point(16 * MiB, [40, 20], [100, 120])],
    params: { segmentSize: 262144, segmentsPerBlock: 64, concurrency: 4, downloadConcurrency: 4, blockBytes: 16 * MiB, source: 'app defaults' },
    correctness: [],
    sealdropApi: 'sendFile',
    machine: { cores: 2, totalMemBytes: 8 * 1024 * MiB, platform: 'linux x64', node: '20', chromium: '156', userAgent: 'test' },
  };
  return { ...base, targets: judgeTargets(base) };
}

describe('bench report JSON', () => {
  it('accepts a report with the by-size ratios, manyFiles and smallFileLatencyMs', () => {
    const parsed = benchReportSchema.parse(JSON.parse(JSON.stringify(sampleReport())));
    expect(parsed.ratios.sealUploadVsPlainUploadBySize).toEqual({ '1048576': 0.8, '16777216': 0.5 });
    expect(parsed.manyFiles.ratioFilesPerSecond).toBe(0.5);
    expect(parsed.smallFileLatencyMs.ratio).toBe(2.5);
  });

  it('refuses a report without manyFiles, naming the field', () => {
    const { manyFiles: _m, ...rest } = sampleReport();
    const result = benchReportSchema.safeParse(rest);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path.join('.'))).toContain('manyFiles');
  });

  it('refuses a by-size ratio keyed by something that is not a byte count', () => {
    const r = sampleReport();
    const bad = { ...r, ratios: { ...r.ratios, openDownloadVsPlainDownloadBySize: { '1 MiB': 1.1 } } };
    const result = benchReportSchema.safeParse(JSON.parse(JSON.stringify(bad)));
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path.slice(0, 2)).toEqual(['ratios', 'openDownloadVsPlainDownloadBySize']);
  });

  it('refuses a report without smallFileLatencyMs, naming the field', () => {
    const { smallFileLatencyMs: _l, ...rest } = sampleReport();
    const result = benchReportSchema.safeParse(rest);
    expect(result.error?.issues.map((i) => i.path.join('.'))).toContain('smallFileLatencyMs');
  });
});

describe('bench report tables', () => {
  it('shows every size for upload and download with both sides and the ratio', () => {
    const text = renderTerminal(sampleReport());
    expect(text).toMatch(/^1 MiB\s+25\.0\s+20\.0\s+0\.800 ×\s+3$/m);
    expect(text).toMatch(/^16 MiB\s+40\.0\s+20\.0\s+0\.500 ×\s+3$/m);
    expect(text).toMatch(/^1 MiB\s+60\.0\s+66\.0\s+1\.100 ×\s+3$/m);
    expect(text).toMatch(/^16 MiB\s+100\.0\s+120\.0\s+1\.200 ×\s+3$/m);
  });

  it('shows the many-files and latency rows and judges them', () => {
    const r = sampleReport();
    const text = renderTerminal(r);
    expect(text).toContain('Many files: 4 files, 16 KiB–256 KiB (seed 19100');
    expect(text).toMatch(/SDK uploadData, 4 in flight\s+200 ms\s+20\.0\s+2\.9/);
    expect(text).toMatch(/ratio \(Sealdrop ÷ SDK, lower is better\)\s+2\.500 ×/);
    const many = r.targets.find((t) => t.name.startsWith('many files'));
    expect(many).toEqual({ name: "many files (4): Sealdrop files/s vs the SDK's", target: '≥ 1.00 ×', value: '0.500 ×', met: false });
    const latency = r.targets.find((t) => t.name.includes('latency'));
    expect(latency?.met).toBe(false);
    expect(latency?.value).toBe('2.500 ×');
  });

  it('draws the ratio chart and the new rows in the HTML page', () => {
    const html = renderHtml(sampleReport());
    expect(html).toContain('aria-label="Sealdrop ÷ plain (1 = no cost)"');
    expect(html).toContain('aria-label="Many files and small-file latency"');
    expect(html).toContain('4 files: SDK files/s (4 in flight)');
    expect(html).not.toContain('NaN');
  });
});

describe('bench helpers', () => {
  it('takes the median of the finite values', () => {
    expect(median([3, 1, Number.NaN, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });

  it('alternates which side goes first', () => {
    expect([0, 1, 2, 3].map(sealdropFirst)).toEqual([true, false, true, false]);
  });
});
