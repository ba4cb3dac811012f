/**
 * "Download the recovery kit again" (issue 20 item 1). The kit is the
 * passphrase-wrapped copy of the private keys (docs/FORMAT.md §11) plus the
 * account's id, address and fingerprint. This device cannot make a new
 * copy: its private keys are non-extractable, so they can be neither read
 * nor wrapped. The kit is therefore rebuilt from the copy kept in storage
 * (`POST /keys/recovery/read`), which needs no secret to fetch.
 *
 * It is opened with the passphrase before it is offered, for two reasons:
 * a kit is only worth keeping if it opens with a passphrase the person
 * knows (after a change on another device the copy is wrapped under that
 * new passphrase), and nothing else proves that the copy storage handed
 * back is intact and holds this device's keys (its public half is not
 * authenticated without the passphrase). The passphrase stays in this
 * browser and is never written into the kit.
 */
import { restoreIdentity, samePublicKeys } from '../crypto/index.ts';
import { readRecoveryCopy, type KeyApi, type UnlockedIdentity } from './account-keys.ts';
import { RecoveryCopyMismatchError } from './key-errors.ts';
import type { RecoveryKit } from './recovery-kit.ts';

/**
 * Returns a fresh kit for `identity`'s account from the copy in storage,
 * once `passphrase` opened it and it held this device's keys. Throws
 * WrongPassphraseError, RecoveryCopyMismatchError (the copy holds other keys:
 * they were changed or replaced elsewhere), NoRecoveryCopyError, and the API
 * client's errors.
 */
export async function rebuildRecoveryKit(api: KeyApi, identity: UnlockedIdentity, email: string | null, passphrase: string): Promise<RecoveryKit> {
  const { recoveryBlob } = await readRecoveryCopy(api);
  const opened = await restoreIdentity(recoveryBlob, passphrase);
  if (!(await samePublicKeys(opened, identity))) throw new RecoveryCopyMismatchError();
  return { userId: identity.userId, email, fingerprint: identity.fingerprint, createdAt: new Date(), recoveryBlob };
}
