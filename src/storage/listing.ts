/**
 * Listing a drive of any size (issue 16). From the change log, the events
 * carry small manifests inline, so a cold listing reads no blob for them.
 * In the full walk, the server's pages come one after
 * another (storage's continuation tokens form a chain), each carrying a read
 * grant for every complete file's manifest, so listing costs one API call
 * per page and none per file. While the next page is asked for, manifests
 * of the pages already in are fetched and opened, a bounded number at once.
 * With a device cache, a file whose manifest ETag is unchanged is shown from
 * the cache and its manifest is not fetched; files gone from the listing
 * are dropped from the cache once the whole listing is in.
 */
import { openManifest, SealdropCryptoError, TamperedError } from '../crypto/index.ts';
import { getBlob } from './blob-rest.ts';
import { ApiError, ERROR_CODES } from '../contract/index.ts';
import {
  apiPaths,
  completeResponse,
  fileChangesSchema,
  fileGrantsSchema,
  fileListSchema,
  GrantKeeper,
  type FileChange,
  type FileChangesPage,
  type FileEntry,
  type FileGrants,
  type FileListPage,
  type GrantApi,
} from './grants.ts';
import { cachedFor, planListDelta, type CachedFile, type ListCache } from './list-cache.ts';
import type { DriveEntry, DriveListing, ReceiveOptions } from './receiver.ts';
import { ownerFingerprints, ownerIdentities, type OwnerKeys } from './owner-keys.ts';
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
 * Leaves a User Timing mark (`sealdrop:list:<step>`) where the listing's
 * time goes; `npm run bench -- --drive N` prints them. Marks carry no data.
 */
function mark(step: string): void {
  if (typeof performance !== 'undefined' && typeof performance.mark === 'function') performance.mark(`sealdrop:list:${step}`);
}

/** Events asked for per change-log call (the contract allows up to 5000). */
export const CHANGES_PAGE = 1000;
/** How long a device trusts the change log alone before it walks the whole drive again in the background. */
export const RECONCILE_INTERVAL_MS = 6 * 60 * 60 * 1000;

/** The log read from a position to its end. */
interface LogRead {
  changes: FileChange[];
  next: string;
}

/** Reads the change log after `after` (from its start for null) to its end, one call per page. Throws the API client's errors. */
async function readLog(api: GrantApi, after: string | null, signal: { signal?: AbortSignal }): Promise<LogRead> {
  const changes: FileChange[] = [];
  let position = after;
  for (;;) {
    const page: FileChangesPage = await api.get(apiPaths.changes(position, CHANGES_PAGE), fileChangesSchema, signal);
    changes.push(...page.changes);
    position = page.next;
    if (page.exhausted) return { changes, next: page.next };
  }
}

/** True for the server's answer to a log position it does not know (the log was rebuilt). */
function isUnknownPosition(error: unknown): boolean {
  return error instanceof ApiError && (error.status === 410 || error.code === ERROR_CODES.logPositionUnknown);
}

/** True when the server has no change log at all (an older server): the walk is then the listing. */
function isNoLog(error: unknown): boolean {
  return error instanceof ApiError && (error.status === 404 || error.status === 405);
}

/** A listed file, with its sealed manifest (base64) when the change log carried it. */
type ListedEntry = FileEntry & { inlineManifest?: string | undefined };

/** A log add event as the listing entry it stands for. */
function entryOf(change: Extract<FileChange, { op: 'add' }>): ListedEntry {
  const { fileId, payloadBytes, manifestBytes, createdAt, etag, manifestRead, manifest } = change;
  return { fileId, payloadBytes, manifestBytes, createdAt, etag, complete: true, manifestRead, inlineManifest: manifest };
}

/** Standard base64 as bytes (the contract's schema has checked the alphabet). */
function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/**
 * Lists the owner's files from the change log (issue 16). With a position
 * in the device cache (warm), only the events after it are read (one call
 * for a few changes) and only added or changed manifests are fetched; the
 * cached list is reported at once. Without one (cold, or a position the
 * server no longer knows), the whole log is read in pages of
 * {@link CHANGES_PAGE} and every manifest not cached under the same ETag is
 * fetched and opened, {@link MANIFEST_PARALLEL} at once. An empty log (a
 * new drive) or a server without a log falls back to the full walk
 * ({@link walkDrive}). Unfinished uploads are those the last walk saw
 * (`reconcileDue` says when the next walk is due: see {@link reconcileDrive}).
 *
 * A manifest that fails to open or verify yields a DamagedFile with the
 * reason. Throws the API client's errors, a StorageError when storage
 * cannot be reached, or the signal's reason; the cache's position is then
 * left as it was (files already opened are kept).
 */
export async function listDriveProgressive(api: GrantApi, identity: OwnerKeys, opts: ListingOptions = {}): Promise<DriveListing> {
  const signal = opts.signal === undefined ? {} : { signal: opts.signal };
  const cache = opts.cache;
  mark('start');
  const ownerPromise = ownerFingerprints(identity);
  // A cache that cannot be read (or is slow to open: IndexedDB blocked by
  // another tab, a stalled disk) is a cold start, not a failed or stuck listing.
  // The records open (one AES-GCM each) while the position is read and the log asked.
  const filesPromise: Promise<Map<string, CachedFile> | null> =
    cache === undefined ? Promise.resolve(new Map()) : withDeadline(cache.load(), CACHE_LOAD_DEADLINE_MS).catch(() => null);
  const state = cache === undefined ? null : await withDeadline(cache.loadState(), CACHE_LOAD_DEADLINE_MS).catch(() => null);

  let position = state?.position ?? null;
  let log: LogRead;
  try {
    log = await readLog(api, position, signal).catch(async (error: unknown) => {
      if (position === null || !isUnknownPosition(error)) throw error;
      position = null;
      return readLog(api, null, signal);
    });
  } catch (error) {
    if (isNoLog(error)) return walkDrive(api, identity, opts);
    throw error;
  }
  mark('log-read');
  let cached = await filesPromise;
  mark('cache-loaded');
  // The position speaks for the records only if they all loaded (load() forgets it when one did not).
  const stillValid = cache !== undefined && cached !== null && (await cache.loadState().catch(() => null))?.position === position;
  if (position !== null && !stillValid) {
    position = null;
    log = await readLog(api, null, signal);
  }
  cached ??= new Map();
  if (position === null && log.changes.length === 0) {
    // A drive with no logged file: walk it (one call when it is empty).
    const walked = await walkDrive(api, identity, opts);
    await cache?.saveState({ position: log.next, reconciledAt: Date.now(), unfinished: walked.unfinished }).catch(() => undefined);
    return { files: walked.files, unfinished: walked.unfinished, reconcileDue: false };
  }

  // The drive: every cached file if the position covers them, then the log's events in order.
  const current = new Map<string, CachedFile | null>();
  const added = new Map<string, ListedEntry>();
  const deleted = new Set<string>();
  if (position !== null) for (const [id, c] of cached) current.set(id, c);
  for (const change of log.changes) {
    if (change.op === 'delete') {
      current.delete(change.fileId);
      added.delete(change.fileId);
      deleted.add(change.fileId);
      continue;
    }
    const entry = entryOf(change);
    added.set(entry.fileId, entry);
    current.set(entry.fileId, cachedFor(entry, cached));
  }

  const shown: DriveEntry[] = [];
  const toOpen: ListedEntry[] = [];
  for (const [id, hit] of current) {
    if (hit !== null) shown.push(hit.file);
    else {
      const entry = added.get(id);
      if (entry !== undefined) toOpen.push(entry);
    }
  }
  let lastReport = 0;
  const report = (force = false): void => {
    if (opts.onProgress === undefined || (!force && performance.now() - lastReport < PROGRESS_INTERVAL_MS)) return;
    lastReport = performance.now();
    opts.onProgress({ files: shown, listed: current.size, pagesDone: true });
  };
  report(true);
  mark('cached-shown');

  const opened: CachedFile[] = [];
  const owner = await ownerPromise;
  let next = 0;
  // The first failure stops every worker (an array: TypeScript does not follow assignments made in closures).
  const failures: unknown[] = [];
  const worker = async (): Promise<void> => {
    while (failures.length === 0 && next < toOpen.length) {
      const entry = toOpen[next++];
      if (entry === undefined) return;
      try {
        const result = await describe(api, identity, owner, entry, opts);
        shown.push(result);
        opened.push({ etag: entry.etag, file: result });
        report();
      } catch (error) {
        failures.push(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.parallel ?? MANIFEST_PARALLEL) }, worker));
  mark('opened');
  // Whatever opened is worth keeping, even when the listing failed.
  const stored = await cache?.put(opened).then(
    () => true,
    () => false,
  );
  if (failures.length > 0) throw failures[0];

  const unfinished = (state?.unfinished ?? []).filter((u) => !current.has(u.fileId) && !deleted.has(u.fileId));
  const reconciledAt = state?.reconciledAt ?? null;
  if (cache !== undefined && stored === true) {
    try {
      await cache.remove([...cached.keys()].filter((id) => !current.has(id)));
      // Last: the position speaks for the records just stored.
      await cache.saveState({ position: log.next, reconciledAt, unfinished });
    } catch {
      // A cache that cannot be written makes the next listing cold, nothing worse.
    }
  }
  report(true);
  mark('done');
  return { files: newestFirst(shown), unfinished, reconcileDue: cache !== undefined && (reconciledAt === null || Date.now() - reconciledAt > RECONCILE_INTERVAL_MS) };
}

/**
 * The reconcile path (issue 16): walks the whole drive in the background
 * after a listing from the log, so what the log missed still shows up: a
 * file whose upload finished but whose complete call was lost (crash) is
 * completed now (the log then has it for every device) and cached; cached
 * files that storage no longer holds, and that no event since the walk
 * began added, are dropped; the unfinished uploads the walk saw are kept
 * for the next listing. Resolves when done; throws what the walk throws.
 */
export async function reconcileDrive(api: GrantApi, identity: OwnerKeys, opts: ListingOptions & { cache: ListCache }): Promise<void> {
  const signal = opts.signal === undefined ? {} : { signal: opts.signal };
  const before = await opts.cache.loadState();
  const cachedBefore = await opts.cache.load();
  const walked = await walkDrive(api, identity, { ...opts, onProgress: undefined, dropMissing: false });
  const seen = new Set(walked.entries.filter((e) => e.complete).map((e) => e.fileId));
  for (const id of seen) {
    if (cachedBefore.has(id)) continue;
    try {
      await api.post(apiPaths.complete(id), undefined, completeResponse, signal);
    } catch (error) {
      // Deleted or swept since the walk saw it: the log says so already.
      if (!(error instanceof ApiError && (error.status === 404 || error.status === 409))) throw error;
    }
  }
  const recent = new Set<string>();
  if (before?.position != null) {
    const since = await readLog(api, before.position, signal).catch(() => null);
    for (const c of since?.changes ?? []) if (c.op === 'add') recent.add(c.fileId);
  }
  await opts.cache.remove([...cachedBefore.keys()].filter((id) => !seen.has(id) && !recent.has(id)));
  const now = await opts.cache.loadState();
  await opts.cache.saveState({ position: now?.position ?? before?.position ?? null, reconciledAt: Date.now(), unfinished: walked.unfinished });
}

/** Newest first, as the drive shows them. */
function newestFirst(entries: readonly DriveEntry[]): DriveEntry[] {
  return [...entries].sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
}

/**
 * Lists the owner's files by walking the server's whole listing (`GET
 * /files` pages), opening every complete file's manifest (or taking it from
 * `opts.cache`). This is the reconcile path of the change log: it sees
 * every file storage holds, logged or not, and the unfinished uploads. A
 * manifest that fails to open or verify yields a DamagedFile with the
 * reason. Throws the API client's errors, a StorageError when storage
 * cannot be reached, or the signal's reason; the cache is then left as it
 * was, apart from files already opened. With `dropMissing: false`, cached
 * files the walk does not see are kept (the caller decides).
 */
export async function walkDrive(
  api: GrantApi,
  identity: OwnerKeys,
  opts: ListingOptions & { dropMissing?: boolean } = {},
): Promise<DriveListing & { entries: FileEntry[] }> {
  const signal = opts.signal === undefined ? {} : { signal: opts.signal };
  const cachedPromise = opts.cache?.load() ?? Promise.resolve(new Map<string, CachedFile>());
  const ownerPromise = ownerFingerprints(identity);
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
  const worker = async (owner: ReadonlySet<string>): Promise<void> => {
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

  if (opts.dropMissing !== false) {
    const delta = planListDelta(entries, cached);
    await opts.cache?.remove(delta.drop).catch(() => undefined);
  }
  report(true);
  return { files: newestFirst(shown), unfinished: entries.filter((e) => !e.complete), entries };
}

async function describe(api: GrantApi, identity: OwnerKeys, owner: ReadonlySet<string>, entry: ListedEntry, opts: ReceiveOptions): Promise<DriveEntry> {
  const base = { fileId: entry.fileId, createdAt: entry.createdAt, payloadBytes: entry.payloadBytes };
  try {
    // The change log carries small manifests: no storage read for those (issue 16).
    const manifest = entry.inlineManifest !== undefined ? decodeBase64(entry.inlineManifest) : await fetchManifestBytes(api, entry, opts);
    // The drive key first (a symmetric unwrap), then RSA for files sealed without it (FORMAT.md §7.4, §7.5).
    const opened = await openManifest(manifest, ownerIdentities(identity), { fileId: entry.fileId });
    // Our own drive holds only what we sealed: a manifest signed by anyone
    // else was put there by someone with access to storage.
    if (!owner.has(opened.signer.fingerprint)) throw new TamperedError('This file was not sealed with your key.');
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
