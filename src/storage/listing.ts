/**
 * Listing a drive of any size (issue 16). The server's pages come one after
 * another (storage's continuation tokens form a chain), each carrying a read
 * grant for every complete file's manifest, so listing costs one API call
 * per page and none per file. While the next page is asked for, manifests
 * of the pages already in are fetched and opened, a bounded number at once.
 * With a device cache, a file whose manifest ETag is unchanged is shown from
 * the cache and its manifest is not fetched; files gone from the listing
 * are dropped from the cache once the whole listing is in.
 */
import { openManifest, SealdropCryptoError, signingKeyFingerprint, TamperedError } from '../crypto/index.ts';
import { getBlob } from './blob-rest.ts';
import { apiPaths, fileGrantsSchema, fileListSchema, GrantKeeper, type FileEntry, type FileGrants, type FileListPage, type GrantApi } from './grants.ts';
import { cachedFor, planListDelta, type CachedFile, type ListCache } from './list-cache.ts';
import type { DriveEntry, DriveListing, ReceiveOptions } from './receiver.ts';
import { ownerIdentities, type OwnerKeys } from './owner-keys.ts';
import { callStorage } from './retry.ts';
import { StorageError } from './storage-error.ts';

/** Manifests fetched and opened at once (browsers open about 6 connections per host). */
export const MANIFEST_PARALLEL = 6;
/** Longest wait for the device cache once the first page is in; after it the listing goes on cold. */
export const CACHE_LOAD_DEADLINE_MS = 3_000;
/** Shortest time between two progress reports. */
const PROGRESS_INTERVAL_MS = 250;
/** Blobs per listing page the client asks for (the contract's most): about 330 files. */
export const LIST_PAGE_BLOBS = 1000;

/** What a listing has so far, for progressive display. */
export interface ListingProgress {
  /** Entries known so far (from the cache or opened), in no particular order. */
  files: readonly DriveEntry[];
  /** Files the server listed so far (complete ones). */
  listed: number;
  /** True once every page is in (manifests may still be opening). */
  pagesDone: boolean;
}

/** Options of {@link listDriveProgressive}. */
export interface ListingOptions extends ReceiveOptions {
  /** The device cache; without one every manifest is fetched. */
  cache?: ListCache | undefined;
  /** Told as entries arrive (at most once per page and per batch of opened manifests). */
  onProgress?: ((progress: ListingProgress) => void) | undefined;
  /** Manifests at once; default {@link MANIFEST_PARALLEL}. */
  parallel?: number | undefined;
}

/**
 * Lists the owner's files, opening every complete file's manifest (or
 * taking it from `opts.cache`). A manifest that fails to open or verify
 * yields a DamagedFile with the reason. Throws the API client's errors, a
 * StorageError when storage cannot be reached, or the signal's reason; the
 * cache is then left as it was, apart from files already opened.
 */
export async function listDriveProgressive(api: GrantApi, identity: OwnerKeys, opts: ListingOptions = {}): Promise<DriveListing> {
  const signal = opts.signal === undefined ? {} : { signal: opts.signal };
  const cachedPromise = opts.cache?.load() ?? Promise.resolve(new Map<string, CachedFile>());
  const ownerPromise = signingKeyFingerprint(identity.sign.publicKey);
  // Keep a failing cache load from becoming an unhandled rejection while the first page is asked for.
  cachedPromise.catch(() => undefined);

  const entries: FileEntry[] = [];
  const shown: DriveEntry[] = [];
  const opened: CachedFile[] = [];
  const queue: FileEntry[] = [];
  let pagesDone = false;
  let failure: { error: unknown } | null = null;
  // At most a few reports a second: each one re-renders the list.
  let lastReport = 0;
  const report = (force = false): void => {
    if (opts.onProgress === undefined || (!force && performance.now() - lastReport < PROGRESS_INTERVAL_MS)) return;
    lastReport = performance.now();
    opts.onProgress({ files: shown, listed: entries.filter((e) => e.complete).length, pagesDone });
  };

  // The manifest pool: workers take from `queue` until the pages are done and it is empty.
  let wake: (() => void) | null = null;
  const nudge = (): void => {
    wake?.();
    wake = null;
  };
  const worker = async (owner: string): Promise<void> => {
    for (;;) {
      if (failure !== null) return;
      const entry = queue.shift();
      if (entry === undefined) {
        if (pagesDone) return;
        await new Promise<void>((resolve) => {
          const previous = wake;
          wake = () => {
            previous?.();
            resolve();
          };
        });
        continue;
      }
      try {
        const result = await describe(api, identity, owner, entry, opts);
        shown.push(result);
        if (result.status === 'ok') opened.push({ etag: entry.etag, file: result });
        report();
      } catch (error) {
        failure ??= { error };
        nudge();
        return;
      }
    }
  };

  let cached = new Map<string, CachedFile>();
  const owner = await ownerPromise;
  const workers: Promise<void>[] = [];
  try {
    let cursor: string | null = null;
    let first = true;
    do {
      const page: FileListPage = await api.get(apiPaths.files(cursor, LIST_PAGE_BLOBS), fileListSchema, signal);
      if (first) {
        // A cache that cannot be read (or is slow to open: IndexedDB blocked
        // by another tab, a stalled disk) is a cold start, not a failed or
        // stuck listing.
        cached = await withDeadline(cachedPromise, CACHE_LOAD_DEADLINE_MS).catch(() => new Map<string, CachedFile>());
        workers.push(...Array.from({ length: opts.parallel ?? MANIFEST_PARALLEL }, () => worker(owner)));
        first = false;
      }
      if (failure !== null) break;
      entries.push(...page.files);
      for (const entry of page.files) {
        if (!entry.complete) continue;
        const hit = cachedFor(entry, cached);
        if (hit !== null) shown.push(hit.file);
        else queue.push(entry);
      }
      nudge();
      report();
      cursor = page.next;
    } while (cursor !== null);
  } catch (error) {
    failure ??= { error };
  } finally {
    pagesDone = true;
    nudge();
  }
  await Promise.all(workers);
  // Whatever opened is worth keeping, even when the listing failed.
  await opts.cache?.put(opened).catch(() => undefined);
  if (failure !== null) throw failure.error;

  const delta = planListDelta(entries, cached);
  await opts.cache?.remove(delta.drop).catch(() => undefined);
  report(true);
  const files = [...shown].sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
  return { files, unfinished: entries.filter((e) => !e.complete) };
}

async function describe(api: GrantApi, identity: OwnerKeys, owner: string, entry: FileEntry, opts: ReceiveOptions): Promise<DriveEntry> {
  const base = { fileId: entry.fileId, createdAt: entry.createdAt, payloadBytes: entry.payloadBytes };
  try {
    const manifest = await fetchManifestBytes(api, entry, opts);
    // The drive key first (a symmetric unwrap), then RSA for files sealed without it (FORMAT.md §7.4, §7.5).
    const opened = await openManifest(manifest, ownerIdentities(identity), { fileId: entry.fileId });
    // Our own drive holds only what we sealed: a manifest signed by anyone
    // else was put there by someone with access to storage.
    if (opened.signer.fingerprint !== owner) throw new TamperedError('This file was not sealed with your key.');
    return { status: 'ok', ...base, metadata: opened.metadata, sealedBy: opened.signer.fingerprint };
  } catch (error) {
    if (error instanceof SealdropCryptoError) return { status: 'damaged', ...base, problem: error.message };
    if (error instanceof StorageError && error.kind === 'not-found') {
      return { status: 'damaged', ...base, problem: 'The file’s description is missing from storage.' };
    }
    throw error;
  }
}

/**
 * The manifest's bytes, read with the grant the listing carried; the read
 * route is asked only when there is none (an older server) or storage
 * refused it (expired while the listing was long).
 */
async function fetchManifestBytes(api: GrantApi, entry: FileEntry, opts: ReceiveOptions): Promise<Uint8Array> {
  const readGrants = (): Promise<FileGrants> =>
    api.post(apiPaths.read(entry.fileId), undefined, fileGrantsSchema, opts.signal === undefined ? {} : { signal: opts.signal });
  const listed = entry.manifestRead;
  const initial = listed === undefined ? await readGrants() : { fileId: entry.fileId, payload: listed, manifest: listed };
  const keeper = new GrantKeeper(initial, readGrants);
  return callStorage(keeper, (g) => getBlob(g.manifest.url, { signal: opts.signal, fetch: opts.transport?.fetch }), {
    policy: opts.transport?.retry,
    signal: opts.signal,
  });
}

/** `promise`, or a rejection once `ms` have passed. */
function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('The device cache took too long to open.')), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
