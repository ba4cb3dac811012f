/**
 * The "many files" and "small-file latency" rows (issue 19, Deliver 2 and 3).
 *
 * Sealdrop's side is the app's real upload path: the `UploadQueue` that
 * FilesPage hands dropped files to (src/storage/upload-queue.ts, the app's
 * default of two files sealed at once, the IndexedDB upload journal, Web
 * Locks, `sendFile`), with the token endpoint replaced by `PoolGrantApi`
 * (SAS URLs the runner minted, one set per file). A file counts as "listed"
 * when the queue reports it done: that is the moment the app adds it to the
 * list (src/ui/files/uploads.svelte.ts `#uploaded`) and its row says
 * "Sealed and uploaded". The list's own rendering is not timed.
 *
 * The SDK's side is `BlockBlobClient.uploadData` (default options), 4 files
 * in flight, the same File objects.
 */
import type { ZodType } from 'zod';
import { apiPaths, type GrantApi } from '../../src/storage/grants.ts';
import { UploadQueue, type UploadItem } from '../../src/storage/upload-queue.ts';
import { benchIdentity, type SealedUrls } from './sealdrop-side.ts';

const GRANT_LIFETIME_MS = 2 * 3600_000;

/** Deterministic 32-bit generator (mulberry32): the same seed gives the same file set. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fills `bytes` from a seeded xorshift32 stream (incompressible enough; storage does not compress anyway). */
function fillSeeded(bytes: Uint8Array, seed: number): void {
  const words = new Uint32Array(bytes.buffer, bytes.byteOffset, Math.floor(bytes.byteLength / 4));
  let x = seed >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  for (let i = words.length * 4; i < bytes.byteLength; i++) bytes[i] = i & 0xff;
}

/** The file set of the current row. */
let files: File[] = [];

/**
 * Makes `count` files with seeded sizes in [minBytes, maxBytes] and seeded
 * contents; returns their sizes (the runner prints and checks them).
 */
export function makeFiles(seed: number, count: number, minBytes: number, maxBytes: number): number[] {
  const random = mulberry32(seed);
  files = [];
  for (let i = 0; i < count; i++) {
    const size = minBytes + Math.floor(random() * (maxBytes - minBytes + 1));
    const bytes = new Uint8Array(size);
    fillSeeded(bytes, Math.floor(random() * 0xffffffff));
    files.push(new File([bytes], `file-${String(i).padStart(3, '0')}.bin`, { type: 'application/octet-stream', lastModified: 0 }));
  }
  return files.map((f) => f.size);
}

/** Forgets the file set. */
export function dropFiles(): void {
  files = [];
}

/**
 * Stands in for the token endpoint for many files: each `POST /uploads`
 * takes the next set of the runner's SAS URLs; read and complete calls are
 * answered for the files it handed out. Refuses anything else.
 */
class PoolGrantApi implements GrantApi {
  private readonly waiting: SealedUrls[] = [];
  private readonly issued = new Map<string, SealedUrls>();

  add(urls: readonly SealedUrls[]): void {
    this.waiting.push(...urls);
  }

  get<T>(path: string, schema: ZodType<T>): Promise<T> {
    void schema;
    return Promise.reject(new Error(`The bench API does not answer GET ${path}.`));
  }

  post<T>(path: string, body: unknown, schema: ZodType<T>): Promise<T> {
    void body;
    const expiresAt = new Date(Date.now() + GRANT_LIFETIME_MS).toISOString();
    const grants = (u: SealedUrls): unknown => ({
      fileId: u.fileId,
      payload: { url: u.payloadUrl, expiresAt, permissions: 'rcw' },
      manifest: { url: u.manifestUrl, expiresAt, permissions: 'cw' },
    });
    if (path === apiPaths.uploads) {
      const next = this.waiting.shift();
      if (next === undefined) return Promise.reject(new Error('The bench API ran out of upload grants.'));
      this.issued.set(next.fileId, next);
      return Promise.resolve(schema.parse(grants(next)));
    }
    for (const [fileId, u] of this.issued) {
      if (path === apiPaths.read(fileId)) return Promise.resolve(schema.parse(grants(u)));
      // The change log's "this file is complete" call: acknowledged (one small API call in the app).
      if (path === apiPaths.complete(fileId)) return Promise.resolve(schema.parse({ fileId, etag: '"bench"', appended: true }));
    }
    return Promise.reject(new Error(`The bench API does not answer POST ${path}.`));
  }
}

let queue: { api: PoolGrantApi; queue: UploadQueue } | undefined;

/** The page's one upload queue, as the app keeps one per signed-in session. */
async function appQueue(): Promise<{ api: PoolGrantApi; queue: UploadQueue }> {
  if (queue === undefined) {
    const api = new PoolGrantApi();
    // What storage-drive-services.ts gives the app's queue, minus the outbox (only used offline).
    queue = { api, queue: new UploadQueue({ api, userId: 'bench', identity: await benchIdentity() }) };
  }
  return queue;
}

/** Resolves when every entry in `ids` is done; rejects with the first failure. */
function allDone(q: UploadQueue, ids: ReadonlySet<string>): Promise<void> {
  return new Promise((resolve, reject) => {
    let settled = false;
    // Returns true once every entry is done or one failed (the promise is settled then).
    const check = (items: readonly UploadItem[]): boolean => {
      if (settled) return true;
      const mine = items.filter((i) => ids.has(i.id));
      const failed = mine.find((i) => i.status === 'failed' || i.status === 'cancelled');
      if (failed !== undefined) {
        settled = true;
        const reason = failed.error instanceof Error ? failed.error.message : String(failed.error);
        reject(new Error(`Upload of ${failed.name} ${failed.status}: ${reason}`));
      } else if (mine.length === ids.size && mine.every((i) => i.status === 'done')) {
        settled = true;
        resolve();
      }
      return settled;
    };
    // subscribe() calls the listener at once, before it returns the function that unsubscribes.
    const holder: { stop?: () => void } = {};
    holder.stop = q.subscribe((items) => {
      if (check(items)) holder.stop?.();
    });
    if (settled) holder.stop();
  });
}

/**
 * Drops the current file set (or only its first `count`) into the app's
 * upload queue at once and waits until every file is done; returns the wall
 * time in ms. Finished entries are removed from the queue afterwards (untimed).
 */
export async function queueUpload(urls: readonly SealedUrls[], count = files.length): Promise<number> {
  const picked = files.slice(0, count);
  if (urls.length < picked.length) throw new Error(`${picked.length} files but ${urls.length} sets of URLs.`);
  const { api, queue: q } = await appQueue();
  api.add(urls.slice(0, picked.length));
  const t0 = performance.now();
  const ids = new Set(picked.map((f) => q.add(f)));
  await allDone(q, ids);
  const ms = performance.now() - t0;
  for (const id of ids) q.remove(id);
  return ms;
}

/** Uploads the current file set (or its first `count`) with the SDK's `uploadData`, `inFlight` at once; returns the wall time in ms. */
export async function sdkUpload(urls: readonly string[], inFlight: number, count = files.length): Promise<number> {
  const picked = files.slice(0, count);
  if (urls.length < picked.length) throw new Error(`${picked.length} files but ${urls.length} URLs.`);
  const { BlockBlobClient } = await import('@azure/storage-blob');
  let next = 0;
  const t0 = performance.now();
  const worker = async (): Promise<void> => {
    for (let i = next++; i < picked.length; i = next++) {
      const file = picked[i];
      const url = urls[i];
      if (file === undefined || url === undefined) return;
      await new BlockBlobClient(url).uploadData(file);
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, picked.length) }, () => worker()));
  return performance.now() - t0;
}
