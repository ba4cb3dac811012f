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
import { DEFAULT_KDF_PARAMS, deriveKek, hasUtf8Form, newKdfBlock, readKdfBlock, writeKdfBlock, type KdfBlock, type KdfParams } from './kdf.ts';

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
export const LABEL_PUBLIC_IDENTITY = 'sealdrop/v2/public-identity';
/** AAD label of every wrapped private key in a backup. */
export const LABEL_BACKUP_KEY = 'sealdrop/v2/backup/key';
/** Key kind of the RSA-OAEP encryption key (SPKI; PKCS#8 in a backup). */
export const KEY_KIND_RSA_OAEP = 1;
/** Key kind of the ECDSA P-256 signing key (SPKI; PKCS#8 in a backup). */
export const KEY_KIND_ECDSA_P256 = 2;
/**
 * Kind of the most recently retired RSA-OAEP private key kept in a recovery
 * kit (FORMAT.md §11.3); the one retired before it is kind 0x81, and so on.
 * Readers that do not know these kinds skip them (§11.1), so a kit keeping
 * former keys still restores the current keys in older versions.
 */
export const KEY_KIND_FORMER_RSA_OAEP = 0x80;
/** Most former encryption keys one recovery kit keeps (kinds 0x80–0x87). */
export const MAX_FORMER_KEYS = 8;
/** Most keys one public identity or backup may list. */
export const MAX_KEYS = 16;
/** Shortest wrapped private key a backup may hold: a GCM tag and at least one byte. */
export const MIN_WRAPPED_KEY_LENGTH = 17;
/** Accepted RSA modulus lengths in bits (inclusive, multiples of 8; FORMAT.md §2). */
export { RSA_MODULUS_BITS } from './recipients.ts';

const RSA_PARAMS = { name: 'RSA-OAEP', hash: 'SHA-256' } as const;
const EC_PARAMS = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const ECDSA_SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;
const VERSION = 2;
const SIGNATURE_LENGTH = 64;

/** One entry of a key list: a kind byte and the key's bytes. */
export interface KeyEntry {
  kind: number;
  key: Uint8Array;
}

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

/** Reads `u8 count ‖ count × (u8 kind ‖ lp16 key)`; kinds strictly increasing from 1, 1 ≤ count ≤ 16. */
function readKeyList(r: ByteReader): KeyEntry[] {
  const count = r.u8();
  if (count < 1 || count > MAX_KEYS) throw new MalformedError('A key list holds 1 to 16 keys.');
  const entries: KeyEntry[] = [];
  let last = 0;
  for (let i = 0; i < count; i++) {
    const kind = r.u8();
    if (kind <= last) throw new MalformedError('A key list repeats a kind or has them out of order.');
    last = kind;
    entries.push({ kind, key: r.lp16().slice() });
  }
  return entries;
}

function writeKeyList(w: ByteWriter, entries: KeyEntry[]): void {
  if (entries.length < 1 || entries.length > MAX_KEYS) throw new RangeError('A key list holds 1 to 16 keys.');
  let last = 0;
  w.u8(entries.length);
  for (const e of entries) {
    if (e.kind <= last || e.kind > 255) throw new RangeError('Key kinds must be strictly increasing, 1 to 255.');
    last = e.kind;
    w.u8(e.kind).lp16(e.key);
  }
}

/** Returns the keys of kinds 1 and 2; throws MalformedError when either is missing. */
function knownKeys(entries: KeyEntry[]): { encryptSpki: Bytes; verifySpki: Bytes } {
  const find = (kind: number): Bytes => {
    const e = entries.find((x) => x.kind === kind);
    if (e === undefined) throw new MalformedError('A key list lacks its encryption or signing key.');
    return toBytes(e.key);
  };
  return { encryptSpki: find(KEY_KIND_RSA_OAEP), verifySpki: find(KEY_KIND_ECDSA_P256) };
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
 * Returns a public identity listing `entries` (kinds strictly increasing),
 * self-signed by `signingKey` (test vectors use this to add unknown kinds;
 * callers want exportPublicIdentity). Throws RangeError on a bad list.
 */
export async function assemblePublicIdentity(entries: KeyEntry[], signingKey: CryptoKey): Promise<Bytes> {
  const w = new ByteWriter().raw(PUBLIC_IDENTITY_MAGIC).u8(VERSION);
  writeKeyList(w, entries);
  const body = w.bytes();
  const signature = await crypto.subtle.sign(ECDSA_SIGN, signingKey, labelled(LABEL_PUBLIC_IDENTITY, body));
  return concatBytes(body, new Uint8Array(signature));
}

/**
 * Returns the public identity: a key list holding the RSA-OAEP encryption
 * key (kind 1) and the ECDSA signing key (kind 2) as SPKI, plus an ECDSA
 * self-signature (FORMAT.md §10.1). Throws when WebCrypto refuses the keys.
 */
export async function exportPublicIdentity(keys: IdentityKeys): Promise<Bytes> {
  return assemblePublicIdentity(
    [
      { kind: KEY_KIND_RSA_OAEP, key: await spki(keys.encrypt.publicKey) },
      { kind: KEY_KIND_ECDSA_P256, key: await spki(keys.sign.publicKey) },
    ],
    keys.sign.privateKey,
  );
}

function parsePublicIdentity(bytes: Uint8Array): { body: Bytes; entries: KeyEntry[]; signature: Bytes } {
  const r = new ByteReader(bytes);
  readMagicAndVersion(r, PUBLIC_IDENTITY_MAGIC, 'public key');
  const entries = readKeyList(r);
  const bodyLength = r.offset;
  const signature = r.take(SIGNATURE_LENGTH).slice();
  r.end();
  return { body: toBytes(bytes).slice(0, bodyLength), entries, signature };
}

/**
 * Imports and verifies a public identity (FORMAT.md §10.1). Returns its
 * RSA-OAEP encrypt key, ECDSA verify key, fingerprint and the kinds it
 * skipped (unknown kinds, covered by the self-signature but not used).
 * Throws MalformedError (bad bytes, a missing or non-canonical key, a key
 * outside FORMAT.md §2), UnsupportedVersionError, TamperedError
 * (self-signature fails).
 */
export async function importPublicIdentity(
  bytes: Uint8Array,
): Promise<{ encrypt: CryptoKey; verify: CryptoKey; fingerprint: string; skippedKinds: number[] }> {
  const p = parsePublicIdentity(bytes);
  const { encryptSpki, verifySpki } = knownKeys(p.entries);
  const verify = await importVerifyKey(verifySpki);
  if (!(await crypto.subtle.verify(ECDSA_SIGN, verify, p.signature, labelled(LABEL_PUBLIC_IDENTITY, p.body)))) {
    throw new TamperedError('The public key’s signature does not match.');
  }
  const encrypt = await importEncryptKey(encryptSpki);
  const skippedKinds = p.entries.map((e) => e.kind).filter((k) => k !== KEY_KIND_RSA_OAEP && k !== KEY_KIND_ECDSA_P256);
  return { encrypt, verify, fingerprint: await signingKeyFingerprint(verify), skippedKinds };
}

/**
 * Returns the fingerprint people compare for a public identity (that of its
 * signing key; the signing key vouches for the other keys through the
 * self-signature, which importPublicIdentity checks). Throws MalformedError
 * or UnsupportedVersionError when the bytes do not parse.
 */
export async function fingerprint(publicIdentity: Uint8Array): Promise<string> {
  const p = parsePublicIdentity(publicIdentity);
  return signingKeyFingerprint(await importVerifyKey(knownKeys(p.entries).verifySpki));
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

/** Returns the AAD of the wrapped private key of `kind` in a backup whose prefix is `prefix`. */
function backupAad(kind: number, prefix: Uint8Array): Bytes {
  return labelled(LABEL_BACKUP_KEY, Uint8Array.of(kind), prefix);
}

/** Whether `kind` names a former encryption key kept in a recovery kit (FORMAT.md §11.3). */
export function isFormerKeyKind(kind: number): boolean {
  return kind >= KEY_KIND_FORMER_RSA_OAEP && kind < KEY_KIND_FORMER_RSA_OAEP + MAX_FORMER_KEYS;
}

/**
 * Returns a recovery backup made from explicit randomness (test vectors use
 * this). `former` are RSA-OAEP pairs of earlier rotations, most recently
 * retired first, kept as kinds 0x80, 0x81, … (FORMAT.md §11.3); their
 * nonces are `nonces.former[i]`. Throws TypeError when a private key is not
 * extractable, RangeError for more than MAX_FORMER_KEYS former keys or a
 * missing former nonce.
 */
export async function assembleBackup(
  keys: IdentityKeys,
  passphrase: string,
  block: KdfBlock,
  nonces: { encrypt: Bytes; sign: Bytes; former?: readonly Bytes[] },
  former: readonly CryptoKeyPair[] = [],
): Promise<Bytes> {
  if (!keys.encrypt.privateKey.extractable || !keys.sign.privateKey.extractable || former.some((p) => !p.privateKey.extractable)) {
    throw new TypeError('Only freshly generated or freshly opened keys can be backed up.');
  }
  if (former.length > MAX_FORMER_KEYS) throw new RangeError(`A recovery kit keeps at most ${MAX_FORMER_KEYS} former keys.`);
  const items = [
    { kind: KEY_KIND_RSA_OAEP, pair: keys.encrypt, nonce: nonces.encrypt },
    { kind: KEY_KIND_ECDSA_P256, pair: keys.sign, nonce: nonces.sign },
    ...former.map((pair, i) => {
      const nonce = nonces.former?.[i];
      if (nonce === undefined) throw new RangeError('Every former key needs its nonce.');
      return { kind: KEY_KIND_FORMER_RSA_OAEP + i, pair, nonce };
    }),
  ];
  const w = new ByteWriter().raw(BACKUP_MAGIC).u8(VERSION);
  writeKdfBlock(w, block);
  writeKeyList(w, await Promise.all(items.map(async (it) => ({ kind: it.kind, key: await spki(it.pair.publicKey) }))));
  const prefix = w.bytes();
  const kek = await deriveKek(passphrase, block, ['wrapKey']);
  const out = new ByteWriter().raw(prefix);
  for (const it of items) {
    const wrapped = await crypto.subtle.wrapKey('pkcs8', it.pair.privateKey, kek, { name: 'AES-GCM', iv: it.nonce, additionalData: backupAad(it.kind, prefix) });
    out.raw(it.nonce).lp16(new Uint8Array(wrapped));
  }
  return out.bytes();
}

/**
 * Returns the recovery backup: both private keys wrapped (AES-256-GCM,
 * WebCrypto wrapKey) under a key derived from `passphrase` (default scrypt
 * N=2^17, r=8, p=1), with both public keys in a key list, and the `former`
 * encryption keys kept (FORMAT.md §11.3; none by default). Throws TypeError
 * when the private keys are not extractable, KdfParamsTooHighError /
 * MalformedError for out-of-bounds params, RangeError for an empty
 * passphrase or one with a lone surrogate, or too many former keys.
 */
export async function backupIdentity(
  keys: IdentityKeys,
  passphrase: string,
  params: KdfParams = DEFAULT_KDF_PARAMS,
  former: readonly CryptoKeyPair[] = [],
): Promise<Bytes> {
  return assembleBackup(keys, passphrase, newKdfBlock(params), { encrypt: randomBytes(12), sign: randomBytes(12), former: former.map(() => randomBytes(12)) }, former);
}

/**
 * Restores a backup with `unwrapKey` straight into NON-extractable private
 * keys (the key bytes never exist in JavaScript). Returns the identity keys.
 * Keys of unknown kinds are skipped (their public halves are authenticated
 * as part of every known key's AAD). Throws WrongPassphraseError when the
 * passphrase is empty, has a lone surrogate or is wrong (or a known key's
 * tag fails), KdfParamsTooHighError before any work for over-cap parameters,
 * MalformedError / UnsupportedVersionError when the bytes do not parse or
 * the keys do not match their public halves (FORMAT.md §11).
 */
export async function restoreIdentity(backup: Uint8Array, passphrase: string): Promise<IdentityKeys> {
  return (await openBackup(backup, passphrase, false)).keys;
}

/** A recovery kit opened: the current keys and the former encryption keys it keeps (most recently retired first). */
export interface RestoredBackup {
  keys: IdentityKeys;
  /** RSA-OAEP pairs of earlier rotations (FORMAT.md §11.3), private halves non-extractable; empty for a kit that keeps none. */
  former: CryptoKeyPair[];
}

/**
 * As {@link restoreIdentity}, and also the former encryption keys the kit
 * keeps (FORMAT.md §11.3), as NON-extractable RSA-OAEP pairs for `decrypt`.
 * Throws as restoreIdentity, and MalformedError when a former key is
 * damaged or does not match its public half.
 */
export async function restoreBackup(backup: Uint8Array, passphrase: string): Promise<RestoredBackup> {
  const { keys, former } = await openBackup(backup, passphrase, false);
  return { keys, former };
}

/**
 * Returns the same recovery backup re-wrapped under `newPassphrase` with a
 * fresh KDF salt and fresh nonces (a passphrase change): the private keys
 * are unwrapped as extractable keys only inside this call and wrapped again
 * at once. Throws as {@link restoreIdentity} for the current passphrase and
 * the bytes, as {@link backupIdentity} for the new passphrase, and
 * UnsupportedVersionError when the backup holds a key of a kind this
 * version does not know (it could not be carried over, and would be lost).
 */
export async function rewrapBackup(
  backup: Uint8Array,
  currentPassphrase: string,
  newPassphrase: string,
  params: KdfParams = DEFAULT_KDF_PARAMS,
): Promise<Bytes> {
  const { keys, former } = await openKnownBackup(backup, currentPassphrase);
  return backupIdentity(keys, newPassphrase, params, former);
}

/**
 * Returns the recovery backup of a key rotation: `fresh` (just generated,
 * extractable) as the current keys, and the backup's current encryption key
 * kept as the most recent former key, ahead of the former keys it already
 * keeps (FORMAT.md §11.3), all under `passphrase` with a fresh salt and
 * nonces. The former private keys are unwrapped as extractable keys only
 * inside this call. Throws as {@link rewrapBackup}, and RangeError when the
 * backup already keeps MAX_FORMER_KEYS former keys.
 */
export async function rotateBackup(backup: Uint8Array, passphrase: string, fresh: IdentityKeys, params: KdfParams = DEFAULT_KDF_PARAMS): Promise<Bytes> {
  const { keys, former } = await openKnownBackup(backup, passphrase);
  return backupIdentity(fresh, passphrase, params, [keys.encrypt, ...former]);
}

/**
 * Returns the same recovery backup without its former keys (the user chose
 * to drop them), under `passphrase` with a fresh salt and nonces. Throws as
 * {@link rewrapBackup}.
 */
export async function dropFormerKeys(backup: Uint8Array, passphrase: string, params: KdfParams = DEFAULT_KDF_PARAMS): Promise<Bytes> {
  const { keys } = await openKnownBackup(backup, passphrase);
  return backupIdentity(keys, passphrase, params);
}

/** Opens a backup extractable, refusing (UnsupportedVersionError) one holding a kind this version cannot carry over. */
async function openKnownBackup(backup: Uint8Array, passphrase: string): Promise<RestoredBackup> {
  const { keys, kinds, former } = await openBackup(backup, passphrase, true);
  if (kinds.some((k) => k !== KEY_KIND_RSA_OAEP && k !== KEY_KIND_ECDSA_P256 && !isFormerKeyKind(k))) {
    throw new UnsupportedVersionError('This recovery copy holds keys of a kind this version of Sealdrop does not know; update it before changing it.');
  }
  return { keys, former };
}

/** Opens a backup into keys whose private halves are extractable only when `extractable` (a re-wrap). */
async function openBackup(backup: Uint8Array, passphrase: string, extractable: boolean): Promise<{ keys: IdentityKeys; kinds: number[]; former: CryptoKeyPair[] }> {
  const r = new ByteReader(backup);
  readMagicAndVersion(r, BACKUP_MAGIC, 'recovery kit');
  const block = readKdfBlock(r);
  const entries = readKeyList(r);
  const prefix = toBytes(backup).slice(0, r.offset);
  const wrapped = entries.map(() => {
    const nonce = r.take(12).slice();
    const body = r.lp16().slice();
    if (body.length < MIN_WRAPPED_KEY_LENGTH) throw new MalformedError('A wrapped key in the recovery kit is too short.');
    return { nonce, body };
  });
  r.end();

  const { encryptSpki, verifySpki } = knownKeys(entries);
  const encryptPublic = await importEncryptKey(encryptSpki);
  const verifyPublic = await importVerifyKey(verifySpki);
  // No kit is ever made with an empty passphrase or one without a UTF-8 form, so none opens with one.
  if (passphrase.length === 0 || !hasUtf8Form(passphrase)) throw new WrongPassphraseError();
  const kek = await deriveKek(passphrase, block, ['unwrapKey']);
  const unwrap = async (kind: number, algorithm: typeof RSA_PARAMS | typeof EC_PARAMS, usages: KeyUsage[]): Promise<CryptoKey> => {
    const at = entries.findIndex((e) => e.kind === kind);
    const w = wrapped[at];
    if (w === undefined) throw new MalformedError();
    const params = { name: 'AES-GCM', iv: w.nonce, additionalData: backupAad(kind, prefix) };
    try {
      return await crypto.subtle.unwrapKey('pkcs8', w.body, kek, params, algorithm, extractable, usages);
    } catch (error) {
      // OperationError = the AES-GCM tag failed; anything else = authentic but unusable bytes.
      if (error instanceof Error && error.name === 'OperationError') throw new WrongPassphraseError();
      throw new MalformedError('The recovery kit holds a damaged key.');
    }
  };
  const decrypt = await unwrap(KEY_KIND_RSA_OAEP, RSA_PARAMS, ['decrypt']);
  const signKey = await unwrap(KEY_KIND_ECDSA_P256, EC_PARAMS, ['sign']);
  await checkPairs(encryptPublic, decrypt, verifyPublic, signKey);
  // Former keys (§11.3) only after the current ones are whole: the kit is authentic under this passphrase by now.
  const former: CryptoKeyPair[] = [];
  for (const [i, e] of entries.entries()) {
    if (!isFormerKeyKind(e.kind)) continue;
    const w = wrapped[i];
    if (w === undefined) throw new MalformedError();
    const publicKey = await importEncryptKey(e.key);
    let privateKey: CryptoKey;
    try {
      privateKey = await crypto.subtle.unwrapKey('pkcs8', w.body, kek, { name: 'AES-GCM', iv: w.nonce, additionalData: backupAad(e.kind, prefix) }, RSA_PARAMS, extractable, ['decrypt']);
    } catch {
      throw new MalformedError('The recovery kit holds a damaged former key.');
    }
    await checkRsaPair(publicKey, privateKey);
    former.push({ publicKey, privateKey });
  }
  return {
    keys: {
      encrypt: { publicKey: encryptPublic, privateKey: decrypt },
      sign: { publicKey: verifyPublic, privateKey: signKey },
    },
    kinds: entries.map((e) => e.kind),
    former,
  };
}

/** Throws MalformedError unless the RSA private key matches its public half. */
async function checkRsaPair(encrypt: CryptoKey, decrypt: CryptoKey): Promise<void> {
  const probe = randomBytes(32);
  try {
    const opened = new Uint8Array(await crypto.subtle.decrypt(RSA_PARAMS, decrypt, await crypto.subtle.encrypt(RSA_PARAMS, encrypt, probe)));
    if (opened.length === probe.length && opened.every((b, i) => b === probe[i])) return;
  } catch {
    // Falls through to the error below.
  }
  throw new MalformedError('The recovery kit’s former key does not belong to its public half.');
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
