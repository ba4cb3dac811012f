/**
 * Another device rotated this account's keys (issue 20 item 3): at start,
 * a device whose keys are no longer the published ones checks whether a
 * rotation statement signed by ITS key (docs/FORMAT.md §10.4) leads to the
 * published identity. If so, the change was made by the owner (someone
 * holding this device's signing key, or its recovery copy) and the device is
 * led to restore the new keys with the passphrase; if not, the published
 * key changed without explanation and the app keeps its loud warning.
 */
import { pathOf, publicKeyResponse, ROUTES } from '../contract/index.ts';
import { rotationSignedBy } from '../crypto/index.ts';
import type { KeyApi, UnlockedIdentity } from './account-keys.ts';
import { fromBase64 } from './base64.ts';

/**
 * Resolves true when a rotation statement the server keeps names the
 * account's published identity and is signed by this device's signing key
 * (docs/FORMAT.md §10.4; the former identity's exact bytes are not needed,
 * see rotationSignedBy). Only a direct step is followed: the server keeps
 * the statements but not the identities in between. Throws the API
 * client's errors.
 */
export async function rotatedFromThisDevice(api: KeyApi, identity: UnlockedIdentity): Promise<boolean> {
  const answer = await api.post(pathOf(ROUTES.readPublicKey, identity.userId), {}, publicKeyResponse);
  const published = fromBase64(answer.publicIdentity);
  if (published === null || answer.userId !== identity.userId) return false;
  for (const text of answer.rotations) {
    const statement = fromBase64(text);
    if (statement === null) continue;
    if (await rotationSignedBy(statement, identity.sign.publicKey, published)) return true;
  }
  return false;
}
