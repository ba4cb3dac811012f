/**
 * Blob names, decided by the server only (docs/CONTRACTS.md §1). Every name
 * is built from ids that match {@link HEX_ID}, so no caller-supplied text
 * ever reaches a blob path.
 */
import { createHash, randomBytes } from 'node:crypto';

/** A user id or file id: exactly 32 lowercase hex characters. */
export const HEX_ID = /^[0-9a-f]{32}$/;

/** The two blobs that make up one stored file. */
export type FilePart = 'payload' | 'manifest';

/** Returns true when `value` is a well-formed user or file id. */
export function isHexId(value: string): boolean {
  return HEX_ID.test(value);
}

function checked(id: string, what: string): string {
  if (!isHexId(id)) throw new Error(`Refusing to build a blob name from a malformed ${what}.`);
  return id;
}

/** A fresh file id: 16 random bytes as 32 lowercase hex characters. */
export function newFileId(): string {
  return randomBytes(16).toString('hex');
}

/** Prefix under which all of a user's files live (`files/<userId>/`). Throws on a malformed id. */
export function userFilesPrefix(userId: string): string {
  return `files/${checked(userId, 'user id')}/`;
}

/** Prefix of one file's blobs (`files/<userId>/<fileId>/`). Throws on malformed ids. */
export function filePrefix(userId: string, fileId: string): string {
  return `${userFilesPrefix(userId)}${checked(fileId, 'file id')}/`;
}

/** `files/<userId>/<fileId>/<part>`. Throws on malformed ids. */
export function fileBlob(userId: string, fileId: string, part: FilePart): string {
  return `${filePrefix(userId, fileId)}${part}`;
}

/** `keys/<userId>/public`. Throws on a malformed id. */
export function publicKeyBlob(userId: string): string {
  return `keys/${checked(userId, 'user id')}/public`;
}

/** `keys/<userId>/recovery`. Throws on a malformed id. */
export function recoveryBlob(userId: string): string {
  return `keys/${checked(userId, 'user id')}/recovery`;
}

/** Canonical form of an e-mail address for the directory: trimmed and lowercased. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** `directory/<sha256hex(lowercased e-mail)>`: the e-mail itself never appears in a name. */
export function directoryBlob(email: string): string {
  return `directory/${createHash('sha256').update(normalizeEmail(email), 'utf8').digest('hex')}`;
}

/**
 * Splits a listed blob name under `prefix` into file id and part, or returns
 * null for anything that is not one of our two file blobs.
 */
export function parseFileBlobName(prefix: string, name: string): { fileId: string; part: FilePart } | null {
  if (!name.startsWith(prefix)) return null;
  const [fileId, part, ...rest] = name.slice(prefix.length).split('/');
  if (fileId === undefined || !isHexId(fileId) || rest.length > 0) return null;
  if (part !== 'payload' && part !== 'manifest') return null;
  return { fileId, part };
}
