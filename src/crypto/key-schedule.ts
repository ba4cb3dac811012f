/**
 * Sub-keys of a file key: HKDF-SHA-256 with the file's salt and one label per
 * purpose, each bound to the file's header (docs/FORMAT.md §4).
 */
import { toBytes, type Bytes } from './bytes.ts';
import { FILE_KEY_LENGTH, HEADER_LENGTH, SALT_LENGTH, labelled } from './format.ts';

/** HKDF label of the content (payload segments) key. */
export const LABEL_CONTENT = 'sealdrop/v2/content';
/** HKDF label of the metadata key. */
export const LABEL_METADATA = 'sealdrop/v2/metadata';
/** HKDF label of the header-MAC (key commitment) key. */
export const LABEL_HEADER_MAC = 'sealdrop/v2/header-mac';

/** HKDF label of the draft-MAC key (the local, resumable draft of a manifest). */
export const LABEL_DRAFT_MAC = 'sealdrop/v2/draft-mac';

/** The purposes a sub-key can be derived for. */
export type SubkeyLabel = typeof LABEL_CONTENT | typeof LABEL_METADATA | typeof LABEL_HEADER_MAC | typeof LABEL_DRAFT_MAC;

/**
 * Returns the 32 bytes HKDF-SHA-256(IKM = fileKey, salt, info = label ‖ 0x00 ‖ header).
 * Throws RangeError on wrong input lengths.
 */
export async function deriveSubkeyBytes(
  fileKey: Uint8Array,
  salt: Uint8Array,
  label: SubkeyLabel,
  header: Uint8Array,
): Promise<Bytes> {
  if (fileKey.length !== FILE_KEY_LENGTH) throw new RangeError('A file key is 32 bytes.');
  if (salt.length !== SALT_LENGTH) throw new RangeError('The salt must be 32 bytes.');
  if (header.length !== HEADER_LENGTH) throw new RangeError('A header is 57 bytes.');
  const ikm = await crypto.subtle.importKey('raw', toBytes(fileKey), 'HKDF', false, ['deriveBits']);
  const bits = await crypto.subtle.deriveBits(
    { name: 'HKDF', hash: 'SHA-256', salt: toBytes(salt), info: labelled(label, header) },
    ikm,
    256,
  );
  return new Uint8Array(bits);
}

/** Imports 32 raw bytes as a non-extractable AES-256-GCM key for encrypt and decrypt. */
export async function importAesGcmKey(raw: Uint8Array): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', toBytes(raw), { name: 'AES-GCM' }, false, ['encrypt', 'decrypt']);
}

/** Imports 32 raw bytes as a non-extractable HMAC-SHA-256 key for sign and verify. */
export async function importHmacKey(raw: Uint8Array): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', toBytes(raw), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
}
