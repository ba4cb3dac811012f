/**
 * The shape of `bench/results/*.json`, and of what the bench page hands back
 * to the runner (validated with zod, since it crosses the CDP boundary).
 */
import { z } from 'zod';

/** What one timed page operation returns. */
export const opResultSchema = z.object({
  /** Plaintext bytes moved (the file's size), the same for both sides of a comparison. */
  bytes: z.number().int().nonnegative(),
  ms: z.number().positive(),
  /** Hex SHA-256 of what came out, when the operation was asked to hash. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/).nullable(),
});
/** One timed page operation. */
export type OpResult = z.infer<typeof opResultSchema>;

/** The transfer parameters the page's Sealdrop code used. */
export const transferParamsSchema = z.object({
  segmentSize: z.number().int().positive(),
  segmentsPerBlock: z.number().int().positive(),
  concurrency: z.number().int().positive(),
  downloadConcurrency: z.number().int().positive(),
});
/** Transfer parameters of the Sealdrop side. */
export type TransferParams = z.infer<typeof transferParamsSchema>;

/** Facts about the page's browser. */
export const pageInfoSchema = z.object({
  userAgent: z.string(),
  hardwareConcurrency: z.number(),
  defaults: transferParamsSchema,
  /** Human-readable KDF parameters `backupIdentity` uses by default. */
  kdfParams: z.string(),
});

/** A target of issue #7 and whether this run met it. */
export interface TargetResult {
  name: string;
  target: string;
  value: string;
  met: boolean;
}

/** Throughputs at one size (MiB/s, medians over `repeats`). */
export interface SeriesPoint {
  sizeBytes: number;
  repeats: number;
  rawAesGcm: number;
  /** The app's `sendFile` with a transport that sends nothing: sealing plus request-body Blobs. */
  sealOnly: number;
  /** The crypto core's `createSealStream` alone on the same 16 MiB reads as `rawAesGcm`, output dropped. */
  sealFormat: number;
  plainUpload: number;
  /**
   * The same plain upload straight to Azurite, past the local storage proxy
   * that `plainUpload` and `sealUpload` go through: the proxy's cost is
   * `plainUpload / plainUploadDirect`. NaN when not measured (`--blob-endpoint`).
   */
  plainUploadDirect: number;
  sealUpload: number;
  plainDownload: number;
  openDownload: number;
}

/** Peak heap during one operation, from CDP `Runtime.getHeapUsage` polled every 50 ms. */
export interface HeapPeak {
  /** Peak of V8's used heap plus ArrayBuffer backing stores: what the page really holds. */
  jsHeapAndBuffersBytes: number;
  /** Peak of V8's used heap alone (what `performance.memory.usedJSHeapSize` shows). */
  jsHeapBytes: number;
  /** Used heap plus backing stores just before the operation (after a GC). */
  baselineBytes: number;
  samples: number;
}

/** Ratios keyed by a size in bytes (a decimal integer string). */
const bySizeSchema = z.record(z.string().regex(/^[1-9]\d*$/), z.number());

const manyFilesSideSchema = z.object({
  /** Wall time from the drop to every file done (median of the repeats). */
  medianMs: z.number(),
  filesPerSecond: z.number(),
  mibps: z.number(),
  samplesMs: z.array(z.number()),
});

/** The many-files row (issue 19, Deliver 2). */
export const manyFilesSchema = z.object({
  seed: z.number().int(),
  files: z.number().int().positive(),
  minBytes: z.number().int().positive(),
  maxBytes: z.number().int().positive(),
  totalBytes: z.number().int().positive(),
  /** Uploads the SDK side runs at once. */
  sdkInFlight: z.number().int().positive(),
  /** Files the app's upload queue seals and uploads at once. */
  appParallelFiles: z.number().int().positive(),
  repeats: z.number().int().positive(),
  sealdrop: manyFilesSideSchema,
  sdk: manyFilesSideSchema,
  /** Median of the per-repeat ratios of Sealdrop's files/s to the SDK's (target ≥ 1.0). */
  ratioFilesPerSecond: z.number(),
  ratioSamples: z.array(z.number()),
});
/** The many-files row. */
export type ManyFilesResult = z.infer<typeof manyFilesSchema>;

/** The small-file latency row (issue 19, Deliver 3). */
export const smallFileLatencySchema = z.object({
  sizeBytes: z.number().int().positive(),
  seed: z.number().int(),
  /** Samples per side. */
  samples: z.number().int().positive(),
  /** From the drop into the app's upload queue to "sealed and uploaded". */
  sealdrop: z.object({ medianMs: z.number(), samplesMs: z.array(z.number()) }),
  /** One `uploadData` of the same file. */
  sdk: z.object({ medianMs: z.number(), samplesMs: z.array(z.number()) }),
  /** Sealdrop's median over the SDK's (lower is better; target ≤ 1.5). */
  ratio: z.number(),
});
/** The small-file latency row. */
export type SmallFileLatency = z.infer<typeof smallFileLatencySchema>;

/** The whole JSON report. Required by issue #7: sizeBytes, ratios.*, peakHeapBytes.*, shellGzipBytes. */
export const benchReportSchema = z.object({
  schemaVersion: z.literal(1),
  mode: z.enum(['full', 'smoke']),
  date: z.string(),
  sizeBytes: z.number().int().positive(),
  ratios: z.object({
    sealUploadVsPlainUpload: z.number(),
    openDownloadVsPlainDownload: z.number(),
    sealVsRawAesGcm: z.number(),
    sealFormatVsRawAesGcm: z.number(),
    /** seal+upload ÷ plain SDK upload at every measured size, keyed by the size in bytes (issue 19). */
    sealUploadVsPlainUploadBySize: bySizeSchema,
    /** download+open ÷ plain streamed GET at every measured size, keyed by the size in bytes (issue 19). */
    openDownloadVsPlainDownloadBySize: bySizeSchema,
  }),
  manyFiles: manyFilesSchema,
  smallFileLatencyMs: smallFileLatencySchema,
  peakHeapBytes: z.object({ upload: z.number(), download: z.number() }),
  shellGzipBytes: z.number().int().nonnegative(),
  progressCost: z
    .object({ sizeBytes: z.number().int().positive(), blockBytes: z.number().int().positive(), inFlight: z.number().int().positive(), xhrMiBps: z.number(), fetchMiBps: z.number(), ratio: z.number(), xhrEvents: z.number() })
    .optional(),
}).loose();

/** What byte-level upload progress costs: the same Put Blocks through XHR with progress events and through fetch (issue 18). */
export interface ProgressCost {
  sizeBytes: number;
  blockBytes: number;
  inFlight: number;
  /** Medians of the repeats, MiB/s. */
  xhrMiBps: number;
  fetchMiBps: number;
  /** xhrMiBps / fetchMiBps: 1 means progress costs nothing. */
  ratio: number;
  /** Progress events the XHR side got in its last repeat (proves the listener ran). */
  xhrEvents: number;
  repeats: number;
}

/** A timing repeated a few times (keygen, KDF). */
export interface Timing {
  medianMs: number;
  samplesMs: number[];
}

/** Everything a run writes to JSON (a superset of `benchReportSchema`). */
export interface BenchReport {
  schemaVersion: 1;
  mode: 'full' | 'smoke';
  date: string;
  sizeBytes: number;
  /**
   * Side-by-side ratios at `sizeBytes`. `sealVsRawAesGcm` (seal only, through
   * `sendFile`) is the one judged against the ≥ 0.8 target;
   * `sealFormatVsRawAesGcm` (the crypto core's seal stream alone) is not
   * judged: it shows how much of the gap is the format itself.
   */
  ratios: {
    sealUploadVsPlainUpload: number;
    openDownloadVsPlainDownload: number;
    sealVsRawAesGcm: number;
    sealFormatVsRawAesGcm: number;
    sealUploadVsPlainUploadBySize: Record<string, number>;
    openDownloadVsPlainDownloadBySize: Record<string, number>;
  };
  manyFiles: ManyFilesResult;
  smallFileLatencyMs: SmallFileLatency;
  /** At `sizeBytes`, MiB/s of plaintext. */
  throughputMiBps: Omit<SeriesPoint, 'sizeBytes' | 'repeats'>;
  /** Peak of JS heap + ArrayBuffer backing stores during each Sealdrop operation at `sizeBytes`. */
  peakHeapBytes: { upload: number; download: number };
  heap: { sealUpload: HeapPeak; openDownload: HeapPeak; plainUpload: HeapPeak; plainDownload: HeapPeak };
  identityKeygen: Timing;
  passphraseKdf: Timing & { params: string };
  shellGzipBytes: number;
  /** Byte-level progress (XHR) vs fetch on the same Put Blocks; absent when not measured. */
  progressCost?: ProgressCost | undefined;
  shell: {
    gzipLevel: number;
    initial: { file: string; rawBytes: number; gzipBytes: number }[];
    lazy: { file: string; rawBytes: number; gzipBytes: number }[];
    otherEntries: { file: string; rawBytes: number; gzipBytes: number }[];
    /** What each first screen loads (bench/shell-size.ts FIRST_SCREENS); `shellGzipBytes` is the first one's. */
    firstScreens?: { screen: string; gzipBytes: number; files: string[] }[] | undefined;
  };
  series: SeriesPoint[];
  params: TransferParams & { blockBytes: number; source: string };
  targets: TargetResult[];
  correctness: { name: string; passed: boolean; detail: string }[];
  sealdropApi: string;
  machine: { cores: number; totalMemBytes: number; platform: string; node: string; chromium: string; userAgent: string };
}

/** One measured listing of the drive bench (`--drive N`, issue 16). */
export const driveListingSchema = z.object({
  /** Files the drive held when listed. */
  files: z.number().int().nonnegative(),
  /** Calls to the token endpoint made by the listing (GET /files pages, any read grants). */
  apiCalls: z.number().int().nonnegative(),
  /** Every call to the token endpoint from reload to the full list (sign-in and keys checks included). */
  apiCallsTotal: z.number().int().nonnegative(),
  /** GETs to blob storage (manifests). */
  blobGets: z.number().int().nonnegative(),
  /** From reload (or opening the app in a new tab) to "N files in your drive", in milliseconds (app start included). */
  wallMs: z.number().nonnegative(),
  /** Peak of JS heap + ArrayBuffer backing stores meanwhile. */
  peakHeapBytes: z.number().nonnegative(),
});
/** One measured listing of the drive bench. */
export type DriveListing = z.infer<typeof driveListingSchema>;

/** The JSON report of `npm run bench -- --drive N`. */
export const driveReportSchema = z.object({
  schemaVersion: z.literal(1),
  mode: z.literal('drive'),
  date: z.string(),
  driveFiles: z.number().int().positive(),
  seed: z.object({ files: z.number().int(), apiCalls: z.number().int(), throttled: z.number().int(), wallMs: z.number() }),
  /** Empty device cache. */
  cold: driveListingSchema,
  /** Cache present, 10 files added since. */
  warm: driveListingSchema,
  /** Cache present, 10 more files added, the app opened in a new tab (no old page to unload); absent in older reports. */
  warmNewTab: driveListingSchema.optional(),
  targets: z.array(z.object({ name: z.string(), target: z.string(), value: z.string(), met: z.boolean() })),
  machine: z.object({ cores: z.number(), platform: z.string(), node: z.string() }),
});
/** The JSON report of the drive bench. */
export type DriveReport = z.infer<typeof driveReportSchema>;
