/**
 * The hybrid post-quantum envelope (docs/FORMAT.md §7.7, typeId 6): the file
 * key is wrapped under a key derived from BOTH an RSA-OAEP secret and an
 * ML-KEM-768 shared secret, bound to the file's header, both of the
 * recipient's public keys and both ciphertexts. Whoever breaks only one of
 * RSA and ML-KEM learns nothing about the file key.
 *
 * Same contract as src/crypto/recipients.ts: `unwrap` returns null for "not
 * mine" and throws a typed error for "mine but broken". A reader whose
 * platform has no ML-KEM-768 gets PostQuantumUnsupportedError once the RSA
 * half shows the envelope is theirs.
 *
 * NOT wired into the app yet: see POST_QUANTUM_SHARING_ENABLED.
 */
import { concatBytes, randomBytes, toBytes, type Bytes } from './bytes.ts';
import { MalformedError, PostQuantumUnsupportedError, TamperedError } from './errors.ts';
import { FILE_KEY_LENGTH, HEADER_LENGTH, labelled } from './format.ts';
import { RSA_MODULUS_BITS, checkRsaPublicKey, type Identity, type Recipient, type Stanza } from './recipients.ts';

/**
 * Feature flag: false until post-quantum sharing works end to end (identity
 * keys with an ML-KEM key, the directory, sharing, the UI). While false no
 * app code may create hybrid envelopes or tell a user a file is
 * post-quantum protected. The crypto core below is complete and tested.
 */
export const POST_QUANTUM_SHARING_ENABLED = false as const;

/** Stanza type id of hybrid ML-KEM-768 + RSA-OAEP envelopes. */
export const STANZA_HYBRID_MLKEM768_RSA = 6;
/** HKDF info label and AES-GCM AAD label of the hybrid envelope. */
export const LABEL_HYBRID = 'sealdrop/v2/hybrid-mlkem768-rsa';
/** RSA-OAEP label of the hybrid envelope's RSA half (never the label of a typeId-1 envelope). */
export const LABEL_HYBRID_RSA_OAEP = 'sealdrop/v2/hybrid-mlkem768-rsa/rsa-oaep';
/** ML-KEM-768 encapsulation (public) key length, FIPS 203. */
export const MLKEM768_PUBLIC_KEY_LENGTH = 1184;
/** ML-KEM-768 ciphertext length, FIPS 203. */
export const MLKEM768_CIPHERTEXT_LENGTH = 1088;
/** Length of each of the two secrets (RSA secret, ML-KEM shared secret). */
export const HYBRID_SECRET_LENGTH = 32;
/** AES-256-GCM ciphertext ‖ tag of the 32-byte file key. */
const SEALED_KEY_LENGTH = FILE_KEY_LENGTH + 16;
/** AES-GCM nonce length. The wrap key is used once, but the nonce is random anyway (no fixed IVs, as every other envelope). */
const NONCE_LENGTH = 12;

const MLKEM = { name: 'ML-KEM-768' } as const;
const RSA_OAEP = 'RSA-OAEP';

/** The ML-KEM part of WebCrypto ("Modern Algorithms in WebCrypto"), absent from TypeScript's DOM types. */
interface KemSubtle {
  encapsulateBits?: (algorithm: { name: string }, key: CryptoKey) => Promise<{ sharedKey: ArrayBuffer; ciphertext: ArrayBuffer }>;
  decapsulateBits?: (algorithm: { name: string }, key: CryptoKey, ciphertext: BufferSource) => Promise<ArrayBuffer>;
}
const kem = (): KemSubtle => crypto.subtle as unknown as KemSubtle;
const usages = (...u: string[]): KeyUsage[] => u as KeyUsage[];

/** The length of a hybrid envelope body for an RSA modulus of `rsaBytes` bytes. */
export function hybridBodyLength(rsaBytes: number): number {
  return MLKEM768_CIPHERTEXT_LENGTH + rsaBytes + NONCE_LENGTH + SEALED_KEY_LENGTH;
}

/**
 * Returns whether this platform's WebCrypto can generate an ML-KEM-768 key
 * and encapsulate and decapsulate with it (there is no
 * `crypto.subtle.supports`: this tries the operations). Never throws.
 */
export async function postQuantumSupported(): Promise<boolean> {
  try {
    const s = kem();
    if (typeof s.encapsulateBits !== 'function' || typeof s.decapsulateBits !== 'function') return false;
    const pair = (await crypto.subtle.generateKey(MLKEM, false, usages('encapsulateBits', 'decapsulateBits'))) as CryptoKeyPair;
    const { sharedKey, ciphertext } = await s.encapsulateBits(MLKEM, pair.publicKey);
    const again = new Uint8Array(await s.decapsulateBits(MLKEM, pair.privateKey, ciphertext));
    const first = new Uint8Array(sharedKey);
    return again.length === HYBRID_SECRET_LENGTH && again.every((b, i) => b === first[i]);
  } catch {
    return false;
  }
}

/**
 * Generates an ML-KEM-768 key pair (private key non-extractable unless
 * `extractable`). Throws PostQuantumUnsupportedError when the platform has
 * no ML-KEM-768.
 */
export async function generateMlKemKeyPair(extractable = false): Promise<CryptoKeyPair> {
  try {
    return (await crypto.subtle.generateKey(MLKEM, extractable, usages('encapsulateBits', 'decapsulateBits'))) as CryptoKeyPair;
  } catch {
    throw new PostQuantumUnsupportedError();
  }
}

/** Returns the 1,184-byte raw encapsulation key of an ML-KEM-768 public key. */
export async function exportMlKemPublicKey(publicKey: CryptoKey): Promise<Bytes> {
  return new Uint8Array(await crypto.subtle.exportKey('raw-public' as KeyFormat, publicKey) as ArrayBuffer);
}

/**
 * Imports a raw ML-KEM-768 encapsulation key. Throws RangeError unless it
 * is 1,184 bytes, MalformedError when the platform refuses it (FIPS 203's
 * modulus check), PostQuantumUnsupportedError without ML-KEM support.
 */
export async function importMlKemPublicKey(raw: Uint8Array): Promise<CryptoKey> {
  if (raw.length !== MLKEM768_PUBLIC_KEY_LENGTH) throw new RangeError('An ML-KEM-768 public key is 1,184 bytes.');
  // A platform without the KEM methods has no ML-KEM (Node 20, Firefox today); a cheap test, unlike postQuantumSupported.
  if (typeof kem().encapsulateBits !== 'function') throw new PostQuantumUnsupportedError();
  try {
    return await crypto.subtle.importKey('raw-public' as 'raw', toBytes(raw), MLKEM, true, usages('encapsulateBits'));
  } catch (error) {
    if (error instanceof Error && error.name === 'NotSupportedError') throw new PostQuantumUnsupportedError();
    throw new MalformedError('A post-quantum public key is not a valid ML-KEM-768 key.');
  }
}

/** Everything the wrap key is derived from (FORMAT.md §7.7). */
export interface HybridKdfInput {
  /** The file's 57-byte header. */
  header: Uint8Array;
  /** The recipient's RSA-OAEP public key, canonical SPKI (FORMAT.md §2). */
  rsaSpki: Uint8Array;
  /** The recipient's ML-KEM-768 encapsulation key, 1,184 raw bytes. */
  mlkemPublicKey: Uint8Array;
  /** The ML-KEM-768 ciphertext, 1,088 bytes. */
  mlkemCiphertext: Uint8Array;
  /** The RSA-OAEP ciphertext of the RSA secret, modulus-length bytes. */
  rsaCiphertext: Uint8Array;
  /** The ML-KEM-768 shared secret, 32 bytes. */
  mlkemSecret: Uint8Array;
  /** The RSA secret, 32 bytes. */
  rsaSecret: Uint8Array;
}

/**
 * Returns the HKDF info of the wrap key (FORMAT.md §7.7):
 * labelled(LABEL_HYBRID, header ‖ SHA-256(rsaSpki) ‖ SHA-256(ek) ‖ SHA-256(ctM) ‖ SHA-256(ctR)),
 * 217 bytes. The long fields are hashed because Node's WebCrypto refuses
 * an HKDF info over 1,024 bytes.
 */
export async function hybridKdfInfo(input: Omit<HybridKdfInput, 'mlkemSecret' | 'rsaSecret'>): Promise<Bytes> {
  const h = async (b: Uint8Array): Promise<Bytes> => new Uint8Array(await crypto.subtle.digest('SHA-256', toBytes(b)));
  const [a, b, c, d] = await Promise.all([h(input.rsaSpki), h(input.mlkemPublicKey), h(input.mlkemCiphertext), h(input.rsaCiphertext)]);
  return labelled(LABEL_HYBRID, input.header, a, b, c, d);
}

/**
 * Returns the 32-byte wrap key HKDF-SHA-256(IKM = mlkemSecret ‖ rsaSecret,
 * salt = empty, info = hybridKdfInfo). Throws RangeError on wrong lengths.
 */
export async function deriveHybridWrapKey(input: HybridKdfInput): Promise<Bytes> {
  if (input.header.length !== HEADER_LENGTH) throw new RangeError('A header is 57 bytes.');
  if (input.mlkemSecret.length !== HYBRID_SECRET_LENGTH || input.rsaSecret.length !== HYBRID_SECRET_LENGTH) {
    throw new RangeError('Each hybrid secret is 32 bytes.');
  }
  if (input.mlkemPublicKey.length !== MLKEM768_PUBLIC_KEY_LENGTH || input.mlkemCiphertext.length !== MLKEM768_CIPHERTEXT_LENGTH) {
    throw new RangeError('ML-KEM-768 keys are 1,184 bytes and ciphertexts 1,088.');
  }
  const ikmBytes = concatBytes(input.mlkemSecret, input.rsaSecret);
  try {
    const ikm = await crypto.subtle.importKey('raw', ikmBytes, 'HKDF', false, ['deriveBits']);
    const bits = await crypto.subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: await hybridKdfInfo(input) }, ikm, 256);
    return new Uint8Array(bits);
  } finally {
    ikmBytes.fill(0);
  }
}

async function wrapKeyFor(raw: Uint8Array, usage: 'encrypt' | 'decrypt'): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', toBytes(raw), { name: 'AES-GCM' }, false, [usage]);
}

/**
 * Returns a hybrid stanza from explicit halves and nonce (test vectors use
 * this; callers want hybridRecipient): body = mlkemCiphertext ‖
 * rsaCiphertext ‖ nonce ‖ AES-256-GCM(wrap key, nonce, fileKey,
 * AAD = labelled(LABEL_HYBRID, header)). Throws RangeError on wrong lengths.
 */
export async function sealHybridStanza(input: HybridKdfInput, nonce: Uint8Array, fileKey: Uint8Array): Promise<Stanza> {
  if (fileKey.length !== FILE_KEY_LENGTH) throw new RangeError('A file key is 32 bytes.');
  if (nonce.length !== NONCE_LENGTH) throw new RangeError('A nonce is 12 bytes.');
  const wrapKey = await deriveHybridWrapKey(input);
  const key = await wrapKeyFor(wrapKey, 'encrypt');
  wrapKey.fill(0);
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt({ name: 'AES-GCM', iv: toBytes(nonce), additionalData: labelled(LABEL_HYBRID, input.header) }, key, toBytes(fileKey)),
  );
  return { typeId: STANZA_HYBRID_MLKEM768_RSA, body: concatBytes(input.mlkemCiphertext, input.rsaCiphertext, nonce, sealed) };
}

function modulusBytes(key: CryptoKey): number {
  const { algorithm } = key;
  const bits = 'modulusLength' in algorithm && typeof algorithm.modulusLength === 'number' ? algorithm.modulusLength : 0;
  return bits / 8;
}

/** A recipient's two public keys for the hybrid envelope. */
export interface HybridPublicKeys {
  /** RSA-OAEP (SHA-256) public key, 3072–4096 bits, exponent 65537 (FORMAT.md §2). */
  rsa: CryptoKey;
  /** ML-KEM-768 encapsulation key, 1,184 raw bytes (public identity kind 3). */
  mlkem: Uint8Array;
}

/**
 * Returns a recipient that wraps to both of a person's public keys. Its wrap
 * rejects with RangeError for an RSA key outside FORMAT.md §2 or an ML-KEM
 * key that is not 1,184 bytes, MalformedError when the platform refuses the
 * ML-KEM key, and PostQuantumUnsupportedError when this platform has no
 * ML-KEM-768 (encapsulation needs only the public key; a library fallback
 * for such browsers is not built yet).
 */
export function hybridRecipient(keys: HybridPublicKeys): Recipient {
  const rsaBytes = modulusBytes(keys.rsa);
  const mlkemPublicKey = Uint8Array.from(keys.mlkem);
  return {
    ...(Number.isInteger(rsaBytes) && rsaBytes > 0 ? { stanzaLength: hybridBodyLength(rsaBytes) } : {}),
    async wrap(fileKey, context) {
      if (fileKey.length !== FILE_KEY_LENGTH) throw new RangeError('A file key is 32 bytes.');
      if (context.length !== HEADER_LENGTH) throw new RangeError('A header is 57 bytes.');
      checkRsaPublicKey(keys.rsa, () => new RangeError('An RSA recipient key must be 3072–4096 bits with exponent 65537.'));
      const encapsulate = kem().encapsulateBits;
      if (typeof encapsulate !== 'function') throw new PostQuantumUnsupportedError();
      const ek = await importMlKemPublicKey(mlkemPublicKey);
      const rsaSpki = new Uint8Array(await crypto.subtle.exportKey('spki', keys.rsa));
      let encapsulated: { sharedKey: ArrayBuffer; ciphertext: ArrayBuffer };
      try {
        encapsulated = await encapsulate.call(crypto.subtle, MLKEM, ek);
      } catch (error) {
        if (error instanceof Error && error.name === 'NotSupportedError') throw new PostQuantumUnsupportedError();
        throw error;
      }
      const mlkemSecret = new Uint8Array(encapsulated.sharedKey);
      const rsaSecret = randomBytes(HYBRID_SECRET_LENGTH);
      try {
        const rsaCiphertext = new Uint8Array(
          await crypto.subtle.encrypt({ name: RSA_OAEP, label: labelled(LABEL_HYBRID_RSA_OAEP, context) }, keys.rsa, rsaSecret),
        );
        return await sealHybridStanza(
          { header: context, rsaSpki, mlkemPublicKey, mlkemCiphertext: new Uint8Array(encapsulated.ciphertext), rsaCiphertext, mlkemSecret, rsaSecret },
          randomBytes(NONCE_LENGTH),
          fileKey,
        );
      } finally {
        mlkemSecret.fill(0);
        rsaSecret.fill(0);
      }
    },
  };
}

/** A reader's keys for the hybrid envelope. `mlkem` is null on a platform without ML-KEM-768. */
export interface HybridIdentityKeys {
  rsa: { privateKey: CryptoKey; publicKey: CryptoKey };
  mlkem: { privateKey: CryptoKey; publicKey: CryptoKey } | null;
}

/**
 * Returns an identity that opens hybrid envelopes made for `keys`.
 * - Another typeId, a body sized for another RSA modulus, or an RSA half
 *   that does not decrypt with this RSA key: "not mine" (null).
 * - A body whose length no RSA key of FORMAT.md §2 gives: MalformedError;
 *   an RSA half holding other than 32 bytes: MalformedError.
 * - The RSA half is this reader's but there is no ML-KEM key or the
 *   platform cannot decapsulate: PostQuantumUnsupportedError ("open this in
 *   a browser that supports post-quantum keys").
 * - The wrap key (from both halves) does not open the file key:
 *   TamperedError (a wrong ML-KEM ciphertext, halves mixed from two
 *   envelopes, a key derived from one half only).
 */
export function hybridIdentity(keys: HybridIdentityKeys): Identity {
  let publicBytes: Promise<{ rsaSpki: Bytes; mlkemPublicKey: Bytes | null }> | undefined;
  const ownPublic = (): Promise<{ rsaSpki: Bytes; mlkemPublicKey: Bytes | null }> =>
    (publicBytes ??= (async () => ({
      rsaSpki: new Uint8Array(await crypto.subtle.exportKey('spki', keys.rsa.publicKey)),
      mlkemPublicKey: keys.mlkem === null ? null : await exportMlKemPublicKey(keys.mlkem.publicKey),
    }))());
  return {
    async unwrap(stanza, context) {
      if (stanza.typeId !== STANZA_HYBRID_MLKEM768_RSA) return null;
      const body = toBytes(stanza.body);
      const rsaBytes = body.length - MLKEM768_CIPHERTEXT_LENGTH - NONCE_LENGTH - SEALED_KEY_LENGTH;
      if (rsaBytes < RSA_MODULUS_BITS.min / 8 || rsaBytes > RSA_MODULUS_BITS.max / 8) {
        throw new MalformedError('A post-quantum envelope has an impossible length.');
      }
      if (rsaBytes !== modulusBytes(keys.rsa.privateKey)) return null;
      const mlkemCiphertext = body.slice(0, MLKEM768_CIPHERTEXT_LENGTH);
      const rsaCiphertext = body.slice(MLKEM768_CIPHERTEXT_LENGTH, MLKEM768_CIPHERTEXT_LENGTH + rsaBytes);
      const nonce = body.slice(MLKEM768_CIPHERTEXT_LENGTH + rsaBytes, MLKEM768_CIPHERTEXT_LENGTH + rsaBytes + NONCE_LENGTH);
      const sealed = body.slice(MLKEM768_CIPHERTEXT_LENGTH + rsaBytes + NONCE_LENGTH);
      let rsaSecret: Bytes;
      try {
        rsaSecret = new Uint8Array(
          await crypto.subtle.decrypt({ name: RSA_OAEP, label: labelled(LABEL_HYBRID_RSA_OAEP, context) }, keys.rsa.privateKey, rsaCiphertext),
        );
      } catch {
        return null;
      }
      try {
        if (rsaSecret.length !== HYBRID_SECRET_LENGTH) throw new MalformedError('A post-quantum envelope holds a secret of the wrong size.');
        const decapsulate = kem().decapsulateBits;
        if (keys.mlkem === null || typeof decapsulate !== 'function') throw new PostQuantumUnsupportedError();
        let mlkemSecret: Bytes;
        try {
          mlkemSecret = new Uint8Array(await decapsulate.call(crypto.subtle, MLKEM, keys.mlkem.privateKey, mlkemCiphertext));
        } catch (error) {
          if (error instanceof Error && error.name === 'NotSupportedError') throw new PostQuantumUnsupportedError();
          throw new MalformedError('A post-quantum envelope could not be decapsulated.');
        }
        const own = await ownPublic();
        if (own.mlkemPublicKey === null) throw new PostQuantumUnsupportedError();
        try {
          const wrapKey = await deriveHybridWrapKey({ header: context, rsaSpki: own.rsaSpki, mlkemPublicKey: own.mlkemPublicKey, mlkemCiphertext, rsaCiphertext, mlkemSecret, rsaSecret });
          const key = await wrapKeyFor(wrapKey, 'decrypt');
          wrapKey.fill(0);
          try {
            return new Uint8Array(
              await crypto.subtle.decrypt({ name: 'AES-GCM', iv: nonce, additionalData: labelled(LABEL_HYBRID, context) }, key, sealed),
            );
          } catch {
            throw new TamperedError('A post-quantum envelope for you is damaged or was not made from both of your keys.');
          }
        } finally {
          mlkemSecret.fill(0);
        }
      } finally {
        rsaSecret.fill(0);
      }
    },
  };
}
