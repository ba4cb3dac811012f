/**
 * The device cache of the decrypted listing (issue 16): one record per file
 * whose manifest opened, sealed under a non-extractable AES-GCM key that
 * lives in the same IndexedDB database (src/crypto/cache-seal.ts). A record
 * is reused while the file's ETag in the server's listing is unchanged, so a
 * warm listing fetches only new or changed manifests; files the listing no
 * longer shows are dropped. Nothing here is trusted beyond the device: a
 * record that fails to open is dropped and its manifest fetched again.
 */
import { openDB, type IDBPDatabase } from 'idb';
import { z } from 'zod';
import { newCacheKey, openCacheRecord, sealCacheRecord } from '../crypto/cache-seal.ts';
import { changePosition, fileEntrySchema } from '../contract/index.ts';
import { fileIdSchema, type FileEntry } from './grants.ts';
import type { DriveEntry } from './receiver.ts';

const DB_NAME = 'sealdrop-list-cache';
const ENTRIES = 'entries';
const KEYS = 'keys';
const STATE = 'state';
const BY_USER = 'by-user';

/** What a cache record holds once opened: the listed file as the manifest told it, or why it could not be opened. */
const cachedOkSchema = z
  .object({
    status: z.literal('ok'),
    fileId: fileIdSchema,
    createdAt: z.string(),
    payloadBytes: z.number().int().nonnegative(),
    metadata: z.object({
      name: z.string(),
      type: z.string(),
      size: z.number().int().nonnegative(),
      lastModified: z.number(),
      relativePath: z.string().optional(),
    }),
    sealedBy: z.string(),
  })
  .strict();
const cachedDamagedSchema = z
  .object({
    status: z.literal('damaged'),
    fileId: fileIdSchema,
    createdAt: z.string(),
    payloadBytes: z.number().int().nonnegative(),
    problem: z.string(),
  })
  .strict();
const cachedFileSchema = z.discriminatedUnion('status', [cachedOkSchema, cachedDamagedSchema]);

/**
 * Where the change log was read to, saved beside the records (not sealed:
 * positions, times and unfinished uploads' ids and sizes are what the
 * server knows anyway). The records are exactly the log's files up to
 * `position`; without a position they are only a store of opened manifests.
 */
export const listStateSchema = z
  .object({
    position: changePosition.nullable(),
    /** When the drive was last walked in full (ms since the epoch), or null. */
    reconciledAt: z.number().nullable(),
    /** Payloads without a manifest that the last walk saw. */
    unfinished: z.array(fileEntrySchema),
  })
  .strict();
/** The log state of one user's cache. */
export type ListState = z.infer<typeof listStateSchema>;

/** A cached file (opened, or damaged with its reason) and the manifest ETag it was read from. */
export interface CachedFile {
  etag: string;
  file: DriveEntry;
}

/** Where the decrypted listing is kept between visits. */
export interface ListCache {
  /** Every cached file of the user, by file id; records that do not open are dropped. */
  load(): Promise<Map<string, CachedFile>>;
  /** Stores (or replaces) these files. */
  put(files: readonly CachedFile[]): Promise<void>;
  /** Forgets these files. */
  remove(fileIds: readonly string[]): Promise<void>;
  /** The saved log state, or null (never saved, or forgotten because records were lost). */
  loadState(): Promise<ListState | null>;
  /** Saves the log state; call it only once the records it speaks for are stored. */
  saveState(state: ListState): Promise<void>;
}

/** What a listing must do given the server's entries and the cache. */
export interface ListDelta {
  /** Complete files whose cached record is current: shown from the cache. */
  reuse: CachedFile[];
  /** Complete files new to the cache or changed since (ETag differs, or unknown): their manifests must be fetched. */
  fetch: FileEntry[];
  /** Cached files the server no longer lists: to drop from the cache. */
  drop: string[];
}

/**
 * Compares one complete listing with the cache. Only call it with the whole
 * listing: a file missing from a partial one is not deleted. An empty ETag
 * never matches (the server could not tell, so the manifest is fetched).
 */
export function planListDelta(listed: readonly FileEntry[], cached: ReadonlyMap<string, CachedFile>): ListDelta {
  const reuse: CachedFile[] = [];
  const fetch: FileEntry[] = [];
  const complete = new Set<string>();
  for (const entry of listed) {
    if (!entry.complete) continue;
    complete.add(entry.fileId);
    const hit = cached.get(entry.fileId);
    if (hit !== undefined && entry.etag !== '' && hit.etag === entry.etag) reuse.push(hit);
    else fetch.push(entry);
  }
  // A cached file listed as unfinished (its manifest is gone) is dropped too.
  const drop = [...cached.keys()].filter((id) => !complete.has(id));
  return { reuse, fetch, drop };
}

/**
 * Decides, for one entry of a page, whether the cache can answer for it
 * (the same rule as {@link planListDelta}, usable page by page). Returns the
 * cached file or null.
 */
export function cachedFor(entry: FileEntry, cached: ReadonlyMap<string, CachedFile>): CachedFile | null {
  if (!entry.complete || entry.etag === '') return null;
  const hit = cached.get(entry.fileId);
  return hit !== undefined && hit.etag === entry.etag ? hit : null;
}

const storedRecordSchema = z.object({
  key: z.string(),
  userId: z.string(),
  fileId: fileIdSchema,
  etag: z.string(),
  sealed: z.custom<Uint8Array>((v) => v instanceof Uint8Array),
});

/**
 * The IndexedDB cache of `userId` (database `sealdrop-list-cache`). The
 * sealing key is made on first use, non-extractable, and stored beside the
 * records; clearing site data clears both. Methods reject with IndexedDB's
 * errors (e.g. QuotaExceededError); `load` never rejects for a bad record.
 */
export function openListCache(userId: string, dbName: string = DB_NAME): ListCache {
  let db: Promise<IDBPDatabase> | null = null;
  let key: Promise<CryptoKey> | null = null;
  const open = (): Promise<IDBPDatabase> =>
    (db ??= openDB(dbName, 2, {
      upgrade(database, oldVersion) {
        if (oldVersion < 1) {
          database.createObjectStore(ENTRIES, { keyPath: 'key' }).createIndex(BY_USER, 'userId');
          database.createObjectStore(KEYS);
        }
        // Version 2: the change log's position (issue 16).
        if (oldVersion < 2) database.createObjectStore(STATE);
      },
      // Another tab (or "clear site data") wants the database: let it go and
      // reopen on next use, rather than block it.
      blocking() {
        void db?.then((d) => d.close());
        db = null;
        key = null;
      },
    }));
  const cacheKey = (): Promise<CryptoKey> =>
    (key ??= (async () => {
      const database = await open();
      const stored: unknown = await database.get(KEYS, userId);
      if (stored instanceof CryptoKey) return stored;
      const fresh = await newCacheKey();
      // A record sealed under a lost key cannot open: start this user's cache afresh.
      const tx = database.transaction([KEYS, ENTRIES, STATE], 'readwrite');
      await tx.objectStore(KEYS).put(fresh, userId);
      const old = await tx.objectStore(ENTRIES).index(BY_USER).getAllKeys(userId);
      await Promise.all(old.map((k) => tx.objectStore(ENTRIES).delete(k)));
      // Without the records the position would skip their files.
      await tx.objectStore(STATE).delete(userId);
      await tx.done;
      return fresh;
    })());
  const recordKey = (fileId: string): string => `${userId}/${fileId}`;

  return {
    async load() {
      const [database, k] = await Promise.all([open(), cacheKey()]);
      const raw: unknown[] = await database.getAllFromIndex(ENTRIES, BY_USER, userId);
      const out = new Map<string, CachedFile>();
      const bad: string[] = [];
      await Promise.all(
        raw.map(async (value) => {
          const rec = storedRecordSchema.safeParse(value);
          if (!rec.success) return;
          try {
            const plain = await openCacheRecord(k, { userId, record: rec.data.fileId }, rec.data.sealed);
            const file = cachedFileSchema.parse(JSON.parse(new TextDecoder().decode(plain)));
            if (file.fileId !== rec.data.fileId) throw new Error('Record names another file.');
            out.set(file.fileId, { etag: rec.data.etag, file: file as DriveEntry });
          } catch {
            bad.push(rec.data.key);
          }
        }),
      );
      if (bad.length > 0) {
        // A dropped record's file is no longer covered by the position: forget it, so the next listing reads the log from the start.
        const tx = database.transaction([ENTRIES, STATE], 'readwrite');
        await Promise.all([...bad.map((b) => tx.objectStore(ENTRIES).delete(b)), tx.objectStore(STATE).delete(userId), tx.done]);
      }
      return out;
    },
    async loadState() {
      const database = await open();
      const parsed = listStateSchema.safeParse(await database.get(STATE, userId));
      return parsed.success ? parsed.data : null;
    },
    async saveState(state) {
      const database = await open();
      await database.put(STATE, listStateSchema.parse(state), userId);
    },
    async put(files) {
      if (files.length === 0) return;
      const [database, k] = await Promise.all([open(), cacheKey()]);
      // Seal first: an IndexedDB transaction closes if it waits on anything else.
      const records = await Promise.all(
        files.map(async ({ etag, file }) => ({
          key: recordKey(file.fileId),
          userId,
          fileId: file.fileId,
          etag,
          sealed: await sealCacheRecord(k, { userId, record: file.fileId }, new TextEncoder().encode(JSON.stringify(file))),
        })),
      );
      const tx = database.transaction(ENTRIES, 'readwrite');
      await Promise.all([...records.map((r) => tx.store.put(r)), tx.done]);
    },
    async remove(fileIds) {
      if (fileIds.length === 0) return;
      const database = await open();
      const tx = database.transaction(ENTRIES, 'readwrite');
      await Promise.all([...fileIds.map((id) => tx.store.delete(recordKey(id))), tx.done]);
    },
  };
}

/** A cache kept in memory only: for tests and browsers without IndexedDB. */
export function memoryListCache(): ListCache & { files: Map<string, CachedFile>; state: ListState | null } {
  const files = new Map<string, CachedFile>();
  return {
    files,
    state: null,
    loadState() {
      return Promise.resolve(this.state === null ? null : structuredClone(this.state));
    },
    saveState(state) {
      this.state = structuredClone(state);
      return Promise.resolve();
    },
    load: () => Promise.resolve(new Map(files)),
    put(list) {
      for (const f of list) files.set(f.file.fileId, f);
      return Promise.resolve();
    },
    remove(ids) {
      for (const id of ids) files.delete(id);
      return Promise.resolve();
    },
  };
}

/**
 * Deletes this device's listing cache for every account (sign-out with
 * "forget my keys"): its records name files, sealed under a key of this
 * device that would otherwise stay. Resolves once the database is gone, or
 * throws when the browser refuses (blocked by another tab counts as done:
 * the deletion completes when that tab lets go).
 */
export async function forgetListCache(dbName: string = DB_NAME): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const request = indexedDB.deleteDatabase(dbName);
    request.onsuccess = () => resolve();
    request.onblocked = () => resolve();
    request.onerror = () => reject(request.error ?? new Error('The browser refused to delete the listing cache.'));
  });
}
