/**
 * The bench page: exposes `window.sealdropBench`, which the runner
 * (bench/run.ts) calls one operation at a time through `page.evaluate`, so
 * it can sample the heap over CDP around each. Every timing is taken here,
 * in the page, with `performance.now()`.
 */
import { DEFAULT_KDF_PARAMS } from '../../src/crypto/index.ts';
import { StorageError } from '../../src/storage/storage-error.ts';
import { plainDownload, plainUpload, rawAesGcm, warmUpSdk } from './plain-side.ts';
import {
  defaultParams,
  downloadAndOpen,
  sealAndUpload,
  sealFormatOnly,
  sealOnly,
  sealAndUploadTraced,
  timeIdentityKeygen,
  timePassphraseKdf,
  type Params,
  type SealedFile,
  type SealedUrls,
} from './sealdrop-side.ts';
import { putBlocks } from './progress-cost.ts';
import { createSink } from './test-data.ts';
import { cryptoSteps, type TracedUpload } from './breakdown.ts';
import { dropFiles, makeFiles, queueUpload, sdkUpload } from './many-files.ts';

/** What one timed operation returns (validated by the runner with opResultSchema). */
export interface OpResult {
  bytes: number;
  ms: number;
  sha256: string | null;
}

/**
 * Raw AES-GCM peer: 1 MiB per encrypt call (WebCrypto's full speed here), 16 MiB per file read.
 * The format-only seal reads the file in the same 16 MiB slices, so both read it the same way.
 */
const RAW_CHUNK_BYTES = 1024 * 1024;
const RAW_READ_BYTES = 16 * 1024 * 1024;

let data: Blob | null = null;
const sealed = new Map<string, SealedFile>();

function currentData(): Blob {
  if (data === null) throw new Error('makeData was not called.');
  return data;
}

/** Rethrows with the storage error's kind and status in the message (no URLs, so no SAS). */
function explained(error: unknown): never {
  if (error instanceof StorageError) {
    throw new Error(`${error.message} (StorageError ${error.kind}, status ${error.status ?? 'none'}, ${error.storageCode ?? 'no code'})`);
  }
  throw error;
}

async function timed(bytes: number, op: () => Promise<string | null | void>): Promise<OpResult> {
  const t0 = performance.now();
  const sha256 = (await op().catch(explained)) ?? null;
  return { bytes, ms: performance.now() - t0, sha256 };
}

const api = {
  /** Browser facts and the app's defaults. */
  info() {
    const kdf = DEFAULT_KDF_PARAMS;
    return {
      userAgent: navigator.userAgent,
      hardwareConcurrency: navigator.hardwareConcurrency,
      defaults: defaultParams(),
      kdfParams: kdf.kdf === 'scrypt' ? `scrypt N=2^${kdf.logN} r=${kdf.r} p=${kdf.p}` : `PBKDF2-SHA-256 ${kdf.iterations} iterations`,
    };
  },
  /** Loads lazily imported modules so no timed operation pays for it. */
  async warmUp(): Promise<void> {
    await warmUpSdk();
  },
  /**
   * Takes the file the runner put into `<input id="source">` as the test
   * file; returns its size. Throws when no file was given.
   */
  useSourceFile(): number {
    data = null;
    sealed.clear();
    const input = document.getElementById('source');
    const file = input instanceof HTMLInputElement ? input.files?.[0] : undefined;
    if (file === undefined) throw new Error('No source file in #source.');
    data = file;
    return file.size;
  },
  /** Drops the test file and what was sealed from it. */
  dropData(): void {
    data = null;
    sealed.clear();
    const input = document.getElementById('source');
    if (input instanceof HTMLInputElement) input.value = '';
  },
  rawAesGcm(): Promise<OpResult> {
    const blob = currentData();
    return timed(blob.size, () => rawAesGcm(blob, RAW_READ_BYTES, RAW_CHUNK_BYTES).then(() => undefined));
  },
  sealOnly(params: Params): Promise<OpResult> {
    const blob = currentData();
    return timed(blob.size, () => sealOnly(blob, params));
  },
  /** The crypto core's seal stream alone, reading the file as `rawAesGcm` does. */
  sealFormat(): Promise<OpResult> {
    const blob = currentData();
    return timed(blob.size, () => sealFormatOnly(blob, RAW_READ_BYTES));
  },
  plainUpload(url: string): Promise<OpResult> {
    const blob = currentData();
    return timed(blob.size, () => plainUpload(url, blob));
  },
  sealUpload(key: string, urls: SealedUrls, params: Params): Promise<OpResult> {
    const blob = currentData();
    return timed(blob.size, async () => {
      sealed.set(key, await sealAndUpload(blob, urls, params));
    });
  },
  async plainDownload(url: string, hash: boolean): Promise<OpResult> {
    const sink = await createSink(hash);
    const r = await timed(currentData().size, () => plainDownload(url, sink));
    return { ...r, bytes: sink.bytes(), sha256: sink.digest() };
  },
  async openDownload(key: string, hash: boolean): Promise<OpResult> {
    const file = sealed.get(key);
    if (file === undefined) throw new Error(`Nothing was sealed under "${key}".`);
    const sink = await createSink(hash);
    const r = await timed(currentData().size, () => downloadAndOpen(file, sink));
    return { ...r, bytes: sink.bytes(), sha256: sink.digest() };
  },
  /** The test file as Put Blocks through the app's putBlock, with (XHR) or without (fetch) a progress listener. */
  async progressCost(url: string, blockBytes: number, inFlight: number, withProgress: boolean): Promise<OpResult & { events: number }> {
    const blob = currentData();
    let events = 0;
    const r = await timed(blob.size, async () => {
      events = await putBlocks(url, blob, blockBytes, inFlight, withProgress);
    });
    return { ...r, events };
  },
  /** One seal-and-upload with the app's step trace and the storage requests' timings. */
  sealUploadTraced(urls: SealedUrls, params: Params): Promise<TracedUpload> {
    return sealAndUploadTraced(currentData(), urls, params).catch(explained);
  },
  /** The manifest's crypto steps and one journal write alone, medians of `n`. */
  cryptoSteps,
  /** Seeded file set for the many-files and latency rows (bench/page/many-files.ts); returns the sizes. */
  makeFiles,
  dropFiles,
  /** The file set (or its first `count`) dropped into the app's upload queue at once: ms until every file is done. */
  queueUpload: (urls: SealedUrls[], count?: number) => queueUpload(urls, count).catch(explained),
  /** The same files with the SDK's uploadData, `inFlight` at once: ms. */
  sdkUpload,
  identityKeygen: timeIdentityKeygen,
  passphraseKdf: timePassphraseKdf,
};

/** The page's API as the runner sees it. */
export type BenchApi = typeof api;

declare global {
  interface Window {
    /** Set as soon as the bench page has loaded; the runner waits for it. */
    sealdropBench: BenchApi;
  }
}

window.sealdropBench = api;
document.title = 'Sealdrop bench: ready';
