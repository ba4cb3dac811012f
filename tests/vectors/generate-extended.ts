/**
 * The second half of src/crypto/vectors/v1.json, called by generate.ts:
 * the default segment size, a segment index past 2^32, RSA-4096, NFC
 * passphrases, the link secret's text form, metadata and manifest variants,
 * and the `negative` cases (input bytes + the error class a reader MUST
 * report). See docs/FORMAT.md §13 for the meaning of every field.
 */
import { createHash, createHmac, generateKeyPairSync, scryptSync } from 'node:crypto';
import { ByteWriter, concatBytes, fromHex, toBytes, toHex, utf8, type Bytes } from '../../src/crypto/bytes.ts';
import { encodeHeader, labelled, type Header } from '../../src/crypto/format.ts';
import { LABEL_CONTENT, deriveSubkeyBytes, importAesGcmKey } from '../../src/crypto/key-schedule.ts';
import { deriveKdfBytes, writeKdfBlock, type KdfBlock, type KdfParams } from '../../src/crypto/kdf.ts';
import { assembleManifest } from '../../src/crypto/manifest.ts';
import { encodeMetadata, type FileMetadata } from '../../src/crypto/metadata.ts';
import { encodeLinkSecret, sealLinkStanza, sealPassphraseStanza, type Stanza } from '../../src/crypto/recipients.ts';
import { assembleBackup } from '../../src/crypto/identity.ts';
import { createSealStream, encryptSegment } from '../../src/crypto/stream.ts';
import { pattern, readAll, streamOf } from '../../src/crypto/test-streams.ts';

/** What generate.ts hands over: its fixed inputs, outputs and helpers. */
export interface GeneratorContext {
  previousAt(path: (string | number)[]): unknown;
  stableSigned(path: (string | number)[], fresh: Uint8Array, randomTail?: number): Uint8Array;
  stableRsaBody(path: (string | number)[], pair: CryptoKeyPair, key: Uint8Array, context: Uint8Array): Promise<Stanza>;
  keyPair(kind: 'rsa' | 'ecdsa', pkcs8Hex: string | undefined, spkiHex: string | undefined, modulusLength?: number): Promise<CryptoKeyPair>;
  fixed(length: number, seed: number): Bytes;
  assertEqual(a: Uint8Array, b: Uint8Array, what: string): void;
  nodeSeal(key: Uint8Array, index: number, isFinal: boolean, plain: Uint8Array): Uint8Array;
  fileKey: Bytes;
  header: Header;
  headerBytes: Bytes;
  sub: { content: Bytes; metadata: Bytes; headerMac: Bytes };
  contentKey: CryptoKey;
  rsa: CryptoKeyPair;
  ecdsa: CryptoKeyPair;
  manifest: Uint8Array;
  publicIdentity: Uint8Array;
  backup: Uint8Array;
  backupPassphrase: string;
  linkSecret: Bytes;
  scryptStanza: Stanza;
  metadataValue: FileMetadata;
  sealedMetadata: Uint8Array;
  payloads: { plaintext: Uint8Array; payload: Uint8Array }[];
}

type IdentityRef =
  | { kind: 'link'; secret: string }
  | { kind: 'passphrase'; passphrase: string }
  | { kind: 'rsa'; key: 'keys.rsa' | 'rsa4096' };

interface NegativeCase {
  name: string;
  input: 'payload' | 'manifest' | 'publicIdentity' | 'backup';
  rule: string;
  /** The input bytes, or (instead) `bytesFrom`: the path of a vector whose bytes are the input unchanged. */
  bytes?: string;
  bytesFrom?: string;
  error: string;
  segmentSize?: number;
  contentKey?: string;
  fileId?: string;
  identities?: IdentityRef[];
  passphrase?: string;
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const ECDSA_SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;

/** Returns `bytes` with one bit flipped at `at`. */
function flip(bytes: Uint8Array, at: number): Bytes {
  const out = Uint8Array.from(bytes);
  out[at] = (out[at] ?? 0) ^ 0x01;
  return out;
}

/** Returns the compressed-point SPKI (59 bytes) of an uncompressed P-256 SPKI (91 bytes). */
function compressedSpki(spki: Uint8Array): Bytes {
  const x = spki.subarray(27, 59);
  const yLast = spki[90] ?? 0;
  return concatBytes(fromHex('3039301306072a8648ce3d020106082a8648ce3d030107032200'), Uint8Array.of(2 + (yLast & 1)), x);
}

/** Returns the extended vector sections (merged into v1.json by generate.ts). */
export async function buildExtendedVectors(c: GeneratorContext): Promise<Record<string, unknown>> {
  const { fixed, assertEqual, fileKey, headerBytes } = c;
  const ecdsaSpki = new Uint8Array(await crypto.subtle.exportKey('spki', c.ecdsa.publicKey));
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
  const defaultSegmentSize = {
    note: 'keySchedule.fileKey, salt and fileId with segmentSize 262144; the payload of plaintextLength bytes of plaintextRule',
    segmentSize: 262_144,
    header: toHex(bigHeaderBytes),
    contentKey: toHex(bigContent),
    plaintextRule: 'byte i = i mod 251',
    plaintextLength: bigPlain.length,
    payloadLength: bigPayload.length,
    payloadSha256: toHex(fromHex(sha256(bigPayload))),
    segment0Tag: toHex(bigPayload.subarray(262_144, 262_160)),
    finalSegment: toHex(bigPayload.subarray(262_160)),
  };

  // --- RSA-4096 recipient
  const rsa4096 = await c.keyPair(
    'rsa',
    typeof c.previousAt(['rsa4096', 'privateKeyPkcs8']) === 'string' ? String(c.previousAt(['rsa4096', 'privateKeyPkcs8'])) : undefined,
    typeof c.previousAt(['rsa4096', 'publicKeySpki']) === 'string' ? String(c.previousAt(['rsa4096', 'publicKeySpki'])) : undefined,
    4096,
  );
  const rsa4096Stanza = await c.stableRsaBody(['rsa4096', 'body'], rsa4096, fileKey, headerBytes);
  const rsa4096Spki = new Uint8Array(await crypto.subtle.exportKey('spki', rsa4096.publicKey));
  const rsa4096Vector = {
    note: 'a 4096-bit RSA-OAEP key; body (512 bytes, randomised) wraps keySchedule.fileKey for keySchedule.header',
    privateKeyPkcs8: toHex(new Uint8Array(await crypto.subtle.exportKey('pkcs8', rsa4096.privateKey))),
    publicKeySpki: toHex(rsa4096Spki),
    body: toHex(rsa4096Stanza.body),
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
      description: 'extreme integers: size 2^53−1, lastModified −(2^53−1)',
      value: { name: 'big', type: 'application/octet-stream', size: Number.MAX_SAFE_INTEGER, lastModified: -Number.MAX_SAFE_INTEGER },
    },
    {
      description: 'every text field at its byte limit (name 1024 = 512 × "é", type 255, relativePath 4096)',
      value: {
        name: '\u00e9'.repeat(512),
        type: 'application/' + 'x'.repeat(243),
        size: 7,
        lastModified: 1_767_225_600_000,
        relativePath: 'd/'.repeat(2047) + 'ab',
      },
    },
    { description: 'empty name and a present but empty relativePath', value: { name: '', type: '', size: 3, lastModified: 5, relativePath: '' } },
    { description: 'a leading BOM is part of the name (not stripped)', value: { name: '\ufeffreadme.txt', type: 'text/plain', size: 2, lastModified: 1 } },
    { description: 'astral characters (4-byte UTF-8), not normalised', value: { name: '📄 notes – cafe\u0301.txt', type: 'text/plain', size: 9, lastModified: 2 } },
  ];
  const metadataVariants = variantValues.map((v) => ({ ...v, encoded: toHex(encodeMetadata(v.value)) }));

  // --- manifest variants
  const signManifest = async (signed: Uint8Array, signer = c.ecdsa): Promise<Bytes> =>
    concatBytes(signed, new Uint8Array(await crypto.subtle.sign(ECDSA_SIGN, signer.privateKey, labelled('sealdrop/v1/manifest', signed))));
  /** Builds a manifest without the writer's checks (for hostile cases); MAC with macKey. */
  const craft = async (o: { header: Uint8Array; sealedMetadata: Uint8Array; stanzas: Stanza[]; macKey: Uint8Array; signerSpki?: Uint8Array }): Promise<Bytes> => {
    const w = new ByteWriter().raw(o.header).lp16(o.sealedMetadata).u16(o.stanzas.length);
    for (const s of o.stanzas) w.u8(s.typeId).lp16(s.body);
    const body = w.bytes();
    const mac = createHmac('sha256', o.macKey).update(body).digest();
    return signManifest(concatBytes(body, mac, new ByteWriter().lp16(o.signerSpki ?? ecdsaSpki).bytes()));
  };

  const manifestVariants = [];
  {
    // A: default segment size; PBKDF2 passphrase (decomposed spelling), unknown typeId 9, two RSA envelopes.
    const vHeader: Header = { segmentSize: 262_144, fileId: '0f1e2d3c4b5a69788796a5b4c3d2e1f0', salt: fixed(32, 0x90) };
    const vHeaderBytes = encodeHeader(vHeader);
    const vKey = fixed(32, 0x20);
    const meta: FileMetadata = { name: 'notes.md', type: '', size: 262_145, lastModified: -1 };
    const path = ['manifestVariants', 0];
    const stanzas: Stanza[] = [
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
    ];
    const metadataNonce = fixed(12, 0x31);
    const bytes = c.stableSigned(
      [...path, 'bytes'],
      await assembleManifest({ header: vHeader, fileKey: vKey, metadata: meta, metadataNonce, stanzas, signer: c.ecdsa }),
    );
    manifestVariants.push({
      description: 'S = 262144; envelopes: unknown typeId 9 (skipped), RSA keys.rsa, RSA rsa4096, PBKDF2 passphrase sealed with the decomposed spelling; metadata without relativePath, empty type, lastModified −1',
      fileId: vHeader.fileId,
      segmentSize: vHeader.segmentSize,
      salt: toHex(vHeader.salt),
      fileKey: toHex(vKey),
      header: toHex(vHeaderBytes),
      metadata: meta,
      metadataNonce: toHex(metadataNonce),
      envelopes: stanzas.map((s) => ({ typeId: s.typeId, body: toHex(s.body) })),
      bytes: toHex(bytes),
      opensWith: [
        { kind: 'passphrase', passphrase: 'caf\u00e9 au lait' },
        { kind: 'rsa', key: 'keys.rsa' },
        { kind: 'rsa', key: 'rsa4096' },
      ] satisfies IdentityRef[],
    });
  }
  {
    // B: metadata at every limit, one link envelope.
    const vHeader: Header = { segmentSize: 1024, fileId: 'ffeeddccbbaa99887766554433221100', salt: fixed(32, 0x91) };
    const vHeaderBytes = encodeHeader(vHeader);
    const vKey = fixed(32, 0x21);
    const meta = variantValues[3]?.value;
    if (meta === undefined) throw new Error('variant missing');
    const stanzas = [await sealLinkStanza(c.linkSecret, fixed(12, 0x12), vKey, vHeaderBytes)];
    const metadataNonce = fixed(12, 0x32);
    const bytes = c.stableSigned(
      ['manifestVariants', 1, 'bytes'],
      await assembleManifest({ header: vHeader, fileKey: vKey, metadata: meta, metadataNonce, stanzas, signer: c.ecdsa }),
    );
    manifestVariants.push({
      description: 'metadata with every text field at its byte limit; one link envelope (stanzas.linkSecret.secret)',
      fileId: vHeader.fileId,
      segmentSize: vHeader.segmentSize,
      salt: toHex(vHeader.salt),
      fileKey: toHex(vKey),
      header: toHex(vHeaderBytes),
      metadata: meta,
      metadataNonce: toHex(metadataNonce),
      envelopes: stanzas.map((s) => ({ typeId: s.typeId, body: toHex(s.body) })),
      bytes: toHex(bytes),
      opensWith: [{ kind: 'link', secret: toHex(c.linkSecret) }] satisfies IdentityRef[],
    });
  }

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
  const F = 1024 + 16;
  const [p0, p1, p2] = c.payloads;
  if (p0 === undefined || p1 === undefined || p2 === undefined) throw new Error('payload vectors missing');
  const pay = (name: string, rule: string, bytes: Uint8Array, error: string): void => {
    negative.push({ name, input: 'payload', rule, segmentSize: 1024, contentKey: 'keySchedule.contentKey', bytes: toHex(bytes), error });
  };
  const P1 = p1.payload;
  const P2 = p2.payload;
  pay('payload-flipped-byte', 'payloads[1] with byte 1045 (segment 1) XOR 0x01', flip(P1, F + 5), 'TamperedError');
  pay('payload-flipped-tag-byte', 'payloads[1] with its last byte XOR 0x01', flip(P1, P1.length - 1), 'TamperedError');
  pay('payload-truncated-at-boundary', 'payloads[2] cut after segment 0 (1040 bytes): the full final segment is missing', P2.subarray(0, F), 'TruncatedError');
  pay('payload-truncated-at-second-boundary', 'payloads[1] cut after segment 1 (2080 bytes)', P1.subarray(0, 2 * F), 'TruncatedError');
  pay('payload-empty', 'no bytes at all', new Uint8Array(0), 'TruncatedError');
  pay('payload-boundary-plus-15', 'payloads[1] cut 15 bytes after a boundary (1055 bytes): shorter than a tag', P1.subarray(0, F + 15), 'TruncatedError');
  pay('payload-cut-inside-final', 'payloads[1] without its last byte (the final segment has ≥ 16 bytes but fails)', P1.subarray(0, P1.length - 1), 'TamperedError');
  pay('payload-swapped-segments', 'payloads[1] with segments 0 and 1 swapped', concatBytes(P1.subarray(F, 2 * F), P1.subarray(0, F), P1.subarray(2 * F)), 'TamperedError');
  pay('payload-duplicated-segment', 'payloads[1] with segment 0 twice', concatBytes(P1.subarray(0, F), P1.subarray(0, F), P1.subarray(F)), 'TamperedError');
  pay('payload-dropped-segment', 'payloads[1] without segment 1', concatBytes(P1.subarray(0, F), P1.subarray(2 * F)), 'TamperedError');
  pay('payload-appended-byte', 'payloads[1] + 00', concatBytes(P1, Uint8Array.of(0)), 'TamperedError');
  pay('payload-appended-byte-after-full-final', 'payloads[2] + 00 (its final segment is full)', concatBytes(P2, Uint8Array.of(0)), 'TamperedError');
  pay(
    'payload-empty-final-after-full',
    'payloads[2] + an empty segment 2 sealed as final (valid tag)',
    concatBytes(P2, await encryptSegment(c.contentKey, 2, true, new Uint8Array(0))),
    'TamperedError',
  );
  pay(
    'payload-final-flag-on-first-of-two',
    'segment 0 of payloads[2] re-sealed as final, then segment 1 as sealed',
    concatBytes(await encryptSegment(c.contentKey, 0, true, p2.plaintext.subarray(0, 1024)), P2.subarray(F)),
    'TamperedError',
  );
  if (p0.payload.length !== 16) throw new Error('unexpected empty payload');

  const M = c.manifest;
  const fileIdHex = c.header.fileId;
  const link: IdentityRef = { kind: 'link', secret: toHex(c.linkSecret) };
  const man = (name: string, rule: string, bytes: Uint8Array | 'manifest.bytes', error: string, identities: IdentityRef[] = [link], fileId = fileIdHex): void => {
    const input = typeof bytes === 'string' ? { bytesFrom: bytes } : { bytes: toHex(bytes) };
    negative.push({ name, input: 'manifest', rule, fileId, identities, ...input, error });
  };
  const metaLen = ((M[57] ?? 0) << 8) | (M[58] ?? 0);
  const envStart = 57 + 2 + metaLen + 2; // first envelope: the link envelope
  const macStart = M.length - 64 - 93 - 32;
  man('manifest-version-2', 'manifest.bytes with byte 4 = 02', (() => { const b = Uint8Array.from(M); b[4] = 2; return b; })(), 'UnsupportedVersionError');
  man('manifest-only-magic-and-version-2', '53 44 52 50 02: five bytes', fromHex('5344525002'), 'UnsupportedVersionError');
  man('manifest-only-magic', '53 44 52 50: the version byte is missing', fromHex('53445250'), 'MalformedError');
  man('manifest-short-magic', '53 44 52: shorter than the magic', fromHex('534452'), 'MalformedError');
  man('manifest-wrong-magic', 'manifest.bytes with byte 0 = 58', (() => { const b = Uint8Array.from(M); b[0] = 0x58; return b; })(), 'MalformedError');
  man('manifest-wrong-magic-and-version-2', 'manifest.bytes with byte 0 = 58 and byte 4 = 02: magic is checked first', (() => { const b = Uint8Array.from(M); b[0] = 0x58; b[4] = 2; return b; })(), 'MalformedError');
  man('manifest-segment-size-1023', 'manifest.bytes with bytes 5..8 = 00 00 03 ff (parsed before the signature)', (() => { const b = Uint8Array.from(M); b.set([0, 0, 3, 0xff], 5); return b; })(), 'MalformedError');
  man('manifest-flipped-fileid-byte', 'manifest.bytes with byte 10 XOR 0x01', flip(M, 10), 'TamperedError');
  man('manifest-flipped-salt-byte', 'manifest.bytes with byte 40 XOR 0x01', flip(M, 40), 'TamperedError');
  man('manifest-flipped-metadata-byte', 'manifest.bytes with byte 70 XOR 0x01', flip(M, 70), 'TamperedError');
  man('manifest-flipped-envelope-byte', `manifest.bytes with byte ${envStart + 3 + 20} (inside the link envelope body) XOR 0x01`, flip(M, envStart + 3 + 20), 'TamperedError');
  man('manifest-flipped-mac-byte', `manifest.bytes with byte ${macStart} (first MAC byte) XOR 0x01`, flip(M, macStart), 'TamperedError');
  man('manifest-flipped-signer-key-byte', `manifest.bytes with byte ${M.length - 64 - 10} (in the signer point) XOR 0x01`, flip(M, M.length - 64 - 10), 'TamperedError');
  man('manifest-flipped-signature-byte', 'manifest.bytes with its last byte XOR 0x01', flip(M, M.length - 1), 'TamperedError');
  man('manifest-appended-byte', 'manifest.bytes + 00', concatBytes(M, Uint8Array.of(0)), 'MalformedError');
  man('manifest-last-byte-missing', 'manifest.bytes without its last byte', M.subarray(0, M.length - 1), 'MalformedError');
  man('manifest-wrong-file-id', 'manifest.bytes opened as file ffff…ff', 'manifest.bytes', 'TamperedError', [link], 'ff'.repeat(16));
  man('manifest-wrong-passphrase', 'manifest.bytes with only a wrong passphrase', 'manifest.bytes', 'WrongPassphraseError', [{ kind: 'passphrase', passphrase: 'wrong' }]);
  man('manifest-empty-passphrase', 'manifest.bytes with the empty passphrase', 'manifest.bytes', 'WrongPassphraseError', [{ kind: 'passphrase', passphrase: '' }]);
  man('manifest-no-identity-opens', 'manifest.bytes with another link secret', 'manifest.bytes', 'WrongKeyError', [{ kind: 'link', secret: toHex(fixed(32, 0x99)) }]);
  man('manifest-no-identities', 'manifest.bytes with no identity at all', 'manifest.bytes', 'WrongKeyError', []);

  // Crafted, validly signed by keys.ecdsa and MAC'd with keySchedule.headerMacKey.
  const base = { header: headerBytes, sealedMetadata: c.sealedMetadata, macKey: c.sub.headerMac };
  const linkStanza: Stanza = { typeId: 3, body: (await sealLinkStanza(c.linkSecret, fixed(12, 0xb0), fileKey, headerBytes)).body };
  const kdfStanza = (params: KdfParams, bodyExtra = 60, id?: number): Stanza => {
    const w = new ByteWriter();
    writeKdfBlock(w, { params, salt: fixed(32, 0xc0) });
    const b = w.raw(fixed(bodyExtra, 0x01)).bytes();
    if (id !== undefined) b[0] = id;
    return { typeId: 2, body: b };
  };
  const crafted = async (name: string, rule: string, stanzas: Stanza[], error: string, identities: IdentityRef[] = [link], over: Partial<typeof base & { signerSpki: Uint8Array }> = {}): Promise<void> => {
    man(name, rule, stable(name, await craft({ ...base, stanzas, ...over })), error, identities);
  };
  const pass = (p: string): IdentityRef => ({ kind: 'passphrase', passphrase: p });
  await crafted('manifest-two-passphrase-envelopes', 'envelopes: passphraseScrypt, passphrasePbkdf2 (signed)', [c.scryptStanza, { typeId: 2, body: kdfStanza({ kdf: 'pbkdf2-sha256', iterations: 600_000 }).body }], 'MalformedError', [pass('correct horse battery staple ✓')]);
  await crafted('manifest-zero-envelopes', 'envelope count 0 (signed)', [], 'MalformedError');
  await crafted('manifest-65-envelopes', '65 copies of the link envelope (signed)', Array.from({ length: 65 }, () => linkStanza), 'MalformedError');
  await crafted('manifest-kdf-over-cap-logn', 'one passphrase envelope: scrypt logN 21, r 1, p 1 (memory 256 MiB, within the memory cap)', [kdfStanza({ kdf: 'scrypt', logN: 21, r: 1, p: 1 })], 'KdfParamsTooHighError', [pass('x')]);
  await crafted('manifest-kdf-over-cap-memory', 'scrypt logN 18, r 16, p 1 (memory 512 MiB)', [kdfStanza({ kdf: 'scrypt', logN: 18, r: 16, p: 1 })], 'KdfParamsTooHighError', [pass('x')]);
  await crafted('manifest-kdf-over-cap-work', 'scrypt logN 18, r 8, p 3 (work 768 MiB)', [kdfStanza({ kdf: 'scrypt', logN: 18, r: 8, p: 3 })], 'KdfParamsTooHighError', [pass('x')]);
  await crafted('manifest-kdf-over-cap-pbkdf2', 'PBKDF2 10,000,001 iterations', [kdfStanza({ kdf: 'pbkdf2-sha256', iterations: 10_000_001 })], 'KdfParamsTooHighError', [pass('x')]);
  await crafted('manifest-kdf-weak-scrypt', 'scrypt logN 9', [kdfStanza({ kdf: 'scrypt', logN: 9, r: 8, p: 1 })], 'MalformedError', [pass('x')]);
  await crafted('manifest-kdf-weak-and-over-cap', 'scrypt logN 9, r 17 (weak AND over a cap: the weak check comes first)', [kdfStanza({ kdf: 'scrypt', logN: 9, r: 17, p: 1 })], 'MalformedError', [pass('x')]);
  await crafted('manifest-kdf-scrypt-r-0', 'scrypt logN 10, r 0, p 1', [kdfStanza({ kdf: 'scrypt', logN: 10, r: 0, p: 1 })], 'MalformedError', [pass('x')]);
  await crafted('manifest-kdf-weak-pbkdf2', 'PBKDF2 599,999 iterations', [kdfStanza({ kdf: 'pbkdf2-sha256', iterations: 599_999 })], 'MalformedError', [pass('x')]);
  await crafted('manifest-kdf-unknown-id', 'passphrase envelope whose KDF id is 3', [kdfStanza({ kdf: 'pbkdf2-sha256', iterations: 600_000 }, 60, 3)], 'UnsupportedVersionError', [pass('x')]);
  await crafted('manifest-passphrase-body-97-scrypt', 'scrypt passphrase envelope of 97 bytes (one extra byte)', [{ typeId: 2, body: concatBytes(c.scryptStanza.body, Uint8Array.of(0)) }], 'MalformedError', [pass('correct horse battery staple ✓')]);
  await crafted('manifest-passphrase-body-95', 'scrypt passphrase envelope without its last byte', [{ typeId: 2, body: c.scryptStanza.body.subarray(0, 95) }], 'MalformedError', [pass('correct horse battery staple ✓')]);
  await crafted('manifest-link-body-59', 'link envelope without its last byte', [{ typeId: 3, body: linkStanza.body.subarray(0, 59) }], 'MalformedError');
  await crafted(
    'manifest-search-order-identities-outer',
    'envelopes: [link body of 59 bytes, passphraseScrypt]; identities: [passphrase "wrong", link]. Identities outer → the first thrown error is the wrong passphrase',
    [{ typeId: 3, body: linkStanza.body.subarray(0, 59) }, c.scryptStanza],
    'WrongPassphraseError',
    [pass('wrong'), link],
  );
  {
    // RSA-OAEP is randomised: keep the recorded case when there is one.
    const name = 'manifest-rsa-envelope-31-bytes';
    const recorded = previousNegative(name);
    const rsaBody =
      recorded?.subarray(57 + 2 + c.sealedMetadata.length + 2 + 3, 57 + 2 + c.sealedMetadata.length + 2 + 3 + 384) ??
      new Uint8Array(await crypto.subtle.encrypt({ name: 'RSA-OAEP', label: labelled('sealdrop/v1/rsa-oaep', headerBytes) }, c.rsa.publicKey, fileKey.subarray(0, 31)));
    await crafted('manifest-rsa-envelope-31-bytes', 'an RSA envelope (keys.rsa) that decrypts to 31 bytes', [{ typeId: 1, body: rsaBody }], 'MalformedError', [{ kind: 'rsa', key: 'keys.rsa' }]);
  }
  {
    const other = fixed(32, 0x42);
    const evil = await sealLinkStanza(c.linkSecret, fixed(12, 0x13), other, headerBytes);
    await crafted('manifest-key-commitment', 'the link envelope opens to another 32-byte key; MAC made with the real one', [evil], 'TamperedError');
    await crafted('manifest-mac-after-open-no-fallthrough', 'envelopes: [evil link (other key), genuine link]: the first key that opens is used; its MAC failure is final', [evil, linkStanza], 'TamperedError');
  }
  const sealMeta = async (plain: Uint8Array, aad: Uint8Array = headerBytes): Promise<Bytes> => {
    const key = await importAesGcmKey(c.sub.metadata);
    const nonce = fixed(12, 0xa1);
    return concatBytes(nonce, new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv: nonce, additionalData: toBytes(aad) }, key, toBytes(plain))));
  };
  const tlv = (tag: number, value: Uint8Array): Bytes => new ByteWriter().u8(tag).lp16(value).bytes();
  const i64 = (v: bigint): Bytes => { const b = new Uint8Array(8); new DataView(b.buffer).setBigInt64(0, v); return b; };
  const goodFields = [tlv(1, utf8('a')), tlv(2, utf8('')), tlv(3, i64(1n)), tlv(4, i64(0n))] as const;
  const metaCase = async (name: string, rule: string, plain: Uint8Array, error: string, aad?: Uint8Array): Promise<void> =>
    crafted(name, rule, [linkStanza], error, [link], { sealedMetadata: await sealMeta(plain, aad) });
  await metaCase('manifest-metadata-unknown-tag', 'metadata.encoded + tag 6 (empty), sealed and MAC’d correctly', concatBytes(encodeMetadata(c.metadataValue), tlv(6, new Uint8Array(0))), 'MalformedError');
  await metaCase('manifest-metadata-invalid-utf8', 'name = c3 28 (invalid UTF-8)', concatBytes(tlv(1, fromHex('c328')), ...goodFields.slice(1)), 'MalformedError');
  await metaCase('manifest-metadata-surrogate-utf8', 'name = ed a0 80 (an encoded surrogate, invalid in UTF-8)', concatBytes(tlv(1, fromHex('eda080')), ...goodFields.slice(1)), 'MalformedError');
  await metaCase('manifest-metadata-overlong-utf8', 'name = c0 af (overlong "/")', concatBytes(tlv(1, fromHex('c0af')), ...goodFields.slice(1)), 'MalformedError');
  await metaCase('manifest-metadata-negative-size', 'size = −1', concatBytes(goodFields[0], goodFields[1], tlv(3, i64(-1n)), goodFields[3]), 'MalformedError');
  await metaCase('manifest-metadata-size-2^53', 'size = 2^53 (outside the safe range)', concatBytes(goodFields[0], goodFields[1], tlv(3, i64(2n ** 53n)), goodFields[3]), 'MalformedError');
  await metaCase('manifest-metadata-missing-lastmodified', 'tags 1, 2, 3 only', concatBytes(goodFields[0], goodFields[1], goodFields[2]), 'MalformedError');
  await metaCase('manifest-metadata-out-of-order', 'tags 2, 1, 3, 4', concatBytes(goodFields[1], goodFields[0], goodFields[2], goodFields[3]), 'MalformedError');
  await metaCase('manifest-metadata-name-1025-bytes', 'name of 1025 bytes', concatBytes(tlv(1, new Uint8Array(1025).fill(0x61)), ...goodFields.slice(1)), 'MalformedError');
  await metaCase('manifest-metadata-labelled-aad', 'metadata sealed with AAD labelled("sealdrop/v1/metadata", header) instead of the raw header', encodeMetadata(c.metadataValue), 'TamperedError', labelled('sealdrop/v1/metadata', headerBytes));
  await crafted('manifest-signer-rsa-spki', 'signer field holds the RSA SPKI of keys.rsa', [linkStanza], 'TamperedError', [link], { signerSpki: rsaSpki });
  await crafted('manifest-signer-compressed-point', 'signer field holds keys.ecdsa as a 59-byte compressed-point SPKI; signed by keys.ecdsa', [linkStanza], 'TamperedError', [link], { signerSpki: compressedSpki(ecdsaSpki) });

  // Public identities.
  const PI = c.publicIdentity;
  const pid = (name: string, rule: string, bytes: Uint8Array, error: string): void => {
    negative.push({ name, input: 'publicIdentity', rule, bytes: toHex(bytes), error });
  };
  const selfSigned = async (name: string, encSpki: Uint8Array, signSpki: Uint8Array): Promise<Uint8Array> => {
    const body = new ByteWriter().raw(utf8('SDPI')).u8(1).lp16(encSpki).lp16(signSpki).bytes();
    const sig = new Uint8Array(await crypto.subtle.sign(ECDSA_SIGN, c.ecdsa.privateKey, labelled('sealdrop/v1/public-identity', body)));
    return stable(name, concatBytes(body, sig));
  };
  pid('public-identity-flipped-signature', 'publicIdentity.bytes with byte length−5 XOR 0x01', flip(PI, PI.length - 5), 'TamperedError');
  pid('public-identity-version-2', 'publicIdentity.bytes with byte 4 = 02', (() => { const b = Uint8Array.from(PI); b[4] = 2; return b; })(), 'UnsupportedVersionError');
  pid('public-identity-only-magic-and-version-2', '53 44 50 49 02', fromHex('5344504902'), 'UnsupportedVersionError');
  pid('public-identity-appended-byte', 'publicIdentity.bytes + 00', concatBytes(PI, Uint8Array.of(0)), 'MalformedError');
  const spkiDer = (bits: number, e: number): Bytes => {
    const name = `public-identity-rsa-${bits}-e${e}`;
    const old = previousNegative(name);
    if (old !== undefined) {
      // Reuse the recorded key: the SPKI is the lp16 field at offset 5.
      const len = ((old[5] ?? 0) << 8) | (old[6] ?? 0);
      return old.slice(7, 7 + len);
    }
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: bits, publicExponent: e });
    return new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }));
  };
  pid('public-identity-rsa-2048-e65537', 'a 2048-bit RSA key, validly self-signed by keys.ecdsa', await selfSigned('public-identity-rsa-2048-e65537', spkiDer(2048, 65537), ecdsaSpki), 'MalformedError');
  pid('public-identity-rsa-3072-e3', 'a 3072-bit RSA key with public exponent 3, validly self-signed', await selfSigned('public-identity-rsa-3072-e3', spkiDer(3072, 3), ecdsaSpki), 'MalformedError');
  pid('public-identity-compressed-signing-key', 'signing key as a 59-byte compressed-point SPKI, self-signed by keys.ecdsa', await selfSigned('public-identity-compressed-signing-key', rsaSpki, compressedSpki(ecdsaSpki)), 'MalformedError');

  // Recovery kits.
  const B = c.backup;
  const kit = (name: string, rule: string, bytes: Uint8Array | 'backup.bytes', error: string, passphrase = c.backupPassphrase): void => {
    const input = typeof bytes === 'string' ? { bytesFrom: bytes } : { bytes: toHex(bytes) };
    negative.push({ name, input: 'backup', rule, passphrase, ...input, error });
  };
  const patch = (at: number, v: number): Bytes => { const b = Uint8Array.from(B); b[at] = v; return b; };
  kit('backup-wrong-passphrase', 'backup.bytes with passphrase "wrong"', 'backup.bytes', 'WrongPassphraseError', 'wrong');
  kit('backup-empty-passphrase', 'backup.bytes with the empty passphrase', 'backup.bytes', 'WrongPassphraseError', '');
  kit('backup-flipped-wrapped-key', 'backup.bytes with byte length−3 XOR 0x01', flip(B, B.length - 3), 'WrongPassphraseError');
  kit('backup-kdf-over-cap', 'backup.bytes with scrypt logN (byte 38) = 21', patch(38, 21), 'KdfParamsTooHighError');
  kit('backup-kdf-weak', 'backup.bytes with scrypt logN (byte 38) = 9', patch(38, 9), 'MalformedError');
  kit('backup-kdf-unknown-id', 'backup.bytes with KDF id (byte 5) = 3', patch(5, 3), 'UnsupportedVersionError');
  kit('backup-version-2', 'backup.bytes with byte 4 = 02', patch(4, 2), 'UnsupportedVersionError');
  kit('backup-appended-byte', 'backup.bytes + 00', concatBytes(B, Uint8Array.of(0)), 'MalformedError');
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

  return {
    defaultSegmentSize,
    rsa4096: rsa4096Vector,
    passphraseNfc,
    linkSecretText,
    metadataVariants,
    manifestVariants,
    negative,
  };
}
