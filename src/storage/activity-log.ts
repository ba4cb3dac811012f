/**
 * The activity log on the device (issue 20 item 6): what the person did in
 * this browser (uploads, opens and downloads, links made and revoked, key
 * changes, sign-ins), with the time and the file name. It is never sent
 * anywhere: there is no route for it, and it is kept in IndexedDB only
 * (`sealdrop-activity`), never in `localStorage`.
 *
 * Each entry is sealed like the listing cache (src/crypto/cache-seal.ts):
 * AES-256-GCM under a non-extractable key made on first use and kept beside
 * the entries, with the user id and the entry id as associated data, so an
 * entry cannot be moved to another account or slot unnoticed. What that
 * protects against, and what not: a script or extension that reads
 * IndexedDB records, a synced or copied profile folder that lacks the key
 * store, and a glance in the browser's developer tools see no file names;
 * someone with the whole profile on disk does (Chromium stores a
 * non-extractable key's bytes unsealed in its LevelDB files:
 * THREAT-MODEL.md §3.7). Only the time (for order and for trimming) is kept
 * in the clear: it says when something happened here, not what.
 *
 * At most {@link MAX_ACTIVITY_ENTRIES} entries per account: the oldest go.
 */
import { openDB, type IDBPDatabase } from 'idb';
import { z } from 'zod';
import { newCacheKey, openCacheRecord, sealCacheRecord } from '../crypto/cache-seal.ts';

const DB_NAME = 'sealdrop-activity';
const ENTRIES = 'entries';
const KEYS = 'keys';
const BY_USER_TIME = 'by-user-time';

/** Most entries kept per account. */
export const MAX_ACTIVITY_ENTRIES = 2000;

/** What happened. */
export const ACTIVITY_KINDS = ['upload', 'open', 'download', 'share', 'revoke', 'key-change', 'sign-in'] as const;
/** What happened. */
export type ActivityKind = (typeof ACTIVITY_KINDS)[number];

const entrySchema = z
  .object({
    kind: z.enum(ACTIVITY_KINDS),
    /** The file's name, or null when the event concerns no file. */
    fileName: z.string().max(1024).nullable(),
    /** A few words more (e.g. "link, expires in 1 day"), or null. */
    detail: z.string().max(200).nullable(),
  })
  .strict();

/** One event, as recorded. */
export interface ActivityEntry {
  id: string;
  /** Milliseconds since the epoch. */
  at: number;
  kind: ActivityKind;
  fileName: string | null;
  detail: string | null;
}

/** What a caller records. */
export interface NewActivity {
  kind: ActivityKind;
  fileName?: string | null;
  detail?: string | null;
  /** Default: now. */
  at?: number;
}

/** One account's activity log on this device. */
export interface ActivityLog {
  /** Records one event. Rejects with IndexedDB's errors. */
  add(entry: NewActivity): Promise<void>;
  /** Every entry, newest first; entries that do not open are dropped. */
  list(): Promise<ActivityEntry[]>;
  /** Forgets every entry of the account. */
  clear(): Promise<void>;
}

const storedSchema = z.object({
  key: z.string(),
  userId: z.string(),
  id: z.string(),
  at: z.number(),
  sealed: z.custom<Uint8Array>((v) => v instanceof Uint8Array),
});

function validated(entry: NewActivity): { at: number; body: z.infer<typeof entrySchema> } {
  const body = entrySchema.parse({ kind: entry.kind, fileName: entry.fileName ?? null, detail: entry.detail ?? null });
  return { at: entry.at ?? Date.now(), body };
}

/** The IndexedDB log of `userId` (database `sealdrop-activity`); `dbName` for tests. */
export function openActivityLog(userId: string, dbName: string = DB_NAME): ActivityLog {
  let db: Promise<IDBPDatabase> | null = null;
  let key: Promise<CryptoKey> | null = null;
  const open = (): Promise<IDBPDatabase> =>
    (db ??= openDB(dbName, 1, {
      upgrade(database) {
        database.createObjectStore(ENTRIES, { keyPath: 'key' }).createIndex(BY_USER_TIME, ['userId', 'at']);
        database.createObjectStore(KEYS);
      },
      // "Clear" from another tab, or account deletion: let go, reopen on next use.
      blocking() {
        void db?.then((d) => d.close());
        db = null;
        key = null;
      },
    }));
  const sealKey = (): Promise<CryptoKey> =>
    (key ??= (async () => {
      const database = await open();
      const stored: unknown = await database.get(KEYS, userId);
      if (stored instanceof CryptoKey) return stored;
      const fresh = await newCacheKey();
      // Entries sealed under a lost key cannot open: start afresh.
      const tx = database.transaction([KEYS, ENTRIES], 'readwrite');
      await tx.objectStore(KEYS).put(fresh, userId);
      const old = await tx.objectStore(ENTRIES).index(BY_USER_TIME).getAllKeys(userRange(userId));
      await Promise.all(old.map((k) => tx.objectStore(ENTRIES).delete(k)));
      await tx.done;
      return fresh;
    })());

  return {
    async add(entry) {
      const { at, body } = validated(entry);
      const id = crypto.randomUUID();
      const [database, k] = await Promise.all([open(), sealKey()]);
      // Seal first: an IndexedDB transaction closes if it waits on anything else.
      const sealed = await sealCacheRecord(k, { userId, record: id }, new TextEncoder().encode(JSON.stringify(body)));
      const tx = database.transaction(ENTRIES, 'readwrite');
      await tx.store.put({ key: `${userId}/${id}`, userId, id, at, sealed });
      // Trim the oldest beyond the cap, in the same transaction.
      const count = await tx.store.index(BY_USER_TIME).count(userRange(userId));
      let excess = count - MAX_ACTIVITY_ENTRIES;
      let cursor = excess > 0 ? await tx.store.index(BY_USER_TIME).openCursor(userRange(userId)) : null;
      while (cursor !== null && excess > 0) {
        await cursor.delete();
        excess--;
        cursor = await cursor.continue();
      }
      await tx.done;
    },
    async list() {
      const [database, k] = await Promise.all([open(), sealKey()]);
      const raw: unknown[] = await database.getAllFromIndex(ENTRIES, BY_USER_TIME, userRange(userId));
      const out: ActivityEntry[] = [];
      const bad: string[] = [];
      await Promise.all(
        raw.map(async (value) => {
          const rec = storedSchema.safeParse(value);
          if (!rec.success) return;
          try {
            const plain = await openCacheRecord(k, { userId, record: rec.data.id }, rec.data.sealed);
            const body = entrySchema.parse(JSON.parse(new TextDecoder().decode(plain)));
            out.push({ id: rec.data.id, at: rec.data.at, ...body });
          } catch {
            bad.push(rec.data.key);
          }
        }),
      );
      if (bad.length > 0) {
        const tx = database.transaction(ENTRIES, 'readwrite');
        await Promise.all([...bad.map((b) => tx.store.delete(b)), tx.done]);
      }
      return out.sort((a, b) => b.at - a.at || b.id.localeCompare(a.id));
    },
    async clear() {
      const database = await open();
      const tx = database.transaction([ENTRIES, KEYS], 'readwrite');
      const keys = await tx.objectStore(ENTRIES).index(BY_USER_TIME).getAllKeys(userRange(userId));
      // The key goes too: nothing sealed under it is left to open.
      await Promise.all([...keys.map((k) => tx.objectStore(ENTRIES).delete(k)), tx.objectStore(KEYS).delete(userId), tx.done]);
      key = null;
    },
  };
}

function userRange(userId: string): IDBKeyRange {
  return IDBKeyRange.bound([userId, -Infinity], [userId, Infinity]);
}

/** A log kept in memory only: for tests and browsers without IndexedDB. */
export function memoryActivityLog(): ActivityLog & { entries: ActivityEntry[] } {
  const entries: ActivityEntry[] = [];
  return {
    entries,
    add(entry) {
      const { at, body } = validated(entry);
      entries.push({ id: crypto.randomUUID(), at, ...body });
      entries.sort((a, b) => b.at - a.at);
      entries.splice(MAX_ACTIVITY_ENTRIES);
      return Promise.resolve();
    },
    list: () => Promise.resolve([...entries]),
    clear() {
      entries.length = 0;
      return Promise.resolve();
    },
  };
}

/** Forgets `userId`'s activity log on this device (account deletion). Rejects with IndexedDB's errors. */
export async function forgetActivityLog(userId: string, dbName: string = DB_NAME): Promise<void> {
  const log = openActivityLog(userId, dbName);
  await log.clear();
}
