/**
 * Key rotation statements (docs/FORMAT.md §10.4): the OLD signing key says
 * "my owner's keys are now this new public identity", so contacts who
 * pinned the old fingerprint can follow the change without trusting the
 * server. 133 bytes:
 *
 *   "SDRT" ‖ 0x02 ‖ SHA-256(old identity) ‖ SHA-256(new identity) ‖ signature(64)
 */
import { ByteReader, ByteWriter, concatBytes, toBytes, utf8, type Bytes } from './bytes.ts';
import { MalformedError, TamperedError, UnsupportedVersionError } from './errors.ts';
import { labelled } from './format.ts';
import { importPublicIdentity } from './identity.ts';
import { constantTimeEqual } from './payload-digest.ts';

/** ASCII "SDRT": first bytes of a rotation statement. */
export const ROTATION_MAGIC = utf8('SDRT');
/** Label in front of the bytes a rotation statement's signature covers. */
export const LABEL_ROTATION = 'sealdrop/v2/rotation';
/** Length of a rotation statement. */
export const ROTATION_LENGTH = 133;
const VERSION = 2;
const ECDSA_SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;

async function sha256(data: Uint8Array): Promise<Bytes> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', toBytes(data)));
}

/**
 * Returns the rotation statement from `oldIdentity` to `newIdentity` (both
 * public identity bytes), signed by the old identity's signing private key.
 * Throws RangeError when the two identities are the same bytes or
 * `oldSigningKey` is not the old identity's signing key; the import errors
 * of importPublicIdentity when either identity is invalid.
 */
export async function signRotation(opts: {
  oldIdentity: Uint8Array;
  newIdentity: Uint8Array;
  oldSigningKey: CryptoKey;
}): Promise<Bytes> {
  const old = await importPublicIdentity(opts.oldIdentity);
  await importPublicIdentity(opts.newIdentity);
  const oldHash = await sha256(opts.oldIdentity);
  const newHash = await sha256(opts.newIdentity);
  if (constantTimeEqual(oldHash, newHash)) throw new RangeError('A rotation needs a new identity.');
  const body = new ByteWriter().raw(ROTATION_MAGIC).u8(VERSION).raw(oldHash).raw(newHash).bytes();
  const message = labelled(LABEL_ROTATION, body);
  const signature = new Uint8Array(await crypto.subtle.sign(ECDSA_SIGN, opts.oldSigningKey, message));
  if (!(await crypto.subtle.verify(ECDSA_SIGN, old.verify, signature, message))) {
    throw new RangeError('The signing key is not the old identity’s.');
  }
  return concatBytes(body, signature);
}

/**
 * Verifies that `statement` rotates `oldIdentity` to `newIdentity`, in the
 * order of FORMAT.md §10.4: parse (MalformedError; UnsupportedVersionError
 * for another version), the two hashes differ (MalformedError), both
 * identities import (their own errors), the hashes name exactly these two
 * identities (TamperedError), the old signing key's signature (TamperedError).
 * Returns both fingerprints.
 */
export async function verifyRotation(
  statement: Uint8Array,
  oldIdentity: Uint8Array,
  newIdentity: Uint8Array,
): Promise<{ oldFingerprint: string; newFingerprint: string }> {
  const r = new ByteReader(statement);
  const magic = r.take(ROTATION_MAGIC.length);
  if (!magic.every((b, i) => b === ROTATION_MAGIC[i])) throw new MalformedError('This is not a Sealdrop key rotation.');
  if (r.u8() !== VERSION) throw new UnsupportedVersionError();
  const oldHash = r.take(32).slice();
  const newHash = r.take(32).slice();
  const body = toBytes(statement).slice(0, r.offset);
  const signature = r.take(64).slice();
  r.end();
  if (constantTimeEqual(oldHash, newHash)) throw new MalformedError('A key rotation names the same identity twice.');
  const old = await importPublicIdentity(oldIdentity);
  const next = await importPublicIdentity(newIdentity);
  if (!constantTimeEqual(oldHash, await sha256(oldIdentity)) || !constantTimeEqual(newHash, await sha256(newIdentity))) {
    throw new TamperedError('This key rotation is about other keys.');
  }
  if (!(await crypto.subtle.verify(ECDSA_SIGN, old.verify, signature, labelled(LABEL_ROTATION, body)))) {
    throw new TamperedError('The key rotation’s signature does not match.');
  }
  return { oldFingerprint: old.fingerprint, newFingerprint: next.fingerprint };
}

/**
 * Whether `statement` is a well-formed rotation to `newIdentity` (its hash
 * matches) signed by `verifyKey`, the signing key of a device's own former
 * identity. Unlike verifyRotation it does not need the former identity's
 * exact published bytes (a restored device re-exports its identity with a
 * fresh self-signature, so its bytes differ): the old key's signature over
 * the new identity's hash is what says the owner made the change. Resolves
 * false for anything else; never throws for bad input.
 */
export async function rotationSignedBy(statement: Uint8Array, verifyKey: CryptoKey, newIdentity: Uint8Array): Promise<boolean> {
  if (statement.length !== ROTATION_LENGTH || !ROTATION_MAGIC.every((b, i) => statement[i] === b) || statement[4] !== VERSION) return false;
  const bytes = toBytes(statement);
  if (!constantTimeEqual(bytes.slice(37, 69), await sha256(newIdentity))) return false;
  try {
    return await crypto.subtle.verify(ECDSA_SIGN, verifyKey, bytes.slice(69), labelled(LABEL_ROTATION, bytes.slice(0, 69)));
  } catch {
    return false;
  }
}
