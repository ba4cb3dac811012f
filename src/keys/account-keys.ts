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
 * 4. hand the backup to the token endpoint, which writes it once
 *    (`POST /keys/recovery`; 409 afterwards), so a second device setting up
 *    at the same moment cannot replace the first one's copy (the loser
 *    restores from the winner's copy instead);
 * 5. publish the public identity (`POST /keys/public`, also written once;
 *    the server checks its self-signature);
 * 6. save in IndexedDB, ask for persistent storage.
 *
 * Key material travels as base64 in JSON through the API client only: this
 * module has no storage transport, so `keys` does not depend on `storage`.
 */
import type { z } from 'zod';
import {
  ApiError,
  ERROR_CODES,
  pathOf,
  publicKeyResponse,
  publishedResponse,
  recoveryResponse,
  recoveryWrittenResponse,
  ROUTES,
} from '../contract/index.ts';
import {
  backupIdentity,
  exportPublicIdentity,
  fingerprint,
  generateIdentityKeys,
  importPublicIdentity,
  restoreBackup,
  restoreIdentity,
  samePublicKeys,
  WrongPassphraseError,
  type IdentityKeys,
  type KdfParams,
} from '../crypto/index.ts';
import { fromBase64, toBase64 } from './base64.ts';
import {
  AccountHasKeysError,
  AccountMismatchError,
  KeyRotationRefusedError,
  NoRecoveryCopyError,
  PublishedKeyMismatchError,
  ReauthRequiredError,
  RecoveryCopyChangedError,
  RecoveryCopyExistsError,
  RecoveryKitError,
} from './key-errors.ts';
import { ensureDriveKey, establishDriveKey } from './drive-key.ts';
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
  /**
   * The account's drive key (non-extractable), or null while this device
   * has none (then files are sealed and opened with the RSA key alone).
   */
  readonly driveKey: CryptoKey | null;
  /**
   * Former RSA-OAEP private keys (non-extractable) kept from earlier key
   * rotations, most recently retired first (docs/FORMAT.md §11.3). They open
   * envelopes addressed to a former key: files shared with the user and
   * files received through a request before a rotation. Never used to seal
   * or sign. Absent or empty when none are kept.
   */
  readonly retiredKeys?: readonly CryptoKey[] | undefined;
}

/** The slice of the app's API client this module needs (matches `ApiClient.post`). */
export interface KeyApi {
  /** POSTs `body` as JSON to `path` under the API base; returns the answer validated by `schema`; throws on any failure. */
  post<T>(path: string, body: unknown, schema: z.ZodType<T>): Promise<T>;
}

/** Dependencies and knobs, all optional; the defaults are the app's. */
export interface AccountKeyOptions {
  /** Where keys are kept on this device (default: the app's IndexedDB key store). */
  store?: KeyStore;
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

/**
 * Returns 'ready' when this device holds the account's keys, else
 * 'needs-restore' when the account has keys (a recovery copy exists in
 * storage, or, with the copy lost, a public identity is published: then
 * from a recovery kit), else 'needs-setup'. A missing or damaged local
 * record never leads to new keys over the account's own. Throws the API
 * client's errors, StorageError, KeyStoreError('unavailable').
 */
export async function keyStatus(api: KeyApi, userId: string, opts: AccountKeyOptions = {}): Promise<KeyStatus> {
  if ((await loadLocal(store(opts), userId)) !== null) return 'ready';
  if ((await downloadRecovery(api)) !== null) return 'needs-restore';
  return (await isPublished(api, userId)) ? 'needs-restore' : 'needs-setup';
}

/** Whether the account has a public identity published. Throws the API client's errors. */
async function isPublished(api: KeyApi, userId: string): Promise<boolean> {
  try {
    await api.post(pathOf(ROUTES.readPublicKey, userId), {}, publicKeyResponse);
    return true;
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return false;
    throw error;
  }
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
 * device already has the account's keys, AccountHasKeysError when the
 * account has published keys but no copy in storage (restore from a kit), AccountMismatchError, StorageError
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
  // Keys published but no copy in storage: the account has keys (the copy was lost). New ones would orphan every file sealed to them.
  if ((await downloadRecovery(api)) === null && (await isPublished(api, userId))) throw new AccountHasKeysError();
  onStep?.('generating');
  const fresh = await generateIdentityKeys();
  onStep?.('protecting');
  const recoveryBlob = new Uint8Array(await backupIdentity(fresh, passphrase, opts.kdfParams));
  const keys = await restoreIdentity(recoveryBlob, passphrase);
  await assertSamePublicKeys(fresh, keys);

  onStep?.('uploading');
  if (!(await createRecoveryCopy(api, recoveryBlob))) {
    // Another device set up first: its copy is the account's keys from now on.
    try {
      return await restoreKeys(api, userId, passphrase, opts);
    } catch (restoreError) {
      if (restoreError instanceof WrongPassphraseError) throw new RecoveryCopyExistsError();
      throw restoreError;
    }
  }
  const publicIdentity = await exportPublicIdentity(keys);
  if (!(await publishPublicIdentity(api, userId, publicIdentity))) {
    // Our recovery copy was the first, yet a key is already published: not ours.
    if ((await publishedKeyState(api, userId, keys)) !== 'ours') throw new PublishedKeyMismatchError();
  }

  // The drive key is an optimisation over the RSA key: if it cannot be made
  // now (offline, or a copy this device refuses), the next start tries again
  // and says why (AccountFlow).
  const driveKey = await establishDriveKey(api, keys).catch(() => null);

  onStep?.('saving');
  const stored = { ...(await storedFrom(userId, keys, publicIdentity)), ...(driveKey === null ? {} : { driveKey }) };
  await keyStore.save(stored);
  return { identity: toUnlocked(stored), recoveryBlob, persisted: await persist(opts) };
}

/**
 * Restores the account's keys on this device from the recovery copy in
 * storage. Returns the unlocked identity. Throws WrongPassphraseError
 * (unchanged from the crypto core) when the passphrase does not open the
 * copy, NoRecoveryCopyError when there is none; on any throw nothing is
 * saved or overwritten. Publishes the public identity when none is
 * published; a different published one cannot be replaced from here (it is
 * written once) and is reported by {@link checkPublishedKey} at start.
 */
export async function restoreKeys(
  api: KeyApi,
  userId: string,
  passphrase: string,
  opts: AccountKeyOptions = {},
): Promise<KeysUnlocked> {
  const recoveryBlob = await downloadRecovery(api);
  if (recoveryBlob === null) throw new NoRecoveryCopyError();
  const { keys, former } = await restoreBackup(recoveryBlob, passphrase);
  const publicIdentity = await exportPublicIdentity(keys);
  if ((await publishedKeyState(api, userId, keys)) === 'missing') await publishPublicIdentity(api, userId, publicIdentity);
  const stored = await saveRestored(store(opts), await storedFrom(userId, keys, publicIdentity, former));
  return { identity: await withDriveKey(api, stored, opts), recoveryBlob, persisted: await persist(opts) };
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
  const { keys, former } = await restoreBackup(kit.recoveryBlob, passphrase);
  const publicIdentity = await exportPublicIdentity(keys);
  const published = await publishedKeyState(api, userId, keys);
  // Never let an old kit stand in for the keys the account uses now.
  if (published === 'other') throw new RecoveryKitError('stale');

  // A copy already in storage is fine (false): the public key check above matched.
  await createRecoveryCopy(api, kit.recoveryBlob);
  if (published === 'missing') await publishPublicIdentity(api, userId, publicIdentity);
  const stored = await saveRestored(store(opts), await storedFrom(userId, keys, publicIdentity, former));
  return { identity: await withDriveKey(api, stored, opts), recoveryBlob: kit.recoveryBlob, persisted: await persist(opts) };
}

/** Deletes this device's copy of the account's keys (sign-out on a shared computer). Throws KeyStoreError('unavailable'). */
export async function forgetKeysOnThisDevice(userId: string, opts: AccountKeyOptions = {}): Promise<void> {
  await store(opts).forget(userId);
}

function store(opts: AccountKeyOptions): KeyStore {
  return opts.store ?? defaultKeyStore();
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
  if (existing !== null && existing.fingerprint === identity.fingerprint) {
    // The same keys: the recovery copy decides which former keys are kept (another device may have dropped them).
    const kept = { ...existing, formerKeys: identity.formerKeys };
    await keyStore.save(kept, { replace: true });
    return kept;
  }
  // The record was damaged, or held keys the account no longer uses: the recovery copy wins.
  await keyStore.save(identity, { replace: true });
  return identity;
}

/** The recovery copy in storage, or null when there is none. Throws the API client's errors. */
async function downloadRecovery(api: KeyApi): Promise<Uint8Array<ArrayBuffer> | null> {
  try {
    const answer = await api.post(pathOf(ROUTES.readRecovery), {}, recoveryResponse);
    return decode(answer.recovery);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return null;
    throw error;
  }
}

/** Stores the first recovery copy; resolves false when the account already has one (409). */
async function createRecoveryCopy(api: KeyApi, recoveryBlob: Uint8Array): Promise<boolean> {
  try {
    await api.post(pathOf(ROUTES.createRecovery), { recovery: toBase64(recoveryBlob) }, recoveryWrittenResponse);
    return true;
  } catch (error) {
    if (error instanceof ApiError && error.code === ERROR_CODES.recoveryExists) return false;
    throw error;
  }
}

/** Publishes the public identity; resolves false when one is already published (409: it is written once). */
async function publishPublicIdentity(api: KeyApi, userId: string, publicIdentity: Uint8Array): Promise<boolean> {
  try {
    const answer = await api.post(pathOf(ROUTES.publishKey), { publicIdentity: toBase64(publicIdentity) }, publishedResponse);
    if (answer.userId !== userId) throw new AccountMismatchError();
    return true;
  } catch (error) {
    if (error instanceof ApiError && error.code === ERROR_CODES.publicKeyExists) return false;
    throw error;
  }
}

/** What the directory publishes for an account, compared with a device's keys. */
export type PublishedKeyState = 'ours' | 'missing' | 'other';

/**
 * Reads the account's published public identity and compares its two
 * public keys with `keys` (exact SPKI comparison, after the self-signature
 * verified). A published identity that does not parse or verify counts as
 * 'other'. Throws the API client's errors.
 */
async function publishedKeyState(api: KeyApi, userId: string, keys: Pick<IdentityKeys, 'encrypt' | 'sign'>): Promise<PublishedKeyState> {
  let answer: z.infer<typeof publicKeyResponse>;
  try {
    answer = await api.post(pathOf(ROUTES.readPublicKey, userId), {}, publicKeyResponse);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return 'missing';
    throw error;
  }
  if (answer.userId !== userId) throw new AccountMismatchError();
  let published: Awaited<ReturnType<typeof importPublicIdentity>>;
  try {
    published = await importPublicIdentity(decode(answer.publicIdentity));
  } catch {
    return 'other'; // damaged or forged
  }
  // samePublicKeys reads only the public halves; the private ones are ours, never compared or used.
  const asPublished: IdentityKeys = {
    encrypt: { publicKey: published.encrypt, privateKey: keys.encrypt.privateKey },
    sign: { publicKey: published.verify, privateKey: keys.sign.privateKey },
  };
  return (await samePublicKeys(keys, asPublished)) ? 'ours' : 'other';
}

/**
 * The start-up check: is the public identity published for this account the
 * one this device holds? Resolves 'ours', 'missing' or 'other' — which the
 * app must say loudly: senders would encrypt to a key this device cannot
 * open. When none is published but storage keeps the recovery copy (a
 * publish that failed during setup), publishes ours and resolves 'ours'.
 * With neither in storage the account was deleted (on another device) or
 * storage lost its keys: it resolves 'missing' and publishes nothing, so a
 * deleted account never comes back from a device that still holds keys.
 * Throws the API client's errors.
 */
export async function checkPublishedKey(api: KeyApi, identity: UnlockedIdentity): Promise<PublishedKeyState> {
  const state = await publishedKeyState(api, identity.userId, identity);
  if (state !== 'missing') return state;
  if ((await downloadRecovery(api)) === null) return 'missing';
  if (await publishPublicIdentity(api, identity.userId, identity.publicIdentity)) return 'ours';
  return publishedKeyState(api, identity.userId, identity);
}

/**
 * The account's recovery copy and the ETag that a replacement must name
 * (a passphrase change reads, unlocks with the old passphrase, re-wraps,
 * then calls {@link replaceRecoveryCopy}). Throws NoRecoveryCopyError when
 * there is none, and the API client's errors.
 */
export async function readRecoveryCopy(api: KeyApi): Promise<{ recoveryBlob: Uint8Array<ArrayBuffer>; etag: string }> {
  try {
    const answer = await api.post(pathOf(ROUTES.readRecovery), {}, recoveryResponse);
    return { recoveryBlob: decode(answer.recovery), etag: answer.etag };
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) throw new NoRecoveryCopyError();
    throw error;
  }
}

/**
 * Replaces the recovery copy read with ETag `etag` (a passphrase change).
 * Resolves the new ETag. Throws ReauthRequiredError when the sign-in is not
 * recent enough, RecoveryCopyChangedError when the copy changed since it was
 * read (nothing replaced), NoRecoveryCopyError, and the API client's errors.
 */
export async function replaceRecoveryCopy(api: KeyApi, recoveryBlob: Uint8Array, etag: string): Promise<string> {
  try {
    const answer = await api.post(pathOf(ROUTES.replaceRecovery), { recovery: toBase64(recoveryBlob), etag }, recoveryWrittenResponse);
    return answer.etag;
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (error.code === ERROR_CODES.reauthRequired) throw new ReauthRequiredError();
    if (error.status === 412) throw new RecoveryCopyChangedError();
    if (error.status === 404) throw new NoRecoveryCopyError();
    throw error;
  }
}

/**
 * Publishes `publicIdentity` in place of the account's current one, with a
 * rotation statement signed by the current signing key (SDRT, made by the
 * crypto core). Throws KeyRotationRefusedError when the server refuses the
 * statement or another change came first, and the API client's errors.
 */
export async function rotatePublishedKey(api: KeyApi, userId: string, publicIdentity: Uint8Array, statement: Uint8Array): Promise<void> {
  try {
    const answer = await api.post(pathOf(ROUTES.rotateKey), { publicIdentity: toBase64(publicIdentity), statement: toBase64(statement) }, publishedResponse);
    if (answer.userId !== userId) throw new AccountMismatchError();
  } catch (error) {
    if (error instanceof ApiError && (error.status === 403 || error.status === 409 || error.status === 412)) {
      throw new KeyRotationRefusedError(error.message);
    }
    throw error;
  }
}

function decode(b64: string): Uint8Array<ArrayBuffer> {
  // The contract's schema checked it is base64; null would mean a bug there.
  const bytes = fromBase64(b64);
  if (bytes === null) throw new Error('The server sent key material that is not base64.');
  return bytes;
}

async function storedFrom(userId: string, keys: IdentityKeys, publicIdentity: Uint8Array, former: readonly CryptoKeyPair[] = []): Promise<StoredIdentity> {
  return {
    userId,
    encrypt: keys.encrypt,
    sign: keys.sign,
    publicIdentity,
    fingerprint: await fingerprint(publicIdentity),
    createdAt: Date.now(),
    ...(former.length === 0 ? {} : { formerKeys: former.map((p) => ({ privateKey: p.privateKey, publicKey: p.publicKey })) }),
  };
}

function toUnlocked(stored: StoredIdentity): UnlockedIdentity {
  return {
    userId: stored.userId,
    encrypt: stored.encrypt,
    sign: stored.sign,
    publicIdentity: stored.publicIdentity,
    fingerprint: stored.fingerprint,
    driveKey: stored.driveKey ?? null,
    retiredKeys: (stored.formerKeys ?? []).map((p) => p.privateKey),
  };
}

/**
 * The restored identity with the account's drive key: the copy in the key
 * directory, verified and saved on this device (or a new one when the
 * account has none yet). Any failure leaves it null; the next start tries
 * again and says why (AccountFlow).
 */
async function withDriveKey(api: KeyApi, stored: StoredIdentity, opts: AccountKeyOptions): Promise<UnlockedIdentity> {
  const unlocked = toUnlocked(stored);
  if (unlocked.driveKey !== null) return unlocked;
  const driveKey = await ensureDriveKey(api, stored.userId, stored, { store: store(opts) }).catch(() => null);
  return { ...unlocked, driveKey };
}

/**
 * Gives `identity` the account's drive key when it has none yet (accounts
 * set up before drive keys, or a device that could not fetch it), saved on
 * this device. Throws DriveKeyRefusedError when the copy in the key
 * directory is not this account's (nothing saved), the API client's errors
 * and KeyStoreError.
 */
export async function addDriveKey(api: KeyApi, identity: UnlockedIdentity, opts: AccountKeyOptions = {}): Promise<UnlockedIdentity> {
  if (identity.driveKey !== null) return identity;
  const driveKey = await ensureDriveKey(api, identity.userId, identity, { store: store(opts) });
  return { ...identity, driveKey };
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
