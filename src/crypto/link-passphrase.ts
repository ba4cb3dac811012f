/**
 * Link secret with passphrase (typeId 5, docs/FORMAT.md §7.6): ONE envelope
 * whose wrapping key needs both the 32-byte link secret (from the URL
 * fragment) and the passphrase (scrypt / PBKDF2, §6). Neither alone opens it:
 *
 *   kdfOut  = KDF(passphrase, block)                                  (§6.1)
 *   wrapKey = HKDF-SHA-256(IKM = secret ‖ kdfOut, salt = empty,
 *                          info = labelled("sealdrop/v2/link-passphrase"))
 *   check   = HKDF-SHA-256(IKM = secret, salt = empty,
 *                          info = labelled("sealdrop/v2/link-passphrase/check", header)), 16 bytes
 *   body    = check(16) ‖ KDF block ‖ nonce(12) ‖ AES-GCM(wrapKey, nonce, fileKey,
 *                          AAD = labelled("sealdrop/v2/link-passphrase", header))
 *
 * The check lets a reader tell "another link's envelope" (null, before any
 * KDF work) from "my link, wrong passphrase" (WrongPassphraseError).
 */
import { ByteReader, ByteWriter, concatBytes, randomBytes, toBytes, type Bytes } from './bytes.ts';
import { WrongPassphraseError } from './errors.ts';
import { FILE_KEY_LENGTH, labelled } from './format.ts';
import {
  DEFAULT_KDF_PARAMS,
  checkKdfParams,
  deriveKdfBytes,
  hasUtf8Form,
  newKdfBlock,
  passphraseBytes,
  readKdfBlock,
  writeKdfBlock,
  type KdfBlock,
  type KdfParams,
} from './kdf.ts';
import { LINK_SECRET_LENGTH, type Identity, type Recipient, type Stanza } from './recipients.ts';

/** Stanza type id of link-secret-with-passphrase envelopes. */
export const STANZA_LINK_PASSPHRASE = 5;
/** Label of the wrapping key's HKDF info and of the AES-GCM AAD. */
export const LABEL_LINK_PASSPHRASE = 'sealdrop/v2/link-passphrase';
/** Label of the 16-byte link check's HKDF info. */
export const LABEL_LINK_PASSPHRASE_CHECK = 'sealdrop/v2/link-passphrase/check';
/** Length of the link check at the start of the body. */
export const LINK_CHECK_LENGTH = 16;
const NONCE_LENGTH = 12;
const SEALED_LENGTH = FILE_KEY_LENGTH + 16;

function checkSecret(secret: Uint8Array): void {
  if (secret.length !== LINK_SECRET_LENGTH) throw new RangeError('A link secret is 32 bytes.');
}

async function hkdf(ikm: Uint8Array, info: Uint8Array, bits: number): Promise<Bytes> {
  const key = await crypto.subtle.importKey('raw', toBytes(ikm), 'HKDF', false, ['deriveBits']);
  return new Uint8Array(
    await crypto.subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: toBytes(info) }, key, bits),
  );
}

/** Returns the 16-byte link check of `secret` for the file whose header is `context`. */
export async function linkCheck(secret: Uint8Array, context: Uint8Array): Promise<Bytes> {
  checkSecret(secret);
  return hkdf(secret, labelled(LABEL_LINK_PASSPHRASE_CHECK, context), LINK_CHECK_LENGTH * 8);
}

/** Returns the raw 32-byte wrapping key from the secret and the KDF output (test vectors use this). */
export async function linkPassphraseWrapKey(secret: Uint8Array, kdfOutput: Uint8Array): Promise<Bytes> {
  checkSecret(secret);
  const ikm = concatBytes(secret, kdfOutput);
  try {
    return await hkdf(ikm, labelled(LABEL_LINK_PASSPHRASE), 256);
  } finally {
    ikm.fill(0);
  }
}

async function wrapKey(secret: Uint8Array, passphrase: string, block: KdfBlock, usages: KeyUsage[]): Promise<CryptoKey> {
  const kdfOut = await deriveKdfBytes(passphrase, block);
  const raw = await linkPassphraseWrapKey(secret, kdfOut);
  kdfOut.fill(0);
  try {
    return await crypto.subtle.importKey('raw', raw, { name: 'AES-GCM' }, false, usages);
  } finally {
    raw.fill(0);
  }
}

/**
 * Returns a typeId-5 stanza from explicit randomness (test vectors use this;
 * callers want linkPassphraseRecipient). Throws RangeError for a secret that
 * is not 32 bytes, a file key that is not 32 bytes, an empty passphrase or
 * one with a lone surrogate; KdfParamsTooHighError / MalformedError on
 * out-of-bounds parameters.
 */
export async function sealLinkPassphraseStanza(
  secret: Uint8Array,
  passphrase: string,
  block: KdfBlock,
  nonce: Uint8Array,
  fileKey: Uint8Array,
  context: Uint8Array,
): Promise<Stanza> {
  checkSecret(secret);
  if (fileKey.length !== FILE_KEY_LENGTH) throw new RangeError('A file key is 32 bytes.');
  if (nonce.length !== NONCE_LENGTH) throw new RangeError('A nonce is 12 bytes.');
  passphraseBytes(passphrase); // RangeError for empty / lone surrogate, before any work.
  const key = await wrapKey(secret, passphrase, block, ['encrypt']);
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv: toBytes(nonce), additionalData: labelled(LABEL_LINK_PASSPHRASE, context) },
      key,
      toBytes(fileKey),
    ),
  );
  const w = new ByteWriter().raw(await linkCheck(secret, context));
  writeKdfBlock(w, block);
  return { typeId: STANZA_LINK_PASSPHRASE, body: w.raw(nonce).raw(sealed).bytes() };
}

/**
 * Returns a recipient for a link secret protected by a passphrase (default
 * scrypt N=2^17, r=8, p=1): one envelope that needs both. Throws RangeError
 * for a secret that is not 32 bytes; KdfParamsTooHighError / MalformedError
 * on out-of-bounds parameters; its wrap rejects with RangeError for an empty
 * passphrase or one with a lone surrogate.
 */
export function linkPassphraseRecipient(secret: Uint8Array, passphrase: string, params: KdfParams = DEFAULT_KDF_PARAMS): Recipient {
  checkSecret(secret);
  checkKdfParams(params);
  const copy = Uint8Array.from(secret);
  return {
    wrap: (fileKey, context) => sealLinkPassphraseStanza(copy, passphrase, newKdfBlock(params), randomBytes(NONCE_LENGTH), fileKey, context),
  };
}

/**
 * Returns an identity for a link secret with its passphrase. For a typeId-5
 * stanza it reads the body first (MalformedError when it is not exactly
 * 16 + KDF block + 12 + 48 bytes or has weak parameters,
 * UnsupportedVersionError for an unknown KDF id, KdfParamsTooHighError over
 * the caps); returns null when the link check is another secret's; throws
 * WrongPassphraseError when the passphrase is empty, has a lone surrogate or
 * does not open it. Other stanzas: null. Throws RangeError on a secret that
 * is not 32 bytes.
 */
export function linkPassphraseIdentity(secret: Uint8Array, passphrase: string): Identity {
  checkSecret(secret);
  const copy = Uint8Array.from(secret);
  return {
    async unwrap(stanza, context) {
      if (stanza.typeId !== STANZA_LINK_PASSPHRASE) return null;
      const reader = new ByteReader(stanza.body);
      const check = reader.take(LINK_CHECK_LENGTH).slice();
      const block = readKdfBlock(reader);
      const nonce = reader.take(NONCE_LENGTH).slice();
      const sealed = reader.take(SEALED_LENGTH).slice();
      reader.end();
      const mine = await linkCheck(copy, context);
      if (!mine.every((b, i) => b === check[i])) return null;
      if (passphrase.length === 0 || !hasUtf8Form(passphrase)) throw new WrongPassphraseError();
      const key = await wrapKey(copy, passphrase, block, ['decrypt']);
      try {
        return new Uint8Array(
          await crypto.subtle.decrypt({ name: 'AES-GCM', iv: nonce, additionalData: labelled(LABEL_LINK_PASSPHRASE, context) }, key, sealed),
        );
      } catch {
        throw new WrongPassphraseError();
      }
    },
  };
}

/** Body length of a typeId-5 stanza: 112 with scrypt, 113 with PBKDF2. */
export function linkPassphraseBodyLength(params: KdfParams): number {
  return LINK_CHECK_LENGTH + (params.kdf === 'scrypt' ? 36 : 37) + NONCE_LENGTH + SEALED_LENGTH;
}
