/**
 * Drives the bench page: one `page.evaluate` per operation, the heap sampled
 * over CDP around it, every answer validated with zod.
 */
import type { CDPSession, Page } from 'playwright';
import { z } from 'zod';
import { withHeapPeak } from './heap-sampler.ts';
import type { SealedUrls } from './page/sealdrop-side.ts';
import { opResultSchema, pageInfoSchema, type HeapPeak, type OpResult, type TransferParams } from './results-schema.ts';

const msSchema = z.number().positive();

const tracedUploadSchema = z.object({
  totalMs: z.number(),
  steps: z.array(z.object({ step: z.string(), atMs: z.number() })),
  requests: z.array(z.object({ kind: z.string(), startMs: z.number(), endMs: z.number() })),
});

/** One timed operation with the heap peak around it. */
export interface Measured {
  result: OpResult;
  heap: HeapPeak;
}

/** Typed calls into `window.sealdropBench`. */
export class PageDriver {
  constructor(
    private readonly page: Page,
    private readonly cdp: CDPSession,
  ) {}

  /** Browser facts and the app's default parameters. */
  async info(): Promise<z.infer<typeof pageInfoSchema>> {
    return pageInfoSchema.parse(await this.page.evaluate(() => window.sealdropBench.info()));
  }

  /** Loads lazily imported modules (the storage SDK) before anything is timed. */
  async warmUp(): Promise<void> {
    await this.page.evaluate(() => window.sealdropBench.warmUp());
  }

  /** Puts the file at `path` into the page's file input and makes it the test file. Throws on a size mismatch. */
  async useSourceFile(path: string, sizeBytes: number): Promise<void> {
    await this.page.setInputFiles('#source', path);
    const size = z.number().parse(await this.page.evaluate(() => window.sealdropBench.useSourceFile()));
    if (size !== sizeBytes) throw new Error(`The page sees a ${size}-byte file, not ${sizeBytes} bytes.`);
  }

  /** Drops the test file and the sealed-file records in the page. */
  async dropData(): Promise<void> {
    await this.page.evaluate(() => window.sealdropBench.dropData());
  }

  private async measure(op: () => Promise<unknown>): Promise<Measured> {
    const { value, heap } = await withHeapPeak(this.cdp, op);
    return { result: opResultSchema.parse(value), heap };
  }

  /** Raw AES-256-GCM over the test file. */
  rawAesGcm(): Promise<Measured> {
    return this.measure(() => this.page.evaluate(() => window.sealdropBench.rawAesGcm()));
  }

  /** Sealdrop's sealing pipeline with a transport that sends nothing. */
  sealOnly(params: TransferParams): Promise<Measured> {
    return this.measure(() => this.page.evaluate((p) => window.sealdropBench.sealOnly(p), params));
  }

  /** The crypto core's seal stream alone (real manifest key, default segment size), output counted and dropped. */
  sealFormat(): Promise<Measured> {
    return this.measure(() => this.page.evaluate(() => window.sealdropBench.sealFormat()));
  }

  /** The SDK's `uploadData` to `url`. */
  plainUpload(url: string): Promise<Measured> {
    return this.measure(() => this.page.evaluate((u) => window.sealdropBench.plainUpload(u), url));
  }

  /** Sealdrop's `sendFile`; the page remembers the file under `key` for `openDownload`. */
  sealUpload(key: string, urls: SealedUrls, params: TransferParams): Promise<Measured> {
    return this.measure(() =>
      this.page.evaluate(([k, u, p]) => window.sealdropBench.sealUpload(k, u, p), [key, urls, params] as const),
    );
  }

  /** One streamed GET of `url`; hashes what arrives when `hash`. */
  plainDownload(url: string, hash: boolean): Promise<Measured> {
    return this.measure(() => this.page.evaluate(([u, h]) => window.sealdropBench.plainDownload(u, h), [url, hash] as const));
  }

  /** Sealdrop's download-and-open of the file sealed under `key`; hashes the plaintext when `hash`. */
  openDownload(key: string, hash: boolean): Promise<Measured> {
    return this.measure(() => this.page.evaluate(([k, h]) => window.sealdropBench.openDownload(k, h), [key, hash] as const));
  }

  /**
   * The test file as Put Blocks of `blockBytes` to `url` through the app's
   * putBlock, `inFlight` at once, with (XHR + progress events) or without
   * (fetch) a progress listener. Returns MiB/s and the progress events seen.
   */
  async progressCost(url: string, blockBytes: number, inFlight: number, withProgress: boolean): Promise<{ mibps: number; events: number }> {
    const value = await this.page.evaluate(
      ([u, b, n, w]) => window.sealdropBench.progressCost(u, b, n, w),
      [url, blockBytes, inFlight, withProgress] as const,
    );
    const r = opResultSchema.extend({ events: z.number().int().nonnegative() }).parse(value);
    return { mibps: r.bytes / (1024 * 1024) / (r.ms / 1000), events: r.events };
  }

  /** One traced seal-and-upload (bench/page/breakdown.ts): steps and storage requests, ms since the call. */
  async sealUploadTraced(urls: SealedUrls, params: TransferParams): Promise<z.infer<typeof tracedUploadSchema>> {
    return tracedUploadSchema.parse(await this.page.evaluate(([u, p]) => window.sealdropBench.sealUploadTraced(u, p), [urls, params] as const));
  }

  /** The manifest's crypto steps and one journal write alone: name → median ms of `n`. */
  async cryptoSteps(n: number): Promise<Record<string, number>> {
    return z.record(z.string(), z.number()).parse(await this.page.evaluate((k) => window.sealdropBench.cryptoSteps(k), n));
  }

  /** Makes the page's seeded file set (bench/page/many-files.ts); returns the sizes. */
  async makeFiles(seed: number, count: number, minBytes: number, maxBytes: number): Promise<number[]> {
    const value = await this.page.evaluate(([s, c, a, b]) => window.sealdropBench.makeFiles(s, c, a, b), [seed, count, minBytes, maxBytes] as const);
    return z.array(z.number().int().positive()).parse(value);
  }

  /** Forgets the page's file set. */
  async dropFiles(): Promise<void> {
    await this.page.evaluate(() => window.sealdropBench.dropFiles());
  }

  /** The file set (or its first `count`) dropped into the app's upload queue at once: ms until every file is done. */
  async queueUpload(urls: SealedUrls[], count?: number): Promise<number> {
    return msSchema.parse(await this.page.evaluate(([u, c]) => window.sealdropBench.queueUpload(u, c), [urls, count] as const));
  }

  /** The file set (or its first `count`) with the SDK's uploadData, `inFlight` at once: ms. */
  async sdkUpload(urls: string[], inFlight: number, count?: number): Promise<number> {
    return msSchema.parse(await this.page.evaluate(([u, n, c]) => window.sealdropBench.sdkUpload(u, n, c), [urls, inFlight, count] as const));
  }

  /** Milliseconds for one identity key generation. */
  async identityKeygen(): Promise<number> {
    return msSchema.parse(await this.page.evaluate(() => window.sealdropBench.identityKeygen()));
  }

  /** Milliseconds for one recovery backup at the default KDF parameters. */
  async passphraseKdf(): Promise<number> {
    return msSchema.parse(await this.page.evaluate(() => window.sealdropBench.passphraseKdf()));
  }
}
