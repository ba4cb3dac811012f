/**
 * Passphrase key derivation: scrypt (WebAssembly, hash-wasm) by default,
 * PBKDF2-SHA-256 as the WebCrypto-only option. Parameters travel with the
 * data and are checked against caps before any work (docs/FORMAT.md §6).
 */
import { ByteReader, ByteWriter, randomBytes, toBytes, utf8, type Bytes } from './bytes.ts';
import { KdfParamsTooHighError, MalformedError, UnsupportedVersionError } from './errors.ts';

/** Passphrase KDF parameters as stored in envelopes and recovery kits. */
export type KdfParams =
  | { kdf: 'scrypt'; logN: number; r: number; p: number }
  | { kdf: 'pbkdf2-sha256'; iterations: number };

/** Sound defaults: scrypt N=2^17, r=8, p=1 (128 MiB, ~0.4 s in Chromium here). */
export const DEFAULT_KDF_PARAMS: KdfParams = { kdf: 'scrypt', logN: 17, r: 8, p: 1 };
/** The WebCrypto-only choice: PBKDF2-SHA-256 with OWASP's 600,000 iterations. */
export const DEFAULT_PBKDF2_PARAMS: KdfParams = { kdf: 'pbkdf2-sha256', iterations: 600_000 };

/** Bounds every reader enforces before deriving, so a hostile file cannot freeze or exhaust the browser. */
export const KDF_LIMITS = {
  scryptMinLogN: 10,
  scryptMaxLogN: 20,
  scryptMaxR: 16,
  scryptMaxP: 4,
  /** 128 · N · r: the memory scrypt needs. */
  scryptMaxMemoryBytes: 256 * 1024 * 1024,
  /** 128 · N · r · p: proportional to scrypt's running time. */
  scryptMaxWorkBytes: 512 * 1024 * 1024,
  pbkdf2MinIterations: 600_000,
  pbkdf2MaxIterations: 5_000_000,
} as const;

/** KDF id byte of scrypt. */
export const KDF_ID_SCRYPT = 1;
/** KDF id byte of PBKDF2-SHA-256. */
export const KDF_ID_PBKDF2 = 2;
/** Length of a KDF salt in bytes. */
export const KDF_SALT_LENGTH = 32;

/**
 * Throws KdfParamsTooHighError when `params` exceed KDF_LIMITS, MalformedError
 * when they are below the floors or not integers.
 */
export function checkKdfParams(params: KdfParams): void {
  const L = KDF_LIMITS;
  if (params.kdf === 'scrypt') {
    const { logN, r, p } = params;
    if (![logN, r, p].every((v) => Number.isInteger(v) && v >= 1) || logN < L.scryptMinLogN) {
      throw new MalformedError('The passphrase-hashing parameters are too weak or invalid.');
    }
    if (logN > L.scryptMaxLogN || r > L.scryptMaxR || p > L.scryptMaxP) throw new KdfParamsTooHighError();
    const memory = 128 * 2 ** logN * r;
    if (memory > L.scryptMaxMemoryBytes || memory * p > L.scryptMaxWorkBytes) throw new KdfParamsTooHighError();
    return;
  }
  const { iterations } = params;
  if (!Number.isInteger(iterations) || iterations < L.pbkdf2MinIterations) {
    throw new MalformedError('The passphrase-hashing parameters are too weak or invalid.');
  }
  if (iterations > L.pbkdf2MaxIterations) throw new KdfParamsTooHighError();
}

/** A KDF block: the parameters plus the random salt they were used with. */
export interface KdfBlock {
  params: KdfParams;
  salt: Bytes;
}

/** Returns a KDF block with a fresh random salt; throws like checkKdfParams. */
export function newKdfBlock(params: KdfParams): KdfBlock {
  checkKdfParams(params);
  return { params, salt: randomBytes(KDF_SALT_LENGTH) };
}

/** Appends the encoding of `block` (FORMAT.md §6.1) to `writer`. */
export function writeKdfBlock(writer: ByteWriter, block: KdfBlock): void {
  if (block.salt.length !== KDF_SALT_LENGTH) throw new RangeError('A KDF salt is 32 bytes.');
  if (block.params.kdf === 'scrypt') {
    writer.u8(KDF_ID_SCRYPT).raw(block.salt).u8(block.params.logN).u8(block.params.r).u8(block.params.p);
  } else {
    writer.u8(KDF_ID_PBKDF2).raw(block.salt).u32(block.params.iterations);
  }
}

/**
 * Reads a KDF block. Throws UnsupportedVersionError for an unknown KDF id,
 * MalformedError or KdfParamsTooHighError for parameters out of bounds.
 */
export function readKdfBlock(reader: ByteReader): KdfBlock {
  const id = reader.u8();
  if (id !== KDF_ID_SCRYPT && id !== KDF_ID_PBKDF2) throw new UnsupportedVersionError();
  const salt = reader.take(KDF_SALT_LENGTH).slice();
  const params: KdfParams =
    id === KDF_ID_SCRYPT
      ? { kdf: 'scrypt', logN: reader.u8(), r: reader.u8(), p: reader.u8() }
      : { kdf: 'pbkdf2-sha256', iterations: reader.u32() };
  checkKdfParams(params);
  return { params, salt };
}

/** Returns whether `text` has a UTF-8 form (no lone surrogate; TextEncoder would silently write U+FFFD). */
export function hasUtf8Form(text: string): boolean {
  return !/[\uD800-\uDFFF]/u.test(text);
}

/** Returns the passphrase as the KDF sees it: UTF-8 of its Unicode NFC form. */
export function passphraseBytes(passphrase: string): Bytes {
  if (passphrase.length === 0) throw new RangeError('The passphrase is empty.');
  if (!hasUtf8Form(passphrase)) throw new RangeError('The passphrase is not valid Unicode (it has a lone surrogate).');
  return utf8(passphrase.normalize('NFC'));
}

/**
 * Returns the 32 KDF output bytes for `passphrase` (used by test vectors;
 * prefer deriveKek). Throws like checkKdfParams before doing any work.
 */
export async function deriveKdfBytes(passphrase: string, block: KdfBlock): Promise<Bytes> {
  checkKdfParams(block.params);
  const password = passphraseBytes(passphrase);
  if (block.params.kdf === 'scrypt') {
    // Loaded on demand: the WebAssembly module is not part of the app shell.
    const { scrypt } = await import('hash-wasm');
    const out = await scrypt({
      password,
      salt: block.salt,
      costFactor: 2 ** block.params.logN,
      blockSize: block.params.r,
      parallelism: block.params.p,
      hashLength: 32,
      outputType: 'binary',
    });
    return toBytes(out);
  }
  const base = await crypto.subtle.importKey('raw', password, 'PBKDF2', false, ['deriveBits']);
  const bits = await crypto.subtle.deriveBits(
    { name: 'PBKDF2', hash: 'SHA-256', salt: block.salt, iterations: block.params.iterations },
    base,
    256,
  );
  return new Uint8Array(bits);
}

/**
 * Returns a non-extractable AES-256-GCM key-encryption key derived from
 * `passphrase`, allowed `usages`. Throws like checkKdfParams before any work.
 */
export async function deriveKek(passphrase: string, block: KdfBlock, usages: KeyUsage[]): Promise<CryptoKey> {
  const raw = await deriveKdfBytes(passphrase, block);
  return crypto.subtle.importKey('raw', raw, { name: 'AES-GCM' }, false, usages);
}
