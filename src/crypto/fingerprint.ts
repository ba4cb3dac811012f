/**
 * Fingerprints people compare: 8 groups of 5 digits derived from a signing
 * (ECDSA P-256) public key (docs/FORMAT.md §10.3).
 */
import { toBytes } from './bytes.ts';
import { MalformedError } from './errors.ts';
import { labelled } from './format.ts';

/** Label hashed in front of the key in a fingerprint. */
export const LABEL_FINGERPRINT = 'sealdrop/v1/fingerprint';

/** Imports an SPKI as an ECDSA P-256 verify key; throws MalformedError when it is not one. */
export async function importVerifyKey(spki: Uint8Array): Promise<CryptoKey> {
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
