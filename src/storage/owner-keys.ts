/**
 * Which keys seal and open the owner's own files. With a drive key
 * (docs/FORMAT.md §7.5), every new file gets a drive-key envelope AND the
 * RSA envelope (sharing and older readers use the RSA one), and opening
 * tries the drive key first: a symmetric unwrap instead of an RSA-OAEP
 * private-key operation. The identity order is what keeps files without a
 * drive-key envelope (sealed before it existed) opening: the drive identity
 * finds nothing of its own and the RSA identity opens them (§7.4).
 */
import {
  driveKeyIdentity,
  driveKeyRecipient,
  rsaIdentity,
  rsaRecipient,
  signingKeyFingerprint,
  type FormerOwnerKeys,
  type Identity,
  type IdentityKeys,
  type Recipient,
} from '../crypto/index.ts';

/** The owner's keys as storage uses them: the identity pairs and, when this device has it, the drive key. */
export type OwnerKeys = IdentityKeys & {
  readonly driveKey?: CryptoKey | null | undefined;
  /**
   * The keys of before a key rotation that is still re-sealing the files
   * (docs/FORMAT.md §10.6): files not re-sealed yet open with them and are
   * signed by the former signing key. Empty or absent otherwise.
   */
  readonly formerKeys?: readonly FormerOwnerKeys[] | undefined;
  /**
   * Former RSA-OAEP private keys kept from finished rotations
   * (docs/FORMAT.md §11.3): tried last, for envelopes addressed to a key the
   * owner had before (files received through a request before a rotation).
   * Their signing keys are NOT trusted: they open, they never vouch.
   */
  readonly retiredKeys?: readonly CryptoKey[] | undefined;
};

/** The recipients of a new file of the owner: the drive key (when present), then the owner's RSA key. */
export function ownerRecipients(keys: OwnerKeys): Recipient[] {
  const rsa = rsaRecipient(keys.encrypt.publicKey);
  return keys.driveKey == null ? [rsa] : [driveKeyRecipient(keys.driveKey), rsa];
}

/** The identities that open the owner's files, cheapest first: the drive key (when present), then the RSA key. */
export function ownerIdentities(keys: OwnerKeys): Identity[] {
  const rsa = rsaIdentity(keys.encrypt.privateKey);
  const current = keys.driveKey == null ? [rsa] : [driveKeyIdentity(keys.driveKey), rsa];
  const former = (keys.formerKeys ?? []).flatMap((f) => (f.driveKey == null ? [rsaIdentity(f.decrypt)] : [driveKeyIdentity(f.driveKey), rsaIdentity(f.decrypt)]));
  return [...current, ...former, ...(keys.retiredKeys ?? []).map((k) => rsaIdentity(k))];
}

/**
 * The identities that open a file someone else sealed for the user (a
 * person share): the current RSA key, then the former ones kept from
 * earlier rotations (docs/FORMAT.md §11.3).
 */
export function readerIdentities(keys: Pick<OwnerKeys, 'encrypt' | 'retiredKeys'>): Identity[] {
  return [rsaIdentity(keys.encrypt.privateKey), ...(keys.retiredKeys ?? []).map((k) => rsaIdentity(k))];
}

/** The fingerprints a manifest of the owner may be signed by: the signing key's, and during a rotation the former one's. */
export async function ownerFingerprints(keys: OwnerKeys): Promise<ReadonlySet<string>> {
  const all = await Promise.all([keys.sign.publicKey, ...(keys.formerKeys ?? []).map((f) => f.verify)].map((k) => signingKeyFingerprint(k)));
  return new Set(all);
}
