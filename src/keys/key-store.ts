/**
 * The device's key store: each account's identity keys in IndexedDB (through
 * `idb`), private keys as non-extractable `CryptoKey`s.
 *
 * IndexedDB can hold `CryptoKey` objects by structured clone; a
 * non-extractable private key stays non-extractable after a reload, so no
 * script (ours or injected) can read its bytes. Every record is validated
 * when read: a record with an extractable private key, a wrong algorithm or
 * wrong usages is refused rather than used.
 */
import { openDB, type IDBPDatabase } from 'idb';
import { z } from 'zod';

/** Name of the IndexedDB database holding identities. */
const KEY_DB_NAME = 'sealdrop-keys';
const STORE = 'identities';
const DB_VERSION = 1;

/** One account's identity keys as kept on this device. */
export interface StoredIdentity {
  /** The account's server-derived id (32 lowercase hex chars). */
  userId: string;
  /** RSA-OAEP pair for receiving; the private key is non-extractable. */
  encrypt: { privateKey: CryptoKey; publicKey: CryptoKey };
  /** ECDSA P-256 pair for signing; the private key is non-extractable. */
  sign: { privateKey: CryptoKey; publicKey: CryptoKey };
  /** The published public identity (both SPKIs and the self-signature). */
  publicIdentity: Uint8Array;
  /** Fingerprint of `publicIdentity`, as groups of digits. */
  fingerprint: string;
  /** When the keys were stored on this device, ms since the epoch. */
  createdAt: number;
  /**
   * The account's drive key (docs/FORMAT.md §7.5): a non-extractable HKDF
   * key; absent until this device has made or fetched it.
   */
  driveKey?: CryptoKey | undefined;
  /**
   * Encryption key pairs of before the account's key rotations, most
   * recently retired first (docs/FORMAT.md §11.3): restored from the
   * recovery copy, private halves non-extractable, used only to open
   * envelopes addressed to them (files shared with the user or received
   * before a rotation). Absent or empty once the user dropped them.
   */
  formerKeys?: { privateKey: CryptoKey; publicKey: CryptoKey }[] | undefined;
  /**
   * ML-KEM-768 pair for the hybrid post-quantum envelope (docs/FORMAT.md
   * §7.7); the private key is non-extractable. Only on browsers with
   * ML-KEM-768. NOT created by the app yet (POST_QUANTUM_SHARING_ENABLED is
   * false): the recovery kit does not back it up.
   */
  mlkem?: { privateKey: CryptoKey; publicKey: CryptoKey } | undefined;
}

/** The key store refused or could not do something; the message is plain words, no key material. */
export class KeyStoreError extends Error {
  /** `exists`: an identity is already stored; `corrupt`: a stored record failed validation; `unavailable`: IndexedDB failed. */
  readonly code: 'exists' | 'corrupt' | 'unavailable';

  constructor(code: KeyStoreError['code'], message: string) {
    super(message);
    this.name = 'KeyStoreError';
    this.code = code;
  }
}

interface KeySpec {
  algorithm: string;
  type: KeyType;
  /** Every usage the key has must be one of these, and it needs at least one. */
  usages: readonly KeyUsage[];
  /** false: must be non-extractable; undefined: either. */
  extractable?: false;
}

function cryptoKey(spec: KeySpec) {
  return z.instanceof(CryptoKey).superRefine((key, ctx) => {
    const ok =
      key.algorithm.name === spec.algorithm &&
      key.type === spec.type &&
      key.usages.length > 0 &&
      key.usages.every((u) => spec.usages.includes(u)) &&
      (spec.extractable === undefined || key.extractable === spec.extractable);
    if (!ok) ctx.addIssue({ code: 'custom', message: `unexpected ${spec.type} ${spec.algorithm} key` });
  });
}

const storedIdentitySchema = z.object({
  userId: z.string().regex(/^[0-9a-f]{32}$/),
  encrypt: z.object({
    privateKey: cryptoKey({ algorithm: 'RSA-OAEP', type: 'private', usages: ['decrypt', 'unwrapKey'], extractable: false }),
    publicKey: cryptoKey({ algorithm: 'RSA-OAEP', type: 'public', usages: ['encrypt', 'wrapKey'] }),
  }),
  sign: z.object({
    privateKey: cryptoKey({ algorithm: 'ECDSA', type: 'private', usages: ['sign'], extractable: false }),
    publicKey: cryptoKey({ algorithm: 'ECDSA', type: 'public', usages: ['verify'] }),
  }),
  publicIdentity: z.instanceof(Uint8Array).refine((b) => b.length > 0),
  fingerprint: z.string().min(1),
  createdAt: z.number().int().nonnegative(),
  driveKey: cryptoKey({ algorithm: 'HKDF', type: 'secret', usages: ['deriveKey', 'deriveBits'], extractable: false }).optional(),
  formerKeys: z
    .array(
      z.object({
        privateKey: cryptoKey({ algorithm: 'RSA-OAEP', type: 'private', usages: ['decrypt', 'unwrapKey'], extractable: false }),
        publicKey: cryptoKey({ algorithm: 'RSA-OAEP', type: 'public', usages: ['encrypt', 'wrapKey'] }),
      }),
    )
    .optional(),
  mlkem: z
    .object({
      privateKey: cryptoKey({ algorithm: 'ML-KEM-768', type: 'private', usages: ['decapsulateBits', 'decapsulateKey'] as string[] as KeyUsage[], extractable: false }),
      publicKey: cryptoKey({ algorithm: 'ML-KEM-768', type: 'public', usages: ['encapsulateBits', 'encapsulateKey'] as string[] as KeyUsage[] }),
    })
    .optional(),
});

/**
 * Throws KeyStoreError('corrupt') unless `value` is a well-formed identity
 * whose private keys are non-extractable; returns it typed otherwise.
 */
function parseStoredIdentity(value: unknown): StoredIdentity {
  const parsed = storedIdentitySchema.safeParse(value);
  if (!parsed.success) {
    throw new KeyStoreError('corrupt', 'The keys saved on this device are damaged or not in the expected form.');
  }
  return parsed.data;
}

/** The operations on one device's key store. */
export interface KeyStore {
  /** Returns the account's identity, or null when this device has none. Throws KeyStoreError('corrupt'|'unavailable'). */
  load(userId: string): Promise<StoredIdentity | null>;
  /**
   * Stores `identity`. Never overwrites an existing identity of the same
   * account unless `opts.replace` is true: throws KeyStoreError('exists')
   * instead. Throws KeyStoreError('corrupt') when `identity` is invalid
   * (e.g. an extractable private key), 'unavailable' when IndexedDB fails.
   */
  save(identity: StoredIdentity, opts?: { replace?: boolean }): Promise<void>;
  /** Deletes the account's identity from this device (no error when there is none). */
  forget(userId: string): Promise<void>;
  /** Closes the database connection (tests; the app keeps it open). */
  close(): Promise<void>;
}

/** Returns a key store over the IndexedDB database `dbName` (tests pass their own to simulate a second device). */
export function createKeyStore(dbName: string = KEY_DB_NAME): KeyStore {
  let db: Promise<IDBPDatabase> | null = null;
  const open = (): Promise<IDBPDatabase> => {
    db ??= openDB(dbName, DB_VERSION, {
      upgrade(database) {
        database.createObjectStore(STORE, { keyPath: 'userId' });
      },
    }).catch((error: unknown) => {
      db = null;
      throw unavailable(error);
    });
    return db;
  };

  return {
    async load(userId) {
      const database = await open();
      const value: unknown = await database.get(STORE, userId).catch((e: unknown) => Promise.reject(unavailable(e)));
      return value === undefined ? null : parseStoredIdentity(value);
    },
    async save(identity, opts = {}) {
      const valid = parseStoredIdentity(identity);
      const database = await open();
      try {
        // add() fails atomically with ConstraintError when the key exists: no read-then-write race.
        if (opts.replace === true) await database.put(STORE, valid);
        else await database.add(STORE, valid);
      } catch (error) {
        if (error instanceof DOMException && error.name === 'ConstraintError') {
          throw new KeyStoreError('exists', 'Keys for this account are already saved on this device.');
        }
        throw unavailable(error);
      }
    },
    async forget(userId) {
      const database = await open();
      await database.delete(STORE, userId).catch((e: unknown) => Promise.reject(unavailable(e)));
    },
    async close() {
      if (db === null) return;
      const database = await db.catch(() => null);
      database?.close();
      db = null;
    },
  };
}

function unavailable(error: unknown): KeyStoreError {
  if (error instanceof KeyStoreError) return error;
  return new KeyStoreError('unavailable', 'This browser could not open its key storage (IndexedDB). Private browsing can cause this.');
}

let defaultStore: KeyStore | null = null;

/** The app's key store (database {@link KEY_DB_NAME}), opened on first use. */
export function defaultKeyStore(): KeyStore {
  defaultStore ??= createKeyStore();
  return defaultStore;
}
