/**
 * The journal of a key rotation on this device (IndexedDB, issue 20 item 3):
 * what a reload needs to go on where it stopped. It holds the former key
 * pairs (non-extractable, as in the key store) until every file is
 * re-sealed for the new keys, the new keys and the bytes to publish until
 * they are published, and the files done so far. Finishing deletes it, and
 * with it the former signing and drive keys. The former ENCRYPTION keys
 * live on in the recovery copy (wrapped under the passphrase,
 * docs/FORMAT.md §11.3) and in the key store (`kept`, saved there when the
 * new keys are), until the user drops them.
 *
 * Nothing here ever leaves the device.
 */
import { openDB, type IDBPDatabase } from 'idb';
import { z } from 'zod';
import { KeyStoreError } from './key-store.ts';

const DB_NAME = 'sealdrop-rotation';
const JOURNALS = 'journals';
const DONE = 'done';
const DB_VERSION = 1;

/**
 * Where a rotation stands: `prepared` (new keys made, nothing published),
 * `files` (published; files being re-sealed).
 */
export type RotationPhase = 'prepared' | 'files';

const key = (algorithm: string, type: KeyType, extractable?: false) =>
  z.instanceof(CryptoKey).refine((k) => k.algorithm.name === algorithm && k.type === type && (extractable === undefined || !k.extractable));

const pairs = z.object({
  encrypt: z.object({ privateKey: key('RSA-OAEP', 'private', false), publicKey: key('RSA-OAEP', 'public') }),
  sign: z.object({ privateKey: key('ECDSA', 'private', false), publicKey: key('ECDSA', 'public') }),
  driveKey: key('HKDF', 'secret', false).nullable(),
  publicIdentity: z.instanceof(Uint8Array),
  fingerprint: z.string().min(1),
});

const journalSchema = z.object({
  userId: z.string().regex(/^[0-9a-f]{32}$/),
  phase: z.enum(['prepared', 'files']),
  startedAt: z.number().int().nonnegative(),
  former: pairs,
  next: pairs,
  /** The recovery copy wrapping the new keys (and the former ones), to store in place of the one read with `recoveryEtag`. */
  recoveryBlob: z.instanceof(Uint8Array),
  recoveryEtag: z.string().min(1),
  /** SDRT statement (docs/FORMAT.md §10.4) from `former.publicIdentity` to `next.publicIdentity`. */
  statement: z.instanceof(Uint8Array),
  /** SDDK copy of the new drive key, for the key directory. */
  driveKeyCopy: z.instanceof(Uint8Array).nullable(),
  /**
   * The former encryption pairs `recoveryBlob` keeps (the one retired now
   * first), restored non-extractable from it; saved in the key store with
   * the new keys. Journals written before former keys were kept lack it.
   */
  kept: z
    .array(z.object({ privateKey: key('RSA-OAEP', 'private', false), publicKey: key('RSA-OAEP', 'public') }))
    .default([]),
});

/** One rotation underway on this device. */
export type RotationJournalRecord = z.output<typeof journalSchema>;
/** One set of keys in a journal (former or new). */
export type JournalKeys = RotationJournalRecord['next'];

/** The journal store; tests open their own database by name. */
export interface RotationJournal {
  /** The rotation underway for `userId`, or null. Throws KeyStoreError('corrupt' | 'unavailable'). */
  load(userId: string): Promise<RotationJournalRecord | null>;
  /** Saves (or replaces) the record. Throws KeyStoreError('corrupt') for an invalid record, 'unavailable'. */
  save(record: RotationJournalRecord): Promise<void>;
  /** Files already re-sealed in this rotation. */
  doneFiles(userId: string): Promise<Set<string>>;
  /** Notes one file as re-sealed. */
  markDone(userId: string, fileId: string): Promise<void>;
  /** Deletes the record and its file list (the former private keys with it). */
  finish(userId: string): Promise<void>;
  close(): Promise<void>;
}

function unavailable(error: unknown): KeyStoreError {
  if (error instanceof KeyStoreError) return error;
  return new KeyStoreError('unavailable', 'This browser could not open its key storage (IndexedDB). Private browsing can cause this.');
}

/** Opens the rotation journal in IndexedDB database `dbName`. */
export function createRotationJournal(dbName: string = DB_NAME): RotationJournal {
  let db: Promise<IDBPDatabase> | null = null;
  const open = (): Promise<IDBPDatabase> => {
    db ??= openDB(dbName, DB_VERSION, {
      upgrade(database) {
        database.createObjectStore(JOURNALS, { keyPath: 'userId' });
        database.createObjectStore(DONE);
      },
    }).catch((error: unknown) => {
      db = null;
      throw unavailable(error);
    });
    return db;
  };
  const range = (userId: string): IDBKeyRange => IDBKeyRange.bound(`${userId}/`, `${userId}/\uffff`);
  return {
    async load(userId) {
      const value: unknown = await (await open()).get(JOURNALS, userId).catch((e: unknown) => Promise.reject(unavailable(e)));
      if (value === undefined) return null;
      const parsed = journalSchema.safeParse(value);
      if (!parsed.success) throw new KeyStoreError('corrupt', 'The record of a key change on this device is damaged.');
      return parsed.data;
    },
    async save(record) {
      const parsed = journalSchema.safeParse(record);
      if (!parsed.success) throw new KeyStoreError('corrupt', 'A key change record was not in the expected form.');
      await (await open()).put(JOURNALS, parsed.data).catch((e: unknown) => Promise.reject(unavailable(e)));
    },
    async doneFiles(userId) {
      const keys = await (await open()).getAllKeys(DONE, range(userId)).catch((e: unknown) => Promise.reject(unavailable(e)));
      return new Set(keys.map((k) => String(k).slice(userId.length + 1)));
    },
    async markDone(userId, fileId) {
      await (await open()).put(DONE, true, `${userId}/${fileId}`).catch((e: unknown) => Promise.reject(unavailable(e)));
    },
    async finish(userId) {
      const database = await open();
      const tx = database.transaction([JOURNALS, DONE], 'readwrite');
      await Promise.all([tx.objectStore(DONE).delete(range(userId)), tx.objectStore(JOURNALS).delete(userId), tx.done]).catch((e: unknown) =>
        Promise.reject(unavailable(e)),
      );
    },
    async close() {
      if (db === null) return;
      const database = await db.catch(() => null);
      database?.close();
      db = null;
    },
  };
}

let shared: RotationJournal | null = null;
/** The app's journal (one connection per page). */
export function defaultRotationJournal(): RotationJournal {
  shared ??= createRotationJournal();
  return shared;
}
