/**
 * Account keys, start to finish, with no DOM: first-run setup, restore on a
 * new device (from the copy in storage or from a recovery kit file), and the
 * status that decides which of the two a signed-in user needs.
 *
 * Setup order, and why:
 * 1. generate (private keys extractable, only in memory);
 * 2. wrap them under the recovery passphrase (the backup);
 * 3. restore from that backup at once: proves the backup opens with this
 *    passphrase before anything is uploaded, and yields NON-extractable
 *    private keys; the extractable ones are dropped;
 * 4. upload the backup to `keys/<userId>/recovery` with `If-None-Match: *`,
 *    so a second device setting up at the same moment cannot replace the
 *    first one's copy (the loser restores from the winner's copy instead);
 * 5. publish the public identity at `keys/<userId>/public`;
 * 6. save in IndexedDB, ask for persistent storage.
 */
import { z } from 'zod';
import {
  backupIdentity,
  exportPublicIdentity,
  fingerprint,
  generateIdentityKeys,
  importPublicIdentity,
  restoreIdentity,
  samePublicKeys,
  WrongPassphraseError,
  type IdentityKeys,
  type KdfParams,
} from '../crypto/index.ts';
import { getBlob, putBlob } from '../storage/blob-rest.ts';
import { StorageError } from '../storage/storage-error.ts';
import { AccountMismatchError, NoRecoveryCopyError, RecoveryCopyExistsError, RecoveryKitError } from './key-errors.ts';
import { defaultKeyStore, KeyStoreError, type KeyStore, type StoredIdentity } from './key-store.ts';
import { parseRecoveryKit } from './recovery-kit.ts';

/** The signed-in user's keys, unlocked on this device: what the rest of the app passes around. */
export interface UnlockedIdentity {
  readonly userId: string;
  /** RSA-OAEP pair; `privateKey` is non-extractable. Use with `rsaIdentity` / `rsaRecipient`. */
  readonly encrypt: CryptoKeyPair;
  /** ECDSA P-256 pair; `privateKey` is non-extractable. Use as a manifest signer. */
  readonly sign: CryptoKeyPair;
  /** The published public identity bytes. */
  readonly publicIdentity: Uint8Array;
  /** Fingerprint people compare: 8 groups of 5 digits. */
  readonly fingerprint: string;
}

/** The slice of the app's API client this module needs (matches `ApiClient.post`). */
export interface KeyApi {
  /** POSTs `body` as JSON to `path` under the API base; returns the answer validated by `schema`; throws on any failure. */
  post<T>(path: string, body: unknown, schema: z.ZodType<T>): Promise<T>;
}

/** The two blob calls this module needs; defaults to `src/storage/blob-rest.ts`. Tests pass an in-memory fake. */
export interface KeyBlobTransport {
  /** Returns the blob's bytes; throws StorageError kind 'not-found' when it does not exist. */
  getBlob(url: string): Promise<Uint8Array>;
  /** Writes the blob; with `ifNoneMatch: '*'` throws StorageError kind 'conflict' when it exists. */
  putBlob(url: string, body: Blob, opts?: { ifNoneMatch?: '*' }): Promise<void>;
}

/** Dependencies and knobs, all optional; the defaults are the app's. */
export interface AccountKeyOptions {
  /** Where keys are kept on this device (default: the app's IndexedDB key store). */
  store?: KeyStore;
  /** Blob transport (default: plain fetch through `src/storage/blob-rest.ts`). */
  blobs?: KeyBlobTransport;
  /** KDF parameters for a new backup (default: the crypto core's sound defaults). Tests pass small ones. */
  kdfParams?: KdfParams;
  /** Asks the browser to keep our storage (default: `navigator.storage.persist()`). */
  persist?: () => Promise<boolean>;
}

/** What a signed-in user needs on this device. */
export type KeyStatus = 'ready' | 'needs-restore' | 'needs-setup';

/** A named stage of setup, for progress messages. */
export type SetupStep = 'generating' | 'protecting' | 'uploading' | 'saving';

/** What setup (or restore) hands back. */
export interface KeysUnlocked {
  identity: UnlockedIdentity;
  /** The passphrase-wrapped backup, for the recovery kit. */
  recoveryBlob: Uint8Array<ArrayBuffer>;
  /** Whether the browser promised to keep our storage (false: it may be evicted under pressure). */
  persisted: boolean;
}

/** API paths, relative to the API base (`/api/v1`). */
export const KEY_API_PATHS = {
  recovery: '/keys/recovery',
  publish: '/keys/public',
  readPublic: (userId: string) => `/keys/public/${userId}/read`,
} as const;

const grantSchema = z.object({ url: z.string().min(1), expiresAt: z.string(), permissions: z.string() });
const recoveryGrantSchema = z.object({ grant: grantSchema });
const publicGrantSchema = z.object({ userId: z.string(), grant: grantSchema });

const defaultBlobs: KeyBlobTransport = {
  getBlob: (url) => getBlob(url),
  putBlob: (url, body, opts) => putBlob(url, body, opts),
};

/**
 * Returns 'ready' when this device holds the account's keys, else
 * 'needs-restore' when a recovery copy exists in storage, else
 * 'needs-setup'. A damaged local record counts as absent. Throws the API
 * client's errors, StorageError, KeyStoreError('unavailable').
 */
export async function keyStatus(api: KeyApi, userId: string, opts: AccountKeyOptions = {}): Promise<KeyStatus> {
  if ((await loadLocal(store(opts), userId)) !== null) return 'ready';
  return (await downloadRecovery(api, opts)) === null ? 'needs-setup' : 'needs-restore';
}

/**
 * Returns the account's keys stored on this device, or null when there are
 * none (or the record is damaged). Throws KeyStoreError('unavailable').
 */
export async function loadUnlockedIdentity(userId: string, opts: AccountKeyOptions = {}): Promise<UnlockedIdentity | null> {
  const stored = await loadLocal(store(opts), userId);
  return stored === null ? null : toUnlocked(stored);
}

/**
 * First-run setup (see the module comment for the order). Calls `onStep` as
 * each stage starts. Returns the unlocked identity and the recovery blob for
 * the kit. When another device finished setup first, restores from its copy
 * with this passphrase, or throws RecoveryCopyExistsError when the
 * passphrase does not open it. Throws KeyStoreError('exists') when this
 * device already has the account's keys, AccountMismatchError, StorageError
 * and the API client's errors; on any throw nothing is saved on the device.
 */
export async function setupKeys(
  api: KeyApi,
  userId: string,
  passphrase: string,
  onStep?: (step: SetupStep) => void,
  opts: AccountKeyOptions = {},
): Promise<KeysUnlocked> {
  const keyStore = store(opts);
  if ((await loadLocal(keyStore, userId)) !== null) {
    throw new KeyStoreError('exists', 'Keys for this account are already saved on this device.');
  }
  onStep?.('generating');
  const fresh = await generateIdentityKeys();
  onStep?.('protecting');
  const recoveryBlob = new Uint8Array(await backupIdentity(fresh, passphrase, opts.kdfParams));
  const keys = await restoreIdentity(recoveryBlob, passphrase);
  await assertSamePublicKeys(fresh, keys);

  onStep?.('uploading');
  const { grant } = await api.post(KEY_API_PATHS.recovery, { access: 'write' }, recoveryGrantSchema);
  try {
    await blobs(opts).putBlob(grant.url, new Blob([recoveryBlob]), { ifNoneMatch: '*' });
  } catch (error) {
    if (!(error instanceof StorageError && error.kind === 'conflict')) throw error;
    // Another device set up first: its copy is the account's keys from now on.
    try {
      return await restoreKeys(api, userId, passphrase, opts);
    } catch (restoreError) {
      if (restoreError instanceof WrongPassphraseError) throw new RecoveryCopyExistsError();
      throw restoreError;
    }
  }
  const publicIdentity = await exportPublicIdentity(keys);
  await publishPublicIdentity(api, userId, publicIdentity, opts);

  onStep?.('saving');
  const stored = await storedFrom(userId, keys, publicIdentity);
  await keyStore.save(stored);
  return { identity: toUnlocked(stored), recoveryBlob, persisted: await persist(opts) };
}

/**
 * Restores the account's keys on this device from the recovery copy in
 * storage. Returns the unlocked identity. Throws WrongPassphraseError
 * (unchanged from the crypto core) when the passphrase does not open the
 * copy, NoRecoveryCopyError when there is none; on any throw nothing is
 * saved or overwritten. Republishes the public identity when storage lacks
 * it or holds another one (the recovery copy is the account's keys).
 */
export async function restoreKeys(
  api: KeyApi,
  userId: string,
  passphrase: string,
  opts: AccountKeyOptions = {},
): Promise<KeysUnlocked> {
  const recoveryBlob = await downloadRecovery(api, opts);
  if (recoveryBlob === null) throw new NoRecoveryCopyError();
  const keys = await restoreIdentity(recoveryBlob, passphrase);
  const publicIdentity = await exportPublicIdentity(keys);
  const remote = await readOwnPublicFingerprint(api, userId, opts);
  const local = await fingerprint(publicIdentity);
  if (remote !== local) await publishPublicIdentity(api, userId, publicIdentity, opts);
  const stored = await saveRestored(store(opts), await storedFrom(userId, keys, publicIdentity));
  return { identity: toUnlocked(stored), recoveryBlob, persisted: await persist(opts) };
}

/**
 * Restores the account's keys from a recovery kit file's text (for when the
 * copy in storage is gone), then puts the copy back in storage if it is
 * missing and publishes the public identity if storage lacks it. Returns the
 * unlocked identity. Throws RecoveryKitError('unreadable' | 'other-account'
 * | 'stale'), WrongPassphraseError (nothing saved), StorageError and the API
 * client's errors.
 */
export async function restoreFromKit(
  api: KeyApi,
  userId: string,
  kitText: string,
  passphrase: string,
  opts: AccountKeyOptions = {},
): Promise<KeysUnlocked> {
  const kit = parseRecoveryKit(kitText);
  if (kit.userId !== userId) throw new RecoveryKitError('other-account');
  const keys = await restoreIdentity(kit.recoveryBlob, passphrase);
  const publicIdentity = await exportPublicIdentity(keys);
  const local = await fingerprint(publicIdentity);
  const remote = await readOwnPublicFingerprint(api, userId, opts);
  // Never let an old kit replace the keys the account uses now.
  if (remote !== null && remote !== local) throw new RecoveryKitError('stale');

  const { grant } = await api.post(KEY_API_PATHS.recovery, { access: 'write' }, recoveryGrantSchema);
  try {
    await blobs(opts).putBlob(grant.url, new Blob([kit.recoveryBlob]), { ifNoneMatch: '*' });
  } catch (error) {
    // A copy already in storage is fine: the public key check above matched.
    if (!(error instanceof StorageError && error.kind === 'conflict')) throw error;
  }
  if (remote === null) await publishPublicIdentity(api, userId, publicIdentity, opts);
  const stored = await saveRestored(store(opts), await storedFrom(userId, keys, publicIdentity));
  return { identity: toUnlocked(stored), recoveryBlob: kit.recoveryBlob, persisted: await persist(opts) };
}

/** Deletes this device's copy of the account's keys (sign-out on a shared computer). Throws KeyStoreError('unavailable'). */
export async function forgetKeysOnThisDevice(userId: string, opts: AccountKeyOptions = {}): Promise<void> {
  await store(opts).forget(userId);
}

function store(opts: AccountKeyOptions): KeyStore {
  return opts.store ?? defaultKeyStore();
}

function blobs(opts: AccountKeyOptions): KeyBlobTransport {
  return opts.blobs ?? defaultBlobs;
}

async function loadLocal(keyStore: KeyStore, userId: string): Promise<StoredIdentity | null> {
  try {
    return await keyStore.load(userId);
  } catch (error) {
    if (error instanceof KeyStoreError && error.code === 'corrupt') return null;
    throw error;
  }
}

/** Saves restored keys; an identical account already on this device is kept, a damaged record replaced. */
async function saveRestored(keyStore: KeyStore, identity: StoredIdentity): Promise<StoredIdentity> {
  try {
    await keyStore.save(identity);
    return identity;
  } catch (error) {
    if (!(error instanceof KeyStoreError && error.code === 'exists')) throw error;
  }
  const existing = await loadLocal(keyStore, identity.userId);
  if (existing !== null && existing.fingerprint === identity.fingerprint) return existing;
  // The record was damaged, or held keys the account no longer uses: the recovery copy wins.
  await keyStore.save(identity, { replace: true });
  return identity;
}

async function downloadRecovery(api: KeyApi, opts: AccountKeyOptions): Promise<Uint8Array<ArrayBuffer> | null> {
  const { grant } = await api.post(KEY_API_PATHS.recovery, { access: 'read' }, recoveryGrantSchema);
  return readBlobOrNull(grant.url, opts);
}

async function readBlobOrNull(url: string, opts: AccountKeyOptions): Promise<Uint8Array<ArrayBuffer> | null> {
  try {
    return new Uint8Array(await blobs(opts).getBlob(url));
  } catch (error) {
    if (error instanceof StorageError && error.kind === 'not-found') return null;
    throw error;
  }
}

/** Returns the fingerprint of the account's published public identity, or null when none is published or it does not verify. */
async function readOwnPublicFingerprint(api: KeyApi, userId: string, opts: AccountKeyOptions): Promise<string | null> {
  const answer = await api.post(KEY_API_PATHS.readPublic(userId), {}, publicGrantSchema);
  if (answer.userId !== userId) throw new AccountMismatchError();
  const bytes = await readBlobOrNull(answer.grant.url, opts);
  if (bytes === null) return null;
  try {
    return (await importPublicIdentity(bytes)).fingerprint;
  } catch {
    return null; // damaged or forged: ours replaces it
  }
}

async function publishPublicIdentity(api: KeyApi, userId: string, publicIdentity: Uint8Array, opts: AccountKeyOptions): Promise<void> {
  const answer = await api.post(KEY_API_PATHS.publish, {}, publicGrantSchema);
  if (answer.userId !== userId) throw new AccountMismatchError();
  await blobs(opts).putBlob(answer.grant.url, new Blob([new Uint8Array(publicIdentity)]));
}

async function storedFrom(userId: string, keys: IdentityKeys, publicIdentity: Uint8Array): Promise<StoredIdentity> {
  return {
    userId,
    encrypt: keys.encrypt,
    sign: keys.sign,
    publicIdentity,
    fingerprint: await fingerprint(publicIdentity),
    createdAt: Date.now(),
  };
}

function toUnlocked(stored: StoredIdentity): UnlockedIdentity {
  return {
    userId: stored.userId,
    encrypt: stored.encrypt,
    sign: stored.sign,
    publicIdentity: stored.publicIdentity,
    fingerprint: stored.fingerprint,
  };
}

/** Guards against a backup that would restore other keys than the ones just made (a bug, never user error). */
async function assertSamePublicKeys(a: IdentityKeys, b: IdentityKeys): Promise<void> {
  if (!(await samePublicKeys(a, b))) {
    throw new Error('The recovery copy did not match the new keys; nothing was saved. Please try again.');
  }
}

async function persist(opts: AccountKeyOptions): Promise<boolean> {
  try {
    if (opts.persist !== undefined) return await opts.persist();
    // Without this, the browser may evict IndexedDB (and the keys) under storage pressure.
    return typeof navigator !== 'undefined' && navigator.storage !== undefined ? await navigator.storage.persist() : false;
  } catch {
    return false;
  }
}
