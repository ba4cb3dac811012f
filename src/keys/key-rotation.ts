/**
 * Rotating the account's identity keys (issue 20 item 3), the key side; the
 * files are re-sealed by storage (`rotateDriveFiles`) and the UI joins the
 * two. Order, and why:
 *
 * 1. prepare (needs the recovery passphrase): the recovery copy is read and
 *    opened with it (the passphrase is right, the copy is this device's
 *    keys); new key pairs are made, wrapped under the same passphrase with
 *    the current encryption key kept as a former key beside the ones kept
 *    before (docs/FORMAT.md §11.3), and restored from that wrap into
 *    NON-extractable keys; the old signing key
 *    signs the rotation statement (SDRT, docs/FORMAT.md §10.4); a new drive
 *    key is made with its copy. All of it goes into the journal on this
 *    device BEFORE anything is published, so a reload loses nothing.
 * 2. publish: the recovery copy is replaced (If-Match on the ETag read,
 *    fresh sign-in), then the new public identity is published with the
 *    statement (the server checks it against the key published now), then
 *    the new drive-key copy; the key store then holds the new keys, and the
 *    journal the former ones. Each step recognises its own earlier success,
 *    so a resumed publish goes on where it stopped.
 * 3. files (storage): every manifest re-sealed for the new keys.
 * 4. finish: the journal is deleted, and the former signing and drive keys
 *    with it. The former encryption keys stay (key store, recovery copy), so
 *    files shared with the user before the rotation still open, until the
 *    user drops them (dropKeptFormerKeys in former-keys.ts).
 */
import {
  exportPublicIdentity,
  fingerprint,
  generateIdentityKeys,
  importPublicIdentity,
  MAX_FORMER_KEYS,
  newDriveKey,
  restoreBackup,
  rotateBackup,
  samePublicKeys,
  signRotation,
  type FormerOwnerKeys,
  type KdfParams,
} from '../crypto/index.ts';
import {
  checkPublishedKey,
  readRecoveryCopy,
  replaceRecoveryCopy,
  rotatePublishedKey,
  type KeyApi,
  type UnlockedIdentity,
} from './account-keys.ts';
import { establishDriveKey } from './drive-key.ts';
import { AccountMismatchError, KeyRotationRefusedError, RecoveryCopyChangedError } from './key-errors.ts';
import { defaultKeyStore, type KeyStore } from './key-store.ts';
import { defaultRotationJournal, type JournalKeys, type RotationJournal, type RotationJournalRecord } from './rotation-journal.ts';
import { pathOf, publicKeyResponse, ROUTES, driveKeyStoredResponse, ERROR_CODES, ApiError } from '../contract/index.ts';
import { fromBase64, toBase64 } from './base64.ts';

/** Dependencies and knobs; the defaults are the app's. */
export interface KeyRotationOptions {
  store?: KeyStore;
  journal?: RotationJournal;
  /** KDF parameters of the new recovery copy (tests pass small ones). */
  kdfParams?: KdfParams;
}

/**
 * Step 1 (see the module comment). Resolves the journal record, saved on
 * this device. Throws WrongPassphraseError when the passphrase does not open
 * the recovery copy, AccountMismatchError when the copy holds other keys
 * than this device's, KeyRotationRefusedError when a rotation is already
 * underway here, NoRecoveryCopyError, and the API client's errors. Nothing
 * is published.
 */
export async function prepareKeyRotation(
  api: KeyApi,
  identity: UnlockedIdentity,
  passphrase: string,
  opts: KeyRotationOptions = {},
): Promise<RotationJournalRecord> {
  const journal = opts.journal ?? defaultRotationJournal();
  if ((await journal.load(identity.userId)) !== null) throw new KeyRotationRefusedError('A change of your keys is already underway on this device.');
  const { recoveryBlob: currentCopy, etag } = await readRecoveryCopy(api);
  const current = await restoreBackup(currentCopy, passphrase);
  if (!(await samePublicKeys(current.keys, identity))) throw new AccountMismatchError();
  if (current.former.length >= MAX_FORMER_KEYS) {
    throw new KeyRotationRefusedError(`Your recovery copy already keeps ${MAX_FORMER_KEYS} former keys. Drop your former keys first, then rotate.`);
  }
  // The statement names the identity exactly as published (this device's own export may carry another self-signature).
  const publishedIdentity = await publishedBytes(api, identity);

  const fresh = await generateIdentityKeys();
  const recoveryBlob = new Uint8Array(await rotateBackup(currentCopy, passphrase, fresh, opts.kdfParams));
  const { keys: next, former: kept } = await restoreBackup(recoveryBlob, passphrase);
  const publicIdentity = await exportPublicIdentity(next);
  const statement = await signRotation({ oldIdentity: publishedIdentity, newIdentity: publicIdentity, oldSigningKey: identity.sign.privateKey });
  const drive = await newDriveKey(next);
  const record: RotationJournalRecord = {
    userId: identity.userId,
    phase: 'prepared',
    startedAt: Date.now(),
    former: {
      encrypt: identity.encrypt,
      sign: identity.sign,
      driveKey: identity.driveKey,
      publicIdentity: publishedIdentity,
      fingerprint: identity.fingerprint,
    },
    next: { ...next, driveKey: drive.driveKey, publicIdentity, fingerprint: await fingerprint(publicIdentity) },
    recoveryBlob,
    recoveryEtag: etag,
    statement,
    driveKeyCopy: drive.copy,
    kept,
  };
  await journal.save(record);
  return record;
}

/**
 * Step 2 (see the module comment): stores the new recovery copy, publishes
 * the new identity with its statement and the new drive-key copy, and saves
 * the new keys in the key store. Resolves the record in phase 'files'.
 * Throws ReauthRequiredError (sign in again, then call it once more),
 * RecoveryCopyChangedError / KeyRotationRefusedError when another device
 * changed the keys meanwhile, and the API client's errors; the journal
 * stays, so calling it again goes on.
 */
export async function publishKeyRotation(api: KeyApi, record: RotationJournalRecord, opts: KeyRotationOptions = {}): Promise<RotationJournalRecord> {
  if (record.phase !== 'prepared') return record;
  const journal = opts.journal ?? defaultRotationJournal();
  const store = opts.store ?? defaultKeyStore();
  const next = unlockedOf(record.userId, record.next);

  try {
    await replaceRecoveryCopy(api, record.recoveryBlob, record.recoveryEtag);
  } catch (error) {
    // Replaced by an earlier run of this same rotation: the copy in storage is ours.
    if (!(error instanceof RecoveryCopyChangedError && sameBytes((await readRecoveryCopy(api)).recoveryBlob, record.recoveryBlob))) throw error;
  }
  try {
    await rotatePublishedKey(api, record.userId, record.next.publicIdentity, record.statement);
  } catch (error) {
    if (!(error instanceof KeyRotationRefusedError && (await checkPublishedKey(api, next)) === 'ours')) throw error;
  }
  let driveKey = record.next.driveKey;
  if (record.driveKeyCopy !== null) {
    try {
      await api.post(pathOf(ROUTES.createDriveKey), { driveKey: toBase64(record.driveKeyCopy) }, driveKeyStoredResponse);
    } catch (error) {
      if (!(error instanceof ApiError && error.code === ERROR_CODES.driveKeyExists)) throw error;
      // A copy for the new keys is there already (an earlier run): that one is the account's.
      driveKey = await establishDriveKey(api, next).catch(() => null);
    }
  }
  await store.save(
    {
      userId: record.userId,
      encrypt: record.next.encrypt,
      sign: record.next.sign,
      publicIdentity: record.next.publicIdentity,
      fingerprint: record.next.fingerprint,
      createdAt: Date.now(),
      ...(driveKey === null ? {} : { driveKey }),
      ...(record.kept.length === 0 ? {} : { formerKeys: record.kept.map((p) => ({ privateKey: p.privateKey, publicKey: p.publicKey })) }),
    },
    { replace: true },
  );
  const published: RotationJournalRecord = { ...record, phase: 'files', next: { ...record.next, driveKey } };
  await journal.save(published);
  return published;
}

/** The former keys as storage re-seals files with them. */
export function formerOwnerKeys(record: RotationJournalRecord): FormerOwnerKeys {
  return { decrypt: record.former.encrypt.privateKey, verify: record.former.sign.publicKey, driveKey: record.former.driveKey };
}

/** The new keys as the rest of the app uses them, with the former ones for files not re-sealed yet. */
export function rotatingIdentity(record: RotationJournalRecord): UnlockedIdentity & { formerKeys: FormerOwnerKeys[] } {
  return { ...unlockedOf(record.userId, record.next), retiredKeys: record.kept.map((p) => p.privateKey), formerKeys: [formerOwnerKeys(record)] };
}

/** Step 4: deletes the journal, and the former private keys with it. Throws KeyStoreError('unavailable'). */
export async function finishKeyRotation(userId: string, opts: KeyRotationOptions = {}): Promise<void> {
  await (opts.journal ?? defaultRotationJournal()).finish(userId);
}

function unlockedOf(userId: string, keys: JournalKeys): UnlockedIdentity {
  return { userId, encrypt: keys.encrypt, sign: keys.sign, publicIdentity: keys.publicIdentity, fingerprint: keys.fingerprint, driveKey: keys.driveKey };
}

/** The account's published identity bytes, checked to be this device's keys. Throws KeyRotationRefusedError otherwise, and the API client's errors. */
async function publishedBytes(api: KeyApi, identity: UnlockedIdentity): Promise<Uint8Array<ArrayBuffer>> {
  const answer = await api.post(pathOf(ROUTES.readPublicKey, identity.userId), {}, publicKeyResponse);
  const bytes = fromBase64(answer.publicIdentity);
  if (bytes === null || answer.userId !== identity.userId) throw new AccountMismatchError();
  const published = await importPublicIdentity(bytes).catch(() => null);
  const asPublished = published === null ? null : { encrypt: { publicKey: published.encrypt, privateKey: identity.encrypt.privateKey }, sign: { publicKey: published.verify, privateKey: identity.sign.privateKey } };
  if (asPublished === null || !(await samePublicKeys(identity, asPublished))) {
    throw new KeyRotationRefusedError('The key published for your account is not the one on this device, so this device cannot change it.');
  }
  return bytes;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
