/**
 * A user's long-lived keys: an RSA-OAEP-3072 pair for receiving file keys
 * and an ECDSA P-256 pair for signing; their public form with a
 * self-signature; and the passphrase-wrapped recovery copy
 * (docs/FORMAT.md §10–11).
 */
import { ByteReader, ByteWriter, concatBytes, randomBytes, toBytes, toHex, utf8, type Bytes } from './bytes.ts';
import { MalformedError, TamperedError, UnsupportedVersionError, WrongPassphraseError } from './errors.ts';
import { importVerifyKey, signingKeyFingerprint } from './fingerprint.ts';
import { labelled } from './format.ts';
import { checkRsaPublicKey } from './recipients.ts';
import { DEFAULT_KDF_PARAMS, deriveKek, newKdfBlock, readKdfBlock, writeKdfBlock, type KdfBlock, type KdfParams } from './kdf.ts';

/** The user's two key pairs. */
export interface IdentityKeys {
  /** RSA-OAEP-3072 with SHA-256: receives wrapped file keys. */
  encrypt: CryptoKeyPair;
  /** ECDSA P-256: signs manifests and the public identity. */
  sign: CryptoKeyPair;
}

/** ASCII "SDPI": first bytes of a public identity. */
export const PUBLIC_IDENTITY_MAGIC = utf8('SDPI');
/** ASCII "SDBK": first bytes of a recovery backup. */
export const BACKUP_MAGIC = utf8('SDBK');
/** Label in front of the bytes a public identity's self-signature covers. */
export const LABEL_PUBLIC_IDENTITY = 'sealdrop/v1/public-identity';
/** AAD label of the wrapped RSA private key in a backup. */
export const LABEL_BACKUP_ENCRYPT = 'sealdrop/v1/backup/encrypt';
/** AAD label of the wrapped ECDSA private key in a backup. */
export const LABEL_BACKUP_SIGN = 'sealdrop/v1/backup/sign';
/** Accepted RSA modulus lengths in bits (inclusive, multiples of 8; FORMAT.md §2). */
export { RSA_MODULUS_BITS } from './recipients.ts';

const RSA_PARAMS = { name: 'RSA-OAEP', hash: 'SHA-256' } as const;
const EC_PARAMS = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const ECDSA_SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;
const VERSION = 1;

/**
 * Returns a fresh RSA-OAEP-3072/SHA-256 pair and ECDSA P-256 pair. The
 * private keys are extractable so that backupIdentity can wrap them; keep
 * them only until backed up, then use restoreIdentity's non-extractable ones.
 */
export async function generateIdentityKeys(): Promise<IdentityKeys> {
  const encrypt = await crypto.subtle.generateKey(
    { ...RSA_PARAMS, modulusLength: 3072, publicExponent: new Uint8Array([1, 0, 1]) },
    true,
    ['encrypt', 'decrypt'],
  );
  const sign = await crypto.subtle.generateKey(EC_PARAMS, true, ['sign', 'verify']);
  return { encrypt, sign };
}

async function spki(key: CryptoKey): Promise<Bytes> {
  return new Uint8Array(await crypto.subtle.exportKey('spki', key));
}

function readMagicAndVersion(r: ByteReader, magic: Bytes, what: string): void {
  const got = r.take(magic.length);
  if (!got.every((b, i) => b === magic[i])) throw new MalformedError(`This is not a Sealdrop ${what}.`);
  if (r.u8() !== VERSION) throw new UnsupportedVersionError();
}

async function importEncryptKey(spkiBytes: Uint8Array): Promise<CryptoKey> {
  let key: CryptoKey;
  try {
    key = await crypto.subtle.importKey('spki', toBytes(spkiBytes), RSA_PARAMS, true, ['encrypt']);
  } catch {
    throw new MalformedError('An encryption key is not a valid RSA public key.');
  }
  checkRsaPublicKey(key, () => new MalformedError('An encryption key has an unsupported size or exponent.'));
  // Only the canonical DER (what exportKey gives back) is accepted, so one key has one encoding.
  const canonical = new Uint8Array(await crypto.subtle.exportKey('spki', key));
  if (canonical.length !== spkiBytes.length || !canonical.every((b, i) => b === spkiBytes[i])) {
    throw new MalformedError('An encryption key is not in its canonical encoding.');
  }
  return key;
}

/**
 * Returns the public identity: both public keys as SPKI plus an ECDSA
 * self-signature (FORMAT.md §10.1). Throws when WebCrypto refuses the keys.
 */
export async function exportPublicIdentity(keys: IdentityKeys): Promise<Bytes> {
  const body = new ByteWriter()
    .raw(PUBLIC_IDENTITY_MAGIC)
    .u8(VERSION)
    .lp16(await spki(keys.encrypt.publicKey))
    .lp16(await spki(keys.sign.publicKey))
    .bytes();
  const signature = await crypto.subtle.sign(ECDSA_SIGN, keys.sign.privateKey, labelled(LABEL_PUBLIC_IDENTITY, body));
  return concatBytes(body, new Uint8Array(signature));
}

function parsePublicIdentity(bytes: Uint8Array): { body: Bytes; encryptSpki: Bytes; verifySpki: Bytes; signature: Bytes } {
  const r = new ByteReader(bytes);
  readMagicAndVersion(r, PUBLIC_IDENTITY_MAGIC, 'public key');
  const encryptSpki = r.lp16().slice();
  const verifySpki = r.lp16().slice();
  const bodyLength = r.offset;
  const signature = r.take(64).slice();
  r.end();
  return { body: toBytes(bytes).slice(0, bodyLength), encryptSpki, verifySpki, signature };
}

/**
 * Imports and verifies a public identity. Returns its RSA-OAEP encrypt key,
 * ECDSA verify key and fingerprint. Throws MalformedError (bad bytes or
 * keys), UnsupportedVersionError, TamperedError (self-signature fails).
 */
export async function importPublicIdentity(
  bytes: Uint8Array,
): Promise<{ encrypt: CryptoKey; verify: CryptoKey; fingerprint: string }> {
  const p = parsePublicIdentity(bytes);
  const verify = await importVerifyKey(p.verifySpki);
  if (!(await crypto.subtle.verify(ECDSA_SIGN, verify, p.signature, labelled(LABEL_PUBLIC_IDENTITY, p.body)))) {
    throw new TamperedError('The public key’s signature does not match.');
  }
  const encrypt = await importEncryptKey(p.encryptSpki);
  return { encrypt, verify, fingerprint: await signingKeyFingerprint(verify) };
}

/**
 * Returns the fingerprint people compare for a public identity (that of its
 * signing key; the signing key vouches for the encryption key through the
 * self-signature, which importPublicIdentity checks). Throws MalformedError
 * or UnsupportedVersionError when the bytes do not parse.
 */
export async function fingerprint(publicIdentity: Uint8Array): Promise<string> {
  const p = parsePublicIdentity(publicIdentity);
  return signingKeyFingerprint(await importVerifyKey(p.verifySpki));
}

/**
 * Returns whether two identities hold the same public keys (both the
 * encryption and the signing key, compared as SPKI bytes).
 */
export async function samePublicKeys(a: IdentityKeys, b: IdentityKeys): Promise<boolean> {
  const spki = (k: CryptoKey): Promise<ArrayBuffer> => crypto.subtle.exportKey('spki', k);
  const [ae, be, as, bs] = await Promise.all([
    spki(a.encrypt.publicKey),
    spki(b.encrypt.publicKey),
    spki(a.sign.publicKey),
    spki(b.sign.publicKey),
  ]);
  return toHex(new Uint8Array(ae)) === toHex(new Uint8Array(be)) && toHex(new Uint8Array(as)) === toHex(new Uint8Array(bs));
}

/** Returns a recovery backup made from explicit randomness (test vectors use this). */
export async function assembleBackup(
  keys: IdentityKeys,
  passphrase: string,
  block: KdfBlock,
  nonces: { encrypt: Bytes; sign: Bytes },
): Promise<Bytes> {
  if (!keys.encrypt.privateKey.extractable || !keys.sign.privateKey.extractable) {
    throw new TypeError('Only freshly generated keys can be backed up.');
  }
  const w = new ByteWriter().raw(BACKUP_MAGIC).u8(VERSION);
  writeKdfBlock(w, block);
  w.lp16(await spki(keys.encrypt.publicKey)).lp16(await spki(keys.sign.publicKey));
  const prefix = w.bytes();
  const kek = await deriveKek(passphrase, block, ['wrapKey']);
  const wrap = async (key: CryptoKey, label: string, iv: Bytes): Promise<Bytes> =>
    new Uint8Array(
      await crypto.subtle.wrapKey('pkcs8', key, kek, { name: 'AES-GCM', iv, additionalData: labelled(label, prefix) }),
    );
  const wrappedEncrypt = await wrap(keys.encrypt.privateKey, LABEL_BACKUP_ENCRYPT, nonces.encrypt);
  const wrappedSign = await wrap(keys.sign.privateKey, LABEL_BACKUP_SIGN, nonces.sign);
  return new ByteWriter()
    .raw(prefix)
    .raw(nonces.encrypt)
    .lp16(wrappedEncrypt)
    .raw(nonces.sign)
    .lp16(wrappedSign)
    .bytes();
}

/**
 * Returns the recovery backup: both private keys wrapped (AES-256-GCM,
 * WebCrypto wrapKey) under a key derived from `passphrase` (default scrypt
 * N=2^17, r=8, p=1), with both public keys. Throws TypeError when the
 * private keys are not extractable, KdfParamsTooHighError / MalformedError
 * for out-of-bounds params, RangeError for an empty passphrase.
 */
export async function backupIdentity(
  keys: IdentityKeys,
  passphrase: string,
  params: KdfParams = DEFAULT_KDF_PARAMS,
): Promise<Bytes> {
  return assembleBackup(keys, passphrase, newKdfBlock(params), { encrypt: randomBytes(12), sign: randomBytes(12) });
}

/**
 * Restores a backup with `unwrapKey` straight into NON-extractable private
 * keys (the key bytes never exist in JavaScript). Returns the identity keys.
 * Throws WrongPassphraseError when the passphrase is empty or wrong (or the backup's tags fail),
 * KdfParamsTooHighError before any work for over-cap parameters,
 * MalformedError / UnsupportedVersionError when the bytes do not parse or
 * the keys do not match their public halves.
 */
export async function restoreIdentity(backup: Uint8Array, passphrase: string): Promise<IdentityKeys> {
  const r = new ByteReader(backup);
  readMagicAndVersion(r, BACKUP_MAGIC, 'recovery kit');
  const block = readKdfBlock(r);
  const encryptSpki = r.lp16().slice();
  const verifySpki = r.lp16().slice();
  const prefix = toBytes(backup).slice(0, r.offset);
  const encryptNonce = r.take(12).slice();
  const wrappedEncrypt = r.lp16().slice();
  const signNonce = r.take(12).slice();
  const wrappedSign = r.lp16().slice();
  r.end();

  const encryptPublic = await importEncryptKey(encryptSpki);
  const verifyPublic = await importVerifyKey(verifySpki);
  // No kit is ever made with an empty passphrase, so none opens with one.
  if (passphrase.length === 0) throw new WrongPassphraseError();
  const kek = await deriveKek(passphrase, block, ['unwrapKey']);
  const unwrap = async (
    wrapped: Bytes,
    iv: Bytes,
    label: string,
    algorithm: typeof RSA_PARAMS | typeof EC_PARAMS,
    usages: KeyUsage[],
  ): Promise<CryptoKey> => {
    const params = { name: 'AES-GCM', iv, additionalData: labelled(label, prefix) };
    try {
      return await crypto.subtle.unwrapKey('pkcs8', wrapped, kek, params, algorithm, false, usages);
    } catch (error) {
      // OperationError = the AES-GCM tag failed; anything else = authentic but unusable bytes.
      if (error instanceof Error && error.name === 'OperationError') throw new WrongPassphraseError();
      throw new MalformedError('The recovery kit holds a damaged key.');
    }
  };
  const decrypt = await unwrap(wrappedEncrypt, encryptNonce, LABEL_BACKUP_ENCRYPT, RSA_PARAMS, ['decrypt']);
  const signKey = await unwrap(wrappedSign, signNonce, LABEL_BACKUP_SIGN, EC_PARAMS, ['sign']);
  await checkPairs(encryptPublic, decrypt, verifyPublic, signKey);
  return {
    encrypt: { publicKey: encryptPublic, privateKey: decrypt },
    sign: { publicKey: verifyPublic, privateKey: signKey },
  };
}

/** Throws MalformedError unless each private key matches its public half. */
async function checkPairs(encrypt: CryptoKey, decrypt: CryptoKey, verify: CryptoKey, sign: CryptoKey): Promise<void> {
  const probe = randomBytes(32);
  try {
    const sealed = await crypto.subtle.encrypt(RSA_PARAMS, encrypt, probe);
    const opened = new Uint8Array(await crypto.subtle.decrypt(RSA_PARAMS, decrypt, sealed));
    const signature = await crypto.subtle.sign(ECDSA_SIGN, sign, probe);
    if (opened.every((b, i) => b === probe[i]) && (await crypto.subtle.verify(ECDSA_SIGN, verify, signature, probe))) {
      return;
    }
  } catch {
    // Falls through to the error below.
  }
  throw new MalformedError('The recovery kit’s keys do not belong together.');
}
