/**
 * The second half of src/crypto/vectors/v2.json, called by generate.ts:
 * the default segment size, RSA-4096, NFC passphrases, the link secret's
 * text form, metadata and manifest variants, a public identity with an
 * unknown key kind, a rotation statement, and the `negative` cases (input
 * bytes + the error class a reader MUST report, each refused by only the rule
 * it names). See docs/FORMAT.md §13 for the meaning of every field.
 */
import { createDecipheriv, createHash, createHmac, generateKeyPairSync, scryptSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ByteReader, ByteWriter, concatBytes, fromHex, toBytes, toHex, utf8, type Bytes } from '../../src/crypto/bytes.ts';
import { encodeHeader, labelled, type Header } from '../../src/crypto/format.ts';
import { LABEL_CONTENT, LABEL_HEADER_MAC, LABEL_METADATA, deriveSubkeyBytes, importAesGcmKey } from '../../src/crypto/key-schedule.ts';
import { deriveKdfBytes, writeKdfBlock, type KdfBlock, type KdfParams } from '../../src/crypto/kdf.ts';
import { assembleDraft, finishManifest, parseManifest } from '../../src/crypto/manifest.ts';
import { encodeMetadata, type FileMetadata } from '../../src/crypto/metadata.ts';
import { encodeLinkSecret, sealLinkStanza, sealPassphraseStanza, type Stanza } from '../../src/crypto/recipients.ts';
import { assembleBackup, assemblePublicIdentity, exportPublicIdentity, fingerprint } from '../../src/crypto/identity.ts';
import { signRotation } from '../../src/crypto/rotation.ts';
import { MAX_PLAINTEXT_SIZE } from '../../src/crypto/format.ts';
import { createSealStream, encryptSegment } from '../../src/crypto/stream.ts';
import { pattern, readAll, streamOf } from '../../src/crypto/test-streams.ts';
import { parseRecoveryKit, recoveryKitText } from '../../src/keys/recovery-kit.ts';

/** What generate.ts hands over: its fixed inputs, outputs and helpers. */
export interface GeneratorContext {
  previousAt(path: (string | number)[]): unknown;
  stableSigned(path: (string | number)[], fresh: Uint8Array, randomTail?: number): Uint8Array;
  stableRsaBody(path: (string | number)[], pair: CryptoKeyPair, key: Uint8Array, context: Uint8Array): Promise<Stanza>;
  keyPair(kind: 'rsa' | 'ecdsa', pkcs8Hex: string | undefined, spkiHex: string | undefined, modulusLength?: number): Promise<CryptoKeyPair>;
  fixed(length: number, seed: number): Bytes;
  assertEqual(a: Uint8Array, b: Uint8Array, what: string): void;
  nodeSeal(key: Uint8Array, index: number, isFinal: boolean, plain: Uint8Array): Uint8Array;
  nodePayloadDigest(payload: Uint8Array, segmentSize: number): { segmentDigests: Bytes[]; payloadDigest: Bytes };
  fileKey: Bytes;
  header: Header;
  headerBytes: Bytes;
  sub: { content: Bytes; metadata: Bytes; headerMac: Bytes; draftMac: Bytes };
  contentKey: CryptoKey;
  rsa: CryptoKeyPair;
  ecdsa: CryptoKeyPair;
  ecdsa2: CryptoKeyPair;
  manifest: Uint8Array;
  manifestPayloadDigest: Bytes;
  publicIdentity: Uint8Array;
  backup: Uint8Array;
  backupPassphrase: string;
  linkSecret: Bytes;
  scryptStanza: Stanza;
  metadataValue: FileMetadata;
  sealedMetadata: Uint8Array;
  payloads: { plaintext: Uint8Array; payload: Uint8Array; payloadDigest: Uint8Array }[];
}

type IdentityRef =
  | { kind: 'link'; secret: string }
  | { kind: 'passphrase'; passphrase: string }
  | { kind: 'passphrase'; passphraseUtf16: string }
  | { kind: 'rsa'; key: 'keys.rsa' | 'rsa4096' };

/** A passphrase that is not valid Unicode (a lone surrogate) goes in the JSON as hex UTF-16BE code units: "a", U+D800, "b". */
const LONE_SURROGATE_UTF16 = '0061d8000062';

interface NegativeCase {
  name: string;
  input: 'payload' | 'manifest' | 'publicIdentity' | 'backup' | 'rotation';
  rule: string;
  /** The input bytes, or (instead) `bytesFrom`: the path of a vector whose bytes are the input unchanged. */
  bytes?: string;
  bytesFrom?: string;
  error: string;
  segmentSize?: number;
  contentKey?: string;
  payloadDigest?: string;
  fileId?: string;
  identities?: IdentityRef[];
  passphrase?: string;
  passphraseUtf16?: string;
  oldIdentity?: string;
  newIdentity?: string;
  /** Order cases only: the class a reader reports if it skips the rule this case names (FORMAT.md §13). */
  ruleOffError?: string;
}

const sha256 = (b: Uint8Array): Bytes => new Uint8Array(createHash('sha256').update(b).digest());
const ECDSA_SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;

/** Returns `bytes` with one bit flipped at `at`. */
function flip(bytes: Uint8Array, at: number): Bytes {
  const out = Uint8Array.from(bytes);
  out[at] = (out[at] ?? 0) ^ 0x01;
  return out;
}

/** Returns `bytes` with byte `at` set to `v`. */
function patch(bytes: Uint8Array, at: number, v: number): Bytes {
  const out = Uint8Array.from(bytes);
  out[at] = v;
  return out;
}

/** Returns the compressed-point SPKI (59 bytes) of an uncompressed P-256 SPKI (91 bytes). */
function compressedSpki(spki: Uint8Array): Bytes {
  const x = spki.subarray(27, 59);
  const yLast = spki[90] ?? 0;
  return concatBytes(fromHex('3039301306072a8648ce3d020106082a8648ce3d030107032200'), Uint8Array.of(2 + (yLast & 1)), x);
}

/** Returns the hybrid-point SPKI (91 bytes, point tag 06/07) of an uncompressed P-256 SPKI. */
function hybridSpki(spki: Uint8Array): Bytes {
  return patch(spki, 26, 0x06 | ((spki[90] ?? 0) & 1));
}

/** Returns metadata fields padded as FORMAT.md §8.1: an end tag 0 and zeros to a multiple of 256. */
function pad(fields: Uint8Array): Bytes {
  const out = new Uint8Array(Math.ceil((fields.length + 1) / 256) * 256);
  out.set(fields);
  return out;
}

async function sign(pair: CryptoKeyPair, label: string, body: Uint8Array): Promise<Bytes> {
  return new Uint8Array(await crypto.subtle.sign(ECDSA_SIGN, pair.privateKey, labelled(label, body)));
}

/** Returns the extended vector sections (merged into v2.json by generate.ts). */
export async function buildExtendedVectors(c: GeneratorContext): Promise<Record<string, unknown>> {
  const { fixed, assertEqual, fileKey, headerBytes } = c;
  const ecdsaSpki = new Uint8Array(await crypto.subtle.exportKey('spki', c.ecdsa.publicKey));
  const ecdsa2Spki = new Uint8Array(await crypto.subtle.exportKey('spki', c.ecdsa2.publicKey));
  const rsaSpki = new Uint8Array(await crypto.subtle.exportKey('spki', c.rsa.publicKey));

  // --- the default segment size (S = 262144): one full segment and a short final one
  const bigHeader: Header = { segmentSize: 262_144, fileId: c.header.fileId, salt: c.header.salt };
  const bigHeaderBytes = encodeHeader(bigHeader);
  const bigContent = await deriveSubkeyBytes(fileKey, bigHeader.salt, LABEL_CONTENT, bigHeaderBytes);
  const bigPlain = pattern(262_144 + 1000);
  const bigPayload = await readAll(streamOf(bigPlain, 100_000).pipeThrough(createSealStream(await importAesGcmKey(bigContent), 262_144)));
  assertEqual(
    bigPayload,
    concatBytes(c.nodeSeal(bigContent, 0, false, bigPlain.subarray(0, 262_144)), c.nodeSeal(bigContent, 1, true, bigPlain.subarray(262_144))),
    'default-size payload',
  );
  const bigDigests = c.nodePayloadDigest(bigPayload, 262_144);
  const defaultSegmentSize = {
    note: 'keySchedule.fileKey, salt and fileId with segmentSize 262144; the payload of plaintextLength bytes of plaintextRule',
    segmentSize: 262_144,
    header: toHex(bigHeaderBytes),
    contentKey: toHex(bigContent),
    plaintextRule: 'byte i = i mod 251',
    plaintextLength: bigPlain.length,
    payloadLength: bigPayload.length,
    payloadSha256: toHex(sha256(bigPayload)),
    segment0Tag: toHex(bigPayload.subarray(262_144, 262_160)),
    finalSegment: toHex(bigPayload.subarray(262_160)),
    segmentDigests: bigDigests.segmentDigests.map(toHex),
    payloadDigest: toHex(bigDigests.payloadDigest),
  };

  // --- RSA-4096 recipient
  const prevString = (path: (string | number)[]): string | undefined => {
    const v = c.previousAt(path);
    return typeof v === 'string' ? v : undefined;
  };
  const rsa4096 = await c.keyPair('rsa', prevString(['rsa4096', 'privateKeyPkcs8']), prevString(['rsa4096', 'publicKeySpki']), 4096);
  const rsa4096Stanza = await c.stableRsaBody(['rsa4096', 'body'], rsa4096, fileKey, headerBytes);
  const rsa4096Spki = new Uint8Array(await crypto.subtle.exportKey('spki', rsa4096.publicKey));
  const rsa4096Vector = {
    note: 'a 4096-bit RSA-OAEP key; body (512 bytes, randomised) wraps keySchedule.fileKey for keySchedule.header',
    privateKeyPkcs8: toHex(new Uint8Array(await crypto.subtle.exportKey('pkcs8', rsa4096.privateKey))),
    publicKeySpki: toHex(rsa4096Spki),
    body: toHex(rsa4096Stanza.body),
  };

  // --- A recovery kit keeping a former encryption key (FORMAT.md §11.3)
  const formerKit = await assembleBackup(
    { encrypt: c.rsa, sign: c.ecdsa },
    c.backupPassphrase,
    { params: { kdf: 'scrypt', logN: 10, r: 8, p: 1 }, salt: c.fixed(32, 0x30) },
    { encrypt: c.fixed(12, 0x50), sign: c.fixed(12, 0x60), former: [c.fixed(12, 0x70)] },
    [rsa4096],
  );
  {
    // Cross-check the former entry with node:crypto: the last entry is nonce(12) ‖ lp16(wrapped), AES-256-GCM under the scrypt KEK.
    const kek = scryptSync(utf8(c.backupPassphrase.normalize('NFC')), c.fixed(32, 0x30), 32, { N: 1024, r: 8, p: 1 });
    const pkcs8 = new Uint8Array(await crypto.subtle.exportKey('pkcs8', rsa4096.privateKey));
    const wrappedLength = pkcs8.length + 16;
    const tail = formerKit.subarray(formerKit.length - 12 - 2 - wrappedLength);
    const r = new ByteReader(formerKit);
    r.take(5);
    r.take(36); // the scrypt KDF block (§6.1)
    const count = r.u8();
    for (let i = 0; i < count; i++) {
      r.u8();
      r.lp16();
    }
    const prefix = formerKit.subarray(0, r.offset);
    const decipher = createDecipheriv('aes-256-gcm', kek, tail.subarray(0, 12));
    decipher.setAAD(labelled('sealdrop/v2/backup/key', Uint8Array.of(0x80), prefix));
    const body = tail.subarray(14);
    decipher.setAuthTag(body.subarray(body.length - 16));
    c.assertEqual(new Uint8Array(Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()])), pkcs8, 'former key wrap');
  }
  const backupFormer = {
    note: 'FORMAT.md §11.3: keys.rsa and keys.ecdsa as the current keys, rsa4096 kept as the former encryption key (kind 0x80); scrypt logN 10, r 8, p 1, salt 30 31 …, nonces 50 51 … (kind 1), 60 61 … (kind 2), 70 71 … (kind 0x80). Restoring yields keys.rsa, keys.ecdsa and one former key, rsa4096; a reader that does not know kind 0x80 restores keys.rsa and keys.ecdsa from it.',
    passphrase: c.backupPassphrase,
    bytes: toHex(formerKit),
  };

  // --- NFC: a passphrase that normalisation changes
  const nfdPassphrase = 'cafe\u0301 au lait';
  const nfcBlock: KdfBlock = { params: { kdf: 'scrypt', logN: 10, r: 8, p: 1 }, salt: fixed(32, 0x70) };
  const nfcKek = await deriveKdfBytes(nfdPassphrase, nfcBlock);
  const nfcBytes = utf8(nfdPassphrase.normalize('NFC'));
  assertEqual(scryptSync(nfcBytes, nfcBlock.salt, 32, { N: 1024, r: 8, p: 1 }), nfcKek, 'scrypt NFC');
  const unnormalised = scryptSync(utf8(nfdPassphrase), nfcBlock.salt, 32, { N: 1024, r: 8, p: 1 });
  if (toHex(unnormalised) === toHex(nfcKek)) throw new Error('NFC vector does not exercise normalisation');
  const passphraseNfc = {
    note: 'passphrase is decomposed (e + U+0301); the KDF input is UTF-8 of its NFC form (U+00E9)',
    passphrase: nfdPassphrase,
    nfcUtf8: toHex(nfcBytes),
    salt: toHex(nfcBlock.salt),
    logN: 10,
    r: 8,
    p: 1,
    kek: toHex(nfcKek),
    kekWithoutNfc: toHex(unnormalised),
  };

  // --- link secret text form
  const linkText = encodeLinkSecret(c.linkSecret);
  if (linkText !== Buffer.from(c.linkSecret).toString('base64url')) throw new Error('cross-check failed: link secret text');
  const linkSecretText = { secret: toHex(c.linkSecret), text: linkText };

  // --- metadata variants
  const variantValues: { description: string; value: FileMetadata }[] = [
    { description: 'no relativePath, empty type', value: { name: 'a.txt', type: '', size: 0, lastModified: 0 } },
    { description: 'negative lastModified (before 1970)', value: { name: 'old.txt', type: 'text/plain', size: 1, lastModified: -86_400_000 } },
    {
      description: 'extreme integers: size MAX_PLAINTEXT_SIZE (8868626958514191), lastModified −(2^53−1)',
      value: { name: 'big', type: 'application/octet-stream', size: MAX_PLAINTEXT_SIZE, lastModified: -Number.MAX_SAFE_INTEGER },
    },
    {
      description: 'every text field at its byte limit (name 1024 = 512 × "é", type 255, relativePath 4096): 5406 bytes of fields, 5632 padded',
      value: {
        name: '\u00e9'.repeat(512),
        type: 'application/' + 'x'.repeat(243),
        size: 7,
        lastModified: 1_767_225_600_000,
        relativePath: 'd/'.repeat(2047) + 'ab',
      },
    },
    { description: 'exactly 255 bytes of fields: the end tag fills byte 255 (256 bytes)', value: { name: 'n'.repeat(227), type: '', size: 0, lastModified: 0 } },
    { description: 'exactly 256 bytes of fields: the end tag starts a second block (512 bytes)', value: { name: 'n'.repeat(228), type: '', size: 0, lastModified: 0 } },
    { description: 'empty name and a present but empty relativePath', value: { name: '', type: '', size: 3, lastModified: 5, relativePath: '' } },
    { description: 'a leading BOM is part of the name (not stripped)', value: { name: '\ufeffreadme.txt', type: 'text/plain', size: 2, lastModified: 1 } },
    { description: 'astral characters (4-byte UTF-8), not normalised', value: { name: '📄 notes – cafe\u0301.txt', type: 'text/plain', size: 9, lastModified: 2 } },
  ];
  const metadataVariants = variantValues.map((v) => ({ ...v, encoded: toHex(encodeMetadata(v.value)) }));
  const enc = (i: number): number => encodeMetadata(variantValues[i]?.value ?? variantValues[0]!.value).length;
  if (enc(3) !== 5632 || enc(4) !== 256 || enc(5) !== 512) throw new Error('metadata padding variants are off');

  // --- manifest variants (complete manifests; payloadDigest fixed, no payload)
  const manifestVariants: Record<string, unknown>[] = [];
  const variant = async (o: {
    path: (string | number)[];
    description: string;
    header: Header;
    key: Bytes;
    meta: FileMetadata;
    metadataNonce: Bytes;
    stanzas: Stanza[];
    payloadDigest: Bytes;
    opensWith: IdentityRef[];
  }): Promise<void> => {
    const draft = await assembleDraft({ header: o.header, fileKey: o.key, metadata: o.meta, metadataNonce: o.metadataNonce, stanzas: o.stanzas });
    const bytes = c.stableSigned([...o.path, 'bytes'], await finishManifest(draft, { payloadDigest: o.payloadDigest, signer: c.ecdsa }));
    manifestVariants.push({
      description: o.description,
      fileId: o.header.fileId,
      segmentSize: o.header.segmentSize,
      salt: toHex(o.header.salt),
      fileKey: toHex(o.key),
      header: toHex(encodeHeader(o.header)),
      metadata: o.meta,
      metadataNonce: toHex(o.metadataNonce),
      payloadDigest: toHex(o.payloadDigest),
      envelopes: o.stanzas.map((s) => ({ typeId: s.typeId, body: toHex(s.body) })),
      bytes: toHex(bytes),
      opensWith: o.opensWith,
    });
  };
  {
    const vHeader: Header = { segmentSize: 262_144, fileId: '0f1e2d3c4b5a69788796a5b4c3d2e1f0', salt: fixed(32, 0x90) };
    const vHeaderBytes = encodeHeader(vHeader);
    const vKey = fixed(32, 0x20);
    const path = ['manifestVariants', 0];
    await variant({
      path,
      description:
        'S = 262144; envelopes: unknown typeId 9 (skipped), RSA keys.rsa, RSA rsa4096, PBKDF2 passphrase sealed with the decomposed spelling; metadata without relativePath, empty type, lastModified −1',
      header: vHeader,
      key: vKey,
      meta: { name: 'notes.md', type: '', size: 262_145, lastModified: -1 },
      metadataNonce: fixed(12, 0x31),
      stanzas: [
        { typeId: 9, body: fixed(7, 0x01) },
        await c.stableRsaBody([...path, 'envelopes', 1, 'body'], c.rsa, vKey, vHeaderBytes),
        await c.stableRsaBody([...path, 'envelopes', 2, 'body'], rsa4096, vKey, vHeaderBytes),
        await sealPassphraseStanza(
          nfdPassphrase,
          { params: { kdf: 'pbkdf2-sha256', iterations: 600_000 }, salt: fixed(32, 0xf0) },
          fixed(12, 0x11),
          vKey,
          vHeaderBytes,
        ),
      ],
      payloadDigest: fixed(32, 0x55),
      opensWith: [
        { kind: 'passphrase', passphrase: 'caf\u00e9 au lait' },
        { kind: 'rsa', key: 'keys.rsa' },
        { kind: 'rsa', key: 'rsa4096' },
      ],
    });
  }
  {
    const vHeader: Header = { segmentSize: 1024, fileId: 'ffeeddccbbaa99887766554433221100', salt: fixed(32, 0x91) };
    const vKey = fixed(32, 0x21);
    const meta = variantValues[3]?.value;
    if (meta === undefined) throw new Error('variant missing');
    await variant({
      path: ['manifestVariants', 1],
      description: 'metadata with every text field at its byte limit; one link envelope (stanzas.linkSecret.secret)',
      header: vHeader,
      key: vKey,
      meta,
      metadataNonce: fixed(12, 0x32),
      stanzas: [await sealLinkStanza(c.linkSecret, fixed(12, 0x12), vKey, encodeHeader(vHeader))],
      payloadDigest: fixed(32, 0x56),
      opensWith: [{ kind: 'link', secret: toHex(c.linkSecret) }],
    });
  }

  // --- a public identity with an unknown key kind (accepted, skipped, still signed)
  const unknownKindBytes = c.stableSigned(
    ['publicIdentityUnknownKind', 'bytes'],
    await assemblePublicIdentity(
      [
        { kind: 1, key: rsaSpki },
        { kind: 2, key: ecdsaSpki },
        { kind: 200, key: fixed(1184, 0x07) },
      ],
      c.ecdsa.privateKey,
    ),
  );
  const publicIdentityUnknownKind = {
    note: 'kinds 1 (keys.rsa), 2 (keys.ecdsa) and 200 (1184 bytes, seed 0x07): readers skip kind 200 but the self-signature covers it',
    bytes: toHex(unknownKindBytes),
    fingerprint: await fingerprint(unknownKindBytes),
    skippedKinds: [200],
  };

  // --- rotation: publicIdentity → (rsa4096, keys.ecdsa2), signed by keys.ecdsa
  const newIdentity = c.stableSigned(['rotation', 'newIdentity'], await exportPublicIdentity({ encrypt: rsa4096, sign: c.ecdsa2 }));
  const statement = c.stableSigned(
    ['rotation', 'statement'],
    await signRotation({ oldIdentity: c.publicIdentity, newIdentity, oldSigningKey: c.ecdsa.privateKey }),
  );
  assertEqual(statement.subarray(0, 69), concatBytes(utf8('SDRT'), Uint8Array.of(2), sha256(c.publicIdentity), sha256(newIdentity)), 'rotation body');
  const rotation = {
    note: 'from publicIdentity.bytes to newIdentity (rsa4096 + keys.ecdsa2), signed by keys.ecdsa; the last 64 bytes are randomised',
    newIdentity: toHex(newIdentity),
    statement: toHex(statement),
    oldFingerprint: await fingerprint(c.publicIdentity),
    newFingerprint: await fingerprint(newIdentity),
  };

  // --- negative cases
  const negative: NegativeCase[] = [];
  const previousNegative = (name: string): Bytes | undefined => {
    const list = c.previousAt(['negative']);
    if (!Array.isArray(list)) return undefined;
    for (const item of list as unknown[]) {
      if (typeof item === 'object' && item !== null && 'name' in item && 'bytes' in item && item.name === name && typeof item.bytes === 'string') {
        return fromHex(item.bytes);
      }
    }
    return undefined;
  };
  /** Keeps a recorded signed case when only its randomised signature (last 64 bytes) would differ. */
  const stable = (name: string, fresh: Uint8Array): Uint8Array => {
    const old = previousNegative(name);
    const same = old !== undefined && old.length === fresh.length && toHex(old.subarray(0, old.length - 64)) === toHex(fresh.subarray(0, fresh.length - 64));
    return same ? old : fresh;
  };
  const v1 = z1(JSON.parse(readFileSync(new URL('./v1-inputs.json', import.meta.url), 'utf8')));

  // Payloads: each case carries the digest of its own segments, so only the named segment rule refuses it.
  const F = 1024 + 16;
  const [p0, p1, p2] = c.payloads;
  if (p0 === undefined || p1 === undefined || p2 === undefined) throw new Error('payload vectors missing');
  const pay = (name: string, rule: string, bytes: Uint8Array, error: string, digest?: Uint8Array): void => {
    const payloadDigest = digest ?? (bytes.length === 0 ? p0.payloadDigest : c.nodePayloadDigest(bytes, 1024).payloadDigest);
    negative.push({ name, input: 'payload', rule, segmentSize: 1024, contentKey: 'keySchedule.contentKey', payloadDigest: toHex(payloadDigest), bytes: toHex(bytes), error });
  };
  const P1 = p1.payload;
  const P2 = p2.payload;
  const own = 'payloadDigest = the digest of these bytes (so the segment rule alone refuses them)';
  pay('payload-flipped-byte', `payloads[1] with byte 1045 (segment 1) XOR 0x01; ${own}`, flip(P1, F + 5), 'TamperedError');
  pay('payload-flipped-tag-byte', `payloads[1] with its last byte XOR 0x01; ${own}`, flip(P1, P1.length - 1), 'TamperedError');
  pay('payload-truncated-at-boundary', `payloads[2] cut after segment 0 (1040 bytes): the full final segment is missing; ${own}`, P2.subarray(0, F), 'TruncatedError');
  pay('payload-truncated-at-second-boundary', `payloads[1] cut after segment 1 (2080 bytes); ${own}`, P1.subarray(0, 2 * F), 'TruncatedError');
  pay('payload-empty', 'no bytes at all; payloadDigest = payloads[0].payloadDigest', new Uint8Array(0), 'TruncatedError');
  pay('payload-boundary-plus-15', `payloads[1] cut 15 bytes after a boundary (1055 bytes): shorter than a tag; ${own}`, P1.subarray(0, F + 15), 'TruncatedError');
  pay('payload-cut-inside-final', `payloads[1] without its last byte (the final segment has ≥ 16 bytes but fails); ${own}`, P1.subarray(0, P1.length - 1), 'TamperedError');
  pay('payload-swapped-segments', `payloads[1] with segments 0 and 1 swapped; ${own}`, concatBytes(P1.subarray(F, 2 * F), P1.subarray(0, F), P1.subarray(2 * F)), 'TamperedError');
  pay('payload-duplicated-segment', `payloads[1] with segment 0 twice; ${own}`, concatBytes(P1.subarray(0, F), P1.subarray(0, F), P1.subarray(F)), 'TamperedError');
  pay('payload-dropped-segment', `payloads[1] without segment 1; ${own}`, concatBytes(P1.subarray(0, F), P1.subarray(2 * F)), 'TamperedError');
  pay('payload-appended-byte', `payloads[1] + 00; ${own}`, concatBytes(P1, Uint8Array.of(0)), 'TamperedError');
  pay('payload-appended-byte-after-full-final', `payloads[2] + 00 (its final segment is full); ${own}`, concatBytes(P2, Uint8Array.of(0)), 'TamperedError');
  pay(
    'payload-empty-final-after-full',
    `payloads[2]’s 2048 bytes sealed as two NON-final full segments 0 and 1, then an empty segment 2 sealed as final (every tag valid): only the empty-final rule refuses it, at index 2; payloadDigest = the digest of these bytes`,
    concatBytes(
      await encryptSegment(c.contentKey, 0, false, p2.plaintext.subarray(0, 1024)),
      await encryptSegment(c.contentKey, 1, false, p2.plaintext.subarray(1024)),
      await encryptSegment(c.contentKey, 2, true, new Uint8Array(0)),
    ),
    'TamperedError',
  );
  pay(
    'payload-final-flag-on-first-of-two',
    `segment 0 of payloads[2] re-sealed as final, then segment 1 as sealed; ${own}`,
    concatBytes(await encryptSegment(c.contentKey, 0, true, p2.plaintext.subarray(0, 1024)), P2.subarray(F)),
    'TamperedError',
  );
  {
    // A key holder re-seals different content (same length) under the right content key.
    const forged = p1.plaintext.map((b) => b ^ 0x5a);
    const substituted = concatBytes(
      ...(await Promise.all([0, 1, 2].map((i) => encryptSegment(c.contentKey, i, i === 2, forged.subarray(i * 1024, (i + 1) * 1024))))),
    );
    pay(
      'payload-substituted-by-key-holder',
      'payloads[1]’s plaintext XOR 0x5a, re-sealed under keySchedule.contentKey (every segment authenticates); payloadDigest = manifest.payloadDigest: only the digest refuses it, at the end',
      substituted,
      'TamperedError',
      c.manifestPayloadDigest,
    );
  }
  if (p0.payload.length !== 16) throw new Error('unexpected empty payload');

  // Manifests.
  const M = c.manifest;
  const fileIdHex = c.header.fileId;
  const link: IdentityRef = { kind: 'link', secret: toHex(c.linkSecret) };
  const man = (name: string, rule: string, bytes: Uint8Array | 'manifest.bytes', error: string, identities: IdentityRef[] = [link], fileId = fileIdHex): void => {
    const input = typeof bytes === 'string' ? { bytesFrom: bytes } : { bytes: toHex(bytes) };
    negative.push({ name, input: 'manifest', rule, fileId, identities, ...input, error });
  };
  const r = new ByteReader(M);
  r.take(57);
  r.lp16();
  r.take(32);
  const metaLen = r.lp16().length;
  const envStart = 57 + 2 + 91 + 32 + 2 + metaLen + 2; // first envelope: the link envelope
  const macStart = M.length - 64 - 32;
  man('manifest-v1', 'the last version-1 manifest vector (tests/vectors/v1-inputs.json): version 1 never shipped', v1.manifest, 'UnsupportedVersionError');
  man('manifest-version-1', 'manifest.bytes with byte 4 = 01', patch(M, 4, 1), 'UnsupportedVersionError');
  man('manifest-version-3', 'manifest.bytes with byte 4 = 03', patch(M, 4, 3), 'UnsupportedVersionError');
  man('manifest-only-magic-and-version-1', '53 44 52 50 01: five bytes', fromHex('5344525001'), 'UnsupportedVersionError');
  man('manifest-only-magic', '53 44 52 50: the version byte is missing', fromHex('53445250'), 'MalformedError');
  man('manifest-short-magic', '53 44 52: shorter than the magic', fromHex('534452'), 'MalformedError');
  man('manifest-wrong-magic', 'manifest.bytes with byte 0 = 58', patch(M, 0, 0x58), 'MalformedError');
  man('manifest-wrong-magic-and-version-1', 'manifest.bytes with byte 0 = 58 and byte 4 = 01: magic is checked first', patch(patch(M, 0, 0x58), 4, 1), 'MalformedError');
  man('manifest-flipped-fileid-byte', 'manifest.bytes with byte 10 XOR 0x01 (refused by the signature)', flip(M, 10), 'TamperedError');
  man('manifest-flipped-salt-byte', 'manifest.bytes with byte 40 XOR 0x01 (refused by the signature)', flip(M, 40), 'TamperedError');
  man('manifest-flipped-signer-key-byte', 'manifest.bytes with byte 140 (in the signer point) XOR 0x01 (the signature or the point check)', flip(M, 140), 'TamperedError');
  man('manifest-flipped-payload-digest-byte', 'manifest.bytes with byte 155 (in the payload digest) XOR 0x01 (refused by the signature)', flip(M, 155), 'TamperedError');
  man('manifest-flipped-metadata-byte', 'manifest.bytes with byte 200 (in the sealed metadata) XOR 0x01 (refused by the signature)', flip(M, 200), 'TamperedError');
  man('manifest-flipped-envelope-byte', `manifest.bytes with byte ${envStart + 3 + 20} (inside the link envelope body) XOR 0x01 (refused by the signature)`, flip(M, envStart + 3 + 20), 'TamperedError');
  man('manifest-flipped-mac-byte', `manifest.bytes with byte ${macStart} (first MAC byte) XOR 0x01 (refused by the signature)`, flip(M, macStart), 'TamperedError');
  man('manifest-flipped-signature-byte', 'manifest.bytes with its last byte XOR 0x01', flip(M, M.length - 1), 'TamperedError');
  man('manifest-appended-byte', 'manifest.bytes + 00', concatBytes(M, Uint8Array.of(0)), 'MalformedError');
  man('manifest-last-byte-missing', 'manifest.bytes without its last byte', M.subarray(0, M.length - 1), 'MalformedError');
  man('manifest-wrong-file-id', 'manifest.bytes opened as file ffff…ff', 'manifest.bytes', 'TamperedError', [link], 'ff'.repeat(16));
  man('manifest-wrong-passphrase', 'manifest.bytes with only a wrong passphrase', 'manifest.bytes', 'WrongPassphraseError', [{ kind: 'passphrase', passphrase: 'wrong' }]);
  man('manifest-empty-passphrase', 'manifest.bytes with the empty passphrase', 'manifest.bytes', 'WrongPassphraseError', [{ kind: 'passphrase', passphrase: '' }]);
  man(
    'manifest-lone-surrogate-passphrase',
    'manifest.bytes with the passphrase "a\\ud800b" given as passphraseUtf16 (a lone surrogate: no UTF-8 form, so no envelope was made with it)',
    'manifest.bytes',
    'WrongPassphraseError',
    [{ kind: 'passphrase', passphraseUtf16: LONE_SURROGATE_UTF16 }],
  );
  man('manifest-no-identity-opens', 'manifest.bytes with another link secret', 'manifest.bytes', 'WrongKeyError', [{ kind: 'link', secret: toHex(fixed(32, 0x99)) }]);
  man('manifest-no-identities', 'manifest.bytes with no identity at all', 'manifest.bytes', 'WrongKeyError', []);

  // Crafted manifests: everything consistent for their header (envelopes, metadata, MAC) and validly signed,
  // unless the case says otherwise.
  const linkStanzaFor = async (h: Uint8Array): Promise<Stanza> => sealLinkStanza(c.linkSecret, fixed(12, 0xb0), fileKey, h);
  const sealMeta = async (plain: Uint8Array, h: Uint8Array, aad: Uint8Array = h): Promise<Bytes> => {
    const key = await importAesGcmKey(await deriveSubkeyBytes(fileKey, h.subarray(25, 57), LABEL_METADATA, h));
    const nonce = fixed(12, 0xa1);
    return concatBytes(nonce, new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv: nonce, additionalData: toBytes(aad) }, key, toBytes(plain))));
  };
  const craft = async (o: {
    header?: Uint8Array;
    signerSpki?: Uint8Array;
    payloadDigest?: Uint8Array;
    sealedMetadata?: Uint8Array;
    stanzas?: Stanza[];
    mac?: Uint8Array;
    signer?: CryptoKeyPair;
  }): Promise<Bytes> => {
    const h = o.header ?? headerBytes;
    const stanzas = o.stanzas ?? [await linkStanzaFor(h)];
    const w = new ByteWriter()
      .raw(h)
      .lp16(o.signerSpki ?? ecdsaSpki)
      .raw(o.payloadDigest ?? c.manifestPayloadDigest)
      .lp16(o.sealedMetadata ?? (h === headerBytes ? c.sealedMetadata : await sealMeta(encodeMetadata(c.metadataValue), h)))
      .u16(stanzas.length);
    for (const s of stanzas) w.u8(s.typeId).lp16(s.body);
    const body = w.bytes();
    const macKey = await deriveSubkeyBytes(fileKey, h.subarray(25, 57), LABEL_HEADER_MAC, h);
    const mac = o.mac ?? new Uint8Array(createHmac('sha256', macKey).update(body).digest());
    const signed = concatBytes(body, mac);
    return concatBytes(signed, await sign(o.signer ?? c.ecdsa, 'sealdrop/v2/manifest', signed));
  };
  const crafted = async (name: string, rule: string, o: Parameters<typeof craft>[0], error: string, identities: IdentityRef[] = [link]): Promise<void> => {
    man(name, rule, stable(name, await craft(o)), error, identities);
  };
  // Sanity: the crafter rebuilds manifest.bytes up to the signature.
  {
    const again = await craft({ stanzas: parseManifest(M).stanzas });
    assertEqual(again.subarray(0, again.length - 64), M.subarray(0, M.length - 64), 'crafter');
  }
  const headerWithSize = (s: number): Bytes => {
    const h = Uint8Array.from(headerBytes);
    new DataView(h.buffer).setUint32(5, s);
    return h;
  };
  await crafted('manifest-segment-size-1023', 'header segment size 1023 (under the minimum); envelopes, metadata, MAC and signature all made for that header', { header: headerWithSize(1023) }, 'MalformedError');
  await crafted(
    'manifest-segment-size-over-cap',
    'header segment size 16777217 (one over the cap); envelopes, metadata, MAC and signature all made for that header: only the segment-size check refuses it',
    { header: headerWithSize(16 * 1024 * 1024 + 1) },
    'MalformedError',
  );
  {
    // Re-signed by another key: signer field = keys.ecdsa2, signed by keys.ecdsa2, MAC unchanged (no file key).
    const genuineMac = M.subarray(macStart, macStart + 32);
    await crafted(
      'manifest-resigned-by-another-key',
      'manifest.bytes with the signer field replaced by keys.ecdsa2 and signed by keys.ecdsa2 (valid signature); the MAC is the original one, since the re-signer lacks the file key: only the MAC refuses it',
      { signerSpki: ecdsa2Spki, mac: genuineMac, signer: c.ecdsa2, stanzas: parseManifest(M).stanzas },
      'TamperedError',
      [link],
    );
    await crafted(
      'manifest-mac-only-digest-substituted',
      'manifest.bytes with the payload digest replaced by 32 bytes of seed 0x66 and re-signed by keys.ecdsa (the owner’s key: valid signature); MAC unchanged: only the MAC refuses it',
      { payloadDigest: fixed(32, 0x66), mac: genuineMac, stanzas: parseManifest(M).stanzas },
      'TamperedError',
    );
  }
  await crafted(
    'manifest-signer-hybrid-point',
    'signer field = keys.ecdsa in the hybrid point form (byte 26 = 06/07), MAC over those bytes, signed by keys.ecdsa: only the 27-byte prefix check refuses it (some WebCrypto imports it)',
    { signerSpki: hybridSpki(ecdsaSpki) },
    'TamperedError',
  );
  await crafted('manifest-signer-rsa-spki', 'signer field holds the RSA SPKI of keys.rsa; signed by keys.ecdsa', { signerSpki: rsaSpki }, 'TamperedError');
  await crafted('manifest-signer-compressed-point', 'signer field holds keys.ecdsa as a 59-byte compressed-point SPKI; signed by keys.ecdsa', { signerSpki: compressedSpki(ecdsaSpki) }, 'TamperedError');
  await crafted(
    'manifest-metadata-impossible-length',
    'sealed metadata of 12 + 255 + 16 bytes (a 255-byte plaintext, sealed correctly), MAC and signature valid: the length rule 28 + 256·j refuses it while parsing',
    { sealedMetadata: await sealMeta(encodeMetadata(c.metadataValue).subarray(0, 255), headerBytes) },
    'MalformedError',
  );

  const linkStanza = await linkStanzaFor(headerBytes);
  const kdfStanza = (params: KdfParams, bodyExtra = 60, id?: number): Stanza => {
    const w = new ByteWriter();
    writeKdfBlock(w, { params, salt: fixed(32, 0xc0) });
    const b = w.raw(fixed(bodyExtra, 0x01)).bytes();
    if (id !== undefined) b[0] = id;
    return { typeId: 2, body: b };
  };
  const pass = (p: string): IdentityRef => ({ kind: 'passphrase', passphrase: p });
  const env = async (name: string, rule: string, stanzas: Stanza[], error: string, identities: IdentityRef[] = [link]): Promise<void> =>
    crafted(name, rule, { stanzas }, error, identities);
  const rightPass = 'correct horse battery staple ✓';
  await env('manifest-two-passphrase-envelopes', 'envelopes: passphraseScrypt, a PBKDF2 passphrase envelope (signed, MAC valid)', [c.scryptStanza, kdfStanza({ kdf: 'pbkdf2-sha256', iterations: 600_000 })], 'MalformedError', [pass(rightPass)]);
  await env('manifest-zero-envelopes', 'envelope count 0 (signed, MAC valid)', [], 'MalformedError');
  await env('manifest-65-envelopes', '65 copies of the link envelope (signed, MAC valid)', Array.from({ length: 65 }, () => linkStanza), 'MalformedError');
  await env('manifest-kdf-over-cap-logn', 'one passphrase envelope: scrypt logN 21, r 1, p 1 (memory exactly 256 MiB, work 256 MiB: only the logN cap)', [kdfStanza({ kdf: 'scrypt', logN: 21, r: 1, p: 1 })], 'KdfParamsTooHighError', [pass('x')]);
  await env('manifest-kdf-over-cap-r', 'scrypt logN 10, r 17, p 1 (memory 2.1 MiB: only the r cap)', [kdfStanza({ kdf: 'scrypt', logN: 10, r: 17, p: 1 })], 'KdfParamsTooHighError', [pass('x')]);
  await env('manifest-kdf-over-cap-p', 'scrypt logN 10, r 8, p 5 (work 5 MiB: only the p cap)', [kdfStanza({ kdf: 'scrypt', logN: 10, r: 8, p: 5 })], 'KdfParamsTooHighError', [pass('x')]);
  await env('manifest-kdf-over-cap-memory', 'scrypt logN 18, r 16, p 1 (memory 512 MiB; work 512 MiB is at its cap: only the memory cap)', [kdfStanza({ kdf: 'scrypt', logN: 18, r: 16, p: 1 })], 'KdfParamsTooHighError', [pass('x')]);
  await env('manifest-kdf-over-cap-work', 'scrypt logN 18, r 8, p 3 (memory 256 MiB at its cap; work 768 MiB: only the work cap)', [kdfStanza({ kdf: 'scrypt', logN: 18, r: 8, p: 3 })], 'KdfParamsTooHighError', [pass('x')]);
  await env('manifest-kdf-over-cap-pbkdf2', 'PBKDF2 5,000,001 iterations', [kdfStanza({ kdf: 'pbkdf2-sha256', iterations: 5_000_001 })], 'KdfParamsTooHighError', [pass('x')]);
  await env('manifest-kdf-weak-scrypt', 'scrypt logN 9', [kdfStanza({ kdf: 'scrypt', logN: 9, r: 8, p: 1 })], 'MalformedError', [pass('x')]);
  await env('manifest-kdf-weak-and-over-cap', 'scrypt logN 9, r 17 (weak AND over a cap: the weak check comes first)', [kdfStanza({ kdf: 'scrypt', logN: 9, r: 17, p: 1 })], 'MalformedError', [pass('x')]);
  await env('manifest-kdf-scrypt-r-0', 'scrypt logN 10, r 0, p 1', [kdfStanza({ kdf: 'scrypt', logN: 10, r: 0, p: 1 })], 'MalformedError', [pass('x')]);
  await env('manifest-kdf-weak-pbkdf2', 'PBKDF2 599,999 iterations', [kdfStanza({ kdf: 'pbkdf2-sha256', iterations: 599_999 })], 'MalformedError', [pass('x')]);
  await env('manifest-kdf-unknown-id', 'passphrase envelope whose KDF id is 3', [kdfStanza({ kdf: 'pbkdf2-sha256', iterations: 600_000 }, 60, 3)], 'UnsupportedVersionError', [pass('x')]);
  await env('manifest-passphrase-body-empty', 'a passphrase envelope with an empty body (no KDF id at all): malformed, not an unknown KDF', [{ typeId: 2, body: new Uint8Array(0) }], 'MalformedError', [pass('x')]);
  await env('manifest-passphrase-body-97-scrypt', 'scrypt passphrase envelope of 97 bytes (one extra byte)', [{ typeId: 2, body: concatBytes(c.scryptStanza.body, Uint8Array.of(0)) }], 'MalformedError', [pass(rightPass)]);
  await env('manifest-passphrase-body-95', 'scrypt passphrase envelope without its last byte', [{ typeId: 2, body: c.scryptStanza.body.subarray(0, 95) }], 'MalformedError', [pass(rightPass)]);
  await env('manifest-link-body-59', 'link envelope without its last byte', [{ typeId: 3, body: linkStanza.body.subarray(0, 59) }], 'MalformedError');
  await env(
    'manifest-search-order-identities-outer',
    'envelopes: [link body of 59 bytes, passphraseScrypt]; identities: [passphrase "wrong", link]. Identities outer → the first thrown error is the wrong passphrase',
    [{ typeId: 3, body: linkStanza.body.subarray(0, 59) }, c.scryptStanza],
    'WrongPassphraseError',
    [pass('wrong'), link],
  );
  {
    // RSA-OAEP is randomised: keep the recorded body when there is one.
    const name = 'manifest-rsa-envelope-31-bytes';
    const recorded = previousNegative(name);
    const at = 57 + 2 + 91 + 32 + 2 + c.sealedMetadata.length + 2 + 3;
    const rsaBody =
      recorded?.subarray(at, at + 384) ??
      new Uint8Array(await crypto.subtle.encrypt({ name: 'RSA-OAEP', label: labelled('sealdrop/v2/rsa-oaep', headerBytes) }, c.rsa.publicKey, fileKey.subarray(0, 31)));
    await env(name, 'an RSA envelope (keys.rsa) that decrypts to 31 bytes', [{ typeId: 1, body: rsaBody }], 'MalformedError', [{ kind: 'rsa', key: 'keys.rsa' }]);
  }
  {
    const evil = await sealLinkStanza(c.linkSecret, fixed(12, 0x13), fixed(32, 0x42), headerBytes);
    await env('manifest-key-commitment', 'the link envelope opens to another 32-byte key; MAC made with the real one', [evil], 'TamperedError');
    await env('manifest-mac-after-open-no-fallthrough', 'envelopes: [evil link (other key), genuine link]: the first key that opens is used; its MAC failure is final', [evil, linkStanza], 'TamperedError');
  }
  const tlv = (tag: number, value: Uint8Array): Bytes => new ByteWriter().u8(tag).lp16(value).bytes();
  const i64 = (v: bigint): Bytes => {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigInt64(0, v);
    return b;
  };
  const goodFields = [tlv(1, utf8('a')), tlv(2, utf8('')), tlv(3, i64(1n)), tlv(4, i64(0n))] as const;
  const metaCase = async (name: string, rule: string, plain: Uint8Array, error: string, aad?: Uint8Array): Promise<void> =>
    crafted(name, `${rule}; sealed, MAC’d and signed correctly`, { sealedMetadata: await sealMeta(plain, headerBytes, aad) }, error);
  const fields = (...f: Uint8Array[]): Bytes => pad(concatBytes(...f));
  await metaCase('manifest-metadata-unknown-tag', 'fields 1–4 + tag 7 (empty), padded', fields(...goodFields, tlv(7, new Uint8Array(0))), 'MalformedError');
  await metaCase('manifest-metadata-repeated-tag', 'tags 1, 1, 2, 3, 4 (name twice), padded', fields(goodFields[0], goodFields[0], ...goodFields.slice(1)), 'MalformedError');
  {
    const dirty = fields(...goodFields);
    dirty[255] = 1;
    await metaCase('manifest-metadata-nonzero-padding', 'fields 1–4, end tag, padding to 256 bytes with its last byte 01', dirty, 'MalformedError');
  }
  await metaCase(
    'manifest-metadata-no-end-tag',
    'fields 1–4 filling exactly 256 bytes (name of 228 bytes), no end tag after them',
    concatBytes(tlv(1, new Uint8Array(228).fill(0x6e)), ...goodFields.slice(1)),
    'MalformedError',
  );
  await metaCase('manifest-metadata-invalid-utf8', 'name = c3 28 (invalid UTF-8), padded', fields(tlv(1, fromHex('c328')), ...goodFields.slice(1)), 'MalformedError');
  await metaCase('manifest-metadata-surrogate-utf8', 'name = ed a0 80 (an encoded surrogate, invalid in UTF-8), padded', fields(tlv(1, fromHex('eda080')), ...goodFields.slice(1)), 'MalformedError');
  await metaCase('manifest-metadata-overlong-utf8', 'name = c0 af (overlong "/"), padded', fields(tlv(1, fromHex('c0af')), ...goodFields.slice(1)), 'MalformedError');
  await metaCase('manifest-metadata-negative-size', 'size = −1, padded', fields(goodFields[0], goodFields[1], tlv(3, i64(-1n)), goodFields[3]), 'MalformedError');
  await metaCase(
    'manifest-metadata-size-over-max',
    'size = MAX_PLAINTEXT_SIZE + 1 = 8868626958514192 (a safe integer, but its sealed size is not), padded',
    fields(goodFields[0], goodFields[1], tlv(3, i64(BigInt(MAX_PLAINTEXT_SIZE) + 1n)), goodFields[3]),
    'MalformedError',
  );
  await metaCase('manifest-metadata-size-2^53', 'size = 2^53 (outside the safe range), padded', fields(goodFields[0], goodFields[1], tlv(3, i64(2n ** 53n)), goodFields[3]), 'MalformedError');
  await metaCase('manifest-metadata-missing-lastmodified', 'tags 1, 2, 3 only, padded', fields(goodFields[0], goodFields[1], goodFields[2]), 'MalformedError');
  await metaCase('manifest-metadata-out-of-order', 'tags 2, 1, 3, 4, padded', fields(goodFields[1], goodFields[0], goodFields[2], goodFields[3]), 'MalformedError');
  await metaCase('manifest-metadata-name-1025-bytes', 'name of 1025 bytes, padded', fields(tlv(1, new Uint8Array(1025).fill(0x61)), ...goodFields.slice(1)), 'MalformedError');
  await metaCase(
    'manifest-metadata-labelled-aad',
    'metadata.encoded sealed with AAD labelled("sealdrop/v2/metadata", header) instead of the raw header',
    encodeMetadata(c.metadataValue),
    'TamperedError',
    labelled('sealdrop/v2/metadata', headerBytes),
  );

  // Public identities.
  const PI = c.publicIdentity;
  const pid = (name: string, rule: string, bytes: Uint8Array, error: string): void => {
    negative.push({ name, input: 'publicIdentity', rule, bytes: toHex(bytes), error });
  };
  const selfSigned = async (name: string, entries: { kind: number; key: Uint8Array }[]): Promise<Uint8Array> => {
    const w = new ByteWriter().raw(utf8('SDPI')).u8(2).u8(entries.length);
    for (const e of entries) w.u8(e.kind).lp16(e.key);
    const body = w.bytes();
    return stable(name, concatBytes(body, await sign(c.ecdsa, 'sealdrop/v2/public-identity', body)));
  };
  pid('public-identity-v1', 'the last version-1 public identity vector (tests/vectors/v1-inputs.json)', v1.publicIdentity, 'UnsupportedVersionError');
  pid('public-identity-version-1', 'publicIdentity.bytes with byte 4 = 01', patch(PI, 4, 1), 'UnsupportedVersionError');
  pid('public-identity-version-3', 'publicIdentity.bytes with byte 4 = 03', patch(PI, 4, 3), 'UnsupportedVersionError');
  pid('public-identity-only-magic-and-version-3', '53 44 50 49 03', fromHex('5344504903'), 'UnsupportedVersionError');
  pid('public-identity-flipped-signature', 'publicIdentity.bytes with byte length−5 XOR 0x01', flip(PI, PI.length - 5), 'TamperedError');
  pid('public-identity-appended-byte', 'publicIdentity.bytes + 00', concatBytes(PI, Uint8Array.of(0)), 'MalformedError');
  pid(
    'public-identity-unknown-kind-edited',
    'publicIdentityUnknownKind.bytes with a byte of the kind-200 key XOR 0x01: skipped kinds are still covered by the self-signature',
    flip(unknownKindBytes, unknownKindBytes.length - 64 - 10),
    'TamperedError',
  );
  const spkiDer = (name: string, bits: number, e: number): Bytes => {
    const old = previousNegative(name);
    if (old !== undefined) {
      // Reuse the recorded key: the kind-1 SPKI is the lp16 field at offset 7.
      const len = ((old[7] ?? 0) << 8) | (old[8] ?? 0);
      return old.slice(9, 9 + len);
    }
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: bits, publicExponent: e });
    return new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }));
  };
  for (const [bits, e, rule] of [
    [2048, 65537, 'a 2048-bit RSA key, validly self-signed by keys.ecdsa'],
    [3072, 3, 'a 3072-bit RSA key with public exponent 3, validly self-signed'],
    [3076, 65537, 'a 3076-bit RSA key (in range, exponent 65537, canonical DER, validly self-signed): only the multiple-of-8 rule refuses it'],
  ] as const) {
    const name = bits === 3076 ? 'public-identity-rsa-3076-bits' : `public-identity-rsa-${bits}-e${e}`;
    pid(name, rule, await selfSigned(name, [{ kind: 1, key: spkiDer(name, bits, e) }, { kind: 2, key: ecdsaSpki }]), 'MalformedError');
  }
  pid(
    'public-identity-compressed-signing-key',
    'kind-2 key as a 59-byte compressed-point SPKI, self-signed by keys.ecdsa',
    await selfSigned('public-identity-compressed-signing-key', [{ kind: 1, key: rsaSpki }, { kind: 2, key: compressedSpki(ecdsaSpki) }]),
    'MalformedError',
  );
  pid(
    'public-identity-hybrid-signing-key',
    'kind-2 key = keys.ecdsa in the hybrid point form (byte 26 = 06/07), self-signed by keys.ecdsa: only the 27-byte prefix check refuses it',
    await selfSigned('public-identity-hybrid-signing-key', [{ kind: 1, key: rsaSpki }, { kind: 2, key: hybridSpki(ecdsaSpki) }]),
    'MalformedError',
  );
  pid('public-identity-missing-signing-key', 'only kind 1 (keys.rsa), signed by keys.ecdsa', await selfSigned('public-identity-missing-signing-key', [{ kind: 1, key: rsaSpki }]), 'MalformedError');
  pid(
    'public-identity-repeated-kind',
    'kinds 1, 1, 2 (keys.rsa twice), signed by keys.ecdsa',
    await selfSigned('public-identity-repeated-kind', [{ kind: 1, key: rsaSpki }, { kind: 1, key: rsaSpki }, { kind: 2, key: ecdsaSpki }]),
    'MalformedError',
  );
  pid('public-identity-zero-keys', 'key count 0, signed by keys.ecdsa', await selfSigned('public-identity-zero-keys', []), 'MalformedError');

  // Recovery kits.
  const B = c.backup;
  const kit = (name: string, rule: string, bytes: Uint8Array | 'backup.bytes', error: string, passphrase: string | { utf16: string } = c.backupPassphrase): void => {
    const input = typeof bytes === 'string' ? { bytesFrom: bytes } : { bytes: toHex(bytes) };
    const pp = typeof passphrase === 'string' ? { passphrase } : { passphraseUtf16: passphrase.utf16 };
    negative.push({ name, input: 'backup', rule, ...pp, ...input, error });
  };
  kit('backup-v1', 'the last version-1 recovery kit vector (tests/vectors/v1-inputs.json), its own passphrase', v1.backup, 'UnsupportedVersionError', 'recovery passphrase for vectors');
  kit('backup-wrong-passphrase', 'backup.bytes with passphrase "wrong"', 'backup.bytes', 'WrongPassphraseError', 'wrong');
  kit('backup-empty-passphrase', 'backup.bytes with the empty passphrase', 'backup.bytes', 'WrongPassphraseError', '');
  kit('backup-lone-surrogate-passphrase', 'backup.bytes with the passphrase "a\\ud800b" given as passphraseUtf16 (no UTF-8 form)', 'backup.bytes', 'WrongPassphraseError', { utf16: LONE_SURROGATE_UTF16 });
  kit('backup-flipped-wrapped-key', 'backup.bytes with byte length−3 XOR 0x01', flip(B, B.length - 3), 'WrongPassphraseError');
  kit('backup-kdf-over-cap', 'backup.bytes with scrypt logN (byte 38) = 21', patch(B, 38, 21), 'KdfParamsTooHighError');
  kit('backup-kdf-weak', 'backup.bytes with scrypt logN (byte 38) = 9', patch(B, 38, 9), 'MalformedError');
  kit('backup-kdf-unknown-id', 'backup.bytes with KDF id (byte 5) = 3', patch(B, 5, 3), 'UnsupportedVersionError');
  kit('backup-version-3', 'backup.bytes with byte 4 = 03', patch(B, 4, 3), 'UnsupportedVersionError');
  kit('backup-appended-byte', 'backup.bytes + 00', concatBytes(B, Uint8Array.of(0)), 'MalformedError');
  {
    // Replace the kind-2 wrapped key by 16 bytes: shorter than the 17-byte minimum.
    const rb = new ByteReader(B);
    rb.take(5 + 36 + 1);
    rb.u8();
    rb.lp16();
    rb.u8();
    rb.lp16();
    rb.take(12);
    rb.lp16();
    const signNonceAt = rb.offset;
    const short = concatBytes(B.subarray(0, signNonceAt + 12), new ByteWriter().lp16(fixed(16, 0x01)).bytes());
    kit('backup-wrapped-key-16-bytes', 'backup.bytes with the kind-2 wrapped key replaced by 16 bytes (a tag and no key): malformed while parsing', short, 'MalformedError');
  }
  {
    // Public half of rsa4096, private half of keys.rsa: authentic under the passphrase, but not a pair.
    const mismatched = await assembleBackup(
      { encrypt: { publicKey: rsa4096.publicKey, privateKey: c.rsa.privateKey }, sign: c.ecdsa },
      c.backupPassphrase,
      { params: { kdf: 'scrypt', logN: 10, r: 8, p: 1 }, salt: fixed(32, 0x30) },
      { encrypt: fixed(12, 0x50), sign: fixed(12, 0x60) },
    );
    kit('backup-keys-do-not-match', 'a kit (fixed salt and nonces as backup) holding rsa4096’s public key and keys.rsa’s private key', mismatched, 'MalformedError');
  }

  // Rotation statements.
  const rot = (name: string, rule: string, bytes: Uint8Array, error: string, oldId: Uint8Array = c.publicIdentity, newId: Uint8Array = newIdentity): void => {
    negative.push({ name, input: 'rotation', rule, bytes: toHex(bytes), oldIdentity: toHex(oldId), newIdentity: toHex(newId), error });
  };
  rot('rotation-version-1', 'rotation.statement with byte 4 = 01', patch(statement, 4, 1), 'UnsupportedVersionError');
  rot('rotation-flipped-signature', 'rotation.statement with its last byte XOR 0x01', flip(statement, statement.length - 1), 'TamperedError');
  {
    const body = statement.subarray(0, 69);
    rot('rotation-signed-by-new-key', 'the body of rotation.statement signed by keys.ecdsa2 (the NEW key) instead of the old one', stable('rotation-signed-by-new-key', concatBytes(body, await sign(c.ecdsa2, 'sealdrop/v2/rotation', body))), 'TamperedError');
    const same = concatBytes(utf8('SDRT'), Uint8Array.of(2), sha256(c.publicIdentity), sha256(c.publicIdentity));
    rot('rotation-same-identity-twice', 'both hashes = SHA-256(publicIdentity.bytes), signed by keys.ecdsa; checked against publicIdentity twice', stable('rotation-same-identity-twice', concatBytes(same, await sign(c.ecdsa, 'sealdrop/v2/rotation', same))), 'MalformedError', c.publicIdentity, c.publicIdentity);
  }
  rot('rotation-about-another-identity', 'rotation.statement checked against publicIdentity → publicIdentityUnknownKind (a valid identity it does not name)', statement, 'TamperedError', c.publicIdentity, unknownKindBytes);
  rot('rotation-one-byte-short', 'rotation.statement without its last byte', statement.subarray(0, 132), 'MalformedError');

  // Order pins (FORMAT.md §13 "Order cases"): two faults on purpose; `error` is the earlier rule's class and
  // `ruleOffError` what a reader reports if it skips that rule (the later fault then decides).
  const pinOrder = (ruleOffError: string): void => {
    const last = negative[negative.length - 1];
    if (last === undefined) throw new Error('no case to pin');
    last.ruleOffError = ruleOffError;
  };
  const bytesOf = (name: string): Bytes => {
    const found = negative.find((n) => n.name === name)?.bytes;
    if (found === undefined) throw new Error(`negative case ${name} missing`);
    return fromHex(found);
  };
  pay(
    'payload-order-end-of-input-before-digest',
    'payloads[2] cut after segment 0 (1040 bytes: the full final segment is missing), with payloadDigest = payloads[2].payloadDigest (the whole file’s, which these bytes do not match): the end-of-input rule (§5.4 step 2) decides before the digest (step 3)',
    P2.subarray(0, F),
    'TruncatedError',
    p2.payloadDigest,
  );
  pinOrder('TamperedError');
  {
    const rsa2048 = bytesOf('public-identity-rsa-2048-e65537');
    pid(
      'public-identity-order-signature-before-rsa-rules',
      'public-identity-rsa-2048-e65537 (a 2048-bit kind-1 key) with byte length−5 XOR 0x01 (self-signature broken): the self-signature is checked before the §2 RSA rules',
      flip(rsa2048, rsa2048.length - 5),
      'TamperedError',
    );
    pinOrder('MalformedError');
  }
  await env(
    'manifest-order-kdf-cap-before-empty-passphrase',
    'one passphrase envelope with scrypt logN 21, r 1, p 1 (over the logN cap), opened with the EMPTY passphrase: the KDF checks come before the empty-passphrase rule',
    [kdfStanza({ kdf: 'scrypt', logN: 21, r: 1, p: 1 })],
    'KdfParamsTooHighError',
    [pass('')],
  );
  pinOrder('WrongPassphraseError');
  await env(
    'manifest-order-body-length-before-lone-surrogate',
    'passphraseScrypt’s body without its last byte (95 bytes), opened with the lone-surrogate passphrase "a\\ud800b" (passphraseUtf16): the body length is checked before the lone-surrogate rule',
    [{ typeId: 2, body: c.scryptStanza.body.subarray(0, 95) }],
    'MalformedError',
    [{ kind: 'passphrase', passphraseUtf16: LONE_SURROGATE_UTF16 }],
  );
  pinOrder('WrongPassphraseError');
  kit(
    'backup-order-kdf-cap-before-lone-surrogate',
    'backup.bytes with scrypt logN (byte 38) = 21, restored with the lone-surrogate passphrase "a\\ud800b" (passphraseUtf16): the KDF checks come before the lone-surrogate rule',
    patch(B, 38, 21),
    'KdfParamsTooHighError',
    { utf16: LONE_SURROGATE_UTF16 },
  );
  pinOrder('WrongPassphraseError');
  kit(
    'backup-order-kdf-cap-before-empty-passphrase',
    'backup.bytes with scrypt logN (byte 38) = 21, restored with the empty passphrase: the KDF checks come before the empty-passphrase rule',
    patch(B, 38, 21),
    'KdfParamsTooHighError',
    '',
  );
  pinOrder('WrongPassphraseError');
  {
    const unsupported = patch(c.publicIdentity, 4, 3);
    rot(
      'rotation-order-equal-hashes-before-import',
      'the statement of rotation-same-identity-twice (both hashes equal), checked against publicIdentity.bytes with byte 4 = 03 as BOTH identities (neither imports): the equal-hashes rule comes before the imports',
      bytesOf('rotation-same-identity-twice'),
      'MalformedError',
      unsupported,
      unsupported,
    );
    pinOrder('UnsupportedVersionError');
  }
  {
    const dirty = fields(...goodFields);
    dirty[255] = 1;
    await crafted(
      'manifest-order-later-key-discards-errors',
      'envelopes [passphraseScrypt, link]; identities [passphrase "wrong", link]; metadata with non-zero padding (as manifest-metadata-nonzero-padding), MAC and signature valid. The passphrase identity throws wrong passphrase; the link identity then finds the key, which discards that error (§7.4 step 2); the metadata rule refuses the file',
      { sealedMetadata: await sealMeta(dirty, headerBytes), stanzas: [c.scryptStanza, linkStanza] },
      'MalformedError',
      [pass('wrong'), link],
    );
    pinOrder('WrongPassphraseError');
  }
  {
    // Kind 1 authentic under the KEK but not PKCS#8; kind 2's tag broken: kind 1's import is met first.
    const rb = new ByteReader(B);
    rb.take(5 + 36);
    const count = rb.u8();
    for (let i = 0; i < count; i++) {
      rb.u8();
      rb.lp16();
    }
    const prefix = B.slice(0, rb.offset);
    const nonce1 = rb.take(12).slice();
    rb.lp16();
    const nonce2 = rb.take(12).slice();
    const wrapped2 = rb.lp16().slice();
    const kek = await crypto.subtle.importKey(
      'raw',
      toBytes(await deriveKdfBytes(c.backupPassphrase, { params: { kdf: 'scrypt', logN: 10, r: 8, p: 1 }, salt: fixed(32, 0x30) })),
      'AES-GCM',
      false,
      ['encrypt'],
    );
    const notPkcs8 = new Uint8Array(
      await crypto.subtle.encrypt({ name: 'AES-GCM', iv: nonce1, additionalData: labelled('sealdrop/v2/backup/key', Uint8Array.of(1), prefix) }, kek, toBytes(fixed(64, 0x01))),
    );
    const bytes = new ByteWriter().raw(prefix).raw(nonce1).lp16(notPkcs8).raw(nonce2).lp16(flip(wrapped2, wrapped2.length - 1)).bytes();
    kit(
      'backup-order-kind1-import-before-kind2-tag',
      'backup.bytes with the kind-1 wrapped key replaced by 64 bytes of pattern seed 0x01 (not PKCS#8) sealed correctly under the KEK, nonce and AAD, and the kind-2 wrapped key’s last byte XOR 0x01 (tag fails): kind 1 is unwrapped AND imported before kind 2’s tag is checked',
      bytes,
      'MalformedError',
    );
    pinOrder('WrongPassphraseError');
  }
  // passphraseUtf16 is decoded, not ignored: these open only with the decoded passphrase, then fail a later rule.
  {
    const utf16be = (text: string): string => {
      let out = '';
      for (let i = 0; i < text.length; i++) out += text.charCodeAt(i).toString(16).padStart(4, '0');
      return out;
    };
    man(
      'manifest-passphrase-utf16-decoded',
      'the bytes of manifest-mac-only-digest-substituted, opened with passphraseUtf16 = the UTF-16BE of "correct horse battery staple ✓" (the right passphrase): it opens the scrypt envelope and the MAC refuses the file. A reader that ignores passphraseUtf16 reports WrongPassphraseError or WrongKeyError instead',
      bytesOf('manifest-mac-only-digest-substituted'),
      'TamperedError',
      [{ kind: 'passphrase', passphraseUtf16: utf16be(rightPass) }],
    );
    kit(
      'backup-passphrase-utf16-decoded',
      'the bytes of backup-keys-do-not-match, restored with passphraseUtf16 = the UTF-16BE of "recovery passphrase for vectors" (the right passphrase): the keys unwrap and the pair check refuses the kit. A reader that ignores passphraseUtf16 reports WrongPassphraseError instead',
      bytesOf('backup-keys-do-not-match'),
      'MalformedError',
      { utf16: utf16be(c.backupPassphrase) },
    );
  }

  // The recovery kit file (FORMAT.md §11.2): the text recoveryKitText writes for backup.bytes, and what readers accept and refuse.
  const kitFields = {
    userId: '0123456789abcdef0123456789abcdef',
    email: 'ada@example.test',
    fingerprint: await fingerprint(c.publicIdentity),
    createdAt: '2026-01-02T03:04:05.678Z',
  };
  const kitText = recoveryKitText({ ...kitFields, createdAt: new Date(kitFields.createdAt), recoveryBlob: toBytes(B) });
  const [beforeData, afterBegin] = kitText.split('-----BEGIN SEALDROP RECOVERY KIT-----\n');
  const [dataLines] = (afterBegin ?? '').split('-----END SEALDROP RECOVERY KIT-----');
  if (beforeData === undefined || dataLines === undefined) throw new Error('kit text has no armor');
  const data = dataLines.replace(/\n/g, '');
  const withData = (block: string): string => `${beforeData}-----BEGIN SEALDROP RECOVERY KIT-----\n${block}-----END SEALDROP RECOVERY KIT-----\n`;
  const accepts = [
    { name: 'crlf', rule: 'the file with every LF replaced by CR LF', text: kitText.replace(/\n/g, '\r\n') },
    {
      name: 'base64-one-line-odd-whitespace',
      rule: 'the data on one line, with a TAB, U+00A0, U+3000 and U+FEFF inserted between base64 characters (each is whitespace, §11.2)',
      text: withData(`${data.slice(0, 10)}\t${data.slice(10, 20)}\u00a0${data.slice(20, 30)}\u3000${data.slice(30, 40)}\ufeff${data.slice(40)}\n`),
    },
    {
      name: 'first-begin-that-is-followed',
      rule: 'a stray line "-----BEGIN SEALDROP RECOVERY KIT----- (see below)" before the real block: the first BEGIN is not followed by base64 and whitespace only, so the block is the later one',
      text: kitText.replace('Do not edit the lines below.\n', 'Do not edit the lines below.\n-----BEGIN SEALDROP RECOVERY KIT----- (see below)\n'),
    },
  ];
  const rejects = [
    { name: 'missing-end', rule: 'the END line removed', text: kitText.replace('-----END SEALDROP RECOVERY KIT-----\n', '') },
    { name: 'bad-base64-character', rule: 'the first base64 character replaced by "!"', text: withData(`!${dataLines.slice(1)}`) },
    { name: 'base64-length-not-multiple-of-4', rule: 'the last base64 line without its last character', text: withData(`${dataLines.trimEnd().slice(0, -1)}\n`) },
    { name: 'base64-padding-inside', rule: 'an "=" inserted after the first 4 base64 characters', text: withData(`${data.slice(0, 4)}=${data.slice(4)}\n`) },
    { name: 'empty-block', rule: 'nothing but a blank line between BEGIN and END', text: withData('\n') },
    { name: 'created-not-a-calendar-date', rule: 'Created: 2026-02-30T00:00:00.000Z (right grammar, no such day; some engines roll it over to 2 March)', text: kitText.replace(kitFields.createdAt, '2026-02-30T00:00:00.000Z') },
    { name: 'created-other-form', rule: 'Created: Fri, 02 Jan 2026 03:04:05 GMT (a form Date parses, not the §11.2 grammar)', text: kitText.replace(kitFields.createdAt, 'Fri, 02 Jan 2026 03:04:05 GMT') },
    { name: 'created-no-milliseconds', rule: 'Created: 2026-01-02T03:04:05Z (milliseconds missing)', text: kitText.replace(kitFields.createdAt, '2026-01-02T03:04:05Z') },
    { name: 'user-id-uppercase', rule: 'User ID in uppercase hex', text: kitText.replace(kitFields.userId, kitFields.userId.toUpperCase()) },
    { name: 'fingerprint-missing', rule: 'the Key fingerprint line removed', text: kitText.replace(/Key fingerprint:.*\n/, '') },
  ];
  // Self-check against the reference reader.
  for (const a of [{ name: 'as written', rule: '', text: kitText }, ...accepts]) {
    const parsed = parseRecoveryKit(a.text);
    if (toHex(parsed.recoveryBlob) !== toHex(B) || parsed.createdAt.toISOString() !== kitFields.createdAt) throw new Error(`kit accept ${a.name}`);
  }
  for (const r of rejects) {
    let refused = false;
    try {
      parseRecoveryKit(r.text);
    } catch {
      refused = true;
    }
    if (!refused) throw new Error(`kit reject ${r.name} was accepted`);
  }
  const recoveryKitFile = {
    note: 'FORMAT.md §11.2: text is what recoveryKitText writes for these fields and backup.bytes; every accepts[].text decodes to backup.bytes with the same fields; every rejects[].text is not a readable kit',
    ...kitFields,
    bytesFrom: 'backup.bytes',
    text: kitText,
    accepts,
    rejects,
  };

  return {
    publicIdentityUnknownKind,
    rotation,
    defaultSegmentSize,
    rsa4096: rsa4096Vector,
    backupFormer,
    passphraseNfc,
    linkSecretText,
    recoveryKitFile,
    metadataVariants,
    manifestVariants,
    negative,
  };
}

/** Reads tests/vectors/v1-inputs.json. */
function z1(json: unknown): { manifest: Bytes; publicIdentity: Bytes; backup: Bytes } {
  const get = (k: string): Bytes => {
    const v = typeof json === 'object' && json !== null && k in json ? (json as Record<string, unknown>)[k] : undefined;
    if (typeof v !== 'string') throw new Error(`v1-inputs.json lacks ${k}`);
    return fromHex(v);
  };
  return { manifest: get('manifest'), publicIdentity: get('publicIdentity'), backup: get('backup') };
}
