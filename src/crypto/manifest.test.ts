import { beforeAll, describe, expect, it } from 'vitest';
import { ByteWriter, randomBytes } from './bytes.ts';
import {
  KdfParamsTooHighError,
  MalformedError,
  SealdropCryptoError,
  TamperedError,
  UnsupportedVersionError,
  WrongKeyError,
  WrongPassphraseError,
} from './errors.ts';
import { signingKeyFingerprint } from './fingerprint.ts';
import { writeKdfBlock, type KdfParams } from './kdf.ts';
import { manifestLengthFor, openManifest, type ManifestSigner } from './manifest.ts';
import { driveKeyRecipient, importDriveKey } from './drive-key.ts';
import { PayloadHasher } from './payload-digest.ts';
import { sealForTest } from './test-seal.ts';
import type { FileMetadata } from './metadata.ts';
import {
  STANZA_PASSPHRASE,
  linkSecretIdentity,
  linkSecretRecipient,
  newLinkSecret,
  passphraseIdentity,
  passphraseRecipient,
  rsaIdentity,
  rsaRecipient,
  sealLinkStanza,
  decodeLinkSecret,
  encodeLinkSecret,
  type Recipient,
} from './recipients.ts';
import { encodeMetadata } from './metadata.ts';
import { createOpenStream, createSealStream } from './stream.ts';
import { pattern, randomData, readAll, streamOf } from './test-streams.ts';

const FAST: KdfParams = { kdf: 'scrypt', logN: 10, r: 8, p: 1 };
const FILE_ID = '0123456789abcdef0123456789abcdef';
const OTHER_FILE_ID = 'fedcba9876543210fedcba9876543210';
const S = 1024;
const metadata: FileMetadata = {
  name: 'Contract – final (2).pdf',
  type: 'application/pdf',
  size: 3000,
  lastModified: 1_767_225_600_123,
  relativePath: 'legal/2026/Contract – final (2).pdf',
};

let signer: ManifestSigner;
let rsa: CryptoKeyPair;
let otherRsa: CryptoKeyPair;

const genRsa = (): Promise<CryptoKeyPair> =>
  crypto.subtle.generateKey(
    { name: 'RSA-OAEP', hash: 'SHA-256', modulusLength: 3072, publicExponent: new Uint8Array([1, 0, 1]) },
    false,
    ['encrypt', 'decrypt'],
  );

beforeAll(async () => {
  signer = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
  [rsa, otherRsa] = await Promise.all([genRsa(), genRsa()]);
}, 60_000);

async function seal(recipients: Recipient[], fileId = FILE_ID, meta = metadata) {
  const sealed = await sealForTest({ fileId, plaintext: pattern(meta.size), metadata: meta, recipients, signer, segmentSize: S });
  return { ...sealed, contentKey: sealed.draft.contentKey, segmentSize: sealed.draft.segmentSize };
}

describe('sealDraft / finishManifest / openManifest round trips', () => {
  it('opens with a link secret and returns metadata, segment size and signer', async () => {
    const secret = newLinkSecret();
    const sealed = await seal([linkSecretRecipient(secret)]);
    expect(sealed.segmentSize).toBe(S);
    const opened = await openManifest(sealed.manifest, [linkSecretIdentity(secret)], { fileId: FILE_ID });
    expect(opened.metadata).toEqual(metadata);
    expect(opened.segmentSize).toBe(S);
    expect(opened.signer.fingerprint).toBe(await signingKeyFingerprint(signer.publicKey));
    expect(opened.signer.fingerprint).toMatch(/^\d{5}( \d{5}){7}$/);
    // The content key and payload digest from sealing are those the manifest gives back.
    expect(opened.payloadDigest).toEqual(sealed.payloadDigest);
    const opening = streamOf(sealed.payload, 700).pipeThrough(createOpenStream(opened.contentKey, S, opened));
    expect(await readAll(opening)).toEqual(pattern(metadata.size));
  });

  it('opens with an RSA-OAEP private key, among several recipients', async () => {
    const secret = newLinkSecret();
    const sealed = await seal([rsaRecipient(otherRsa.publicKey), linkSecretRecipient(secret), rsaRecipient(rsa.publicKey)]);
    const opened = await openManifest(sealed.manifest, [rsaIdentity(rsa.privateKey)], { fileId: FILE_ID });
    expect(opened.metadata).toEqual(metadata);
  });

  it('opens with a passphrase (scrypt) and metadata without a relative path', async () => {
    const meta: FileMetadata = { name: '', type: '', size: 0, lastModified: -5 };
    const sealed = await seal([passphraseRecipient('pässword', FAST)], FILE_ID, meta);
    // NFC and NFD spellings are the same passphrase.
    const opened = await openManifest(sealed.manifest, [passphraseIdentity('pa\u0308ssword')], { fileId: FILE_ID });
    expect(opened.metadata).toEqual(meta);
  });

  it('opens with a passphrase (PBKDF2-SHA-256, 600,000 iterations)', async () => {
    const sealed = await seal([passphraseRecipient('hunter2 hunter2', { kdf: 'pbkdf2-sha256', iterations: 600_000 })]);
    const opened = await openManifest(sealed.manifest, [passphraseIdentity('hunter2 hunter2')], { fileId: FILE_ID });
    expect(opened.metadata.name).toBe(metadata.name);
  });

  it('tries every identity: a wrong passphrase does not hide a working key', async () => {
    const secret = newLinkSecret();
    const sealed = await seal([passphraseRecipient('right', FAST), linkSecretRecipient(secret)]);
    const ids = [passphraseIdentity('wrong'), linkSecretIdentity(secret)];
    expect((await openManifest(sealed.manifest, ids, { fileId: FILE_ID })).metadata).toEqual(metadata);
  });
});

describe('identity contract: null = not mine, throw = mine but broken', () => {
  const context = randomBytes(57);
  const fileKey = randomBytes(32);

  it('each kind returns null for stanzas that are not its own', async () => {
    const link = await linkSecretRecipient(newLinkSecret()).wrap(fileKey, context);
    const pass = await passphraseRecipient('x', FAST).wrap(fileKey, context);
    const rsaStanza = await rsaRecipient(otherRsa.publicKey).wrap(fileKey, context);
    expect(await rsaIdentity(rsa.privateKey).unwrap(link, context)).toBeNull();
    expect(await rsaIdentity(rsa.privateKey).unwrap(rsaStanza, context)).toBeNull();
    expect(await passphraseIdentity('x').unwrap(link, context)).toBeNull();
    expect(await linkSecretIdentity(newLinkSecret()).unwrap(link, context)).toBeNull();
    expect(await linkSecretIdentity(newLinkSecret()).unwrap(pass, context)).toBeNull();
    expect(await linkSecretIdentity(newLinkSecret()).unwrap({ typeId: 99, body: new Uint8Array(3) }, context)).toBeNull();
    expect(await rsaIdentity(otherRsa.privateKey).unwrap(rsaStanza, context)).toEqual(fileKey);
  });

  it('a passphrase identity throws on a wrong passphrase or another header', async () => {
    const pass = await passphraseRecipient('right', FAST).wrap(fileKey, context);
    await expect(passphraseIdentity('wrong').unwrap(pass, context)).rejects.toThrow(WrongPassphraseError);
    await expect(passphraseIdentity('right').unwrap(pass, randomBytes(57))).rejects.toThrow(WrongPassphraseError);
    expect(await passphraseIdentity('right').unwrap(pass, context)).toEqual(fileKey);
  });

  it('a link identity throws on a body of the wrong length', async () => {
    const stanza = { typeId: 3, body: new Uint8Array(59) };
    await expect(linkSecretIdentity(newLinkSecret()).unwrap(stanza, context)).rejects.toThrow(MalformedError);
  });
});

describe('openManifest rejects', () => {
  let secret: Uint8Array;
  let manifest: Uint8Array;
  beforeAll(async () => {
    secret = newLinkSecret();
    manifest = (await seal([linkSecretRecipient(secret)])).manifest;
  });
  const openWith = (bytes: Uint8Array, fileId = FILE_ID) =>
    openManifest(bytes, [linkSecretIdentity(secret)], { fileId });
  const flip = (bytes: Uint8Array, at: number): Uint8Array => {
    const bad = bytes.slice();
    bad[at] = (bad[at] ?? 0) ^ 0x01;
    return bad;
  };

  it('a flipped bit anywhere, with a typed error; TamperedError past the parse-critical bytes', async () => {
    // Byte ranges whose flip leaves the structure parseable: salt/fileId, signer key, digest, metadata, stanza body, MAC, signature.
    const metaEnd = 184 + ((manifest[182] ?? 0) << 8) + (manifest[183] ?? 0);
    for (let at = 0; at < manifest.length; at++) {
      const error: unknown = await openWith(flip(manifest, at)).then(
        () => 'opened',
        (e: unknown) => e,
      );
      expect(error, `byte ${at}`).toBeInstanceOf(SealdropCryptoError);
      const structural = at < 9 || at === 57 || at === 58 || at === 182 || at === 183 || (at >= metaEnd && at < metaEnd + 6);
      if (!structural) expect(error, `byte ${at}`).toBeInstanceOf(TamperedError);
    }
    for (const at of [manifest.length - 1, manifest.length - 64, manifest.length - 33]) {
      await expect(openWith(flip(manifest, at)), `signature byte ${at}`).rejects.toThrow(TamperedError);
    }
  }, 60_000);

  it('a manifest moved to another file id', async () => {
    await expect(openWith(manifest, OTHER_FILE_ID)).rejects.toThrow(TamperedError);
  });

  it('a manifest placed next to another file’s payload', async () => {
    const other = await seal([linkSecretRecipient(secret)]);
    const otherPayload = await readAll(streamOf(randomData(2 * S), 4096).pipeThrough(createSealStream(other.contentKey, S, { hasher: new PayloadHasher() })));
    const opened = await openWith(manifest);
    const opening = readAll(streamOf(otherPayload, 4096).pipeThrough(createOpenStream(opened.contentKey, S, opened)));
    await expect(opening).rejects.toThrow(TamperedError);
  });

  it('an unknown version, a wrong magic, truncation and trailing bytes', async () => {
    for (const version of [1, 3]) {
      const other = manifest.slice();
      other[4] = version;
      await expect(openWith(other)).rejects.toThrow(UnsupportedVersionError);
    }
    const magic = manifest.slice();
    magic[0] = 0x58;
    await expect(openWith(magic)).rejects.toThrow(MalformedError);
    await expect(openWith(manifest.slice(0, manifest.length - 1))).rejects.toThrow(MalformedError);
    await expect(openWith(new Uint8Array([...manifest, 0]))).rejects.toThrow(MalformedError);
    await expect(openWith(new Uint8Array(0))).rejects.toThrow(MalformedError);
  });

  it('a wrong passphrase, with a message that does not carry it', async () => {
    const m = (await seal([passphraseRecipient('the right one', FAST)])).manifest;
    const error: unknown = await openManifest(m, [passphraseIdentity('the wrong one')], { fileId: FILE_ID }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(WrongPassphraseError);
    expect(String(error)).not.toContain('wrong one');
  });

  it('a wrong private key or link secret', async () => {
    const m = (await seal([rsaRecipient(rsa.publicKey)])).manifest;
    await expect(openManifest(m, [rsaIdentity(otherRsa.privateKey)], { fileId: FILE_ID })).rejects.toThrow(WrongKeyError);
    const wrongLink = linkSecretIdentity(newLinkSecret());
    await expect(openManifest(manifest, [wrongLink], { fileId: FILE_ID })).rejects.toThrow(WrongKeyError);
    await expect(openManifest(manifest, [], { fileId: FILE_ID })).rejects.toThrow(WrongKeyError);
  });

  it('over-cap KDF parameters in a (validly signed) hostile manifest, before doing the work', async () => {
    for (const params of [
      { logN: 21, r: 8, p: 1 },
      { logN: 10, r: 17, p: 1 },
      { logN: 10, r: 8, p: 5 },
      { logN: 18, r: 16, p: 1 },
      { logN: 18, r: 8, p: 3 },
    ]) {
      const hostile: Recipient = {
        wrap: () => {
          const w = new ByteWriter();
          writeKdfBlock(w, { params: { kdf: 'scrypt', ...params }, salt: randomBytes(32) });
          return Promise.resolve({ typeId: STANZA_PASSPHRASE, body: w.raw(randomBytes(60)).bytes() });
        },
      };
      const m = (await seal([hostile])).manifest;
      await expect(openManifest(m, [passphraseIdentity('x')], { fileId: FILE_ID })).rejects.toThrow(KdfParamsTooHighError);
    }
    const pbkdf2: Recipient = {
      wrap: () => {
        const w = new ByteWriter();
        writeKdfBlock(w, { params: { kdf: 'pbkdf2-sha256', iterations: 5_000_001 }, salt: randomBytes(32) });
        return Promise.resolve({ typeId: STANZA_PASSPHRASE, body: w.raw(randomBytes(60)).bytes() });
      },
    };
    const m = (await seal([pbkdf2])).manifest;
    await expect(openManifest(m, [passphraseIdentity('x')], { fileId: FILE_ID })).rejects.toThrow(KdfParamsTooHighError);
    expect(() => passphraseRecipient('x', { kdf: 'scrypt', logN: 21, r: 8, p: 1 })).toThrow(KdfParamsTooHighError);
    expect(() => passphraseRecipient('x', { kdf: 'pbkdf2-sha256', iterations: 100_000 })).toThrow(MalformedError);
  });

  it('an envelope that opens to a different file key (key commitment)', async () => {
    // A signer who wraps key B for one reader while the metadata and MAC use key A.
    const wrongKey: Recipient = { wrap: (_fileKey, context) => sealLinkStanza(secret, randomBytes(12), randomBytes(32), context) };
    const m = (await seal([wrongKey])).manifest;
    await expect(openWith(m)).rejects.toThrow(TamperedError);
  });

  it('two passphrase envelopes, and no recipients, at seal time', async () => {
    await expect(seal([passphraseRecipient('a', FAST), passphraseRecipient('b', FAST)])).rejects.toThrow(RangeError);
    await expect(seal([])).rejects.toThrow(RangeError);
    await expect(seal([linkSecretRecipient(secret)], 'NOT-A-FILE-ID')).rejects.toThrow(RangeError);
  });
});

describe('FORMAT.md rules at the API edge', () => {
  it('the expected fileId must be canonical lowercase hex (RangeError), compared as 16 bytes', async () => {
    const secret = newLinkSecret();
    const { manifest } = await seal([linkSecretRecipient(secret)]);
    await expect(openManifest(manifest, [linkSecretIdentity(secret)], { fileId: FILE_ID.toUpperCase() })).rejects.toThrow(RangeError);
    await expect(openManifest(manifest, [linkSecretIdentity(secret)], { fileId: FILE_ID.slice(2) })).rejects.toThrow(RangeError);
    expect((await openManifest(manifest, [linkSecretIdentity(secret)], { fileId: FILE_ID })).metadata).toEqual(metadata);
  });

  it('writers refuse an empty passphrase or one with a lone surrogate; readers treat both as wrong', async () => {
    await expect(passphraseRecipient('', FAST).wrap(randomBytes(32), randomBytes(57))).rejects.toThrow(RangeError);
    await expect(passphraseRecipient('a\ud800b', FAST).wrap(randomBytes(32), randomBytes(57))).rejects.toThrow(RangeError);
    const { manifest } = await seal([passphraseRecipient('x', FAST)]);
    await expect(openManifest(manifest, [passphraseIdentity('')], { fileId: FILE_ID })).rejects.toThrow(WrongPassphraseError);
    await expect(openManifest(manifest, [passphraseIdentity('a\ud800b')], { fileId: FILE_ID })).rejects.toThrow(WrongPassphraseError);
  });

  it('writers refuse RSA keys outside 3072–4096 bits', async () => {
    const small = await crypto.subtle.generateKey(
      { name: 'RSA-OAEP', hash: 'SHA-256', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) },
      false,
      ['encrypt', 'decrypt'],
    );
    await expect(rsaRecipient(small.publicKey).wrap(randomBytes(32), randomBytes(57))).rejects.toThrow(RangeError);
  }, 30_000);

  it('metadata writers refuse text with a lone surrogate (no UTF-8 form)', () => {
    expect(() => encodeMetadata({ ...metadata, name: 'a\ud800b' })).toThrow(RangeError);
    expect(() => encodeMetadata({ ...metadata, name: '\ud83d\udcc4 ok' })).not.toThrow();
  });

  it('link secret text: exactly 43 unpadded base64url characters, canonical last character', () => {
    const secret = newLinkSecret();
    const text = encodeLinkSecret(secret);
    expect(text).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(decodeLinkSecret(text)).toEqual(secret);
    const zeros = encodeLinkSecret(new Uint8Array(32));
    expect(zeros).toBe('A'.repeat(43));
    for (const bad of [zeros + '=', zeros.slice(1), 'A'.repeat(42) + 'B', 'A'.repeat(42) + '+', 'A'.repeat(42) + '/']) {
      expect(() => decodeLinkSecret(bad), bad).toThrow(MalformedError);
    }
    expect(decodeLinkSecret('A'.repeat(42) + 'E')[31]).toBe(1);
  });
});

describe('manifestLengthFor', () => {
  it('predicts the finished manifest length without wrapping a key, for RSA alone and drive key + RSA', async () => {
    const drive = await importDriveKey(randomBytes(32));
    const names = ['a', 'Contract – final (2).pdf', 'x'.repeat(300), '写真'.repeat(40)];
    for (const name of names) {
      for (const withPath of [false, true]) {
        const { relativePath: _unused, ...base } = metadata;
        void _unused;
        const meta: FileMetadata = withPath ? { ...base, name, relativePath: `folder/${name}` } : { ...base, name };
        for (const recipients of [[rsaRecipient(rsa.publicKey)], [driveKeyRecipient(drive), rsaRecipient(rsa.publicKey)]]) {
          const predicted = manifestLengthFor({ metadata: meta, recipients });
          const sealed = await seal(recipients, FILE_ID, meta);
          expect(predicted, `${name} path=${withPath} recipients=${recipients.length}`).toBe(sealed.manifest.length);
          expect(predicted).toBe(sealed.draft.manifestLength);
        }
      }
    }
  });

  it('refuses a recipient whose envelope length is not fixed, and a wrong recipient count', () => {
    expect(() => manifestLengthFor({ metadata, recipients: [passphraseRecipient('pass', FAST)] })).toThrow(RangeError);
    expect(() => manifestLengthFor({ metadata, recipients: [passphraseRecipient('pass', FAST)] })).toThrow(/envelope length/);
    expect(() => manifestLengthFor({ metadata, recipients: [] })).toThrow('A file needs 1 to 64 recipients.');
  });
});
