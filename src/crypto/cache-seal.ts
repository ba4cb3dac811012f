/**
 * Sealing of records the app keeps on the device (the decrypted listing
 * cache, issue 16): AES-256-GCM under a key that never leaves WebCrypto
 * (generated non-extractable, stored as a CryptoKey in IndexedDB), a fresh
 * random 96-bit nonce per record, and an AAD that names the user and the
 * record so a record cannot be moved to another slot or account unnoticed.
 *
 * Layout of a sealed record: "SDCR" ‖ 0x01 ‖ nonce (12) ‖ ciphertext+tag.
 */
import { concatBytes, randomBytes, toBytes, utf8, type Bytes } from './bytes.ts';
import { MalformedError, TamperedError, UnsupportedVersionError } from './errors.ts';

const MAGIC = utf8('SDCR');
const VERSION = 1;
const NONCE_LENGTH = 12;
const HEADER_LENGTH = MAGIC.length + 1 + NONCE_LENGTH;
/** HKDF-style label, fixed: the AAD says what the bytes are for. */
const AAD_LABEL = 'sealdrop/v1/device-cache';

/** Where a record lives: whose it is and which record (e.g. a file id). */
export interface CacheRecordName {
  userId: string;
  record: string;
}

/** A fresh AES-256-GCM key for the device cache: non-extractable, encrypt/decrypt only. */
export function newCacheKey(): Promise<CryptoKey> {
  return crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
}

function aad(name: CacheRecordName): Bytes {
  // Length-prefixed parts: no two (userId, record) pairs give the same bytes.
  const user = utf8(name.userId);
  const record = utf8(name.record);
  return concatBytes(utf8(AAD_LABEL), new Uint8Array([0]), u32(user.length), user, u32(record.length), record);
}

function u32(n: number): Bytes {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n);
  return out;
}

/** Seals `plain` as the record `name`. Rejects only if WebCrypto does (e.g. a key without "encrypt"). */
export async function sealCacheRecord(key: CryptoKey, name: CacheRecordName, plain: Uint8Array): Promise<Bytes> {
  const nonce = randomBytes(NONCE_LENGTH);
  const sealed = await crypto.subtle.encrypt({ name: 'AES-GCM', iv: nonce, additionalData: aad(name) }, key, toBytes(plain));
  return concatBytes(MAGIC, new Uint8Array([VERSION]), nonce, new Uint8Array(sealed));
}

/**
 * Opens a record sealed by {@link sealCacheRecord} under the same key and
 * name. Throws MalformedError (not a cache record), UnsupportedVersionError,
 * or TamperedError (wrong key, another name, or changed bytes).
 */
export async function openCacheRecord(key: CryptoKey, name: CacheRecordName, sealed: Uint8Array): Promise<Bytes> {
  if (sealed.length < HEADER_LENGTH + 16 || MAGIC.some((b, i) => sealed[i] !== b)) throw new MalformedError('This is not a sealed cache record.');
  if (sealed[MAGIC.length] !== VERSION) throw new UnsupportedVersionError('This cache record was written by another version of Sealdrop.');
  const nonce = toBytes(sealed.slice(MAGIC.length + 1, HEADER_LENGTH));
  try {
    const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: nonce, additionalData: aad(name) }, key, toBytes(sealed.slice(HEADER_LENGTH)));
    return new Uint8Array(plain);
  } catch {
    throw new TamperedError('A cached record failed its integrity check.');
  }
}
