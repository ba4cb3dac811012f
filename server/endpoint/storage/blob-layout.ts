/**
 * Blob names, decided by the server only (docs/CONTRACTS.md §1). Every name
 * is built from ids that match {@link HEX_ID}, so no caller-supplied text
 * ever reaches a blob path.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { HEX_ID } from '../../../src/contract/index.ts';

export { HEX_ID };

/**
 * The server's secret for blob names that must not be guessable from public
 * facts (SEALDROP_DIRECTORY_KEY, at least 32 bytes). Changing it orphans
 * every directory entry and recovery copy, so it is set once per deployment.
 */
export type NameKey = Uint8Array;

function keyedName(key: NameKey, label: string, value: string): string {
  // The label keeps the two uses apart: a directory name is never a recovery name.
  return createHmac('sha256', key).update(`${label}\0${value}`, 'utf8').digest('hex');
}

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

/**
 * `files/<userId>/<fileId>/logged`: an empty blob the server writes once a
 * file's add event is in the change log, so completing twice appends once.
 * Throws on malformed ids.
 */
export function loggedMarkerBlob(userId: string, fileId: string): string {
  return `${filePrefix(userId, fileId)}logged`;
}

/** Prefix of everything under a user's `index/` area (the change log). Throws on a malformed id. */
export function userIndexPrefix(userId: string): string {
  return `index/${checked(userId, 'user id')}/`;
}

/** Prefix of everything under a user's `keys/` area (public identity, rotations, recovery copy, drive key). Throws on a malformed id. */
export function userKeysPrefix(userId: string): string {
  return `keys/${checked(userId, 'user id')}/`;
}

/**
 * `account-deletions/<userId>`: written by the server when it starts
 * deleting an account, removed last, when nothing of the account is left.
 * While it exists the account takes no new keys or uploads, and further
 * delete calls need no fresh sign-in. Throws on a malformed id.
 */
export function accountDeletionBlob(userId: string): string {
  return `account-deletions/${checked(userId, 'user id')}`;
}

/** Prefix of a user's change-log segments (`index/<userId>/log-`). Throws on a malformed id. */
export function changeLogPrefix(userId: string): string {
  return `index/${checked(userId, 'user id')}/log-`;
}

/** `index/<userId>/log-<n, 6 digits>`: the n-th segment (0-based) of a user's change log, so names sort in order. */
export function changeLogBlob(userId: string, n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > 999_999) throw new Error('Refusing to build a change-log name from a bad segment number.');
  return `${changeLogPrefix(userId)}${String(n).padStart(6, '0')}`;
}

/** The segment number of a listed change-log name under `prefix`, or null for anything else. */
export function parseChangeLogBlob(prefix: string, name: string): number | null {
  const m = /^([0-9]{6})$/.exec(name.startsWith(prefix) ? name.slice(prefix.length) : '');
  return m === null ? null : Number(m[1]);
}

/** `keys/<userId>/public`. Throws on a malformed id. */
export function publicKeyBlob(userId: string): string {
  return `keys/${checked(userId, 'user id')}/public`;
}

/**
 * `keys/<userId>/recovery-<HMAC(key, userId) hex>`: a user id is no secret
 * (it is in every shared link), so the recovery copy's name also needs the
 * server's key. Throws on a malformed id.
 */
export function recoveryBlob(userId: string, key: NameKey): string {
  return `keys/${checked(userId, 'user id')}/recovery-${keyedName(key, 'sealdrop/v2/recovery-name', userId)}`;
}

/** `keys/<userId>/drive`: the copy of the user's drive key (SDDK, written once). Throws on a malformed id. */
export function driveKeyBlob(userId: string): string {
  return `keys/${checked(userId, 'user id')}/drive`;
}

/** Prefix of a user's rotation statements (`keys/<userId>/rotations/`). Throws on a malformed id. */
export function rotationsPrefix(userId: string): string {
  return `keys/${checked(userId, 'user id')}/rotations/`;
}

/** `keys/<userId>/rotations/<n, 4 digits>`: the n-th rotation statement (1-based), so names sort in order. */
export function rotationBlob(userId: string, n: number): string {
  if (!Number.isInteger(n) || n < 1 || n > 9999) throw new Error('Refusing to build a rotation name from a bad index.');
  return `${rotationsPrefix(userId)}${String(n).padStart(4, '0')}`;
}

/** Prefix of the identities a user's rotations replaced (`keys/<userId>/former/`). Throws on a malformed id. */
export function formerIdentitiesPrefix(userId: string): string {
  return `keys/${checked(userId, 'user id')}/former/`;
}

/** `keys/<userId>/former/<n, 4 digits>`: the identity the n-th rotation replaced (beside `rotations/<n>`). */
export function formerIdentityBlob(userId: string, n: number): string {
  if (!Number.isInteger(n) || n < 1 || n > 9999) throw new Error('Refusing to build a former identity name from a bad index.');
  return `${formerIdentitiesPrefix(userId)}${String(n).padStart(4, '0')}`;
}

/** Canonical form of an e-mail address for the directory: trimmed and lowercased. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/**
 * `directory/<HMAC(key, normalised e-mail) hex>`: neither the address nor a
 * plain hash of it (which anyone could test guesses against) is in a name.
 */
export function directoryBlob(email: string, key: NameKey): string {
  return `directory/${keyedName(key, 'sealdrop/v2/directory-name', normalizeEmail(email))}`;
}

/**
 * `files/<userId>/<fileId>/declared-<payloadBytes>-<manifestBytes>`: an empty
 * blob the server writes when it grants an upload, recording the sizes the
 * client declared. Sizes are not secret from the server (it sees every blob's
 * length); keeping them in the name lets one listing show them.
 */
export function declarationBlob(userId: string, fileId: string, sizes: { payloadBytes: number; manifestBytes: number }): string {
  return `${filePrefix(userId, fileId)}declared-${sizes.payloadBytes}-${sizes.manifestBytes}`;
}

/**
 * `files/<userId>/<fileId>/from-<oldFileId>`: an empty blob the server
 * writes when it grants a re-seal upload (`POST /uploads` with `replaces`):
 * once this file is complete, it takes `oldFileId`'s place. Removed when the
 * switch is done. It sorts before `manifest` and `payload`, so a listing page
 * meets it with the file's other blobs. Throws on malformed ids.
 */
export function resealedFromBlob(userId: string, fileId: string, oldFileId: string): string {
  return `${filePrefix(userId, fileId)}from-${checked(oldFileId, 'file id')}`;
}

/** One listed blob of a file: one of its two parts, the server's record of its declared sizes, or its re-seal marker. */
export type ParsedFileBlob =
  | { fileId: string; part: FilePart }
  | { fileId: string; part: 'declared'; payloadBytes: number; manifestBytes: number }
  | { fileId: string; part: 'from'; oldFileId: string };

const DECLARED = /^declared-(0|[1-9][0-9]{0,15})-([1-9][0-9]{0,15})$/;

/**
 * Splits a listed blob name under `prefix` into file id and part (payload,
 * manifest or the declaration), or returns null for anything else.
 */
export function parseFileBlobName(prefix: string, name: string): ParsedFileBlob | null {
  if (!name.startsWith(prefix)) return null;
  const [fileId, part, ...rest] = name.slice(prefix.length).split('/');
  if (fileId === undefined || !isHexId(fileId) || rest.length > 0 || part === undefined) return null;
  if (part === 'payload' || part === 'manifest') return { fileId, part };
  if (part.startsWith('from-') && isHexId(part.slice(5))) return { fileId, part: 'from', oldFileId: part.slice(5) };
  const declared = DECLARED.exec(part);
  if (declared === null) return null;
  return { fileId, part: 'declared', payloadBytes: Number(declared[1]), manifestBytes: Number(declared[2]) };
}
