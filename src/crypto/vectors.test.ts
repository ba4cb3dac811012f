import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import rawVectors from './vectors/v1.json';
import { fromHex, toHex } from './bytes.ts';
import { encodeHeader } from './format.ts';
import { restoreIdentity, exportPublicIdentity, fingerprint, importPublicIdentity } from './identity.ts';
import { LABEL_CONTENT, LABEL_HEADER_MAC, LABEL_METADATA, deriveSubkeyBytes, importAesGcmKey } from './key-schedule.ts';
import { deriveKdfBytes } from './kdf.ts';
import { assembleManifest, openManifest, parseManifest } from './manifest.ts';
import { decodeMetadata, encodeMetadata } from './metadata.ts';
import {
  linkSecretIdentity,
  passphraseIdentity,
  rsaIdentity,
  sealLinkStanza,
  sealPassphraseStanza,
  STANZA_LINK_SECRET,
  STANZA_PASSPHRASE,
  STANZA_RSA_OAEP,
} from './recipients.ts';
import { createOpenStream, createSealStream, decryptSegment, encryptSegment } from './stream.ts';
import { readAll, streamOf } from './test-streams.ts';

const hex = z.string().regex(/^([0-9a-f]{2})*$/);
const pair = z.object({ privateKeyPkcs8: hex, publicKeySpki: hex });
const schema = z.object({
  keys: z.object({ rsa: pair, ecdsa: pair }),
  keySchedule: z.object({
    fileKey: hex,
    salt: hex,
    segmentSize: z.number().int(),
    fileId: z.string(),
    header: hex,
    contentKey: hex,
    metadataKey: hex,
    headerMacKey: hex,
  }),
  segments: z.array(z.object({ index: z.number().int(), final: z.boolean(), plaintext: hex, sealed: hex })),
  payloads: z.array(z.object({ description: z.string(), segmentSize: z.number().int(), plaintext: hex, payload: hex })),
  metadata: z.object({
    value: z.object({
      name: z.string(),
      type: z.string(),
      size: z.number(),
      lastModified: z.number(),
      relativePath: z.string().optional(),
    }),
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
  manifest: z.object({ bytes: hex, signerFingerprint: z.string() }),
  publicIdentity: z.object({ bytes: hex, fingerprint: z.string() }),
  backup: z.object({ passphrase: z.string(), bytes: hex }),
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

describe('known-answer vectors (src/crypto/vectors/v1.json)', () => {
  it('header encoding and HKDF sub-keys', async () => {
    expect(toHex(encodeHeader({ segmentSize: ks.segmentSize, fileId: ks.fileId, salt }))).toBe(ks.header);
    expect(toHex(await deriveSubkeyBytes(fileKey, salt, LABEL_CONTENT, header))).toBe(ks.contentKey);
    expect(toHex(await deriveSubkeyBytes(fileKey, salt, LABEL_METADATA, header))).toBe(ks.metadataKey);
    expect(toHex(await deriveSubkeyBytes(fileKey, salt, LABEL_HEADER_MAC, header))).toBe(ks.headerMacKey);
  });

  it.each(v.segments)('segment $index (final: $final)', async (s) => {
    expect(toHex(await encryptSegment(contentKey, s.index, s.final, fromHex(s.plaintext)))).toBe(s.sealed);
    expect(toHex(await decryptSegment(contentKey, s.index, s.final, fromHex(s.sealed)))).toBe(s.plaintext);
  });

  it.each(v.payloads)('payload: $description', async (p) => {
    const sealed = await readAll(streamOf(fromHex(p.plaintext), 300).pipeThrough(createSealStream(contentKey, p.segmentSize)));
    expect(toHex(sealed)).toBe(p.payload);
    const opened = await readAll(streamOf(fromHex(p.payload), 777).pipeThrough(createOpenStream(contentKey, p.segmentSize)));
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

  it('signed manifest: opens with each stanza kind, and re-assembles to the same bytes up to the signature', async () => {
    const bytes = fromHex(v.manifest.bytes);
    const expected = {
      metadata: v.metadata.value,
      segmentSize: ks.segmentSize,
    };
    const identities = [
      linkSecretIdentity(fromHex(v.stanzas.linkSecret.secret)),
      passphraseIdentity(v.stanzas.passphraseScrypt.passphrase),
      rsaIdentity(await importRsa()),
    ];
    for (const identity of identities) {
      const opened = await openManifest(bytes, [identity], { fileId: ks.fileId });
      expect(opened).toMatchObject(expected);
      expect(opened.signer.fingerprint).toBe(v.manifest.signerFingerprint);
      const payload = v.payloads[1];
      if (payload === undefined) throw new Error('vector missing');
      const plain = await readAll(streamOf(fromHex(payload.payload), 4096).pipeThrough(createOpenStream(opened.contentKey, 1024)));
      expect(toHex(plain)).toBe(payload.plaintext);
    }
    const parsed = parseManifest(bytes);
    const again = await assembleManifest({
      header: parsed.header,
      fileKey,
      metadata: v.metadata.value,
      metadataNonce: fromHex(v.metadata.nonce),
      stanzas: parsed.stanzas,
      signer: await importEcdsa(),
    });
    expect(toHex(again.subarray(0, again.length - 64))).toBe(v.manifest.bytes.slice(0, -128));
  });

  it('public identity and fingerprint', async () => {
    const bytes = fromHex(v.publicIdentity.bytes);
    expect(await fingerprint(bytes)).toBe(v.publicIdentity.fingerprint);
    const imported = await importPublicIdentity(bytes);
    expect(imported.fingerprint).toBe(v.publicIdentity.fingerprint);
    expect(v.manifest.signerFingerprint).toBe(v.publicIdentity.fingerprint);
  });

  it('recovery backup restores the fixed keys', async () => {
    const restored = await restoreIdentity(fromHex(v.backup.bytes), v.backup.passphrase);
    expect(toHex(new Uint8Array(await crypto.subtle.exportKey('spki', restored.encrypt.publicKey)))).toBe(v.keys.rsa.publicKeySpki);
    expect(await fingerprint(await exportPublicIdentity(restored))).toBe(v.publicIdentity.fingerprint);
  });
});
