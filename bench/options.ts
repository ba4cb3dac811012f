/**
 * Command-line options of `npm run bench` (bench/run.ts).
 */
import { resolve } from 'node:path';
import { z } from 'zod';
import type { TransferParams } from './results-schema.ts';

const MiB = 1024 * 1024;
const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kib: 1024, m: MiB, mib: MiB, g: 1024 * MiB, gib: 1024 * MiB };

/**
 * Returns the byte count of a size such as `64MiB`, `1GiB`, `4G`, `512KiB`
 * or `1048576` (units are binary). Throws a plain Error for anything else.
 */
export function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const factor = match?.[2] === undefined ? undefined : UNITS[match[2].toLowerCase()];
  if (match?.[1] === undefined || factor === undefined) {
    throw new Error(`"${text}" is not a size; write it like 64MiB, 1GiB or 4GiB.`);
  }
  const bytes = Math.round(Number(match[1]) * factor);
  if (!Number.isSafeInteger(bytes) || bytes < 1) throw new Error(`"${text}" is not a usable size.`);
  return bytes;
}

/** Returns `bytes` as a short human size (`1 GiB`, `64 MiB`, `3.5 KiB`). */
export function formatSize(bytes: number): string {
  for (const [unit, factor] of [['GiB', 1024 * MiB], ['MiB', MiB], ['KiB', 1024]] as const) {
    if (bytes >= factor) return `${Number((bytes / factor).toFixed(2))} ${unit}`;
  }
  return `${bytes} B`;
}


/** Everything the runner needs to know, after validation. */
export interface BenchOptions {
  /** Size of the big run (heap figures and the headline ratios). */
  sizeBytes: number;
  /** Sizes of the throughput chart, ascending; includes `sizeBytes`. */
  chartSizes: number[];
  outPath: string;
  smoke: boolean;
  /** Grid of transfer parameters to try instead of the normal report. */
  tune: boolean;
  /** `--breakdown`: where the time of a small or medium upload goes, instead of the normal report. */
  breakdown: boolean;
  /** Use this Azurite-compatible blob endpoint (well-known dev account) instead of starting one. */
  blobEndpoint: string | undefined;
  /** Measure an existing build instead of building the app into a temp folder. */
  distDir: string | undefined;
  /** Transfer parameters for the Sealdrop side; undefined = the app's defaults. */
  params: Partial<TransferParams>;
  /** Repetitions (median) for sizes up to 128 MiB. */
  repeats: number;
  /** Keep the temp folder (Azurite data, builds, Chromium profile). */
  keep: boolean;
  /** Log every request the page makes. */
  trace: boolean;
  /** `--drive N`: seed a drive of N small files and measure listing it instead (issue 16). */
  driveFiles: number | undefined;
  /** `--many-files N`: files in the many-files row (default 100; ignored by --smoke). */
  manyFiles: number | undefined;
  /** `--no-drive-key`: seed the drive's files without drive-key envelopes (RSA only, as before drive keys). */
  noDriveKey: boolean;
}

const HELP = `Usage: tsx bench/run.ts [options]
  --size SIZE         big run size (default 1GiB): heap peaks and headline ratios
  --sizes A,B,...     chart sizes (default 1MiB,16MiB,128MiB,1GiB)
  --out FILE          JSON output (default bench/results/latest.json, smoke.json for --smoke); HTML beside it
  --smoke             tiny correctness-only run (a few MiB); exits 1 on a correctness failure
  --breakdown         where one upload's time goes, step by step, at --sizes (default 1MiB,16MiB)
  --tune              try segment size / segments per block / concurrency combinations at --size
  --segment-size SIZE, --segments-per-block N, --concurrency N (Put Blocks in flight),
  --download-concurrency N (segments decrypting at once on download)   override the app's defaults
  --repeats N         repetitions for sizes <= 128MiB, median reported (default 3)
  --blob-endpoint URL use a running Azurite (well-known dev account) instead of a fresh one
  --dist DIR          measure this build of the app instead of building one
  --keep              keep the temp folder
  --trace             log every request the page makes (method, path, status, ms; no SAS)
  --drive N           seed a drive of N small files through the API, measure cold and warm listing
                      (JSON to bench/results/drive-N.json unless --out)
  --many-files N      files in the many-files row (default 100, sizes 256 KiB–4 MiB, fixed seed)
  --no-drive-key      with --drive: seed files sealed to the RSA key only (no drive-key envelope), for comparison`;

const positiveInt = z.coerce.number().int().positive();

/**
 * Returns the validated options for `argv` (without node and script). Prints
 * help and exits 0 for `--help`; throws a plain Error on a bad option.
 */
export function parseOptions(argv: string[]): BenchOptions {
  const flags = new Set(['--smoke', '--tune', '--breakdown', '--keep', '--trace', '--no-drive-key', '--help', '-h']);
  const values = new Map<string, string>();
  const seen = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const [name, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if (flags.has(name)) {
      seen.add(name);
      continue;
    }
    if (!name.startsWith('--')) throw new Error(`Unexpected argument "${arg}".\n${HELP}`);
    const value = inline ?? argv[++i];
    if (value === undefined) throw new Error(`Option ${name} needs a value.`);
    values.set(name, value);
  }
  if (seen.has('--help') || seen.has('-h')) {
    console.log(HELP);
    process.exit(0);
  }
  const known = ['--size', '--sizes', '--out', '--segment-size', '--segments-per-block', '--concurrency', '--download-concurrency', '--repeats', '--blob-endpoint', '--dist', '--drive', '--many-files'];
  for (const name of values.keys()) {
    if (!known.includes(name)) throw new Error(`Unknown option ${name}.\n${HELP}`);
  }

  const smoke = seen.has('--smoke');
  // Smoke sizes straddle segment boundaries on purpose (partial last segment).
  const breakdown = seen.has('--breakdown');
  const listed = smoke
    ? [1024 * 1024 + 1]
    : (values.get('--sizes') ?? (breakdown ? '1MiB,16MiB' : '1MiB,16MiB,128MiB,1GiB')).split(',').map((s) => parseSize(s));
  const sizeBytes = smoke ? 4 * 1024 * 1024 - 5 : breakdown ? Math.max(...listed) : parseSize(values.get('--size') ?? '1GiB');
  const chartSizes = [...new Set([...listed.filter((s) => s <= sizeBytes), sizeBytes])].sort((a, b) => a - b);

  const params: Partial<TransferParams> = {};
  const seg = values.get('--segment-size');
  if (seg !== undefined) params.segmentSize = parseSize(seg);
  const spb = values.get('--segments-per-block');
  if (spb !== undefined) params.segmentsPerBlock = positiveInt.parse(spb);
  const conc = values.get('--concurrency');
  if (conc !== undefined) params.concurrency = positiveInt.parse(conc);
  const dconc = values.get('--download-concurrency');
  if (dconc !== undefined) params.downloadConcurrency = positiveInt.parse(dconc);

  const endpoint = values.get('--blob-endpoint');
  if (endpoint !== undefined && !/^http:\/\/(127\.0\.0\.1|localhost)(:\d+)?\//.test(endpoint)) {
    throw new Error('--blob-endpoint must be a loopback Azurite URL such as http://127.0.0.1:10000/devstoreaccount1');
  }
  const dist = values.get('--dist');
  const drive = values.get('--drive');
  const driveFiles = drive === undefined ? undefined : positiveInt.parse(drive);
  const many = values.get('--many-files');
  return {
    driveFiles,
    manyFiles: many === undefined ? undefined : positiveInt.parse(many),
    sizeBytes,
    chartSizes,
    // A smoke run never overwrites the last real report.
    outPath: resolve(
      values.get('--out') ?? (driveFiles !== undefined ? `bench/results/drive-${driveFiles}.json` : breakdown ? 'bench/results/breakdown.json' : smoke ? 'bench/results/smoke.json' : 'bench/results/latest.json'),
    ),
    smoke,
    tune: seen.has('--tune'),
    breakdown,
    blobEndpoint: endpoint,
    distDir: dist === undefined ? undefined : resolve(dist),
    params,
    repeats: smoke ? 1 : positiveInt.parse(values.get('--repeats') ?? '3'),
    keep: seen.has('--keep'),
    trace: seen.has('--trace'),
    noDriveKey: seen.has('--no-drive-key'),
  };
}
