/**
 * The outbox: files added while the device is offline, sealed on this
 * device before they are kept, so they can upload by themselves after a
 * reload or a browser restart without any plaintext at rest.
 *
 * Each file is sealed exactly as an upload is (the crypto core's draft and
 * STREAM segments), under a fresh file key of its own and a random local
 * file id, with the owner's recipients (drive key and RSA key): the key
 * exists at rest only wrapped for keys this device already keeps
 * non-extractable. The record holds the draft, the sealed payload (a Blob,
 * which IndexedDB writes to disk) and the payload digest. Uploading it
 * later opens it with the owner's keys (verifying the draft MAC, every
 * segment and the digest) and seals it again under a new key for the file
 * id the server gives: the outbox copy is never sent and its key is never
 * reused. The record is deleted when the upload is committed, cancelled or
 * discarded. See docs/THREAT-MODEL.md ("At rest on this device").
 */
import { openDB, type IDBPDatabase } from 'idb';
import { z } from 'zod';
import { createOpenStream, createSealStream, openDraft, PayloadHasher, sealDraft, type FileMetadata } from '../crypto/index.ts';
import { ownerIdentities, ownerRecipients, type OwnerKeys } from './owner-keys.ts';
import { uploadIdSchema } from './upload-journal.ts';
import { deleteDatabase } from './delete-database.ts';

const DB_NAME = 'sealdrop-outbox';
const STORE = 'sealed';
const BY_USER = 'by-user';

const bytesSchema = z.custom<Uint8Array>((v) => v instanceof Uint8Array);

/** One file sealed at rest on this device. */
const outboxRecordSchema = z.object({
  version: z.literal(1),
  uploadId: uploadIdSchema,
  userId: z.string().min(1),
  /** Random, local only: the draft is bound to it (never a server file id). */
  localId: z.string().regex(/^[0-9a-f]{32}$/),
  draft: bytesSchema,
  payloadDigest: bytesSchema.refine((d) => d.length === 32),
  payload: z.instanceof(Blob),
  createdAt: z.number(),
});
type OutboxRecord = z.infer<typeof outboxRecordSchema>;

/** Files sealed at rest while offline, by upload id. */
export interface Outbox {
  /**
   * Seals `file` (with `relativePath` in its sealed metadata) for `keys`'
   * owner and keeps it under `uploadId`. Rejects with IndexedDB errors
   * (QuotaExceededError when the device is full) or the file's read errors.
   */
  put(uploadId: string, userId: string, file: File, keys: OwnerKeys, relativePath?: string): Promise<void>;
  /**
   * Opens the file kept under `uploadId` with `keys` and returns its
   * plaintext (held in memory) with its name, type and date. Resolves null
   * when there is none; rejects with WrongKeyError, TamperedError or
   * TruncatedError when the copy does not open whole.
   */
  open(uploadId: string, keys: OwnerKeys): Promise<{ file: File; relativePath: string | undefined } | null>;
  /** Forgets the copy of `uploadId` (there may be none). */
  delete(uploadId: string): Promise<void>;
  /** Returns the upload ids of `userId`'s sealed copies. */
  ids(userId: string): Promise<string[]>;
}

function localFileId(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Seals `file` into an outbox record (no storage touched). */
async function seal(uploadId: string, userId: string, file: File, keys: OwnerKeys, relativePath: string | undefined): Promise<OutboxRecord> {
  const localId = localFileId();
  const metadata: FileMetadata = {
    name: file.name,
    type: file.type,
    size: file.size,
    lastModified: file.lastModified,
    ...(relativePath !== undefined ? { relativePath } : {}),
  };
  const draft = await sealDraft({ fileId: localId, metadata, recipients: ownerRecipients(keys) });
  const hasher = new PayloadHasher();
  const payload = await new Response(file.stream().pipeThrough(createSealStream(draft.contentKey, draft.segmentSize, { hasher }))).blob();
  return { version: 1, uploadId, userId, localId, draft: draft.draft, payloadDigest: await hasher.digest(), payload, createdAt: Date.now() };
}

/** Opens an outbox record back into its file. */
async function unseal(record: OutboxRecord, keys: OwnerKeys): Promise<{ file: File; relativePath: string | undefined }> {
  const draft = await openDraft(record.draft, ownerIdentities(keys), { fileId: record.localId });
  const opened = record.payload.stream().pipeThrough(createOpenStream(draft.contentKey, draft.segmentSize, { payloadDigest: record.payloadDigest }));
  const plain = await new Response(opened).blob();
  const { name, type, lastModified, relativePath } = draft.metadata;
  return { file: new File([plain], name, { type, lastModified }), relativePath };
}

/** Returns the IndexedDB outbox (database `sealdrop-outbox`), opened on first use. */
export function openOutbox(dbName: string = DB_NAME): Outbox {
  let db: Promise<IDBPDatabase> | null = null;
  const open = (): Promise<IDBPDatabase> =>
    (db ??= openDB(dbName, 1, {
      upgrade(database) {
        database.createObjectStore(STORE, { keyPath: 'uploadId' }).createIndex(BY_USER, 'userId');
      },
      // Sign-out deletes it ("forget my keys"): let it go and reopen on next use, rather than block it.
      blocking() {
        void db?.then((d) => d.close());
        db = null;
      },
    }));
  return {
    async put(uploadId, userId, file, keys, relativePath) {
      const record = await seal(uploadId, userId, file, keys, relativePath);
      const tx = (await open()).transaction(STORE, 'readwrite', { durability: 'strict' });
      await Promise.all([tx.store.put(record), tx.done]);
    },
    async open(uploadId, keys) {
      const raw: unknown = await (await open()).get(STORE, uploadId);
      if (raw === undefined) return null;
      return unseal(outboxRecordSchema.parse(raw), keys);
    },
    async delete(uploadId) {
      await (await open()).delete(STORE, uploadId);
    },
    async ids(userId) {
      const keys = await (await open()).getAllKeysFromIndex(STORE, BY_USER, userId);
      return keys.filter((k): k is string => typeof k === 'string');
    },
  };
}

/** Returns an outbox kept in memory (tests; the sealing is the real one). */
export function memoryOutbox(): Outbox {
  const records = new Map<string, OutboxRecord>();
  return {
    async put(uploadId, userId, file, keys, relativePath) {
      records.set(uploadId, await seal(uploadId, userId, file, keys, relativePath));
    },
    async open(uploadId, keys) {
      const record = records.get(uploadId);
      return record === undefined ? null : unseal(record, keys);
    },
    delete(uploadId) {
      records.delete(uploadId);
      return Promise.resolve();
    },
    ids(userId) {
      return Promise.resolve([...records.values()].filter((r) => r.userId === userId).map((r) => r.uploadId));
    },
  };
}

/**
 * Deletes the whole outbox database of this browser (sign-out with "forget
 * my keys on this device"). Resolves when deleted, or when another tab
 * holds it open (the browser deletes it once that tab closes). Rejects
 * when the browser refuses.
 */
export async function forgetOutbox(dbName: string = DB_NAME): Promise<void> {
  await deleteDatabase(dbName, 'The browser refused to delete the outbox database.');
}
