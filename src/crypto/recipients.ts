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
export const LABEL_RSA_OAEP = 'sealdrop/v1/rsa-oaep';
/** Label of the passphrase envelope's AES-GCM AAD. */
export const LABEL_PASSPHRASE = 'sealdrop/v1/passphrase';
/** Label of the link-secret HKDF info and AES-GCM AAD. */
export const LABEL_LINK_SECRET = 'sealdrop/v1/link-secret';
/** Length of a link secret in bytes. */
export const LINK_SECRET_LENGTH = 32;

/** Someone who can read a file: wraps a file key into a stanza for them. */
export interface Recipient {
  /** Returns a stanza wrapping `fileKey`, bound to `context` (the header). */
  wrap(fileKey: Uint8Array, context: Uint8Array): Promise<Stanza>;
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

/** Returns a recipient that wraps to an RSA-OAEP (SHA-256) public key. */
export function rsaRecipient(publicKey: CryptoKey): Recipient {
  return {
    async wrap(fileKey, context) {
      checkFileKey(fileKey);
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
 * stanza. Throws KdfParamsTooHighError / MalformedError on out-of-bounds params.
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
 * is "mine": it throws WrongPassphraseError when the passphrase does not open
 * it, KdfParamsTooHighError (before any work) for over-cap parameters,
 * MalformedError / UnsupportedVersionError for a broken body.
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
      const kek = await deriveKek(passphrase, block, ['decrypt']);
      const fileKey = await gcmOpen(kek, nonce, sealed, labelled(LABEL_PASSPHRASE, context));
      if (fileKey === null) throw new WrongPassphraseError();
      return fileKey;
    },
  };
}

// --- link secret ----------------------------------------------------------

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
