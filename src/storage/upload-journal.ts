/**
 * The upload journal: one IndexedDB record per unfinished upload, so an
 * upload interrupted by a reload, a crash or a lost connection can resume.
 *
 * A record (version 2) holds the manifest draft (the file key exists only
 * wrapped inside it, for the owner's RSA key), the segment and block
 * layout, a description of the source file (name, size, lastModified,
 * relativePath) so the user can be asked to pick the same file again, and,
 * per block, a digest of that block's sealed segments, written BEFORE the
 * block's Put Block is sent, so a resume can prove the file still holds the
 * bytes sealed under this key (see resumeUpload). It is kept only on this
 * device and deleted when the upload finishes or is cancelled. Records of
 * any other version (v1 held a finished manifest and no block digests) are
 * dropped when read: they cannot be resumed safely.
 */
import { openDB, type IDBPDatabase } from 'idb';
import { z } from 'zod';
import { fileIdSchema } from './grants.ts';

const DB_NAME = 'sealdrop-uploads';
const STORE = 'uploads';
const BY_USER = 'by-user';

/** A FileSystemFileHandle where the browser has one (Chromium), to reopen the file without asking. */
const fileHandleSchema = z.custom<FileSystemFileHandle>(
  (v) => typeof FileSystemFileHandle !== 'undefined' && v instanceof FileSystemFileHandle,
);

const bytesSchema = z.custom<Uint8Array>((v) => v instanceof Uint8Array);
/** Length of a block digest (SHA-256). */
export const BLOCK_DIGEST_LENGTH = 32;

/** The journal record of one unfinished upload. */
export const uploadRecordSchema = z.object({
  version: z.literal(2),
  fileId: fileIdSchema,
  userId: z.string().min(1),
  /** The manifest draft (sealDraft); openDraft with the owner's key gives the content and MAC keys back. */
  draft: bytesSchema,
  /** The local file this upload reads, to recognise it when picked again. */
  source: z.object({
    name: z.string(),
    size: z.number().int().nonnegative(),
    lastModified: z.number(),
    relativePath: z.string().optional(),
  }),
  segmentSize: z.number().int().positive(),
  segmentsPerBlock: z.number().int().positive(),
  /**
   * By block index: SHA-256 of the concatenated digests of the block's
   * sealed segments (blockDigest in the crypto core), or null for a block
   * never sealed. Written before the block's Put Block is sent.
   */
  blockDigests: z.array(bytesSchema.refine((d) => d.length === BLOCK_DIGEST_LENGTH).nullable()),
  /** Milliseconds since the epoch. */
  createdAt: z.number(),
  handle: fileHandleSchema.optional(),
});
/** The journal record of one unfinished upload. */
export type UploadRecord = z.infer<typeof uploadRecordSchema>;

/** Where unfinished uploads are remembered. */
export interface UploadJournal {
  /** Stores or replaces the record of `record.fileId`. */
  put(record: UploadRecord): Promise<void>;
  /** Forgets an upload (done, cancelled or abandoned). */
  delete(fileId: string): Promise<void>;
  /** Returns the unfinished uploads of `userId`, oldest first. */
  list(userId: string): Promise<UploadRecord[]>;
}

/**
 * Returns the IndexedDB journal (database `sealdrop-uploads`), opened on
 * first use. Its methods reject with the browser's IndexedDB errors (for
 * example QuotaExceededError when the device is full).
 */
export function openUploadJournal(dbName: string = DB_NAME): UploadJournal {
  let db: Promise<IDBPDatabase> | null = null;
  const open = (): Promise<IDBPDatabase> =>
    (db ??= openDB(dbName, 1, {
      upgrade(database) {
        const store = database.createObjectStore(STORE, { keyPath: 'fileId' });
        store.createIndex(BY_USER, 'userId');
      },
    }));
  return {
    async put(record) {
      const valid = uploadRecordSchema.parse(record);
      // Write-ahead: a block digest must be on disk before its Put Block is
      // sent, so ask for a flushed commit (Chromium's default is relaxed).
      const tx = (await open()).transaction(STORE, 'readwrite', { durability: 'strict' });
      await Promise.all([tx.store.put(valid), tx.done]);
    },
    async delete(fileId) {
      await (await open()).delete(STORE, fileId);
    },
    async list(userId) {
      const database = await open();
      const raw: unknown[] = await database.getAllFromIndex(STORE, BY_USER, userId);
      const records: UploadRecord[] = [];
      for (const value of raw) {
        const parsed = uploadRecordSchema.safeParse(value);
        if (parsed.success) records.push(parsed.data);
        // A record we cannot read cannot be resumed either; drop it rather
        // than show an upload nobody can finish. Its blocks expire in storage.
        else {
          const key = z.object({ fileId: z.string() }).safeParse(value);
          if (key.success) await database.delete(STORE, key.data.fileId);
        }
      }
      return records.sort((a, b) => a.createdAt - b.createdAt);
    },
  };
}

/** Returns a journal kept in memory only: for tests and browsers without IndexedDB (no resume after reload). */
export function memoryUploadJournal(): UploadJournal {
  const records = new Map<string, UploadRecord>();
  return {
    put(record) {
      records.set(record.fileId, uploadRecordSchema.parse(record));
      return Promise.resolve();
    },
    delete(fileId) {
      records.delete(fileId);
      return Promise.resolve();
    },
    list(userId) {
      return Promise.resolve([...records.values()].filter((r) => r.userId === userId).sort((a, b) => a.createdAt - b.createdAt));
    },
  };
}

/**
 * Deletes every unfinished-upload record of `userId` on this device (they
 * hold file names): for "forget my keys" and account deletion. Other
 * accounts' records stay. Rejects with IndexedDB's errors.
 */
export async function forgetUploads(userId: string, dbName: string = DB_NAME): Promise<void> {
  const database = await openDB(dbName, 1, {
    upgrade(db) {
      db.createObjectStore(STORE, { keyPath: 'fileId' }).createIndex(BY_USER, 'userId');
    },
  });
  try {
    const tx = database.transaction(STORE, 'readwrite');
    const keys = await tx.store.index(BY_USER).getAllKeys(userId);
    await Promise.all([...keys.map((k) => tx.store.delete(k)), tx.done]);
  } finally {
    database.close();
  }
}
