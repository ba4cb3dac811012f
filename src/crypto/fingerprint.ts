/**
 * Fingerprints people compare: 8 groups of 5 digits derived from a signing
 * (ECDSA P-256) public key (docs/FORMAT.md §10.3).
 */
import { fromHex, toBytes } from './bytes.ts';
import { MalformedError } from './errors.ts';
import { labelled } from './format.ts';

/** Label hashed in front of the key in a fingerprint. */
export const LABEL_FINGERPRINT = 'sealdrop/v2/fingerprint';

/**
 * The 27 bytes every accepted signing-key SPKI starts with: the DER of
 * id-ecPublicKey + prime256v1, a 66-byte BIT STRING and 0x04 (uncompressed
 * point). Followed by X(32) ‖ Y(32): 91 bytes in all (FORMAT.md §2).
 */
export const P256_SPKI_PREFIX = fromHex('3059301306072a8648ce3d020106082a8648ce3d030107034200' + '04');
/** Length of the only accepted signing-key SPKI form. */
export const P256_SPKI_LENGTH = 91;

/**
 * Imports an SPKI as an ECDSA P-256 verify key. Throws MalformedError unless
 * it is exactly the 91-byte uncompressed form (compressed points and any other
 * DER spelling are refused) of a point on the curve.
 */
export async function importVerifyKey(spki: Uint8Array): Promise<CryptoKey> {
  if (spki.length !== P256_SPKI_LENGTH || !P256_SPKI_PREFIX.every((b, i) => spki[i] === b)) {
    throw new MalformedError('A signing key is not a valid P-256 public key.');
  }
  try {
    return await crypto.subtle.importKey('spki', toBytes(spki), { name: 'ECDSA', namedCurve: 'P-256' }, true, [
      'verify',
    ]);
  } catch {
    throw new MalformedError('A signing key is not a valid P-256 public key.');
  }
}

/**
 * Returns the fingerprint of an ECDSA P-256 public key, e.g.
 * "01234 56789 …" (8 groups of 5 digits): SHA-256 over the label and the
 * 65-byte uncompressed point, each 4-byte big-endian word mod 100000.
 */
export async function signingKeyFingerprint(publicKey: CryptoKey): Promise<string> {
  const point = new Uint8Array(await crypto.subtle.exportKey('raw', publicKey));
  const digest = new DataView(await crypto.subtle.digest('SHA-256', labelled(LABEL_FINGERPRINT, point)));
  const groups: string[] = [];
  for (let i = 0; i < 8; i++) groups.push(String(digest.getUint32(4 * i) % 100_000).padStart(5, '0'));
  return groups.join(' ');
}
