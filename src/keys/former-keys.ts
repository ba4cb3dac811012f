/**
 * Former encryption keys kept after a key rotation (issue 20 item 3;
 * docs/FORMAT.md §11.3). A rotation keeps the retired RSA-OAEP private key
 * wrapped in the recovery copy beside the new keys, and on every device that
 * restores from it (non-extractable, in the key store): files others shared
 * with the user, and files received through a "send me files" link, are
 * sealed to the key they knew then, and the rotation does not re-seal them.
 *
 * Dropping them is the user's choice: the recovery copy is re-wrapped
 * without them (same passphrase, fresh salt; through the guarded route, with
 * If-Match and a fresh sign-in) and this device forgets them. From then on
 * those files no longer open, here or on a device restored later. Another
 * device that restored before keeps its copy until it restores again.
 */
import { dropFormerKeys, restoreBackup, samePublicKeys, type KdfParams } from '../crypto/index.ts';
import { readRecoveryCopy, replaceRecoveryCopy, type KeyApi, type UnlockedIdentity } from './account-keys.ts';
import { AccountMismatchError } from './key-errors.ts';
import { defaultKeyStore, type KeyStore } from './key-store.ts';

/** Options of {@link dropKeptFormerKeys}; tests pass their own store and small KDF parameters. */
export interface FormerKeyOptions {
  store?: KeyStore;
  kdfParams?: KdfParams;
}

/** How many former keys this device keeps for the account. */
export function keptFormerKeyCount(identity: UnlockedIdentity): number {
  return identity.retiredKeys?.length ?? 0;
}

/**
 * Drops the former keys: the recovery copy is replaced by one without them
 * (checked to open with `passphrase` and to hold this device's keys before
 * it replaces anything), then this device's key store forgets them.
 * Resolves the identity without former keys. Throws WrongPassphraseError,
 * AccountMismatchError, ReauthRequiredError (sign in again, then call it
 * once more), RecoveryCopyChangedError, NoRecoveryCopyError,
 * KeyStoreError and the API client's errors; nothing is replaced on a
 * failure before the copy is written.
 */
export async function dropKeptFormerKeys(api: KeyApi, identity: UnlockedIdentity, passphrase: string, opts: FormerKeyOptions = {}): Promise<UnlockedIdentity> {
  const { recoveryBlob, etag } = await readRecoveryCopy(api);
  const dropped = await dropFormerKeys(recoveryBlob, passphrase, opts.kdfParams);
  const reopened = await restoreBackup(dropped, passphrase);
  if (!(await samePublicKeys(reopened.keys, identity)) || reopened.former.length !== 0) throw new AccountMismatchError();
  await replaceRecoveryCopy(api, dropped, etag);
  const store = opts.store ?? defaultKeyStore();
  const stored = await store.load(identity.userId);
  if (stored !== null) {
    const { formerKeys: _dropped, ...rest } = stored;
    await store.save(rest, { replace: true });
  }
  return { ...identity, retiredKeys: [] };
}
