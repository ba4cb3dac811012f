/**
 * The server's own small checks of a public identity ("SDPI") and a key
 * rotation statement ("SDRT"), with Node's WebCrypto. Written from
 * /work/plan/DECISIONS.md ("Format v2"; docs/FORMAT.md v2 is the full
 * description) and deliberately independent of src/crypto: the server
 * imports only the wire contract from src/.
 *
 *   SDPI v2 = "SDPI" ‖ 0x02 ‖ u8 count ‖ count × (u8 kind ‖ u16be len ‖ key)
 *             ‖ signature(64) over labelled("sealdrop/v2/public-identity", all preceding bytes)
 *             kind 1 = RSA-OAEP SPKI, kind 2 = ECDSA P-256 SPKI (exactly one of each),
 *             kinds strictly increasing, unknown kinds skipped (still signed).
 *   SDRT v2 = "SDRT" ‖ 0x02 ‖ SHA-256(old SDPI) ‖ SHA-256(new SDPI)
 *             ‖ signature(64) by the OLD signing key over labelled("sealdrop/v2/rotation", all preceding bytes)
 *   labelled(label, x) = UTF-8(label) ‖ 0x00 ‖ x; signatures are ECDSA P-256 / SHA-256, P1363 (r ‖ s).
 *
 * Version 1 never shipped and is refused, as every v2 reader does. The
 * signing key must be the one canonical 91-byte P-256 SPKI (uncompressed
 * point), as docs/FORMAT.md §2 requires: Node's importKey also takes the
 * "hybrid" 0x06/0x07 point form, so the bytes are checked first.
 */
import { webcrypto } from 'node:crypto';

const { subtle } = webcrypto;

const SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;
const KIND_RSA = 1;
const KIND_ECDSA = 2;
/** A public identity lists 1 to 16 keys (docs/FORMAT.md §10.1). */
const MAX_KEYS = 16;
/** id-ecPublicKey, prime256v1, a 66-byte BIT STRING, uncompressed-point tag (docs/FORMAT.md §2). */
const P256_SPKI_PREFIX = [
  0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03,
  0x42, 0x00, 0x04,
];
const P256_SPKI_LENGTH = 91;

/** A public identity or rotation statement failed its checks; the message says which, in plain words. */
export class KeyProofError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyProofError';
  }
}

function labelled(label: string, body: Uint8Array): Uint8Array<ArrayBuffer> {
  const l = new TextEncoder().encode(label);
  const out = new Uint8Array(l.length + 1 + body.length);
  out.set(l);
  out.set(body, l.length + 1);
  return out;
}

function startsWith(bytes: Uint8Array, magic: string): boolean {
  return magic.split('').every((c, i) => bytes[i] === c.charCodeAt(0));
}

class Reader {
  at = 0;
  constructor(private readonly bytes: Uint8Array) {}
  take(n: number): Uint8Array<ArrayBuffer> {
    if (this.at + n > this.bytes.length) throw new KeyProofError('The public key is cut short.');
    const out = this.bytes.slice(this.at, this.at + n);
    this.at += n;
    return out;
  }
  u8(): number {
    return this.take(1)[0] ?? 0;
  }
  lp16(): Uint8Array<ArrayBuffer> {
    const [hi = 0, lo = 0] = this.take(2);
    return this.take((hi << 8) | lo);
  }
}

/** A public identity that passed its checks. */
export interface CheckedIdentity {
  /** The ECDSA P-256 key that signed the identity (and signs rotations away from it). */
  verifyKey: CryptoKey;
  /** The SPKI bytes of the RSA-OAEP encryption key (kind 1), as published. */
  encryptSpki: Uint8Array;
  /** The SPKI bytes of the signing key (kind 2), as published (the 91-byte form). */
  verifySpki: Uint8Array;
}

async function importVerifyKey(spki: Uint8Array<ArrayBuffer>): Promise<CryptoKey> {
  if (spki.length !== P256_SPKI_LENGTH || !P256_SPKI_PREFIX.every((b, i) => spki[i] === b)) {
    throw new KeyProofError('The signing key in the public key is not in the one accepted P-256 form.');
  }
  try {
    return await subtle.importKey('spki', spki, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
  } catch {
    throw new KeyProofError('The signing key in the public key is not a valid P-256 key.');
  }
}

async function checkRsaKey(spki: Uint8Array<ArrayBuffer>): Promise<void> {
  try {
    await subtle.importKey('spki', spki, { name: 'RSA-OAEP', hash: 'SHA-256' }, false, ['encrypt']);
  } catch {
    throw new KeyProofError('The encryption key in the public key is not a valid RSA key.');
  }
}

/**
 * Parses a public identity and verifies its self-signature. Resolves to its
 * signing key; throws {@link KeyProofError} for anything malformed, an
 * unknown version, a missing key kind or a bad signature.
 */
export async function checkPublicIdentity(bytes: Uint8Array): Promise<CheckedIdentity> {
  if (bytes.length < 6 || !startsWith(bytes, 'SDPI')) throw new KeyProofError('This is not a Sealdrop public key.');
  const r = new Reader(bytes);
  r.take(4);
  const version = r.u8();
  let rsa: Uint8Array<ArrayBuffer> | undefined;
  let ecdsa: Uint8Array<ArrayBuffer> | undefined;
  if (version !== 2) throw new KeyProofError('This public key has a version the server does not accept.');
  const label = 'sealdrop/v2/public-identity';
  {
    const count = r.u8();
    if (count < 1 || count > MAX_KEYS) throw new KeyProofError('The public key lists too few or too many keys.');
    let previous = 0;
    for (let i = 0; i < count; i++) {
      const kind = r.u8();
      if (kind <= previous) throw new KeyProofError('The public key lists its keys out of order.');
      previous = kind;
      const key = r.lp16();
      if (kind === KIND_RSA) rsa = key;
      if (kind === KIND_ECDSA) ecdsa = key;
    }
  }
  if (rsa === undefined || ecdsa === undefined) throw new KeyProofError('The public key lacks an encryption or a signing key.');
  const body = bytes.slice(0, r.at);
  const signature = r.take(64);
  if (r.at !== bytes.length) throw new KeyProofError('The public key has bytes after its signature.');
  const verifyKey = await importVerifyKey(ecdsa);
  await checkRsaKey(rsa);
  if (!(await subtle.verify(SIGN, verifyKey, signature, labelled(label, body)))) {
    throw new KeyProofError('The public key’s self-signature does not match.');
  }
  return { verifyKey, encryptSpki: rsa, verifySpki: ecdsa };
}

async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await subtle.digest('SHA-256', new Uint8Array(bytes)));
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Length of an SDRT v2 statement. */
export const ROTATION_BYTES = 133;

/**
 * Checks that `statement` rotates `current` to `next`: the right magic and
 * version, both hashes, and a signature by `current`'s signing key. Both
 * identities must already have passed {@link checkPublicIdentity}. Throws
 * {@link KeyProofError} otherwise.
 */
export async function checkRotation(statement: Uint8Array, current: { bytes: Uint8Array; identity: CheckedIdentity }, next: Uint8Array): Promise<void> {
  if (statement.length !== ROTATION_BYTES || !startsWith(statement, 'SDRT')) throw new KeyProofError('This is not a key rotation statement.');
  if (statement[4] !== 2) throw new KeyProofError('This rotation statement has a version the server does not accept.');
  if (!equal(statement.subarray(5, 37), await sha256(current.bytes))) {
    throw new KeyProofError('The rotation statement does not start from the key published now.');
  }
  if (!equal(statement.subarray(37, 69), await sha256(next))) throw new KeyProofError('The rotation statement names another new key.');
  const ok = await subtle.verify(SIGN, current.identity.verifyKey, statement.slice(69), labelled('sealdrop/v2/rotation', statement.subarray(0, 69)));
  if (!ok) throw new KeyProofError('The rotation statement is not signed by the key published now.');
}
