/**
 * Envelopes: one stanza per reader, each wrapping the 32-byte file key
 * (docs/FORMAT.md §7).
 *
 * Contract of every Identity (as in age/typage): `unwrap` returns `null` when
 * the stanza is not one it can open ("not mine"), returns the file key when
 * it opens it, and throws only when the stanza is its kind and it is broken
 * or refused ("mine but broken": wrong passphrase, over-cap parameters,
 * malformed body). Every stanza is bound to the file's 57-byte header, given
 * as `context`.
 */
import { ByteReader, ByteWriter, randomBytes, toBytes, type Bytes } from './bytes.ts';
import { MalformedError, WrongPassphraseError } from './errors.ts';
import { FILE_KEY_LENGTH, labelled } from './format.ts';
import {
  DEFAULT_KDF_PARAMS,
  checkKdfParams,
  deriveKek,
  hasUtf8Form,
  newKdfBlock,
  readKdfBlock,
  writeKdfBlock,
  type KdfBlock,
  type KdfParams,
} from './kdf.ts';

/** One envelope: a type id and its body (FORMAT.md §7). Unknown type ids are kept and ignored. */
export interface Stanza {
  typeId: number;
  body: Uint8Array;
}

/** Stanza type id of RSA-OAEP-3072/SHA-256 envelopes. */
export const STANZA_RSA_OAEP = 1;
/** Stanza type id of passphrase envelopes. */
export const STANZA_PASSPHRASE = 2;
/** Stanza type id of link-secret envelopes. */
export const STANZA_LINK_SECRET = 3;

/** Label of the RSA-OAEP `label` parameter. */
export const LABEL_RSA_OAEP = 'sealdrop/v2/rsa-oaep';
/** Label of the passphrase envelope's AES-GCM AAD. */
export const LABEL_PASSPHRASE = 'sealdrop/v2/passphrase';
/** Label of the link-secret HKDF info and AES-GCM AAD. */
export const LABEL_LINK_SECRET = 'sealdrop/v2/link-secret';
/** Length of a link secret in bytes. */
export const LINK_SECRET_LENGTH = 32;
/** Accepted RSA modulus lengths in bits (inclusive; the length must also be a multiple of 8). */
export const RSA_MODULUS_BITS = { min: 3072, max: 4096 } as const;
/** The only accepted RSA public exponent, 65537, as WebCrypto spells it. */
const RSA_EXPONENT = [1, 0, 1] as const;

/** Someone who can read a file: wraps a file key into a stanza for them. */
export interface Recipient {
  /** Returns a stanza wrapping `fileKey`, bound to `context` (the header). */
  wrap(fileKey: Uint8Array, context: Uint8Array): Promise<Stanza>;
  /**
   * The length of the stanza body `wrap` returns, when it is fixed (RSA: the
   * modulus length; drive key: nonce + key + tag): lets manifestLengthFor
   * size a manifest without wrapping anything.
   */
  readonly stanzaLength?: number;
}

/** A way to open stanzas: `null` = not mine, throws = mine but broken. */
export interface Identity {
  /** Returns the file key, or null when the stanza is not this identity's. */
  unwrap(stanza: Stanza, context: Uint8Array): Promise<Uint8Array | null>;
}

function checkFileKey(fileKey: Uint8Array): void {
  if (fileKey.length !== FILE_KEY_LENGTH) throw new RangeError('A file key is 32 bytes.');
}

async function gcmSeal(key: CryptoKey, nonce: Bytes, plain: Uint8Array, aad: Bytes): Promise<Bytes> {
  return new Uint8Array(
    await crypto.subtle.encrypt({ name: 'AES-GCM', iv: nonce, additionalData: aad }, key, toBytes(plain)),
  );
}

async function gcmOpen(key: CryptoKey, nonce: Bytes, sealed: Bytes, aad: Bytes): Promise<Bytes | null> {
  try {
    return new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: nonce, additionalData: aad }, key, sealed));
  } catch {
    return null;
  }
}

// --- RSA-OAEP -------------------------------------------------------------

/**
 * Throws `error()` unless `key` is an RSA key whose modulus is 3072–4096 bits
 * and a multiple of 8, with public exponent 65537 (FORMAT.md §2).
 */
export function checkRsaPublicKey(key: CryptoKey, error: () => Error): void {
  const { algorithm } = key;
  const bits = 'modulusLength' in algorithm && typeof algorithm.modulusLength === 'number' ? algorithm.modulusLength : 0;
  const exponent = 'publicExponent' in algorithm && algorithm.publicExponent instanceof Uint8Array ? algorithm.publicExponent : null;
  // WebCrypto may give the exponent with leading zero bytes; compare its value.
  const e = exponent === null ? [] : Array.from(exponent.subarray(exponent.findIndex((b) => b !== 0)));
  const exponentOk = e.length === RSA_EXPONENT.length && e.every((b, i) => b === RSA_EXPONENT[i]);
  if (bits < RSA_MODULUS_BITS.min || bits > RSA_MODULUS_BITS.max || bits % 8 !== 0 || !exponentOk) throw error();
}

/**
 * Returns a recipient that wraps to an RSA-OAEP (SHA-256) public key. Its
 * wrap rejects with RangeError when the key is outside FORMAT.md §2 (modulus
 * 3072–4096 bits and a multiple of 8, exponent 65537).
 */
export function rsaRecipient(publicKey: CryptoKey): Recipient {
  const { algorithm } = publicKey;
  const bits = 'modulusLength' in algorithm && typeof algorithm.modulusLength === 'number' ? algorithm.modulusLength : 0;
  return {
    ...(bits > 0 && bits % 8 === 0 ? { stanzaLength: bits / 8 } : {}),
    async wrap(fileKey, context) {
      checkFileKey(fileKey);
      checkRsaPublicKey(publicKey, () => new RangeError('An RSA recipient key must be 3072–4096 bits with exponent 65537.'));
      const label = labelled(LABEL_RSA_OAEP, context);
      const body = await crypto.subtle.encrypt({ name: 'RSA-OAEP', label }, publicKey, toBytes(fileKey));
      return { typeId: STANZA_RSA_OAEP, body: new Uint8Array(body) };
    },
  };
}

/**
 * Returns an identity for an RSA-OAEP (SHA-256) private key (may be
 * non-extractable). A stanza that does not decrypt is "not mine" (null):
 * RSA-OAEP cannot tell another recipient's stanza from a damaged one.
 * Throws MalformedError when it decrypts to something other than 32 bytes.
 */
export function rsaIdentity(privateKey: CryptoKey): Identity {
  return {
    async unwrap(stanza, context) {
      if (stanza.typeId !== STANZA_RSA_OAEP) return null;
      const { algorithm } = privateKey;
      if ('modulusLength' in algorithm && algorithm.modulusLength !== stanza.body.length * 8) return null;
      let fileKey: Bytes;
      try {
        const label = labelled(LABEL_RSA_OAEP, context);
        fileKey = new Uint8Array(
          await crypto.subtle.decrypt({ name: 'RSA-OAEP', label }, privateKey, toBytes(stanza.body)),
        );
      } catch {
        return null;
      }
      if (fileKey.length !== FILE_KEY_LENGTH) throw new MalformedError('An envelope holds a key of the wrong size.');
      return fileKey;
    },
  };
}

// --- passphrase -----------------------------------------------------------

/**
 * Returns the body of a passphrase stanza from explicit randomness (test
 * vectors use this; callers want passphraseRecipient).
 */
export async function sealPassphraseStanza(
  passphrase: string,
  block: KdfBlock,
  nonce: Bytes,
  fileKey: Uint8Array,
  context: Uint8Array,
): Promise<Stanza> {
  checkFileKey(fileKey);
  const kek = await deriveKek(passphrase, block, ['encrypt']);
  const writer = new ByteWriter();
  writeKdfBlock(writer, block);
  const sealed = await gcmSeal(kek, nonce, fileKey, labelled(LABEL_PASSPHRASE, context));
  return { typeId: STANZA_PASSPHRASE, body: writer.raw(nonce).raw(sealed).bytes() };
}

/**
 * Returns a recipient that wraps under a key derived from `passphrase`
 * (default scrypt N=2^17, r=8, p=1). A file holds at most one passphrase
 * stanza. Throws KdfParamsTooHighError / MalformedError on out-of-bounds
 * params; its wrap rejects with RangeError for an empty passphrase or one
 * with a lone surrogate (no UTF-8 form).
 */
export function passphraseRecipient(passphrase: string, params: KdfParams = DEFAULT_KDF_PARAMS): Recipient {
  checkKdfParams(params);
  return {
    // A fresh KDF salt per envelope, even when one recipient object seals many files.
    wrap: (fileKey, context) => sealPassphraseStanza(passphrase, newKdfBlock(params), randomBytes(12), fileKey, context),
  };
}

/**
 * Returns an identity that opens passphrase stanzas. Every passphrase stanza
 * is "mine". The body is checked first (UnsupportedVersionError for an
 * unknown KDF id, MalformedError for weak parameters or a body that is not
 * exactly 96 / 97 bytes, KdfParamsTooHighError for over-cap parameters, all
 * before any work); then it throws WrongPassphraseError when the passphrase
 * is empty or has a lone surrogate (no envelope is ever made with one) or
 * does not open it.
 */
export function passphraseIdentity(passphrase: string): Identity {
  return {
    async unwrap(stanza, context) {
      if (stanza.typeId !== STANZA_PASSPHRASE) return null;
      const reader = new ByteReader(stanza.body);
      const block = readKdfBlock(reader);
      const nonce = reader.take(12).slice();
      const sealed = reader.take(FILE_KEY_LENGTH + 16).slice();
      reader.end();
      // No envelope is made with an empty passphrase or one without a UTF-8 form, so none opens with one.
      if (passphrase.length === 0 || !hasUtf8Form(passphrase)) throw new WrongPassphraseError();
      const kek = await deriveKek(passphrase, block, ['decrypt']);
      const fileKey = await gcmOpen(kek, nonce, sealed, labelled(LABEL_PASSPHRASE, context));
      if (fileKey === null) throw new WrongPassphraseError();
      return fileKey;
    },
  };
}

// --- link secret ----------------------------------------------------------

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** Length of a link secret's text form: 32 bytes in unpadded base64url. */
export const LINK_SECRET_TEXT_LENGTH = 43;

/**
 * Returns the text form of a 32-byte link secret: unpadded base64url
 * (RFC 4648 §5), exactly 43 characters (FORMAT.md §7.3). Throws RangeError on
 * a secret of another length.
 */
export function encodeLinkSecret(secret: Uint8Array): string {
  if (secret.length !== LINK_SECRET_LENGTH) throw new RangeError('A link secret is 32 bytes.');
  let out = '';
  for (let i = 0; i < secret.length; i += 3) {
    const n = ((secret[i] ?? 0) << 16) | ((secret[i + 1] ?? 0) << 8) | (secret[i + 2] ?? 0);
    const chars = Math.min(4, Math.ceil(((secret.length - i) * 8) / 6));
    for (let k = 0; k < chars; k++) out += BASE64URL[(n >>> (18 - 6 * k)) & 63];
  }
  return out;
}

/**
 * Returns the 32 bytes of a link secret's text form. Throws MalformedError
 * unless `text` is exactly 43 base64url characters, without padding, in the
 * canonical spelling (the last character's two unused bits are zero).
 */
export function decodeLinkSecret(text: string): Bytes {
  if (text.length !== LINK_SECRET_TEXT_LENGTH) throw new MalformedError('A link secret is 43 base64url characters.');
  const out = new Uint8Array(LINK_SECRET_LENGTH);
  let acc = 0;
  let bits = 0;
  let at = 0;
  for (const ch of text) {
    const v = BASE64URL.indexOf(ch);
    if (v < 0) throw new MalformedError('A link secret is 43 base64url characters.');
    acc = ((acc << 6) | v) & 0xffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[at++] = (acc >>> bits) & 0xff;
    }
  }
  // 43 × 6 = 258 bits: the 2 left over must be zero, so each secret has one spelling.
  if ((acc & ((1 << bits) - 1)) !== 0) throw new MalformedError('A link secret is not in canonical form.');
  return out;
}

/** Returns a fresh random 32-byte link secret (it belongs only in a URL #fragment). */
export function newLinkSecret(): Bytes {
  return randomBytes(LINK_SECRET_LENGTH);
}

async function linkKey(secret: Uint8Array, usages: KeyUsage[]): Promise<CryptoKey> {
  if (secret.length !== LINK_SECRET_LENGTH) throw new RangeError('A link secret is 32 bytes.');
  const ikm = await crypto.subtle.importKey('raw', toBytes(secret), 'HKDF', false, ['deriveKey']);
  return crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: labelled(LABEL_LINK_SECRET) },
    ikm,
    { name: 'AES-GCM', length: 256 },
    false,
    usages,
  );
}

/** Returns a link-secret stanza from explicit randomness (test vectors use this). */
export async function sealLinkStanza(
  secret: Uint8Array,
  nonce: Bytes,
  fileKey: Uint8Array,
  context: Uint8Array,
): Promise<Stanza> {
  checkFileKey(fileKey);
  const key = await linkKey(secret, ['encrypt']);
  const sealed = await gcmSeal(key, nonce, fileKey, labelled(LABEL_LINK_SECRET, context));
  return { typeId: STANZA_LINK_SECRET, body: new ByteWriter().raw(nonce).raw(sealed).bytes() };
}

/** Returns a recipient for a 32-byte link secret; throws RangeError on another length. */
export function linkSecretRecipient(secret: Uint8Array): Recipient {
  if (secret.length !== LINK_SECRET_LENGTH) throw new RangeError('A link secret is 32 bytes.');
  const copy = Uint8Array.from(secret);
  return { wrap: (fileKey, context) => sealLinkStanza(copy, randomBytes(12), fileKey, context) };
}

/**
 * Returns an identity for a 32-byte link secret. A link stanza that does not
 * open is another link's ("not mine", null); one of the wrong length throws
 * MalformedError. Throws RangeError on a secret of another length.
 */
export function linkSecretIdentity(secret: Uint8Array): Identity {
  if (secret.length !== LINK_SECRET_LENGTH) throw new RangeError('A link secret is 32 bytes.');
  const copy = Uint8Array.from(secret);
  return {
    async unwrap(stanza, context) {
      if (stanza.typeId !== STANZA_LINK_SECRET) return null;
      if (stanza.body.length !== 12 + FILE_KEY_LENGTH + 16) throw new MalformedError('A link envelope is damaged.');
      const body = toBytes(stanza.body);
      const key = await linkKey(copy, ['decrypt']);
      return gcmOpen(key, body.slice(0, 12), body.slice(12), labelled(LABEL_LINK_SECRET, context));
    },
  };
}
