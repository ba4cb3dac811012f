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
import { deleteDatabase } from './delete-database.ts';

const DB_NAME = 'sealdrop-list-cache';
const ENTRIES = 'entries';
const KEYS = 'keys';
const STATE = 'state';
const BY_USER = 'by-user';
const SNAPSHOTS = 'snapshots';

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
/** A file removed since the last snapshot (not sealed: an id is what the server knows, and deleting records needs no key anyway). */
const storedRemovalSchema = z.object({ key: z.string(), userId: z.string(), fileId: fileIdSchema, removed: z.literal(true) });
/** The whole list at one moment, sealed as one record: `[etag, file][]`. */
const storedSnapshotSchema = z.object({ sealed: z.custom<Uint8Array>((v) => v instanceof Uint8Array) });
const snapshotEntriesSchema = z.array(z.tuple([z.string(), cachedFileSchema]));

/** Record name (AAD) of a user's snapshot: not a file id, so no file record can stand in for it. */
const SNAPSHOT_RECORD = 'snapshot';
/**
 * Files changed since the snapshot after which the next change writes a
 * new snapshot instead: a listing of many files (cold) is one record, a
 * warm one adds a few small ones.
 */
export const SNAPSHOT_AFTER_CHANGES = 256;

/**
 * The IndexedDB cache of `userId` (database `sealdrop-list-cache`). The
 * list is kept as one sealed snapshot plus one sealed record per file
 * changed since (and an unsealed mark per file removed since): loading
 * 10,000 files is one AES-GCM operation rather than 10,000, and a warm
 * listing that adds ten writes ten small records rather than the whole
 * list. The sealing key is made on first use, non-extractable, and stored
 * beside the records; clearing site data clears both. Methods reject with
 * IndexedDB's errors (e.g. QuotaExceededError); `load` never rejects for a
 * bad record (it is dropped, and with it the change-log position).
 *
 * Two tabs may write at once: changes are per-file records, and a new
 * snapshot deletes only the change records it merged, each only if it is
 * still the one it read, so another tab's change is never lost.
 */
export function openListCache(userId: string, dbName: string = DB_NAME): ListCache {
  let db: Promise<IDBPDatabase> | null = null;
  let key: Promise<CryptoKey> | null = null;
  /** The list as last loaded or written here, and the change records it merged (key → etag, '' for a removal). */
  let known: { files: Map<string, CachedFile>; merged: Map<string, string> } | null = null;
  const open = (): Promise<IDBPDatabase> =>
    (db ??= openDB(dbName, 3, {
      upgrade(database, oldVersion) {
        if (oldVersion < 1) {
          database.createObjectStore(ENTRIES, { keyPath: 'key' }).createIndex(BY_USER, 'userId');
          database.createObjectStore(KEYS);
        }
        // Version 2: the change log's position (issue 16).
        if (oldVersion < 2) database.createObjectStore(STATE);
        // Version 3: one sealed snapshot per user; ENTRIES holds the changes since.
        if (oldVersion < 3) database.createObjectStore(SNAPSHOTS);
      },
      // Another tab (or "clear site data") wants the database: let it go and
      // reopen on next use, rather than block it.
      blocking() {
        void db?.then((d) => d.close());
        db = null;
        key = null;
        known = null;
      },
    }));
  const cacheKey = (): Promise<CryptoKey> =>
    (key ??= (async () => {
      const database = await open();
      const stored: unknown = await database.get(KEYS, userId);
      if (stored instanceof CryptoKey) return stored;
      const fresh = await newCacheKey();
      // A record sealed under a lost key cannot open: start this user's cache afresh.
      const tx = database.transaction([KEYS, ENTRIES, STATE, SNAPSHOTS], 'readwrite');
      await tx.objectStore(KEYS).put(fresh, userId);
      const old = await tx.objectStore(ENTRIES).index(BY_USER).getAllKeys(userId);
      await Promise.all(old.map((k) => tx.objectStore(ENTRIES).delete(k)));
      await tx.objectStore(SNAPSHOTS).delete(userId);
      // Without the records the position would skip their files.
      await tx.objectStore(STATE).delete(userId);
      await tx.done;
      return fresh;
    })());
  const recordKey = (fileId: string): string => `${userId}/${fileId}`;

  /** Reads the snapshot and the changes since; drops what does not open (and then the position). */
  const load = async (): Promise<Map<string, CachedFile>> => {
    const [database, k] = await Promise.all([open(), cacheKey()]);
    const [snapshotValue, raw] = await Promise.all([database.get(SNAPSHOTS, userId) as Promise<unknown>, database.getAllFromIndex(ENTRIES, BY_USER, userId) as Promise<unknown[]>]);
    const files = new Map<string, CachedFile>();
    const merged = new Map<string, string>();
    let badSnapshot = false;
    const bad: string[] = [];
    const snapshot = storedSnapshotSchema.safeParse(snapshotValue);
    if (snapshotValue !== undefined) {
      try {
        if (!snapshot.success) throw new Error('Not a snapshot.');
        const plain = await openCacheRecord(k, { userId, record: SNAPSHOT_RECORD }, snapshot.data.sealed);
        for (const [etag, file] of snapshotEntriesSchema.parse(JSON.parse(new TextDecoder().decode(plain)))) files.set(file.fileId, { etag, file: file as DriveEntry });
      } catch {
        badSnapshot = true;
      }
    }
    const changes = await Promise.all(
      raw.map(async (value): Promise<{ key: string; fileId: string; etag: string; file: DriveEntry | null } | null> => {
        const removal = storedRemovalSchema.safeParse(value);
        if (removal.success) return { key: removal.data.key, fileId: removal.data.fileId, etag: '', file: null };
        const rec = storedRecordSchema.safeParse(value);
        if (!rec.success) return null;
        try {
          const plain = await openCacheRecord(k, { userId, record: rec.data.fileId }, rec.data.sealed);
          const file = cachedFileSchema.parse(JSON.parse(new TextDecoder().decode(plain)));
          if (file.fileId !== rec.data.fileId) throw new Error('Record names another file.');
          return { key: rec.data.key, fileId: file.fileId, etag: rec.data.etag, file: file as DriveEntry };
        } catch {
          bad.push(rec.data.key);
          return null;
        }
      }),
    );
    for (const change of changes) {
      if (change === null) continue;
      merged.set(change.key, change.etag);
      if (change.file === null) files.delete(change.fileId);
      else files.set(change.fileId, { etag: change.etag, file: change.file });
    }
    if (badSnapshot || bad.length > 0) {
      // A dropped record's file is no longer covered by the position: forget it, so the next listing reads the log from the start.
      const tx = database.transaction([ENTRIES, STATE, SNAPSHOTS], 'readwrite');
      await Promise.all([
        ...bad.map((b) => tx.objectStore(ENTRIES).delete(b)),
        ...(badSnapshot ? [tx.objectStore(SNAPSHOTS).delete(userId)] : []),
        tx.objectStore(STATE).delete(userId),
        tx.done,
      ]);
    }
    known = { files, merged };
    return new Map(files);
  };

  /** Writes `files` as the new snapshot and deletes the change records it merged that no tab has rewritten since. */
  const writeSnapshot = async (files: Map<string, CachedFile>, merged: Map<string, string>): Promise<void> => {
    const [database, k] = await Promise.all([open(), cacheKey()]);
    const entries = [...files.values()].map(({ etag, file }) => [etag, file]);
    // Seal first: an IndexedDB transaction closes if it waits on anything else.
    const sealed = await sealCacheRecord(k, { userId, record: SNAPSHOT_RECORD }, new TextEncoder().encode(JSON.stringify(entries)));
    const tx = database.transaction([SNAPSHOTS, ENTRIES], 'readwrite');
    const store = tx.objectStore(ENTRIES);
    await Promise.all([
      tx.objectStore(SNAPSHOTS).put({ sealed }, userId),
      ...[...merged].map(async ([recordKey, etag]) => {
        const current = (await store.get(recordKey)) as { etag?: unknown; removed?: unknown } | undefined;
        const same = current !== undefined && (etag === '' ? current.removed === true : current.etag === etag && current.removed !== true);
        if (same) await store.delete(recordKey);
      }),
    ]);
    await tx.done;
    known = { files, merged: new Map() };
  };

  return {
    load,
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
      if (known === null) await load();
      const base = known ?? { files: new Map<string, CachedFile>(), merged: new Map<string, string>() };
      if (base.merged.size + files.length >= SNAPSHOT_AFTER_CHANGES) {
        const next = new Map(base.files);
        for (const f of files) next.set(f.file.fileId, f);
        await writeSnapshot(next, base.merged);
        return;
      }
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
      for (const f of files) {
        base.files.set(f.file.fileId, f);
        base.merged.set(recordKey(f.file.fileId), f.etag);
      }
    },
    async remove(fileIds) {
      if (fileIds.length === 0) return;
      if (known === null) await load();
      const base = known ?? { files: new Map<string, CachedFile>(), merged: new Map<string, string>() };
      if (base.merged.size + fileIds.length >= SNAPSHOT_AFTER_CHANGES) {
        const next = new Map(base.files);
        for (const id of fileIds) next.delete(id);
        await writeSnapshot(next, base.merged);
        return;
      }
      const database = await open();
      const tx = database.transaction(ENTRIES, 'readwrite');
      await Promise.all([...fileIds.map((fileId) => tx.store.put({ key: recordKey(fileId), userId, fileId, removed: true })), tx.done]);
      for (const id of fileIds) {
        base.files.delete(id);
        base.merged.set(recordKey(id), '');
      }
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
  await deleteDatabase(dbName, 'The browser refused to delete the listing cache.');
}
