/**
 * Changing the recovery passphrase (issue "Keys and account"): read the
 * recovery copy and its ETag, re-wrap it under the new passphrase in this
 * browser (the crypto core unwraps and wraps again in one call; no key
 * bytes reach JavaScript), check that it is this device's account, and
 * replace it through the guarded route with `If-Match` semantics (the ETag)
 * and a recent sign-in. The token endpoint never sees a passphrase or an
 * unwrapped key: only the passphrase-wrapped copy, as on setup.
 */
import { restoreIdentity, rewrapBackup, samePublicKeys, type KdfParams } from '../crypto/index.ts';
import { readRecoveryCopy, replaceRecoveryCopy, type KeyApi, type UnlockedIdentity } from './account-keys.ts';
import { AccountMismatchError } from './key-errors.ts';

/** Options of {@link changeRecoveryPassphrase}; tests pass small KDF parameters. */
export interface PassphraseChangeOptions {
  kdfParams?: KdfParams;
}

/**
 * Re-wraps the account's recovery copy under `newPassphrase`. Resolves once
 * the new copy is stored; afterwards only `newPassphrase` restores the keys.
 * Throws WrongPassphraseError when `currentPassphrase` does not open the
 * copy, AccountMismatchError when the copy holds other keys than this
 * device's, ReauthRequiredError when the sign-in is not recent enough,
 * RecoveryCopyChangedError when another device replaced the copy meanwhile
 * (nothing replaced), NoRecoveryCopyError, RangeError for a new passphrase
 * that cannot be used, and the API client's errors. Nothing is replaced on
 * any failure.
 */
export async function changeRecoveryPassphrase(
  api: KeyApi,
  identity: UnlockedIdentity,
  currentPassphrase: string,
  newPassphrase: string,
  opts: PassphraseChangeOptions = {},
): Promise<void> {
  const { recoveryBlob, etag } = await readRecoveryCopy(api);
  const rewrapped = await rewrapBackup(recoveryBlob, currentPassphrase, newPassphrase, opts.kdfParams);
  // Proves the new copy opens with the new passphrase, and that it is this account's keys, before it replaces anything.
  const reopened = await restoreIdentity(rewrapped, newPassphrase);
  if (!(await samePublicKeys(reopened, identity))) throw new AccountMismatchError();
  await replaceRecoveryCopy(api, rewrapped, etag);
}
