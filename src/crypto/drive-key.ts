/**
 * The drive key (docs/FORMAT.md §7.5 and §10.5): 32 random bytes per
 * account, held on each device as a non-extractable HKDF key. The owner's
 * files carry a drive-key envelope (typeId 4) beside the RSA one, so the
 * owner opens a manifest with a cheap symmetric unwrap instead of an
 * RSA-OAEP private-key operation. Other devices get the key from its copy
 * in the key directory ("SDDK"): wrapped to the owner's own RSA-OAEP key and
 * signed by the owner's signing key, so a server cannot slip in a drive key
 * it knows.
 */
import { ByteReader, ByteWriter, concatBytes, randomBytes, toBytes, toHex, utf8, type Bytes } from './bytes.ts';
import { MalformedError, TamperedError, UnsupportedVersionError, WrongKeyError } from './errors.ts';
import { FILE_KEY_LENGTH, HEADER_LENGTH, SALT_LENGTH, labelled } from './format.ts';
import type { Identity, Recipient, Stanza } from './recipients.ts';
import { RSA_MODULUS_BITS, checkRsaPublicKey } from './recipients.ts';

/** Stanza type id of drive-key envelopes. */
export const STANZA_DRIVE_KEY = 4;
/** Label of a drive-key envelope's HKDF info and AES-GCM AAD. */
export const LABEL_DRIVE_KEY = 'sealdrop/v2/drive-key';
/** Label of the RSA-OAEP `label` parameter of a drive-key copy. */
export const LABEL_DRIVE_KEY_WRAP = 'sealdrop/v2/drive-key-wrap';
/** Label in front of the bytes a drive-key copy's signature covers. */
export const LABEL_DRIVE_KEY_COPY = 'sealdrop/v2/drive-key-copy';
/** Length of a drive key in bytes. */
export const DRIVE_KEY_LENGTH = 32;
/** Length of a drive-key envelope body: nonce(12) ‖ ciphertext‖tag(48). */
export const DRIVE_ENVELOPE_LENGTH = 12 + FILE_KEY_LENGTH + 16;
/** ASCII "SDDK": first bytes of a drive-key copy. */
export const DRIVE_KEY_COPY_MAGIC = utf8('SDDK');
/** Length of the recipient field of a copy: SHA-256 of the RSA SPKI it is wrapped to. */
const RECIPIENT_LENGTH = 32;
const SIGNATURE_LENGTH = 64;
const VERSION = 2;
const RSA_OAEP = { name: 'RSA-OAEP' } as const;
const ECDSA_SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;
/** Smallest and largest copy: a 3072-bit or a 4096-bit wrapped key. */
export const DRIVE_KEY_COPY_LENGTH = {
  min: 4 + 1 + RECIPIENT_LENGTH + 2 + RSA_MODULUS_BITS.min / 8 + SIGNATURE_LENGTH,
  max: 4 + 1 + RECIPIENT_LENGTH + 2 + RSA_MODULUS_BITS.max / 8 + SIGNATURE_LENGTH,
} as const;

/**
 * Imports 32 raw bytes as a drive key: a NON-extractable HKDF key (WebCrypto
 * never lets an HKDF key be extracted). Throws RangeError on another length.
 */
export async function importDriveKey(raw: Uint8Array): Promise<CryptoKey> {
  if (raw.length !== DRIVE_KEY_LENGTH) throw new RangeError('A drive key is 32 bytes.');
  return crypto.subtle.importKey('raw', toBytes(raw), 'HKDF', false, ['deriveKey', 'deriveBits']);
}

/** Returns true when `key` can be a drive key: a non-extractable HKDF key that may derive keys. */
export function isDriveKey(key: CryptoKey): boolean {
  return key.algorithm.name === 'HKDF' && key.type === 'secret' && !key.extractable && key.usages.includes('deriveKey');
}

function checkDriveKey(key: CryptoKey): void {
  if (!isDriveKey(key)) throw new TypeError('A drive key is a non-extractable HKDF key.');
}

/** The per-file AES-256-GCM key: HKDF(IKM = drive key, salt = header.salt, info = labelled(label, header)). */
async function envelopeKey(driveKey: CryptoKey, header: Uint8Array, usages: KeyUsage[]): Promise<CryptoKey> {
  if (header.length !== HEADER_LENGTH) throw new RangeError('A header is 57 bytes.');
  const salt = toBytes(header).slice(25, 25 + SALT_LENGTH);
  return crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt, info: labelled(LABEL_DRIVE_KEY, header) },
    driveKey,
    { name: 'AES-GCM', length: 256 },
    false,
    usages,
  );
}

/** Returns a drive-key stanza from explicit randomness (test vectors use this; callers want driveKeyRecipient). */
export async function sealDriveKeyStanza(driveKey: CryptoKey, nonce: Uint8Array, fileKey: Uint8Array, context: Uint8Array): Promise<Stanza> {
  checkDriveKey(driveKey);
  if (fileKey.length !== FILE_KEY_LENGTH) throw new RangeError('A file key is 32 bytes.');
  if (nonce.length !== 12) throw new RangeError('A nonce is 12 bytes.');
  const key = await envelopeKey(driveKey, context, ['encrypt']);
  const sealed = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv: toBytes(nonce), additionalData: labelled(LABEL_DRIVE_KEY, context) },
    key,
    toBytes(fileKey),
  );
  return { typeId: STANZA_DRIVE_KEY, body: concatBytes(nonce, new Uint8Array(sealed)) };
}

/** Returns a recipient that wraps file keys under the owner's drive key. Throws TypeError unless it is a drive key. */
export function driveKeyRecipient(driveKey: CryptoKey): Recipient {
  checkDriveKey(driveKey);
  return { wrap: (fileKey, context) => sealDriveKeyStanza(driveKey, randomBytes(12), fileKey, context), stanzaLength: DRIVE_ENVELOPE_LENGTH };
}

/**
 * Returns an identity for the owner's drive key. A drive-key envelope that
 * does not open is another account's ("not mine", null); one whose body is
 * not exactly 60 bytes throws MalformedError ("mine but broken"). Throws
 * TypeError unless `driveKey` is a drive key.
 */
export function driveKeyIdentity(driveKey: CryptoKey): Identity {
  checkDriveKey(driveKey);
  return {
    async unwrap(stanza, context) {
      if (stanza.typeId !== STANZA_DRIVE_KEY) return null;
      if (stanza.body.length !== DRIVE_ENVELOPE_LENGTH) throw new MalformedError('A drive-key envelope is damaged.');
      const body = toBytes(stanza.body);
      const key = await envelopeKey(driveKey, context, ['decrypt']);
      try {
        return new Uint8Array(
          await crypto.subtle.decrypt({ name: 'AES-GCM', iv: body.slice(0, 12), additionalData: labelled(LABEL_DRIVE_KEY, context) }, key, body.slice(12)),
        );
      } catch {
        return null;
      }
    },
  };
}

// --- the copy in the key directory (SDDK) ------------------------------------

/** The owner's keys a copy is made with. */
export interface DriveKeyCopyWriter {
  encrypt: { publicKey: CryptoKey };
  sign: { privateKey: CryptoKey; publicKey: CryptoKey };
}

/** The owner's keys a copy is opened with. */
export interface DriveKeyCopyReader {
  encrypt: { privateKey: CryptoKey; publicKey: CryptoKey };
  sign: { publicKey: CryptoKey };
}

async function rsaRecipientHash(publicKey: CryptoKey): Promise<Bytes> {
  const spki = await crypto.subtle.exportKey('spki', publicKey);
  return new Uint8Array(await crypto.subtle.digest('SHA-256', spki));
}

/**
 * Returns the copy of `rawDriveKey` for the key directory (FORMAT.md §10.5):
 * wrapped with RSA-OAEP to the owner's own encryption key and signed by the
 * owner's signing key. Throws RangeError for a key of the wrong length, an
 * RSA key outside FORMAT.md §2, or a signing pair that does not match.
 */
export async function assembleDriveKeyCopy(rawDriveKey: Uint8Array, owner: DriveKeyCopyWriter): Promise<Bytes> {
  if (rawDriveKey.length !== DRIVE_KEY_LENGTH) throw new RangeError('A drive key is 32 bytes.');
  checkRsaPublicKey(owner.encrypt.publicKey, () => new RangeError('A drive key is wrapped to a 3072–4096-bit RSA key with exponent 65537.'));
  const wrapped = new Uint8Array(
    await crypto.subtle.encrypt({ ...RSA_OAEP, label: labelled(LABEL_DRIVE_KEY_WRAP) }, owner.encrypt.publicKey, toBytes(rawDriveKey)),
  );
  const body = new ByteWriter().raw(DRIVE_KEY_COPY_MAGIC).u8(VERSION).raw(await rsaRecipientHash(owner.encrypt.publicKey)).lp16(wrapped).bytes();
  const message = labelled(LABEL_DRIVE_KEY_COPY, body);
  const signature = new Uint8Array(await crypto.subtle.sign(ECDSA_SIGN, owner.sign.privateKey, message));
  if (!(await crypto.subtle.verify(ECDSA_SIGN, owner.sign.publicKey, signature, message))) {
    throw new RangeError('The signing key pair does not match.');
  }
  return concatBytes(body, signature);
}

/**
 * Makes the account's drive key: 32 fresh random bytes, their copy for the
 * key directory, and the key itself as a non-extractable HKDF key (the raw
 * bytes are wiped before this returns). Throws like assembleDriveKeyCopy.
 */
export async function newDriveKey(owner: DriveKeyCopyWriter): Promise<{ driveKey: CryptoKey; copy: Bytes }> {
  const raw = randomBytes(DRIVE_KEY_LENGTH);
  try {
    const copy = await assembleDriveKeyCopy(raw, owner);
    return { driveKey: await importDriveKey(raw), copy };
  } finally {
    raw.fill(0);
  }
}

/** A drive-key copy split into its fields, not yet authenticated. */
export interface ParsedDriveKeyCopy {
  /** SHA-256 of the SPKI of the RSA key the drive key is wrapped to. */
  recipient: Bytes;
  wrapped: Bytes;
  /** Everything the signature covers (before the label). */
  signed: Bytes;
  signature: Bytes;
}

/**
 * Splits a drive-key copy into its fields (FORMAT.md §10.5). Throws
 * MalformedError when it does not parse (wrong magic, a wrapped key outside
 * 384–512 bytes, a short or long input), UnsupportedVersionError for a
 * version other than 2.
 */
export function parseDriveKeyCopy(bytes: Uint8Array): ParsedDriveKeyCopy {
  const r = new ByteReader(bytes);
  const magic = r.take(DRIVE_KEY_COPY_MAGIC.length);
  if (!magic.every((b, i) => b === DRIVE_KEY_COPY_MAGIC[i])) throw new MalformedError('This is not a Sealdrop drive key.');
  if (r.u8() !== VERSION) throw new UnsupportedVersionError();
  const recipient = r.take(RECIPIENT_LENGTH).slice();
  const wrapped = r.lp16().slice();
  if (wrapped.length < RSA_MODULUS_BITS.min / 8 || wrapped.length > RSA_MODULUS_BITS.max / 8) {
    throw new MalformedError('A drive key copy holds a wrapped key of an impossible length.');
  }
  const signedLength = r.offset;
  const signature = r.take(SIGNATURE_LENGTH).slice();
  r.end();
  return { recipient, wrapped, signed: toBytes(bytes).slice(0, signedLength), signature };
}

/**
 * Opens the drive-key copy from the key directory with the owner's own keys,
 * in this order (FORMAT.md §10.5): parse (MalformedError /
 * UnsupportedVersionError); the signature must verify under the owner's OWN
 * signing key (else TamperedError: a copy the server substituted, or
 * damaged); the recipient must be the owner's own RSA key (else
 * WrongKeyError: wrapped to another key); RSA-OAEP must open it to exactly
 * 32 bytes (else MalformedError). Returns the drive key as a
 * non-extractable HKDF key; the raw bytes are wiped.
 */
export async function openDriveKeyCopy(bytes: Uint8Array, owner: DriveKeyCopyReader): Promise<CryptoKey> {
  const copy = parseDriveKeyCopy(bytes);
  const message = labelled(LABEL_DRIVE_KEY_COPY, copy.signed);
  if (!(await crypto.subtle.verify(ECDSA_SIGN, owner.sign.publicKey, copy.signature, message))) {
    throw new TamperedError('This drive key is not signed by your key.');
  }
  if (toHex(copy.recipient) !== toHex(await rsaRecipientHash(owner.encrypt.publicKey))) {
    throw new WrongKeyError('This drive key is wrapped to another key of yours.');
  }
  const { algorithm } = owner.encrypt.privateKey;
  if ('modulusLength' in algorithm && algorithm.modulusLength !== copy.wrapped.length * 8) {
    throw new MalformedError('The drive key copy is damaged.');
  }
  let raw: Bytes;
  try {
    raw = new Uint8Array(
      await crypto.subtle.decrypt({ ...RSA_OAEP, label: labelled(LABEL_DRIVE_KEY_WRAP) }, owner.encrypt.privateKey, copy.wrapped),
    );
  } catch {
    throw new MalformedError('The drive key copy is damaged.');
  }
  try {
    if (raw.length !== DRIVE_KEY_LENGTH) throw new MalformedError('The drive key copy holds a key of the wrong size.');
    return await importDriveKey(raw);
  } finally {
    raw.fill(0);
  }
}
