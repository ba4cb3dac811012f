/**
 * The runner's side of the "many files" and "small-file latency" rows
 * (issue 19, Deliver 2 and 3); the page's side is bench/page/many-files.ts.
 *
 * Both alternate the two sides (A, B, B, A, …) so neither always meets a
 * warm or a cold Azurite, and report medians; the judged ratio of the
 * many-files row is the median of the per-repeat ratios.
 */
import type { BenchStorage } from './bench-storage.ts';
import type { PageDriver } from './page-driver.ts';
import type { ManyFilesResult, SmallFileLatency } from './results-schema.ts';

const MiB = 1024 * 1024;
const KiB = 1024;

/** The many-files row's file set: the 100 files of 256 KiB–4 MiB, fixed seed. */
export const MANY_FILES = { seed: 19_100, count: 100, minBytes: 256 * KiB, maxBytes: 4 * MiB } as const;
/** Uploads in flight on the SDK's side (the peer). */
export const SDK_FILES_IN_FLIGHT = 4;
/** Files the app's upload queue seals and uploads at once (its default, src/storage/upload-queue.ts). */
export const APP_PARALLEL_FILES = 2;
/** The latency row: one 1 KiB file, 20 samples per side. */
export const LATENCY = { seed: 19_001, sizeBytes: 1 * KiB, samples: 20 } as const;

/** Returns the median of the finite values, NaN when none. */
export function median(values: readonly number[]): number {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? Number.NaN) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** Whether the first side goes first in repeat `rep`: A,B then B,A then A,B … */
export function sealdropFirst(rep: number): boolean {
  return rep % 2 === 0;
}

interface Ctx {
  driver: PageDriver;
  storage: BenchStorage;
  log: (line: string) => void;
}

/**
 * Measures the many-files row: `count` seeded files (sizes in
 * [minBytes, maxBytes]) dropped into the app's upload queue at once, against
 * the SDK uploading the same files `SDK_FILES_IN_FLIGHT` at a time, `repeats`
 * alternating pairs. Throws what the page throws (a failed upload).
 */
export async function measureManyFiles(
  ctx: Ctx,
  set: { seed: number; count: number; minBytes: number; maxBytes: number },
  repeats: number,
): Promise<ManyFilesResult> {
  const { driver, storage, log } = ctx;
  log(`many files: ${set.count} files of ${set.minBytes}–${set.maxBytes} bytes, seed ${set.seed}`);
  const sizes = await driver.makeFiles(set.seed, set.count, set.minBytes, set.maxBytes);
  const totalBytes = sizes.reduce((a, b) => a + b, 0);
  const sealdropMs: number[] = [];
  const sdkMs: number[] = [];
  try {
    for (let rep = 0; rep < repeats; rep++) {
      const sealdrop = async (): Promise<void> => {
        sealdropMs.push(await driver.queueUpload(Array.from({ length: set.count }, () => storage.sealedUrls())));
      };
      const sdk = async (): Promise<void> => {
        sdkMs.push(await driver.sdkUpload(Array.from({ length: set.count }, (_, i) => storage.plainUrl(`many-${rep}-${i}`)), SDK_FILES_IN_FLIGHT));
      };
      for (const op of sealdropFirst(rep) ? [sealdrop, sdk] : [sdk, sealdrop]) await op();
      log(`many files: run ${rep + 1}/${repeats}: Sealdrop ${sealdropMs.at(-1)?.toFixed(0)} ms, SDK ${sdkMs.at(-1)?.toFixed(0)} ms`);
      await storage.deleteAll();
    }
  } finally {
    await driver.dropFiles();
  }
  const side = (samplesMs: number[]): ManyFilesResult['sealdrop'] => {
    const ms = median(samplesMs);
    return { medianMs: ms, filesPerSecond: set.count / (ms / 1000), mibps: totalBytes / MiB / (ms / 1000), samplesMs };
  };
  // Per-repeat ratios of files/s (= sdk ms / sealdrop ms), their median judged.
  const ratioSamples = sealdropMs.map((ms, i) => (sdkMs[i] ?? Number.NaN) / ms);
  return {
    seed: set.seed,
    files: set.count,
    minBytes: set.minBytes,
    maxBytes: set.maxBytes,
    totalBytes,
    sdkInFlight: SDK_FILES_IN_FLIGHT,
    appParallelFiles: APP_PARALLEL_FILES,
    repeats,
    sealdrop: side(sealdropMs),
    sdk: side(sdkMs),
    ratioFilesPerSecond: median(ratioSamples),
    ratioSamples,
  };
}

/**
 * Measures the latency row: one `sizeBytes` file dropped into the app's
 * upload queue, from the drop to "sealed and uploaded", against the SDK's
 * single `uploadData` of the same file; `samples` per side, alternating.
 * The ratio is Sealdrop's median over the SDK's (lower is better).
 */
export async function measureSmallFileLatency(ctx: Ctx, opts: { seed: number; sizeBytes: number; samples: number }): Promise<SmallFileLatency> {
  const { driver, storage, log } = ctx;
  log(`small-file latency: one ${opts.sizeBytes}-byte file, ${opts.samples} samples per side, seed ${opts.seed}`);
  await driver.makeFiles(opts.seed, 1, opts.sizeBytes, opts.sizeBytes);
  const sealdropMs: number[] = [];
  const sdkMs: number[] = [];
  try {
    for (let i = 0; i < opts.samples; i++) {
      const sealdrop = async (): Promise<void> => {
        sealdropMs.push(await driver.queueUpload([storage.sealedUrls()], 1));
      };
      const sdk = async (): Promise<void> => {
        sdkMs.push(await driver.sdkUpload([storage.plainUrl(`latency-${i}`)], 1, 1));
      };
      for (const op of sealdropFirst(i) ? [sealdrop, sdk] : [sdk, sealdrop]) await op();
    }
    await storage.deleteAll();
  } finally {
    await driver.dropFiles();
  }
  const sealdrop = median(sealdropMs);
  const sdk = median(sdkMs);
  return {
    sizeBytes: opts.sizeBytes,
    seed: opts.seed,
    samples: opts.samples,
    sealdrop: { medianMs: sealdrop, samplesMs: sealdropMs },
    sdk: { medianMs: sdk, samplesMs: sdkMs },
    ratio: sealdrop / sdk,
  };
}
