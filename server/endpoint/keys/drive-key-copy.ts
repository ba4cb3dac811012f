/**
 * The server's own check of a drive-key copy ("SDDK", docs/FORMAT.md §10.5)
 * before it stores one, with Node's WebCrypto and independent of src/crypto
 * (the server imports only the wire contract from src/):
 *
 *   SDDK v2 = "SDDK" ‖ 0x02 ‖ SHA-256(SPKI of the owner's RSA-OAEP key) (32)
 *             ‖ u16be len ‖ RSA-OAEP ciphertext (384–512 bytes)
 *             ‖ signature(64) by the owner's signing key over labelled("sealdrop/v2/drive-key-copy", all preceding bytes)
 *
 * The owner's device checks the same signature again before it uses the key
 * (a server that skipped this check still could not slip in a key of its
 * own); checking here keeps a stolen sign-in token from storing a copy the
 * owner's devices would refuse forever (the copy is written once).
 */
import { webcrypto } from 'node:crypto';
import type { CheckedIdentity } from './public-identity.ts';
import { KeyProofError } from './public-identity.ts';

const { subtle } = webcrypto;
const SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;
const HEAD = 4 + 1 + 32 + 2;
const SIGNATURE = 64;
const WRAPPED = { min: 384, max: 512 } as const;

function labelled(label: string, body: Uint8Array): Uint8Array<ArrayBuffer> {
  const l = new TextEncoder().encode(label);
  const out = new Uint8Array(l.length + 1 + body.length);
  out.set(l);
  out.set(body, l.length + 1);
  return out;
}

/**
 * Checks that `bytes` is a drive-key copy of version 2 wrapped to the RSA key
 * of `owner` (the caller's published public identity) and signed by its
 * signing key. Throws {@link KeyProofError} otherwise.
 */
export async function checkDriveKeyCopy(bytes: Uint8Array, owner: CheckedIdentity): Promise<void> {
  if (bytes.length < HEAD || !'SDDK'.split('').every((c, i) => bytes[i] === c.charCodeAt(0))) {
    throw new KeyProofError('This is not a Sealdrop drive key.');
  }
  if (bytes[4] !== 2) throw new KeyProofError('This drive key has a version the server does not accept.');
  const wrappedLength = ((bytes[HEAD - 2] ?? 0) << 8) | (bytes[HEAD - 1] ?? 0);
  if (wrappedLength < WRAPPED.min || wrappedLength > WRAPPED.max || bytes.length !== HEAD + wrappedLength + SIGNATURE) {
    throw new KeyProofError('This drive key has the wrong length.');
  }
  const recipient = new Uint8Array(await subtle.digest('SHA-256', new Uint8Array(owner.encryptSpki)));
  if (!recipient.every((b, i) => bytes[5 + i] === b)) throw new KeyProofError('This drive key is not wrapped to your published key.');
  const signedLength = HEAD + wrappedLength;
  const ok = await subtle.verify(SIGN, owner.verifyKey, bytes.slice(signedLength), labelled('sealdrop/v2/drive-key-copy', bytes.subarray(0, signedLength)));
  if (!ok) throw new KeyProofError('This drive key is not signed by your published key.');
}
