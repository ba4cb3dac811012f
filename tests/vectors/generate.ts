/**
 * Writes src/crypto/vectors/v2.json: known-answer vectors for docs/FORMAT.md
 * (format version 2).
 *
 *   npm run vectors      (= npx tsx tests/vectors/generate.ts)
 *
 * Fixed keys, salts and nonces go in; expected bytes come out. Where the
 * primitive is randomised (RSA-OAEP, ECDSA), the vector gives fixed private
 * keys plus one ciphertext/signature and the expected result. Fixed private
 * keys are reused from the existing file when present, so re-running only
 * changes the randomised fields. Deterministic parts are cross-checked here
 * against node:crypto, an implementation independent of WebCrypto's API use.
 */
import { createCipheriv, createHash, createHmac, hkdfSync, pbkdf2Sync, scryptSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { ByteWriter, concatBytes, fromHex, toHex, type Bytes } from '../../src/crypto/bytes.ts';
import { encodeHeader, type Header } from '../../src/crypto/format.ts';
import {
  LABEL_CONTENT,
  LABEL_DRAFT_MAC,
  LABEL_HEADER_MAC,
  LABEL_METADATA,
  deriveSubkeyBytes,
  importAesGcmKey,
} from '../../src/crypto/key-schedule.ts';
import { deriveKdfBytes, type KdfBlock } from '../../src/crypto/kdf.ts';
import { assembleDraft, finishManifest } from '../../src/crypto/manifest.ts';
import { encodeMetadata, type FileMetadata } from '../../src/crypto/metadata.ts';
import {
  rsaIdentity,
  rsaRecipient,
  sealLinkStanza,
  sealPassphraseStanza,
  type Stanza,
} from '../../src/crypto/recipients.ts';
import { assembleBackup } from '../../src/crypto/identity.ts';
import { exportPublicIdentity, fingerprint } from '../../src/crypto/identity.ts';
import { PayloadHasher } from '../../src/crypto/payload-digest.ts';
import { createSealStream, encryptSegment } from '../../src/crypto/stream.ts';
import { pattern, readAll, streamOf } from '../../src/crypto/test-streams.ts';

const OUT = new URL('../../src/crypto/vectors/v2.json', import.meta.url);

/** Deterministic "random" bytes for vectors: byte i = (seed + i) mod 256. */
function fixed(length: number, seed: number): Bytes {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (seed + i) % 256;
  return out;
}

function assertEqual(a: Uint8Array, b: Uint8Array, what: string): void {
  if (toHex(a) !== toHex(b)) throw new Error(`cross-check failed: ${what}`);
}

const previous: unknown = existsSync(OUT) ? JSON.parse(readFileSync(OUT, 'utf8')) : undefined;
function previousAt(path: (string | number)[]): unknown {
  let at: unknown = previous;
  for (const p of path) at = typeof at === 'object' && at !== null && p in at ? (at as Record<string, unknown>)[p] : undefined;
  return at;
}
function previousHex(path: (string | number)[]): string | undefined {
  const at = previousAt(path);
  return typeof at === 'string' ? at : undefined;
}
/**
 * Returns `fresh` unless the previous file holds bytes at `path` whose
 * deterministic part (all but the last `randomTail` bytes) equals fresh's:
 * then those, so a re-run keeps randomised signatures byte-identical.
 */
function stableSigned(path: (string | number)[], fresh: Uint8Array, randomTail = 64): Uint8Array {
  const old = previousHex(path);
  if (old === undefined) return fresh;
  const bytes = fromHex(old);
  const same = bytes.length === fresh.length && toHex(bytes.subarray(0, bytes.length - randomTail)) === toHex(fresh.subarray(0, fresh.length - randomTail));
  return same ? bytes : fresh;
}

async function keyPair(
  kind: 'rsa' | 'ecdsa',
  pkcs8Hex: string | undefined,
  spkiHex: string | undefined,
  modulusLength = 3072,
): Promise<CryptoKeyPair> {
  const alg = kind === 'rsa' ? { name: 'RSA-OAEP', hash: 'SHA-256' } : { name: 'ECDSA', namedCurve: 'P-256' };
  const [priv, pub]: [KeyUsage, KeyUsage] = kind === 'rsa' ? ['decrypt', 'encrypt'] : ['sign', 'verify'];
  if (pkcs8Hex !== undefined && spkiHex !== undefined) {
    return {
      privateKey: await crypto.subtle.importKey('pkcs8', fromHex(pkcs8Hex), alg, true, [priv]),
      publicKey: await crypto.subtle.importKey('spki', fromHex(spkiHex), alg, true, [pub]),
    };
  }
  const params =
    kind === 'rsa'
      ? { name: 'RSA-OAEP', hash: 'SHA-256', modulusLength, publicExponent: new Uint8Array([1, 0, 1]) }
      : alg;
  return crypto.subtle.generateKey(params, true, [priv, pub]) as Promise<CryptoKeyPair>;
}

async function exportPair(pair: CryptoKeyPair): Promise<{ privateKeyPkcs8: string; publicKeySpki: string }> {
  return {
    privateKeyPkcs8: toHex(new Uint8Array(await crypto.subtle.exportKey('pkcs8', pair.privateKey))),
    publicKeySpki: toHex(new Uint8Array(await crypto.subtle.exportKey('spki', pair.publicKey))),
  };
}

// --- key schedule -------------------------------------------------------------
const fileKey = fixed(32, 0x10);
const header: Header = { segmentSize: 1024, fileId: '00112233445566778899aabbccddeeff', salt: fixed(32, 0x80) };
const headerBytes = encodeHeader(header);
const sub = {
  content: await deriveSubkeyBytes(fileKey, header.salt, LABEL_CONTENT, headerBytes),
  metadata: await deriveSubkeyBytes(fileKey, header.salt, LABEL_METADATA, headerBytes),
  headerMac: await deriveSubkeyBytes(fileKey, header.salt, LABEL_HEADER_MAC, headerBytes),
  draftMac: await deriveSubkeyBytes(fileKey, header.salt, LABEL_DRAFT_MAC, headerBytes),
};
for (const [label, value] of [
  [LABEL_CONTENT, sub.content],
  [LABEL_METADATA, sub.metadata],
  [LABEL_HEADER_MAC, sub.headerMac],
  [LABEL_DRAFT_MAC, sub.draftMac],
] as const) {
  const info = Buffer.concat([Buffer.from(label), Buffer.of(0), headerBytes]);
  assertEqual(new Uint8Array(hkdfSync('sha256', fileKey, header.salt, info, 32)), value, `HKDF ${label}`);
}
const contentKey = await importAesGcmKey(sub.content);

// --- segments and payloads ------------------------------------------------------
function nodeSeal(key: Uint8Array, index: number, isFinal: boolean, plain: Uint8Array): Uint8Array {
  const iv = Buffer.alloc(12);
  iv.writeBigUInt64BE(BigInt(index), 3);
  iv[11] = isFinal ? 1 : 0;
  const c = createCipheriv('aes-256-gcm', key, iv);
  return Buffer.concat([c.update(plain), c.final(), c.getAuthTag()]);
}
const sha256 = (b: Uint8Array): Bytes => new Uint8Array(createHash('sha256').update(b).digest());
/** The payload digest computed with node:crypto (FORMAT.md §5.5), to cross-check PayloadHasher. */
function nodePayloadDigest(payload: Uint8Array, segmentSize: number): { segmentDigests: Bytes[]; payloadDigest: Bytes } {
  const segmentDigests: Bytes[] = [];
  for (let at = 0; at < payload.length; at += segmentSize + 16) segmentDigests.push(sha256(payload.subarray(at, at + segmentSize + 16)));
  const count = Buffer.alloc(8);
  count.writeBigUInt64BE(BigInt(segmentDigests.length));
  return { segmentDigests, payloadDigest: sha256(Buffer.concat([Buffer.from('sealdrop/v2/payload\0'), count, ...segmentDigests])) };
}
const segments = [];
for (const [index, isFinal, plain] of [
  [0, false, pattern(1024)],
  [1, true, pattern(100)],
  [0, true, new Uint8Array(0)],
  [70000, true, pattern(5)],
  [2 ** 32 + 5, true, pattern(5)],
] as const) {
  const sealed = await encryptSegment(contentKey, index, isFinal, plain);
  assertEqual(nodeSeal(sub.content, index, isFinal, plain), sealed, `segment ${index}`);
  segments.push({ index, final: isFinal, plaintext: toHex(plain), sealed: toHex(sealed), digest: toHex(sha256(sealed)) });
}
const payloads = [];
for (const [description, length] of [
  ['empty file: one empty final segment', 0],
  ['three segments, short final segment', 2500],
  ['two segments, full final segment', 2048],
] as const) {
  const plain = pattern(length);
  const hasher = new PayloadHasher();
  const payload = await readAll(streamOf(plain, 700).pipeThrough(createSealStream(contentKey, 1024, { hasher })));
  const digests = nodePayloadDigest(payload, 1024);
  assertEqual(await hasher.digest(), digests.payloadDigest, `payload digest ${length}`);
  payloads.push({
    description,
    segmentSize: 1024,
    plaintext: toHex(plain),
    payload: toHex(payload),
    segmentDigests: digests.segmentDigests.map(toHex),
    payloadDigest: toHex(digests.payloadDigest),
  });
}

// --- metadata ------------------------------------------------------------------
const metadataValue: FileMetadata = {
  name: 'Quarterly report – Ünïcode.pdf',
  type: 'application/pdf',
  size: 2500,
  lastModified: 1767225600000,
  relativePath: 'reports/2026/Quarterly report – Ünïcode.pdf',
};
const metadataNonce = fixed(12, 0xa0);
const encodedMetadata = encodeMetadata(metadataValue);
const metaC = createCipheriv('aes-256-gcm', sub.metadata, metadataNonce);
metaC.setAAD(headerBytes);
const sealedMetadata = Buffer.concat([metadataNonce, metaC.update(encodedMetadata), metaC.final(), metaC.getAuthTag()]);

// --- stanzas ---------------------------------------------------------------------
const linkSecret = fixed(32, 0x40);
const linkNonce = fixed(12, 0xb0);
const linkStanza = await sealLinkStanza(linkSecret, linkNonce, fileKey, headerBytes);
const scryptBlock: KdfBlock = { params: { kdf: 'scrypt', logN: 10, r: 8, p: 1 }, salt: fixed(32, 0xc0) };
const pbkdf2Block: KdfBlock = { params: { kdf: 'pbkdf2-sha256', iterations: 600_000 }, salt: fixed(32, 0xd0) };
const passphrase = 'correct horse battery staple ✓';
const passNonce = fixed(12, 0xe0);
const scryptStanza = await sealPassphraseStanza(passphrase, scryptBlock, passNonce, fileKey, headerBytes);
const pbkdf2Stanza = await sealPassphraseStanza(passphrase, pbkdf2Block, passNonce, fileKey, headerBytes);
const scryptKek = await deriveKdfBytes(passphrase, scryptBlock);
const pbkdf2Kek = await deriveKdfBytes(passphrase, pbkdf2Block);
const nfc = Buffer.from(passphrase.normalize('NFC'));
assertEqual(scryptSync(nfc, scryptBlock.salt, 32, { N: 1024, r: 8, p: 1 }), scryptKek, 'scrypt');
assertEqual(pbkdf2Sync(nfc, pbkdf2Block.salt, 600_000, 32, 'sha256'), pbkdf2Kek, 'PBKDF2');
{
  const linkKey = new Uint8Array(hkdfSync('sha256', linkSecret, new Uint8Array(0), Buffer.from('sealdrop/v2/link-secret\0'), 32));
  const c = createCipheriv('aes-256-gcm', linkKey, linkNonce);
  c.setAAD(Buffer.concat([Buffer.from('sealdrop/v2/link-secret\0'), headerBytes]));
  assertEqual(Buffer.concat([linkNonce, c.update(fileKey), c.final(), c.getAuthTag()]), linkStanza.body, 'link stanza');
}
const rsa = await keyPair('rsa', previousHex(['keys', 'rsa', 'privateKeyPkcs8']), previousHex(['keys', 'rsa', 'publicKeySpki']));
const ecdsa = await keyPair('ecdsa', previousHex(['keys', 'ecdsa', 'privateKeyPkcs8']), previousHex(['keys', 'ecdsa', 'publicKeySpki']));
const ecdsa2 = await keyPair('ecdsa', previousHex(['keys', 'ecdsa2', 'privateKeyPkcs8']), previousHex(['keys', 'ecdsa2', 'publicKeySpki']));
async function stableRsaBody(path: (string | number)[], pair: CryptoKeyPair, key: Uint8Array, context: Uint8Array): Promise<Stanza> {
  const old = previousHex(path);
  if (old !== undefined) {
    const stanza = { typeId: 1, body: fromHex(old) };
    const opened = await rsaIdentity(pair.privateKey).unwrap(stanza, context);
    if (opened !== null && toHex(opened) === toHex(key)) return stanza;
  }
  return rsaRecipient(pair.publicKey).wrap(key, context);
}
const rsaStanza = await stableRsaBody(['stanzas', 'rsaOaep', 'body'], rsa, fileKey, headerBytes);

// --- draft and manifest --------------------------------------------------------------
const payload1 = payloads[1];
if (payload1 === undefined) throw new Error('payload vector missing');
const manifestPayloadDigest = fromHex(payload1.payloadDigest);
const draft = await assembleDraft({ header, fileKey, metadata: metadataValue, metadataNonce, stanzas: [linkStanza, scryptStanza, rsaStanza] });
const ecdsaSpki = new Uint8Array(await crypto.subtle.exportKey('spki', ecdsa.publicKey));
{
  // Cross-check the draft with node:crypto: header ‖ lp16(metadata) ‖ count ‖ envelopes ‖ HMAC(draft-mac key, labelled).
  const w = new ByteWriter().raw(headerBytes).lp16(sealedMetadata).u16(3);
  for (const st of [linkStanza, scryptStanza, rsaStanza]) w.u8(st.typeId).lp16(st.body);
  const body = w.bytes();
  const mac = createHmac('sha256', sub.draftMac).update(Buffer.concat([Buffer.from('sealdrop/v2/draft-mac\0'), body])).digest();
  assertEqual(draft.draft, concatBytes(body, mac), 'draft');
}
const manifestFresh = await finishManifest(draft, { payloadDigest: manifestPayloadDigest, signer: ecdsa });
const manifest = stableSigned(['manifest', 'bytes'], manifestFresh);
{
  // Cross-check the MAC with node:crypto: it covers header, signer, digest, metadata and envelopes.
  const w = new ByteWriter().raw(headerBytes).lp16(ecdsaSpki).raw(manifestPayloadDigest).lp16(sealedMetadata).u16(3);
  for (const st of [linkStanza, scryptStanza, rsaStanza]) w.u8(st.typeId).lp16(st.body);
  const macInput = w.bytes();
  const mac = createHmac('sha256', sub.headerMac).update(macInput).digest();
  assertEqual(manifest.subarray(0, manifest.length - 64), concatBytes(macInput, mac), 'manifest MAC');
  if (manifest.length !== draft.manifestLength) throw new Error('manifestLength is wrong');
}

// --- identity ----------------------------------------------------------------------
const identity = { encrypt: rsa, sign: ecdsa };
const publicIdentity = stableSigned(['publicIdentity', 'bytes'], await exportPublicIdentity(identity));
const backupPassphrase = 'recovery passphrase for vectors';
const backup = await assembleBackup(
  identity,
  backupPassphrase,
  { params: { kdf: 'scrypt', logN: 10, r: 8, p: 1 }, salt: fixed(32, 0x30) },
  { encrypt: fixed(12, 0x50), sign: fixed(12, 0x60) },
);

const extra = await import('./generate-extended.ts');
const more = await extra.buildExtendedVectors({
  previousAt,
  stableSigned,
  stableRsaBody,
  keyPair,
  fixed,
  assertEqual,
  nodeSeal,
  fileKey,
  header,
  headerBytes,
  sub,
  contentKey,
  rsa,
  ecdsa,
  ecdsa2,
  manifest,
  manifestPayloadDigest,
  nodePayloadDigest,
  publicIdentity,
  backup,
  backupPassphrase,
  linkSecret,
  scryptStanza,
  metadataValue,
  sealedMetadata: new Uint8Array(sealedMetadata),
  payloads: payloads.map((p) => ({ plaintext: fromHex(p.plaintext), payload: fromHex(p.payload), payloadDigest: fromHex(p.payloadDigest) })),
});

const linkShare = await import('./generate-link-share.ts');
const linkPassphrase = await linkShare.buildLinkShareVectors({ fixed, stableSigned, fileKey, header, metadataValue, payloadDigest: manifestPayloadDigest, ecdsa });
const driveKeyVectors = await (await import('./generate-drive-key.ts')).buildDriveKeyVectors({
  previousAt,
  stableSigned,
  fixed,
  assertEqual,
  fileKey,
  header,
  headerBytes,
  rsa,
  ecdsa,
  ecdsa2,
  rsa4096: z4096(more.rsa4096),
  manifest,
  manifestPayloadDigest,
  metadataValue,
  metadataNonce,
});
function z4096(v: unknown): { privateKeyPkcs8: string; publicKeySpki: string } {
  if (typeof v !== 'object' || v === null || !('privateKeyPkcs8' in v) || !('publicKeySpki' in v)) throw new Error('rsa4096 vector missing');
  const { privateKeyPkcs8, publicKeySpki } = v;
  if (typeof privateKeyPkcs8 !== 'string' || typeof publicKeySpki !== 'string') throw new Error('rsa4096 vector malformed');
  return { privateKeyPkcs8, publicKeySpki };
}

const vectors = {
  description:
    'Sealdrop format v2 known-answer vectors (docs/FORMAT.md §13). Every string is lowercase hex bytes EXCEPT the values of these keys: description, note, rule, name, error, input, kind, key, bytesFrom, contentKey inside negative (a vector path), plaintextRule, passphrase, text, fingerprint, signerFingerprint, oldFingerprint, newFingerprint, fileId (32 lowercase hex characters, used as text), and every string inside the metadata value objects under value and metadata. Generated by tests/vectors/generate.ts (npm run vectors).',
  keys: { rsa: await exportPair(rsa), ecdsa: await exportPair(ecdsa), ecdsa2: await exportPair(ecdsa2) },
  keySchedule: {
    fileKey: toHex(fileKey),
    salt: toHex(header.salt),
    segmentSize: header.segmentSize,
    fileId: header.fileId,
    header: toHex(headerBytes),
    contentKey: toHex(sub.content),
    metadataKey: toHex(sub.metadata),
    headerMacKey: toHex(sub.headerMac),
    draftMacKey: toHex(sub.draftMac),
  },
  segments,
  payloads,
  metadata: {
    value: metadataValue,
    encoded: toHex(encodedMetadata),
    nonce: toHex(metadataNonce),
    sealed: toHex(sealedMetadata),
  },
  stanzas: {
    linkSecret: { secret: toHex(linkSecret), nonce: toHex(linkNonce), body: toHex(linkStanza.body) },
    passphraseScrypt: {
      passphrase,
      salt: toHex(scryptBlock.salt),
      logN: 10,
      r: 8,
      p: 1,
      nonce: toHex(passNonce),
      kek: toHex(scryptKek),
      body: toHex(scryptStanza.body),
    },
    passphrasePbkdf2: {
      passphrase,
      salt: toHex(pbkdf2Block.salt),
      iterations: 600_000,
      nonce: toHex(passNonce),
      kek: toHex(pbkdf2Kek),
      body: toHex(pbkdf2Stanza.body),
    },
    rsaOaep: { note: 'randomised: decrypt with keys.rsa.privateKeyPkcs8 to fileKey', body: toHex(rsaStanza.body) },
  },
  draft: {
    note: 'the draft (FORMAT.md §9.3) of manifest.bytes: header, metadata, envelopes [link, scrypt, RSA], draft MAC',
    bytes: toHex(draft.draft),
    manifestLength: draft.manifestLength,
  },
  manifest: {
    note: 'signer keys.ecdsa; payloadDigest of payloads[1]; envelopes: link secret, passphrase (scrypt), RSA-OAEP (keys.rsa); the last 64 bytes (signature) are randomised',
    bytes: toHex(manifest),
    payloadDigest: toHex(manifestPayloadDigest),
    signerFingerprint: await fingerprint(publicIdentity),
  },
  publicIdentity: {
    note: 'keys.rsa + keys.ecdsa; the last 64 bytes (self-signature) are randomised',
    bytes: toHex(publicIdentity),
    fingerprint: await fingerprint(publicIdentity),
  },
  backup: { passphrase: backupPassphrase, bytes: toHex(backup) },
  ...more,
  linkPassphrase,
  ...driveKeyVectors,
};
mkdirSync(new URL('.', OUT), { recursive: true });
writeFileSync(OUT, JSON.stringify(vectors, null, 2) + '\n');
console.log(`wrote ${OUT.pathname}`);

// The hybrid ML-KEM-768 + RSA-OAEP envelope's vectors live in their own file
// (src/crypto/vectors/hybrid.json): they need Node ≥ 24, and regenerating
// v2.json on Node 20 must not drop them. On Node 20 this prints why and
// leaves hybrid.json as it is.
await import('./generate-hybrid.ts');
