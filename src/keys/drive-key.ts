/**
 * The account's drive key on this device (docs/FORMAT.md §7.5, §10.5): made
 * once per account, its copy published in the key directory (wrapped to the
 * owner's own RSA key and signed by the owner's signing key, written once),
 * and kept here as a non-extractable key beside the identity keys.
 *
 * Another device fetches the copy, verifies the signature against ITS OWN
 * signing key (never against anything the server sends), unwraps it with its
 * RSA key and keeps it non-extractable. A copy that fails that check is
 * refused (DriveKeyRefusedError): a server that could swap in a drive key it
 * knows would read every later upload.
 */
import type { z } from 'zod';
import { ApiError, driveKeyResponse, driveKeyStoredResponse, ERROR_CODES, pathOf, ROUTES } from '../contract/index.ts';
import { MalformedError, newDriveKey, openDriveKeyCopy, TamperedError, UnsupportedVersionError, WrongKeyError } from '../crypto/index.ts';
import { fromBase64, toBase64 } from './base64.ts';
import { DriveKeyRefusedError } from './key-errors.ts';
import { defaultKeyStore, type KeyStore } from './key-store.ts';

/** The slice of the app's API client this module needs (matches `ApiClient.post`). */
export interface DriveKeyApi {
  /** POSTs `body` as JSON to `path`; returns the answer validated by `schema`; throws on any failure. */
  post<T>(path: string, body: unknown, schema: z.ZodType<T>): Promise<T>;
}

/** The owner's keys the drive key is made and opened with. */
export interface DriveKeyOwner {
  encrypt: CryptoKeyPair;
  sign: CryptoKeyPair;
}

/**
 * Returns the account's drive key for this device: the copy in the key
 * directory, verified and unwrapped, or — when there is none — a new one,
 * published first (if another device published one meanwhile, 409, that
 * one is fetched and used instead). Does not save it. Throws
 * DriveKeyRefusedError for a copy that is not signed by `owner`'s signing
 * key, wrapped to another key or damaged; the API client's errors.
 */
export async function establishDriveKey(api: DriveKeyApi, owner: DriveKeyOwner): Promise<CryptoKey> {
  const existing = await readCopy(api);
  if (existing !== null) return openCopy(existing, owner);
  const made = await newDriveKey(owner);
  try {
    await api.post(pathOf(ROUTES.createDriveKey), { driveKey: toBase64(made.copy) }, driveKeyStoredResponse);
    return made.driveKey;
  } catch (error) {
    if (!(error instanceof ApiError && error.code === ERROR_CODES.driveKeyExists)) throw error;
  }
  // Another device of this account was first: its key is the account's.
  const winner = await readCopy(api);
  if (winner === null) throw new DriveKeyRefusedError('damaged');
  return openCopy(winner, owner);
}

/**
 * Returns the drive key saved on this device for `userId`, or else
 * establishes it ({@link establishDriveKey}) and saves it beside the
 * identity keys. Resolves null when this device holds no identity for the
 * account. Throws DriveKeyRefusedError (nothing saved), KeyStoreError and the
 * API client's errors.
 */
export async function ensureDriveKey(
  api: DriveKeyApi,
  userId: string,
  owner: DriveKeyOwner,
  opts: { store?: KeyStore } = {},
): Promise<CryptoKey | null> {
  const store = opts.store ?? defaultKeyStore();
  const stored = await store.load(userId);
  if (stored === null) return null;
  if (stored.driveKey !== undefined) return stored.driveKey;
  const driveKey = await establishDriveKey(api, owner);
  // Read again: another tab may have saved the same account's key meanwhile; keep what is there.
  const latest = await store.load(userId);
  if (latest === null) return driveKey;
  if (latest.driveKey !== undefined) return latest.driveKey;
  await store.save({ ...latest, driveKey }, { replace: true });
  return driveKey;
}

async function readCopy(api: DriveKeyApi): Promise<Uint8Array<ArrayBuffer> | null> {
  try {
    const answer = await api.post(pathOf(ROUTES.readDriveKey), {}, driveKeyResponse);
    const bytes = fromBase64(answer.driveKey);
    if (bytes === null) throw new DriveKeyRefusedError('damaged');
    return bytes;
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return null;
    throw error;
  }
}

async function openCopy(copy: Uint8Array, owner: DriveKeyOwner): Promise<CryptoKey> {
  try {
    return await openDriveKeyCopy(copy, owner);
  } catch (error) {
    if (error instanceof TamperedError) throw new DriveKeyRefusedError('not-signed');
    if (error instanceof WrongKeyError) throw new DriveKeyRefusedError('other-key');
    if (error instanceof MalformedError || error instanceof UnsupportedVersionError) throw new DriveKeyRefusedError('damaged');
    throw error;
  }
}
