import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import rawVectors from './vectors/v2.json';
import { ByteReader, fromHex, toBytes, toHex, utf8 } from './bytes.ts';
import { SealdropCryptoError } from './errors.ts';
import { encodeHeader, readHeader } from './format.ts';
import { restoreBackup, restoreIdentity, exportPublicIdentity, fingerprint, importPublicIdentity } from './identity.ts';
import { verifyRotation } from './rotation.ts';
import { PayloadHasher, segmentDigest } from './payload-digest.ts';
import { LABEL_CONTENT, LABEL_DRAFT_MAC, LABEL_HEADER_MAC, LABEL_METADATA, deriveSubkeyBytes, importAesGcmKey } from './key-schedule.ts';
import { deriveKdfBytes } from './kdf.ts';
import { assembleDraft, finishManifest, openManifest, parseManifest } from './manifest.ts';
import { decodeMetadata, encodeMetadata } from './metadata.ts';
import {
  decodeLinkSecret,
  encodeLinkSecret,
  linkSecretIdentity,
  type Identity,
  passphraseIdentity,
  rsaIdentity,
  sealLinkStanza,
  sealPassphraseStanza,
  STANZA_LINK_SECRET,
  STANZA_PASSPHRASE,
  STANZA_RSA_OAEP,
} from './recipients.ts';
import { createOpenStream, createSealStream, decryptSegment, encryptSegment } from './stream.ts';
import { pattern, readAll, streamOf } from './test-streams.ts';

const hex = z.string().regex(/^([0-9a-f]{2})*$/);
const pair = z.object({ privateKeyPkcs8: hex, publicKeySpki: hex });
const metadataValue = z.object({
  name: z.string(),
  type: z.string(),
  size: z.number(),
  lastModified: z.number(),
  relativePath: z.string().optional(),
});
const identityRef = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('link'), secret: hex }),
  z.object({ kind: z.literal('passphrase'), passphrase: z.string().optional(), passphraseUtf16: hex.optional() }),
  z.object({ kind: z.literal('rsa'), key: z.enum(['keys.rsa', 'rsa4096']) }),
]);
const errorName = z.enum([
  'MalformedError',
  'UnsupportedVersionError',
  'TamperedError',
  'TruncatedError',
  'WrongKeyError',
  'WrongPassphraseError',
  'KdfParamsTooHighError',
]);
const negativeBase = { name: z.string(), rule: z.string(), bytes: hex.optional(), bytesFrom: z.enum(['manifest.bytes', 'backup.bytes']).optional(), error: errorName, ruleOffError: errorName.optional() };
const digests = { segmentDigests: z.array(hex), payloadDigest: hex };
const schema = z.object({
  keys: z.object({ rsa: pair, ecdsa: pair, ecdsa2: pair }),
  keySchedule: z.object({
    fileKey: hex,
    salt: hex,
    segmentSize: z.number().int(),
    fileId: z.string(),
    header: hex,
    contentKey: hex,
    metadataKey: hex,
    headerMacKey: hex,
    draftMacKey: hex,
  }),
  segments: z.array(z.object({ index: z.number().int(), final: z.boolean(), plaintext: hex, sealed: hex, digest: hex })),
  payloads: z.array(z.object({ description: z.string(), segmentSize: z.number().int(), plaintext: hex, payload: hex, ...digests })),
  metadata: z.object({
    value: metadataValue,
    encoded: hex,
    nonce: hex,
    sealed: hex,
  }),
  stanzas: z.object({
    linkSecret: z.object({ secret: hex, nonce: hex, body: hex }),
    passphraseScrypt: z.object({
      passphrase: z.string(),
      salt: hex,
      logN: z.number(),
      r: z.number(),
      p: z.number(),
      nonce: hex,
      kek: hex,
      body: hex,
    }),
    passphrasePbkdf2: z.object({
      passphrase: z.string(),
      salt: hex,
      iterations: z.number(),
      nonce: hex,
      kek: hex,
      body: hex,
    }),
    rsaOaep: z.object({ body: hex }),
  }),
  draft: z.object({ bytes: hex, manifestLength: z.number().int() }),
  manifest: z.object({ bytes: hex, payloadDigest: hex, signerFingerprint: z.string() }),
  publicIdentity: z.object({ bytes: hex, fingerprint: z.string() }),
  publicIdentityUnknownKind: z.object({ bytes: hex, fingerprint: z.string(), skippedKinds: z.array(z.number().int()) }),
  backup: z.object({ passphrase: z.string(), bytes: hex }),
  backupFormer: z.object({ note: z.string(), passphrase: z.string(), bytes: hex }),
  rotation: z.object({ newIdentity: hex, statement: hex, oldFingerprint: z.string(), newFingerprint: z.string() }),
  defaultSegmentSize: z.object({
    segmentSize: z.literal(262144),
    header: hex,
    contentKey: hex,
    plaintextRule: z.literal('byte i = i mod 251'),
    plaintextLength: z.number().int(),
    payloadLength: z.number().int(),
    payloadSha256: hex,
    segment0Tag: hex,
    finalSegment: hex,
    ...digests,
  }),
  rsa4096: z.object({ privateKeyPkcs8: hex, publicKeySpki: hex, body: hex }),
  passphraseNfc: z.object({
    passphrase: z.string(),
    nfcUtf8: hex,
    salt: hex,
    logN: z.number(),
    r: z.number(),
    p: z.number(),
    kek: hex,
    kekWithoutNfc: hex,
  }),
  linkSecretText: z.object({ secret: hex, text: z.string() }),
  metadataVariants: z.array(z.object({ description: z.string(), value: metadataValue, encoded: hex })),
  manifestVariants: z.array(
    z.object({
      description: z.string(),
      fileId: z.string(),
      segmentSize: z.number().int(),
      salt: hex,
      fileKey: hex,
      header: hex,
      metadata: metadataValue,
      metadataNonce: hex,
      payloadDigest: hex,
      envelopes: z.array(z.object({ typeId: z.number().int(), body: hex })),
      bytes: hex,
      opensWith: z.array(identityRef),
    }),
  ),
  recoveryKitFile: z.object({
    userId: z.string(),
    email: z.string(),
    fingerprint: z.string(),
    createdAt: z.string(),
    bytesFrom: z.literal('backup.bytes'),
    text: z.string(),
    accepts: z.array(z.object({ name: z.string(), rule: z.string(), text: z.string() })),
    rejects: z.array(z.object({ name: z.string(), rule: z.string(), text: z.string() })),
  }),
  negative: z.array(
    z.discriminatedUnion('input', [
      z.object({
        ...negativeBase,
        input: z.literal('payload'),
        segmentSize: z.number().int(),
        contentKey: z.literal('keySchedule.contentKey'),
        payloadDigest: hex,
      }),
      z.object({ ...negativeBase, input: z.literal('manifest'), fileId: z.string(), identities: z.array(identityRef) }),
      z.object({ ...negativeBase, input: z.literal('publicIdentity') }),
      z.object({ ...negativeBase, input: z.literal('backup'), passphrase: z.string().optional(), passphraseUtf16: hex.optional() }),
      z.object({ ...negativeBase, input: z.literal('rotation'), oldIdentity: hex, newIdentity: hex }),
    ]),
  ),
});
const v = schema.parse(rawVectors);
const ks = v.keySchedule;
const fileKey = fromHex(ks.fileKey);
const salt = fromHex(ks.salt);
const header = fromHex(ks.header);
const contentKey = await importAesGcmKey(fromHex(ks.contentKey));

const importRsa = () =>
  crypto.subtle.importKey('pkcs8', fromHex(v.keys.rsa.privateKeyPkcs8), { name: 'RSA-OAEP', hash: 'SHA-256' }, false, [
    'decrypt',
  ]);
const importRsa4096 = () =>
  crypto.subtle.importKey('pkcs8', fromHex(v.rsa4096.privateKeyPkcs8), { name: 'RSA-OAEP', hash: 'SHA-256' }, false, ['decrypt']);
/** A passphrase given as text, or as hex UTF-16BE code units when it is not valid Unicode (FORMAT.md §13). */
function passphraseOf(p: { passphrase?: string | undefined; passphraseUtf16?: string | undefined }): string {
  if (p.passphrase !== undefined) return p.passphrase;
  const units = fromHex(p.passphraseUtf16 ?? '');
  let out = '';
  for (let i = 0; i + 1 < units.length; i += 2) out += String.fromCharCode(((units[i] ?? 0) << 8) | (units[i + 1] ?? 0));
  return out;
}
async function identityOf(ref: z.infer<typeof identityRef>): Promise<Identity> {
  if (ref.kind === 'link') return linkSecretIdentity(fromHex(ref.secret));
  if (ref.kind === 'passphrase') return passphraseIdentity(passphraseOf(ref));
  return rsaIdentity(ref.key === 'keys.rsa' ? await importRsa() : await importRsa4096());
}
const importEcdsa = async () => ({
  privateKey: await crypto.subtle.importKey(
    'pkcs8',
    fromHex(v.keys.ecdsa.privateKeyPkcs8),
    { name: 'ECDSA', namedCurve: 'P-256' },
    false,
    ['sign'],
  ),
  publicKey: await crypto.subtle.importKey('spki', fromHex(v.keys.ecdsa.publicKeySpki), { name: 'ECDSA', namedCurve: 'P-256' }, true, [
    'verify',
  ]),
});

/** The keys whose string values are text (docs/FORMAT.md §13); every other string is lowercase hex. */
const TEXT_KEYS = [
  'description', 'note', 'rule', 'name', 'error', 'input', 'kind', 'key', 'bytesFrom', 'plaintextRule', 'passphrase',
  'text', 'fingerprint', 'signerFingerprint', 'oldFingerprint', 'newFingerprint', 'fileId', 'ruleOffError', 'email', 'createdAt',
] as const;

describe('known-answer vectors (src/crypto/vectors/v2.json)', () => {
  it('every string is lowercase hex except the text fields FORMAT.md §13 lists, and each listed field occurs', () => {
    const seen = new Set<string>();
    const bad: string[] = [];
    const walk = (node: unknown, key: string, path: string, inNegative: boolean, inMetadata: boolean): void => {
      if (typeof node === 'string') {
        const text = inMetadata || (TEXT_KEYS as readonly string[]).includes(key) || (key === 'contentKey' && inNegative);
        if (text) seen.add(key === 'contentKey' ? 'contentKey (negative)' : inMetadata ? 'metadata value' : key);
        else if (!/^([0-9a-f]{2})*$/.test(node)) bad.push(path);
        return;
      }
      if (Array.isArray(node)) {
        node.forEach((item, i) => walk(item, key, `${path}[${i}]`, inNegative, inMetadata));
        return;
      }
      if (typeof node === 'object' && node !== null) {
        for (const [k, child] of Object.entries(node)) {
          walk(child, k, `${path}.${k}`, inNegative || k === 'negative', inMetadata || k === 'value' || k === 'metadata');
        }
      }
    };
    walk(rawVectors, '', '$', false, false);
    expect(bad).toEqual([]);
    expect([...seen].sort()).toEqual([...TEXT_KEYS, 'contentKey (negative)', 'metadata value'].sort());
  });

  it('header encoding and HKDF sub-keys', async () => {
    expect(toHex(encodeHeader({ segmentSize: ks.segmentSize, fileId: ks.fileId, salt }))).toBe(ks.header);
    expect(toHex(await deriveSubkeyBytes(fileKey, salt, LABEL_CONTENT, header))).toBe(ks.contentKey);
    expect(toHex(await deriveSubkeyBytes(fileKey, salt, LABEL_METADATA, header))).toBe(ks.metadataKey);
    expect(toHex(await deriveSubkeyBytes(fileKey, salt, LABEL_HEADER_MAC, header))).toBe(ks.headerMacKey);
    expect(toHex(await deriveSubkeyBytes(fileKey, salt, LABEL_DRAFT_MAC, header))).toBe(ks.draftMacKey);
  });

  it.each(v.segments)('segment $index (final: $final)', async (s) => {
    expect(toHex(await encryptSegment(contentKey, s.index, s.final, fromHex(s.plaintext)))).toBe(s.sealed);
    expect(toHex(await decryptSegment(contentKey, s.index, s.final, fromHex(s.sealed)))).toBe(s.plaintext);
    expect(toHex(await segmentDigest(fromHex(s.sealed)))).toBe(s.digest);
  });

  it.each(v.payloads)('payload: $description', async (p) => {
    const hasher = new PayloadHasher();
    const sealed = await readAll(streamOf(fromHex(p.plaintext), 300).pipeThrough(createSealStream(contentKey, p.segmentSize, { hasher })));
    expect(toHex(sealed)).toBe(p.payload);
    expect(hasher.segmentDigests().map((d) => d && toHex(d))).toEqual(p.segmentDigests);
    expect(toHex(await hasher.digest())).toBe(p.payloadDigest);
    const payloadDigest = fromHex(p.payloadDigest);
    const opened = await readAll(streamOf(fromHex(p.payload), 777).pipeThrough(createOpenStream(contentKey, p.segmentSize, { payloadDigest })));
    expect(toHex(opened)).toBe(p.plaintext);
  });

  it('metadata encoding and sealing', async () => {
    expect(toHex(encodeMetadata(v.metadata.value))).toBe(v.metadata.encoded);
    expect(decodeMetadata(fromHex(v.metadata.encoded))).toEqual(v.metadata.value);
    const key = await importAesGcmKey(fromHex(ks.metadataKey));
    const sealed = await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv: fromHex(v.metadata.nonce), additionalData: header },
      key,
      fromHex(v.metadata.encoded),
    );
    expect(v.metadata.nonce + toHex(new Uint8Array(sealed))).toBe(v.metadata.sealed);
  });

  it('link-secret stanza', async () => {
    const s = v.stanzas.linkSecret;
    const stanza = await sealLinkStanza(fromHex(s.secret), fromHex(s.nonce), fileKey, header);
    expect(toHex(stanza.body)).toBe(s.body);
    const opened = await linkSecretIdentity(fromHex(s.secret)).unwrap({ typeId: STANZA_LINK_SECRET, body: fromHex(s.body) }, header);
    expect(opened && toHex(opened)).toBe(ks.fileKey);
  });

  it('passphrase stanza, scrypt', async () => {
    const s = v.stanzas.passphraseScrypt;
    const block = { params: { kdf: 'scrypt' as const, logN: s.logN, r: s.r, p: s.p }, salt: fromHex(s.salt) };
    expect(toHex(await deriveKdfBytes(s.passphrase, block))).toBe(s.kek);
    const stanza = await sealPassphraseStanza(s.passphrase, block, fromHex(s.nonce), fileKey, header);
    expect(toHex(stanza.body)).toBe(s.body);
    const opened = await passphraseIdentity(s.passphrase).unwrap({ typeId: STANZA_PASSPHRASE, body: fromHex(s.body) }, header);
    expect(opened && toHex(opened)).toBe(ks.fileKey);
  });

  it('passphrase stanza, PBKDF2-SHA-256', async () => {
    const s = v.stanzas.passphrasePbkdf2;
    const block = { params: { kdf: 'pbkdf2-sha256' as const, iterations: s.iterations }, salt: fromHex(s.salt) };
    expect(toHex(await deriveKdfBytes(s.passphrase, block))).toBe(s.kek);
    const stanza = await sealPassphraseStanza(s.passphrase, block, fromHex(s.nonce), fileKey, header);
    expect(toHex(stanza.body)).toBe(s.body);
  });

  it('RSA-OAEP stanza (fixed private key, recorded ciphertext)', async () => {
    const body = fromHex(v.stanzas.rsaOaep.body);
    const opened = await rsaIdentity(await importRsa()).unwrap({ typeId: STANZA_RSA_OAEP, body }, header);
    expect(opened && toHex(opened)).toBe(ks.fileKey);
  });

  it('draft and signed manifest: the draft is reproduced, the manifest opens with each stanza kind and re-finishes to the same bytes up to the signature', async () => {
    const bytes = fromHex(v.manifest.bytes);
    const identities = [
      linkSecretIdentity(fromHex(v.stanzas.linkSecret.secret)),
      passphraseIdentity(v.stanzas.passphraseScrypt.passphrase),
      rsaIdentity(await importRsa()),
    ];
    const payload = v.payloads[1];
    if (payload === undefined) throw new Error('vector missing');
    expect(v.manifest.payloadDigest).toBe(payload.payloadDigest);
    for (const identity of identities) {
      const opened = await openManifest(bytes, [identity], { fileId: ks.fileId });
      expect(opened).toMatchObject({ metadata: v.metadata.value, segmentSize: ks.segmentSize });
      expect(toHex(opened.payloadDigest)).toBe(v.manifest.payloadDigest);
      expect(opened.signer.fingerprint).toBe(v.manifest.signerFingerprint);
      const plain = await readAll(streamOf(fromHex(payload.payload), 4096).pipeThrough(createOpenStream(opened.contentKey, 1024, opened)));
      expect(toHex(plain)).toBe(payload.plaintext);
    }
    const parsed = parseManifest(bytes);
    const draft = await assembleDraft({
      header: parsed.header,
      fileKey,
      metadata: v.metadata.value,
      metadataNonce: fromHex(v.metadata.nonce),
      stanzas: parsed.stanzas,
    });
    expect(toHex(draft.draft)).toBe(v.draft.bytes);
    expect(draft.manifestLength).toBe(v.draft.manifestLength);
    expect(bytes.length).toBe(v.draft.manifestLength);
    const again = await finishManifest(draft, { payloadDigest: fromHex(v.manifest.payloadDigest), signer: await importEcdsa() });
    expect(toHex(again.subarray(0, again.length - 64))).toBe(v.manifest.bytes.slice(0, -128));
  });

  it('public identity and fingerprint', async () => {
    const bytes = fromHex(v.publicIdentity.bytes);
    expect(await fingerprint(bytes)).toBe(v.publicIdentity.fingerprint);
    const imported = await importPublicIdentity(bytes);
    expect(imported.fingerprint).toBe(v.publicIdentity.fingerprint);
    expect(v.manifest.signerFingerprint).toBe(v.publicIdentity.fingerprint);
  });

  it('a public identity with an unknown key kind is accepted, the kind skipped', async () => {
    const u = v.publicIdentityUnknownKind;
    const imported = await importPublicIdentity(fromHex(u.bytes));
    expect(imported.fingerprint).toBe(u.fingerprint);
    expect(imported.skippedKinds).toEqual(u.skippedKinds);
    expect(u.fingerprint).toBe(v.publicIdentity.fingerprint);
  });

  it('rotation statement from publicIdentity to rotation.newIdentity', async () => {
    const result = await verifyRotation(fromHex(v.rotation.statement), fromHex(v.publicIdentity.bytes), fromHex(v.rotation.newIdentity));
    expect(result).toEqual({ oldFingerprint: v.rotation.oldFingerprint, newFingerprint: v.rotation.newFingerprint });
    expect(v.rotation.statement.length).toBe(2 * 133);
  });

  it('recovery backup restores the fixed keys', async () => {
    const restored = await restoreIdentity(fromHex(v.backup.bytes), v.backup.passphrase);
    expect(toHex(new Uint8Array(await crypto.subtle.exportKey('spki', restored.encrypt.publicKey)))).toBe(v.keys.rsa.publicKeySpki);
    expect(await fingerprint(await exportPublicIdentity(restored))).toBe(v.publicIdentity.fingerprint);
  });

  it('a recovery kit keeping a former key (FORMAT.md §11.3) restores the fixed keys and rsa4096 as the former one', async () => {
    const kit = fromHex(v.backupFormer.bytes);
    const restored = await restoreBackup(kit, v.backupFormer.passphrase);
    const spki = async (k: CryptoKey) => toHex(new Uint8Array(await crypto.subtle.exportKey('spki', k)));
    expect(await spki(restored.keys.encrypt.publicKey)).toBe(v.keys.rsa.publicKeySpki);
    expect(await Promise.all(restored.former.map((p) => spki(p.publicKey)))).toEqual([v.rsa4096.publicKeySpki]);
    expect(restored.former[0]?.privateKey.extractable).toBe(false);
    expect(await fingerprint(await exportPublicIdentity(await restoreIdentity(kit, v.backupFormer.passphrase)))).toBe(v.publicIdentity.fingerprint);
  });

  it('a segment index past 2^32 is in the vectors (a 32-bit counter fails it)', () => {
    expect(v.segments.some((s) => s.index > 2 ** 32)).toBe(true);
  });

  it('default segment size 262144: header, content key and the payload of the plaintext rule', async () => {
    const d = v.defaultSegmentSize;
    const { header: h, bytes } = readHeader(new ByteReader(fromHex(d.header)));
    expect(h).toMatchObject({ segmentSize: d.segmentSize, fileId: ks.fileId });
    expect(toHex(await deriveSubkeyBytes(fileKey, salt, LABEL_CONTENT, bytes))).toBe(d.contentKey);
    const key = await importAesGcmKey(fromHex(d.contentKey));
    const plain = pattern(d.plaintextLength);
    const hasher = new PayloadHasher();
    const payload = await readAll(streamOf(plain, 65536).pipeThrough(createSealStream(key, d.segmentSize, { hasher })));
    expect(hasher.segmentDigests().map((x) => x && toHex(x))).toEqual(d.segmentDigests);
    expect(toHex(await hasher.digest())).toBe(d.payloadDigest);
    expect(payload.length).toBe(d.payloadLength);
    expect(toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', toBytes(payload))))).toBe(d.payloadSha256);
    expect(toHex(payload.subarray(d.segmentSize, d.segmentSize + 16))).toBe(d.segment0Tag);
    expect(toHex(payload.subarray(d.segmentSize + 16))).toBe(d.finalSegment);
    const opened = await readAll(streamOf(payload, 100_000).pipeThrough(createOpenStream(key, d.segmentSize, { payloadDigest: fromHex(d.payloadDigest) })));
    expect(toHex(opened)).toBe(toHex(plain));
  });

  it('RSA-OAEP-4096 envelope', async () => {
    const opened = await rsaIdentity(await importRsa4096()).unwrap({ typeId: STANZA_RSA_OAEP, body: fromHex(v.rsa4096.body) }, header);
    expect(v.rsa4096.body.length).toBe(2 * 512);
    expect(opened && toHex(opened)).toBe(ks.fileKey);
  });

  it('passphrase normalisation: the KDF sees UTF-8 of NFC', async () => {
    const n = v.passphraseNfc;
    expect(n.passphrase.normalize('NFC')).not.toBe(n.passphrase);
    expect(toHex(utf8(n.passphrase.normalize('NFC')))).toBe(n.nfcUtf8);
    const block = { params: { kdf: 'scrypt' as const, logN: n.logN, r: n.r, p: n.p }, salt: fromHex(n.salt) };
    expect(toHex(await deriveKdfBytes(n.passphrase, block))).toBe(n.kek);
    expect(toHex(await deriveKdfBytes(n.passphrase.normalize('NFC'), block))).toBe(n.kek);
    expect(n.kekWithoutNfc).not.toBe(n.kek);
  });

  it('link secret text form: unpadded base64url, 43 characters', () => {
    expect(encodeLinkSecret(fromHex(v.linkSecretText.secret))).toBe(v.linkSecretText.text);
    expect(toHex(decodeLinkSecret(v.linkSecretText.text))).toBe(v.linkSecretText.secret);
  });

  it.each(v.metadataVariants)('metadata variant: $description', (m) => {
    expect(toHex(encodeMetadata(m.value))).toBe(m.encoded);
    expect(decodeMetadata(fromHex(m.encoded))).toEqual(m.value);
  });

  it.each(v.manifestVariants)('manifest variant: $description', async (m) => {
    const bytes = fromHex(m.bytes);
    for (const ref of m.opensWith) {
      const opened = await openManifest(bytes, [await identityOf(ref)], { fileId: m.fileId });
      expect(opened.metadata).toEqual(m.metadata);
      expect(opened.segmentSize).toBe(m.segmentSize);
      expect(opened.signer.fingerprint).toBe(v.publicIdentity.fingerprint);
      expect(toHex(opened.payloadDigest)).toBe(m.payloadDigest);
    }
    const parsed = parseManifest(bytes);
    expect(toHex(parsed.headerBytes)).toBe(m.header);
    expect(parsed.stanzas.map((s) => ({ typeId: s.typeId, body: toHex(s.body) }))).toEqual(m.envelopes);
    const draft = await assembleDraft({
      header: parsed.header,
      fileKey: fromHex(m.fileKey),
      metadata: m.metadata,
      metadataNonce: fromHex(m.metadataNonce),
      stanzas: parsed.stanzas,
    });
    const again = await finishManifest(draft, { payloadDigest: fromHex(m.payloadDigest), signer: await importEcdsa() });
    expect(toHex(again.subarray(0, again.length - 64))).toBe(m.bytes.slice(0, -128));
  }, 30_000);

  it.each(v.negative)('negative: $name → $error', async (n) => {
    const source = n.bytesFrom === 'manifest.bytes' ? v.manifest.bytes : n.bytesFrom === 'backup.bytes' ? v.backup.bytes : n.bytes;
    if (source === undefined) throw new Error('a negative case needs bytes or bytesFrom');
    const input = fromHex(source);
    let attempt: Promise<unknown>;
    if (n.input === 'payload') {
      const payloadDigest = fromHex(n.payloadDigest);
      attempt = readAll(streamOf(input, 333).pipeThrough(createOpenStream(contentKey, n.segmentSize, { payloadDigest })));
    } else if (n.input === 'manifest') {
      const identities = await Promise.all(n.identities.map(identityOf));
      attempt = openManifest(input, identities, { fileId: n.fileId });
    } else if (n.input === 'publicIdentity') {
      attempt = importPublicIdentity(input);
    } else if (n.input === 'backup') {
      attempt = restoreIdentity(input, passphraseOf(n));
    } else {
      attempt = verifyRotation(input, fromHex(n.oldIdentity), fromHex(n.newIdentity));
    }
    const error: unknown = await attempt.then(
      () => 'no error',
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SealdropCryptoError);
    expect(error instanceof Error ? error.name : error).toBe(n.error);
  }, 30_000);
});
