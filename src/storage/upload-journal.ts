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
 *
 * A second store keeps files that are queued but not started yet (no file
 * id, nothing sealed, nothing sent): only their description and, where the
 * browser gives one, their file handle. Every file is written there when it
 * is queued, before any request, so a reload, a closed tab or a full-page
 * sign-in can offer it again. When the upload starts, its started record
 * replaces the queued one in one transaction (put with `uploadId`).
 */
import { openDB, type IDBPDatabase } from 'idb';
import { z } from 'zod';
import { fileIdSchema } from './grants.ts';
import { deleteDatabase } from './delete-database.ts';

const DB_NAME = 'sealdrop-uploads';
const STORE = 'uploads';
const QUEUED = 'queued';
const BY_USER = 'by-user';

/** A FileSystemFileHandle where the browser has one (Chromium), to reopen the file without asking. */
const fileHandleSchema = z.custom<FileSystemFileHandle>(
  (v) => typeof FileSystemFileHandle !== 'undefined' && v instanceof FileSystemFileHandle,
);

const bytesSchema = z.custom<Uint8Array>((v) => v instanceof Uint8Array);
/** Length of a block digest (SHA-256). */
export const BLOCK_DIGEST_LENGTH = 32;

/** The local file an upload reads, to recognise it when picked again. */
export const uploadSourceSchema = z.object({
  name: z.string(),
  size: z.number().int().nonnegative(),
  lastModified: z.number(),
  relativePath: z.string().optional(),
});
/** The local file an upload reads. */
export type UploadSource = z.infer<typeof uploadSourceSchema>;

/** The local id of one queued upload (crypto.randomUUID), the same from queueing to the end. */
export const uploadIdSchema = z.string().min(1).max(64);

/** The journal record of one unfinished upload. */
export const uploadRecordSchema = z.object({
  version: z.literal(2),
  fileId: fileIdSchema,
  /** The queue's local id of this upload (absent in records written before queued files were journaled). */
  uploadId: uploadIdSchema.optional(),
  userId: z.string().min(1),
  /** The manifest draft (sealDraft); openDraft with the owner's key gives the content and MAC keys back. */
  draft: bytesSchema,
  /** The local file this upload reads, to recognise it when picked again. */
  source: uploadSourceSchema,
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

/** The journal record of a file queued for upload and not started yet: nothing sealed, nothing sent. */
export const queuedRecordSchema = z.object({
  version: z.literal(1),
  uploadId: uploadIdSchema,
  userId: z.string().min(1),
  source: uploadSourceSchema,
  /** Milliseconds since the epoch. */
  createdAt: z.number(),
  handle: fileHandleSchema.optional(),
});
/** The journal record of a file queued for upload and not started yet. */
export type QueuedRecord = z.infer<typeof queuedRecordSchema>;

/** The name of the Web Lock a tab holds while an upload is live in its queue (queued, running or failed). */
export function uploadLockName(uploadId: string): string {
  return `sealdrop-upload:${uploadId}`;
}

/** The key a record's lock is named by: its queue id, or its file id for records written before queue ids. */
export function recordLockKey(record: { uploadId?: string | undefined; fileId: string }): string {
  return record.uploadId ?? record.fileId;
}

/** Where unfinished uploads are remembered. */
export interface UploadJournal {
  /**
   * Stores or replaces the record of `record.fileId`; in the same
   * transaction, forgets the queued record of `record.uploadId` (the upload
   * started).
   */
  put(record: UploadRecord): Promise<void>;
  /** Stores or replaces the queued record of `record.uploadId` (before anything of the upload is sent). */
  putQueued(record: QueuedRecord): Promise<void>;
  /** Forgets a queued record (started, cancelled or discarded). */
  deleteQueued(uploadId: string): Promise<void>;
  /** Returns the queued, never started uploads of `userId`, oldest first. */
  listQueued(userId: string): Promise<QueuedRecord[]>;
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
    (db ??= openDB(dbName, 2, {
      upgrade(database, oldVersion) {
        if (oldVersion < 1) database.createObjectStore(STORE, { keyPath: 'fileId' }).createIndex(BY_USER, 'userId');
        if (oldVersion < 2) database.createObjectStore(QUEUED, { keyPath: 'uploadId' }).createIndex(BY_USER, 'userId');
      },
      // Another tab upgrades it, or sign-out deletes it: let it go and reopen on next use, rather than block it.
      blocking() {
        void db?.then((d) => d.close());
        db = null;
      },
    }));
  return {
    async put(record) {
      const valid = uploadRecordSchema.parse(record);
      // Write-ahead: a block digest must be on disk before its Put Block is
      // sent, so ask for a flushed commit (Chromium's default is relaxed).
      const tx = (await open()).transaction([STORE, QUEUED], 'readwrite', { durability: 'strict' });
      const done = [tx.objectStore(STORE).put(valid), tx.done];
      if (valid.uploadId !== undefined) done.push(tx.objectStore(QUEUED).delete(valid.uploadId));
      await Promise.all(done);
    },
    async putQueued(record) {
      const valid = queuedRecordSchema.parse(record);
      const tx = (await open()).transaction(QUEUED, 'readwrite', { durability: 'strict' });
      await Promise.all([tx.store.put(valid), tx.done]);
    },
    async deleteQueued(uploadId) {
      await (await open()).delete(QUEUED, uploadId);
    },
    async listQueued(userId) {
      const database = await open();
      const raw: unknown[] = await database.getAllFromIndex(QUEUED, BY_USER, userId);
      const records: QueuedRecord[] = [];
      for (const value of raw) {
        const parsed = queuedRecordSchema.safeParse(value);
        if (parsed.success) records.push(parsed.data);
        else {
          const key = z.object({ uploadId: z.string() }).safeParse(value);
          if (key.success) await database.delete(QUEUED, key.data.uploadId);
        }
      }
      return records.sort((a, b) => a.createdAt - b.createdAt);
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
  const queued = new Map<string, QueuedRecord>();
  return {
    put(record) {
      const valid = uploadRecordSchema.parse(record);
      records.set(valid.fileId, valid);
      if (valid.uploadId !== undefined) queued.delete(valid.uploadId);
      return Promise.resolve();
    },
    putQueued(record) {
      queued.set(record.uploadId, queuedRecordSchema.parse(record));
      return Promise.resolve();
    },
    deleteQueued(uploadId) {
      queued.delete(uploadId);
      return Promise.resolve();
    },
    listQueued(userId) {
      return Promise.resolve([...queued.values()].filter((r) => r.userId === userId).sort((a, b) => a.createdAt - b.createdAt));
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
 * Deletes every unfinished-upload record of `userId` on this device, begun
 * and queued (they hold file names): for account deletion. Other accounts'
 * records stay. Rejects with IndexedDB's errors.
 */
export async function forgetUploads(userId: string, dbName: string = DB_NAME): Promise<void> {
  const database = await openDB(dbName, 2, {
    upgrade(db, oldVersion) {
      if (oldVersion < 1) db.createObjectStore(STORE, { keyPath: 'fileId' }).createIndex(BY_USER, 'userId');
      if (oldVersion < 2) db.createObjectStore(QUEUED, { keyPath: 'uploadId' }).createIndex(BY_USER, 'userId');
    },
  });
  try {
    const tx = database.transaction([STORE, QUEUED], 'readwrite');
    const begun = await tx.objectStore(STORE).index(BY_USER).getAllKeys(userId);
    const queued = await tx.objectStore(QUEUED).index(BY_USER).getAllKeys(userId);
    await Promise.all([...begun.map((k) => tx.objectStore(STORE).delete(k)), ...queued.map((k) => tx.objectStore(QUEUED).delete(k)), tx.done]);
  } finally {
    database.close();
  }
}

/**
 * Deletes the whole upload journal database of this browser (sign-out with "forget
 * my keys on this device"). Resolves when deleted, or when another tab
 * holds it open (the browser deletes it once that tab closes). Rejects
 * when the browser refuses.
 */
export async function forgetUploadJournal(dbName: string = DB_NAME): Promise<void> {
  await deleteDatabase(dbName, 'The browser refused to delete the upload journal database.');
}
