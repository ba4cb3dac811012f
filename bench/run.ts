/**
 * `npm run bench`: Sealdrop's performance report (issue #7).
 *
 * Starts a fresh Azurite on disk, builds the bench page and the app, drives
 * headless Chromium and measures, in one run and on the same bytes, raw
 * AES-GCM vs seal-only, the SDK's plain upload vs seal-and-upload, a plain
 * streamed download vs download-and-open, the heap during each, identity key
 * generation, the passphrase KDF and the app shell's gzipped JavaScript.
 * Writes JSON (`--out`), an HTML page with a chart beside it, and a table on
 * stdout. Exits 1 only when a correctness check fails (round trips, finite
 * ratios, the JSON's fields); performance targets are reported, never fatal.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { chromium } from 'playwright';
import { chromiumArgs, chromiumPath } from '../tests/chromium.ts';
import { openBenchStorage, type BenchStorage } from './bench-storage.ts';
import { buildApp, buildBenchPage } from './builds.ts';
import { runDriveBench } from './drive-bench.ts';
import { formatSize, parseOptions, type BenchOptions } from './options.ts';
import { PageDriver, type Measured } from './page-driver.ts';
import { renderHtml } from './report-html.ts';
import { judgeTargets, renderTerminal } from './report-terminal.ts';
import {
  benchReportSchema,
  type BenchReport,
  type HeapPeak,
  type ManyFilesResult,
  type ProgressCost,
  type SeriesPoint,
  type SmallFileLatency,
  type TransferParams,
} from './results-schema.ts';
import { measureShell, type ShellSize } from './shell-size.ts';
import { writeRandomFile } from './source-file.ts';
import { serveStatic } from './static-server.ts';
import { runTune } from './tune.ts';
import { runBreakdown } from './breakdown.ts';
import { APP_PARALLEL_FILES, LATENCY, MANY_FILES, measureManyFiles, measureSmallFileLatency, SDK_FILES_IN_FLIGHT } from './small-files.ts';

const PORTS = { from: 17600, to: 17699 };
const MiB = 1024 * 1024;
/** Sizes up to this are repeated (`--repeats`); bigger ones run once. */
const REPEAT_LIMIT = 128 * MiB;

type OpName = 'rawAesGcm' | 'sealOnly' | 'sealFormat' | 'plainUpload' | 'plainUploadDirect' | 'sealUpload' | 'plainDownload' | 'openDownload';

/** A correctness check of the run. */
interface Check {
  name: string;
  passed: boolean;
  detail: string;
}

function log(line: string): void {
  process.stderr.write(`bench: ${line}\n`);
}

function median(values: number[]): number {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? Number.NaN) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

function mibps(m: Measured): number {
  return m.result.bytes / MiB / (m.result.ms / 1000);
}

function message(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0] ?? error.name : String(error);
}

/** Everything measured at one size. */
interface SizeRun {
  point: SeriesPoint;
  heap: Record<OpName, HeapPeak | undefined>;
}

/** The progress-cost comparison runs on at most this many bytes (it measures a per-request cost, not a size curve). */
const PROGRESS_COST_MAX_BYTES = 256 * MiB;

/**
 * XHR with upload progress vs fetch, on the same Put Blocks of the same
 * file to the same Azurite, alternating which goes first; medians of the
 * repeats. Pushes a check that both ran and the XHR side saw progress
 * events. Returns undefined when a side failed.
 */
async function measureProgressCost(ctx: RunContext, sizeBytes: number): Promise<ProgressCost | undefined> {
  const { driver, storage, params, opts, checks, tempDir } = ctx;
  const blockBytes = params.segmentSize * params.segmentsPerBlock;
  log(`progress cost: ${formatSize(sizeBytes)} as ${formatSize(blockBytes)} Put Blocks, XHR with progress vs fetch`);
  const sourcePath = join(tempDir, `progress-${sizeBytes}.bin`);
  await writeRandomFile(sourcePath, sizeBytes);
  await driver.useSourceFile(sourcePath, sizeBytes);
  const repeats = opts.smoke ? 1 : Math.max(3, opts.repeats);
  const xhr: number[] = [];
  const plain: number[] = [];
  let events = 0;
  try {
    for (let rep = 0; rep < repeats; rep++) {
      const order = rep % 2 === 0 ? [true, false] : [false, true];
      for (const withProgress of order) {
        const r = await driver.progressCost(storage.plainUrl(withProgress ? 'progress-xhr' : 'progress-fetch'), blockBytes, params.concurrency, withProgress);
        (withProgress ? xhr : plain).push(r.mibps);
        if (withProgress) events = r.events;
      }
      await storage.deleteAll();
    }
  } catch (error) {
    checks.push({ name: 'progress cost measured', passed: false, detail: message(error) });
    return undefined;
  } finally {
    await driver.dropData();
    await rm(sourcePath, { force: true });
  }
  const result: ProgressCost = {
    sizeBytes,
    blockBytes,
    inFlight: params.concurrency,
    xhrMiBps: median(xhr),
    fetchMiBps: median(plain),
    ratio: median(xhr) / median(plain),
    xhrEvents: events,
    repeats,
  };
  checks.push({
    name: 'progress cost measured (ratio finite and positive, XHR side saw progress events)',
    passed: Number.isFinite(result.ratio) && result.ratio > 0 && events > 0,
    detail: `${result.ratio} (${events} events)`,
  });
  return result;
}

/** What every size's measurement shares. */
interface RunContext {
  driver: PageDriver;
  storage: BenchStorage;
  params: TransferParams;
  opts: BenchOptions;
  checks: Check[];
  tempDir: string;
}

async function measureSize(ctx: RunContext, sizeBytes: number, sizeIndex: number): Promise<SizeRun> {
  const { driver, storage, params, opts, checks, tempDir } = ctx;
  const label = formatSize(sizeBytes);
  log(`${label}: writing the test file`);
  const sourcePath = join(tempDir, `source-${sizeBytes}.bin`);
  const sourceSha = await writeRandomFile(sourcePath, sizeBytes);
  await driver.useSourceFile(sourcePath, sizeBytes);
  const speeds: Record<OpName, number[]> = {
    rawAesGcm: [], sealOnly: [], sealFormat: [], plainUpload: [], plainUploadDirect: [], sealUpload: [], plainDownload: [], openDownload: [],
  };
  const heap: Record<OpName, HeapPeak | undefined> = {
    rawAesGcm: undefined, sealOnly: undefined, sealFormat: undefined, plainUpload: undefined, plainUploadDirect: undefined, sealUpload: undefined, plainDownload: undefined, openDownload: undefined,
  };
  const failed = new Set<OpName>();
  const firstOpen = (side: string, m: Measured): void => {
    const ok = m.result.sha256 === sourceSha && m.result.bytes === sizeBytes;
    checks.push({
      name: `${side} round trip at ${label} byte-identical (first open)`,
      passed: ok,
      detail: ok ? 'SHA-256 matches' : `got ${m.result.bytes} bytes, SHA-256 ${m.result.sha256 ?? 'none'}`,
    });
  };
  const run = async (name: OpName, op: () => Promise<Measured>, check?: (m: Measured) => void): Promise<void> => {
    try {
      const m = await op();
      check?.(m);
      speeds[name].push(mibps(m));
      const prev = heap[name];
      if (prev === undefined || m.heap.jsHeapAndBuffersBytes > prev.jsHeapAndBuffersBytes) heap[name] = m.heap;
    } catch (error) {
      failed.add(name);
      checks.push({ name: `${name} at ${label} runs`, passed: false, detail: message(error) });
    }
  };

  const repeats = sizeBytes <= REPEAT_LIMIT ? opts.repeats : 1;
  let plainUrl = '';
  let sealedKey = '';
  for (let rep = 0; rep < repeats; rep++) {
    // Alternate which side goes first, so neither always meets a warm or cold Azurite.
    const plainFirst = (rep + sizeIndex) % 2 === 0;
    const pair = async (plain: () => Promise<void>, sealed: () => Promise<void>): Promise<void> => {
      if (plainFirst) {
        await plain();
        await sealed();
      } else {
        await sealed();
        await plain();
      }
    };
    plainUrl = storage.plainUrl(`${sizeIndex}-${rep}`);
    sealedKey = `${sizeIndex}-${rep}`;
    const urls = storage.sealedUrls();
    const key = sealedKey;
    const url = plainUrl;
    log(`${label}: run ${rep + 1}/${repeats}`);
    // Raw AES-GCM runs once per repetition, between its two sealed peers, and
    // the judged pair (raw, seal only) keeps its alternating order; the
    // format-only seal sits on raw's other side, so it alternates too.
    const raw = (): Promise<void> => run('rawAesGcm', () => driver.rawAesGcm());
    const sealOnly = (): Promise<void> => run('sealOnly', () => driver.sealOnly(params));
    const sealFormat = (): Promise<void> => run('sealFormat', () => driver.sealFormat());
    for (const op of plainFirst ? [sealFormat, raw, sealOnly] : [sealOnly, raw, sealFormat]) await op();
    // What the storage proxy costs: the plain upload once more, past the proxy,
    // next to its proxied twin (before it or after it, alternating).
    const directUrl = storage.directPlainUrl(`${sizeIndex}-${rep}`);
    const plainDirect = async (): Promise<void> => {
      if (directUrl !== undefined) await run('plainUploadDirect', () => driver.plainUpload(directUrl));
    };
    const plainBoth = async (): Promise<void> => {
      for (const op of plainFirst ? [() => run('plainUpload', () => driver.plainUpload(url)), plainDirect] : [plainDirect, () => run('plainUpload', () => driver.plainUpload(url))]) {
        await op();
      }
    };
    await pair(plainBoth, () => run('sealUpload', () => driver.sealUpload(key, urls, params)));
    // A smoke run checks correctness only, so it hashes in the timed pass too:
    // that is the first open of each file.
    const hash = opts.smoke;
    await pair(
      () => run('plainDownload', () => driver.plainDownload(url, hash), hash ? (m) => firstOpen('plain', m) : undefined),
      () => run('openDownload', () => driver.openDownload(key, hash), hash ? (m) => firstOpen('sealed', m) : undefined),
    );
  }

  // Untimed verification pass: both round trips must give back the source bytes.
  for (const [name, op] of [
    ['plain round trip (second download)', () => driver.plainDownload(plainUrl, true)],
    ['sealed round trip (second open of the file)', () => driver.openDownload(sealedKey, true)],
  ] as const) {
    try {
      const m = await op();
      const ok = m.result.sha256 === sourceSha && m.result.bytes === sizeBytes;
      checks.push({ name: `${name} at ${label} byte-identical`, passed: ok, detail: ok ? 'SHA-256 matches' : `got ${m.result.bytes} bytes, SHA-256 ${m.result.sha256 ?? 'none'}` });
    } catch (error) {
      checks.push({ name: `${name} at ${label} byte-identical`, passed: false, detail: message(error) });
    }
  }
  await driver.dropData();
  await storage.deleteAll();
  await rm(sourcePath, { force: true });

  const m = (name: OpName): number => (failed.has(name) ? Number.NaN : median(speeds[name]));
  return {
    point: {
      sizeBytes,
      repeats,
      rawAesGcm: m('rawAesGcm'),
      sealOnly: m('sealOnly'),
      sealFormat: m('sealFormat'),
      plainUpload: m('plainUpload'),
      plainUploadDirect: m('plainUploadDirect'),
      sealUpload: m('sealUpload'),
      plainDownload: m('plainDownload'),
      openDownload: m('openDownload'),
    },
    heap,
  };
}

const NO_HEAP: HeapPeak = { jsHeapAndBuffersBytes: Number.NaN, jsHeapBytes: Number.NaN, baselineBytes: Number.NaN, samples: 0 };

async function timings(name: string, n: number, op: () => Promise<number>, checks: Check[]): Promise<number[]> {
  const samples: number[] = [];
  try {
    for (let i = 0; i < n; i++) samples.push(await op());
  } catch (error) {
    checks.push({ name: `${name} runs`, passed: false, detail: message(error) });
  }
  return samples;
}

async function main(): Promise<number> {
  const opts = parseOptions(process.argv.slice(2));
  if (opts.driveFiles !== undefined) {
    return runDriveBench({ files: opts.driveFiles, outPath: opts.outPath, distDir: opts.distDir, keep: opts.keep, driveKey: !opts.noDriveKey });
  }
  const tempDir = await mkdtemp(join(tmpdir(), 'sealdrop-bench-'));
  const cleanups: (() => Promise<void>)[] = [];
  const checks: Check[] = [];
  try {
    log('building the bench page and the app');
    const pageDir = join(tempDir, 'page');
    await buildBenchPage(pageDir);
    let shell: ShellSize = { gzipLevel: 9, shellGzipBytes: Number.NaN, initial: [], lazy: [], otherEntries: [] };
    if (!opts.tune && !opts.breakdown) {
      const appDir = opts.distDir ?? join(tempDir, 'app');
      try {
        if (opts.distDir === undefined) await buildApp(appDir);
        shell = await measureShell(appDir);
        checks.push({ name: 'app shell measured', passed: shell.shellGzipBytes > 0, detail: `${shell.initial.length} initial files` });
      } catch (error) {
        // Keep measuring the rest: a broken app build is one failed check, not a lost run.
        checks.push({ name: 'app shell measured', passed: false, detail: message(error) });
      }
    }

    const server = await serveStatic(pageDir, PORTS);
    cleanups.push(() => server.close());
    log(`page at ${server.origin}; starting Azurite`);
    const storage = await openBenchStorage({ tempDir, origin: server.origin, endpoint: opts.blobEndpoint });
    cleanups.push(() => storage.stop());

    // A persistent profile, as a user's browser has (an incognito-like context
    // keeps every Blob, sealed block bodies included, in memory).
    const context = await chromium.launchPersistentContext(join(tempDir, 'profile'), {
      executablePath: chromiumPath,
      args: [...chromiumArgs, '--enable-precise-memory-info'],
      headless: true,
    });
    cleanups.push(() => context.close());
    const page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (error) => log(`page error: ${error.message}`));
    if (opts.trace) {
      page.on('requestfinished', (req) => {
        void req.response().then((res) => {
          const url = new URL(req.url());
          const comp = url.searchParams.get('comp') ?? '';
          log(`${req.method()} ${url.pathname}${comp === '' ? '' : ` comp=${comp}`} → ${res?.status() ?? '?'} (${req.timing().responseEnd.toFixed(0)} ms)`);
        });
      });
      page.on('requestfailed', (req) => log(`${req.method()} ${new URL(req.url()).pathname} failed: ${req.failure()?.errorText ?? ''}`));
    }
    await page.goto(`${server.origin}/index.html`);
    await page.waitForFunction(() => 'sealdropBench' in window);
    const cdp = await context.newCDPSession(page);
    const browserVersion = (await cdp.send('Browser.getVersion')).product.replace(/^\D+\//, '');
    const driver = new PageDriver(page, cdp);
    const info = await driver.info();
    await driver.warmUp();
    const params: TransferParams = { ...info.defaults, ...opts.params };
    const source = Object.keys(opts.params).length === 0 ? 'app defaults' : 'app defaults overridden on the command line';

    if (opts.tune) {
      await runTune({ driver, storage, sizeBytes: opts.sizeBytes, base: params, log, tempDir });
      return 0;
    }
    if (opts.breakdown) {
      return await runBreakdown({ driver, storage, params, sizes: opts.chartSizes, repeats: opts.repeats, tempDir, outPath: opts.outPath, log });
    }

    log('identity key generation and passphrase KDF');
    const keygen = await timings('identity key generation', opts.smoke ? 1 : 3, () => driver.identityKeygen(), checks);
    const kdf = await timings('passphrase KDF', opts.smoke ? 1 : 3, () => driver.passphraseKdf(), checks);

    const ctx: RunContext = { driver, storage, params, opts, checks, tempDir };
    const runs: SizeRun[] = [];
    for (const [i, size] of opts.chartSizes.entries()) {
      runs.push(await measureSize(ctx, size, i));
    }
    const big = runs.find((r) => r.point.sizeBytes === opts.sizeBytes) ?? runs[runs.length - 1];
    if (big === undefined) throw new Error('Nothing was measured.');
    const progressCost = await measureProgressCost(ctx, Math.min(big.point.sizeBytes, PROGRESS_COST_MAX_BYTES));
    const rowCtx = { driver, storage, log };
    // Smoke: the same code on a tiny set (no thresholds, only sane numbers).
    const manySet = opts.smoke ? { seed: MANY_FILES.seed, count: 4, minBytes: 16 * 1024, maxBytes: 256 * 1024 } : { ...MANY_FILES, count: opts.manyFiles ?? MANY_FILES.count };
    let manyFiles: ManyFilesResult | undefined;
    try {
      manyFiles = await measureManyFiles(rowCtx, manySet, opts.smoke ? 1 : Math.max(3, opts.repeats));
    } catch (error) {
      checks.push({ name: 'many files measured', passed: false, detail: message(error) });
    }
    let latency: SmallFileLatency | undefined;
    try {
      latency = await measureSmallFileLatency(rowCtx, { ...LATENCY, samples: opts.smoke ? 3 : LATENCY.samples });
    } catch (error) {
      checks.push({ name: 'small-file latency measured', passed: false, detail: message(error) });
    }
    const nanSide = { medianMs: Number.NaN, filesPerSecond: Number.NaN, mibps: Number.NaN, samplesMs: [] };
    manyFiles ??= {
      seed: manySet.seed,
      files: manySet.count,
      minBytes: manySet.minBytes,
      maxBytes: manySet.maxBytes,
      totalBytes: 1,
      sdkInFlight: SDK_FILES_IN_FLIGHT,
      appParallelFiles: APP_PARALLEL_FILES,
      repeats: 1,
      sealdrop: nanSide,
      sdk: nanSide,
      ratioFilesPerSecond: Number.NaN,
      ratioSamples: [],
    };
    latency ??= { sizeBytes: LATENCY.sizeBytes, seed: LATENCY.seed, samples: 1, sealdrop: { medianMs: Number.NaN, samplesMs: [] }, sdk: { medianMs: Number.NaN, samplesMs: [] }, ratio: Number.NaN };
    const sane = (v: number): boolean => Number.isFinite(v) && v > 0;
    checks.push({
      name: 'many files: every file done on both sides, wall times, files/s, MiB/s and the ratio finite and positive',
      passed: [manyFiles.sealdrop, manyFiles.sdk].every((s) => s.samplesMs.length === manyFiles.repeats && [s.medianMs, s.filesPerSecond, s.mibps].every(sane)) && sane(manyFiles.ratioFilesPerSecond),
      detail: `Sealdrop ${manyFiles.sealdrop.medianMs} ms, SDK ${manyFiles.sdk.medianMs} ms, ratio ${manyFiles.ratioFilesPerSecond}`,
    });
    checks.push({
      name: 'small-file latency: every sample on both sides finite and positive, ratio finite and positive',
      passed: [latency.sealdrop, latency.sdk].every((s) => s.samplesMs.length === latency.samples && s.samplesMs.every(sane)) && sane(latency.ratio),
      detail: `Sealdrop ${latency.sealdrop.medianMs} ms, SDK ${latency.sdk.medianMs} ms, ratio ${latency.ratio}`,
    });

    const p = big.point;
    const bySize = (pick: (pt: SeriesPoint) => number): Record<string, number> =>
      Object.fromEntries(runs.map((r) => [String(r.point.sizeBytes), pick(r.point)]));
    const { sizeBytes: _s, repeats: _r, ...throughput } = p;
    const reportBase: Omit<BenchReport, 'targets'> = {
      schemaVersion: 1,
      mode: opts.smoke ? 'smoke' : 'full',
      date: new Date().toISOString(),
      sizeBytes: p.sizeBytes,
      ratios: {
        sealUploadVsPlainUpload: p.sealUpload / p.plainUpload,
        openDownloadVsPlainDownload: p.openDownload / p.plainDownload,
        sealVsRawAesGcm: p.sealOnly / p.rawAesGcm,
        sealFormatVsRawAesGcm: p.sealFormat / p.rawAesGcm,
        sealUploadVsPlainUploadBySize: bySize((pt) => pt.sealUpload / pt.plainUpload),
        openDownloadVsPlainDownloadBySize: bySize((pt) => pt.openDownload / pt.plainDownload),
      },
      manyFiles,
      smallFileLatencyMs: latency,
      throughputMiBps: throughput,
      peakHeapBytes: {
        upload: big.heap.sealUpload?.jsHeapAndBuffersBytes ?? Number.NaN,
        download: big.heap.openDownload?.jsHeapAndBuffersBytes ?? Number.NaN,
      },
      heap: {
        sealUpload: big.heap.sealUpload ?? NO_HEAP,
        openDownload: big.heap.openDownload ?? NO_HEAP,
        plainUpload: big.heap.plainUpload ?? NO_HEAP,
        plainDownload: big.heap.plainDownload ?? NO_HEAP,
      },
      identityKeygen: { medianMs: median(keygen), samplesMs: keygen },
      passphraseKdf: { medianMs: median(kdf), samplesMs: kdf, params: info.kdfParams },
      // Everything the first screen (the sign-in page) loads, not only index.html's own tags.
      shellGzipBytes: shell.firstScreens?.[0]?.gzipBytes ?? shell.shellGzipBytes,
      progressCost,
      shell: { gzipLevel: shell.gzipLevel, initial: shell.initial, lazy: shell.lazy, otherEntries: shell.otherEntries, firstScreens: shell.firstScreens },
      series: runs.map((r) => r.point),
      params: { ...params, blockBytes: params.segmentSize * params.segmentsPerBlock, source },
      correctness: [],
      sealdropApi:
        'sendFile (src/storage/sender.ts) with a bench GrantApi answering POST /uploads with runner-minted SAS URLs; ' +
        'getBlob + openManifest + openPayloadStream (src/storage/downloader.ts) for download-and-open; ' +
        'sealDraft + createSealStream with a PayloadHasher + finishManifest (src/crypto) on 16 MiB reads for seal, format only; ' +
        "the app's UploadQueue (src/storage/upload-queue.ts: journal, Web Locks, 2 files at once, sendFile) for many files and small-file latency",
      machine: {
        cores: cpus().length,
        totalMemBytes: totalmem(),
        platform: `${process.platform} ${process.arch}`,
        node: process.versions.node,
        chromium: browserVersion,
        userAgent: info.userAgent,
      },
    };

    const ratios = Object.entries(reportBase.ratios).flatMap(([name, value]) =>
      typeof value === 'number' ? [[name, value] as const] : Object.entries(value).map(([size, v]) => [`${name}[${size}]`, v] as const),
    );
    for (const [name, value] of ratios) {
      checks.push({ name: `ratio ${name} is a finite positive number`, passed: Number.isFinite(value) && value > 0, detail: String(value) });
    }
    checks.push({
      name: 'identity keygen and KDF timed',
      passed: [reportBase.identityKeygen.medianMs, reportBase.passphraseKdf.medianMs].every((v) => Number.isFinite(v) && v > 0),
      detail: `${reportBase.identityKeygen.medianMs} ms, ${reportBase.passphraseKdf.medianMs} ms`,
    });
    checks.push({
      name: 'heap peaks measured',
      passed: [reportBase.peakHeapBytes.upload, reportBase.peakHeapBytes.download].every((v) => Number.isFinite(v) && v > 0),
      detail: `${reportBase.peakHeapBytes.upload} / ${reportBase.peakHeapBytes.download} bytes`,
    });

    const report: BenchReport = { ...reportBase, targets: judgeTargets(reportBase) };
    await mkdir(dirname(opts.outPath), { recursive: true });
    const write = async (): Promise<void> => {
      report.correctness = checks.map((c) => ({ ...c }));
      await writeFile(opts.outPath, `${JSON.stringify(report, null, 2)}\n`);
    };
    await write();
    const reread = benchReportSchema.safeParse(JSON.parse(await readFile(opts.outPath, 'utf8')));
    checks.push({
      name: 'JSON written with the required fields',
      passed: reread.success,
      detail: reread.success ? opts.outPath : reread.error.message,
    });
    await write();
    const htmlPath = opts.outPath.replace(/\.json$/, '') + '.html';
    await writeFile(htmlPath, renderHtml(report));

    console.log(renderTerminal(report));
    console.log(`\nJSON: ${opts.outPath}\nHTML: ${htmlPath}`);
    for (const c of checks.filter((c) => !c.passed)) console.log(`FAILED: ${c.name}: ${c.detail}`);
    const passed = checks.filter((c) => c.passed).length;
    const failedCount = checks.length - passed;
    console.log(`bench ${opts.smoke ? 'smoke' : 'correctness'}: ${passed} passed, ${failedCount} failed`);
    return failedCount === 0 ? 0 : 1;
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((error: unknown) => log(`cleanup: ${message(error)}`));
    if (!opts.keep) await rm(tempDir, { recursive: true, force: true });
    else log(`kept ${tempDir}`);
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
