import { beforeAll, describe, expect, it } from 'vitest';
import { MalformedError, TamperedError, WrongKeyError, WrongPassphraseError } from './errors.ts';
import { encodeHeader } from './format.ts';
import type { KdfParams } from './kdf.ts';
import {
  STANZA_LINK_PASSPHRASE,
  linkPassphraseBodyLength,
  linkPassphraseIdentity,
  linkPassphraseRecipient,
} from './link-passphrase.ts';
import { openManifest, parseManifest, type ManifestSigner } from './manifest.ts';
import { reEnvelope } from './re-envelope.ts';
import {
  STANZA_LINK_SECRET,
  linkSecretIdentity,
  linkSecretRecipient,
  newLinkSecret,
  passphraseRecipient,
  rsaIdentity,
  rsaRecipient,
} from './recipients.ts';
import { sealForTest } from './test-seal.ts';

const FAST: KdfParams = { kdf: 'scrypt', logN: 10, r: 8, p: 1 };
const FILE_ID = '0123456789abcdef0123456789abcdef';
const header = encodeHeader({ segmentSize: 1024, fileId: FILE_ID, salt: new Uint8Array(32).fill(7) });
const fileKey = new Uint8Array(32).fill(0x42);

let owner: CryptoKeyPair;
let signer: ManifestSigner;
let other: ManifestSigner;

beforeAll(async () => {
  owner = await crypto.subtle.generateKey(
    { name: 'RSA-OAEP', modulusLength: 3072, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
    false,
    ['encrypt', 'decrypt'],
  );
  const gen = async (): Promise<ManifestSigner> =>
    (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify'])) as ManifestSigner;
  signer = await gen();
  other = await gen();
});

describe('link secret with passphrase (typeId 5)', () => {
  it('opens only with both the secret and the passphrase', async () => {
    const secret = newLinkSecret();
    const stanza = await linkPassphraseRecipient(secret, 'correct horse', FAST).wrap(fileKey, header);
    expect(stanza.typeId).toBe(STANZA_LINK_PASSPHRASE);
    expect(stanza.body.length).toBe(linkPassphraseBodyLength(FAST));
    expect(await linkPassphraseIdentity(secret, 'correct horse').unwrap(stanza, header)).toEqual(fileKey);
    await expect(linkPassphraseIdentity(secret, 'wrong horse').unwrap(stanza, header)).rejects.toBeInstanceOf(WrongPassphraseError);
    await expect(linkPassphraseIdentity(secret, '').unwrap(stanza, header)).rejects.toBeInstanceOf(WrongPassphraseError);
    // Another secret: not mine, whatever the passphrase.
    expect(await linkPassphraseIdentity(newLinkSecret(), 'correct horse').unwrap(stanza, header)).toBeNull();
    // The secret alone (a plain link identity) does not open it.
    expect(await linkSecretIdentity(secret).unwrap(stanza, header)).toBeNull();
  });

  it('is bound to the header', async () => {
    const secret = newLinkSecret();
    const stanza = await linkPassphraseRecipient(secret, 'pw', FAST).wrap(fileKey, header);
    const otherHeader = encodeHeader({ segmentSize: 1024, fileId: FILE_ID, salt: new Uint8Array(32).fill(8) });
    // The check is bound to the header too, so on another file it reads as another link's.
    expect(await linkPassphraseIdentity(secret, 'pw').unwrap(stanza, otherHeader)).toBeNull();
  });

  it('refuses a truncated or extended body as malformed', async () => {
    const secret = newLinkSecret();
    const stanza = await linkPassphraseRecipient(secret, 'pw', FAST).wrap(fileKey, header);
    for (const body of [stanza.body.slice(0, -1), stanza.body.slice(0, 10), new Uint8Array(0), new Uint8Array([...stanza.body, 0])]) {
      await expect(linkPassphraseIdentity(secret, 'pw').unwrap({ typeId: 5, body }, header)).rejects.toBeInstanceOf(MalformedError);
    }
  });

  it('writers refuse an empty passphrase', async () => {
    await expect(linkPassphraseRecipient(newLinkSecret(), '', FAST).wrap(fileKey, header)).rejects.toThrow(RangeError);
  });
});

describe('reEnvelope', () => {
  it('adds a passphrase link, keeps digest and metadata, and the owner can remove it again', async () => {
    const plaintext = new Uint8Array(3000).map((_, i) => i % 251);
    const sealed = await sealForTest({ fileId: FILE_ID, plaintext, recipients: [rsaRecipient(owner.publicKey)], signer, segmentSize: 1024 });
    const secret = newLinkSecret();
    const { manifest, added } = await reEnvelope(sealed.manifest, [rsaIdentity(owner.privateKey)], {
      fileId: FILE_ID,
      signer,
      change: { add: [linkPassphraseRecipient(secret, 'open sesame', FAST)] },
    });
    expect(added).toHaveLength(1);
    const before = parseManifest(sealed.manifest);
    const after = parseManifest(manifest);
    expect(after.payloadDigest).toEqual(before.payloadDigest);
    expect(after.sealedMetadata).toEqual(before.sealedMetadata);
    expect(after.stanzas).toHaveLength(2);
    const opened = await openManifest(manifest, [linkPassphraseIdentity(secret, 'open sesame')], { fileId: FILE_ID });
    expect(opened.metadata.name).toBe('test.bin');
    expect(opened.payloadDigest).toEqual(sealed.payloadDigest);
    await expect(openManifest(manifest, [linkPassphraseIdentity(secret, 'nope')], { fileId: FILE_ID })).rejects.toBeInstanceOf(
      WrongPassphraseError,
    );
    await expect(openManifest(manifest, [linkSecretIdentity(secret)], { fileId: FILE_ID })).rejects.toBeInstanceOf(WrongKeyError);

    const addedBody = added[0]?.body;
    const removed = await reEnvelope(manifest, [rsaIdentity(owner.privateKey)], {
      fileId: FILE_ID,
      signer,
      change: { remove: (s) => addedBody !== undefined && s.body.every((b, i) => b === addedBody[i]) && s.body.length === addedBody.length },
    });
    expect(parseManifest(removed.manifest).stanzas).toHaveLength(1);
    await expect(openManifest(removed.manifest, [linkPassphraseIdentity(secret, 'open sesame')], { fileId: FILE_ID })).rejects.toBeInstanceOf(
      WrongKeyError,
    );
    expect((await openManifest(removed.manifest, [rsaIdentity(owner.privateKey)], { fileId: FILE_ID })).metadata.name).toBe('test.bin');
  });

  it('adds a plain link (typeId 3)', async () => {
    const sealed = await sealForTest({ fileId: FILE_ID, plaintext: new Uint8Array(10), recipients: [rsaRecipient(owner.publicKey)], signer });
    const secret = newLinkSecret();
    const { manifest, added } = await reEnvelope(sealed.manifest, [rsaIdentity(owner.privateKey)], {
      fileId: FILE_ID,
      signer,
      change: { add: [linkSecretRecipient(secret)] },
    });
    expect(added[0]?.typeId).toBe(STANZA_LINK_SECRET);
    expect((await openManifest(manifest, [linkSecretIdentity(secret)], { fileId: FILE_ID })).metadata.size).toBe(10);
  });

  it('refuses another signer, an edited manifest, removing every envelope and a second passphrase', async () => {
    const sealed = await sealForTest({
      fileId: FILE_ID,
      plaintext: new Uint8Array(10),
      recipients: [rsaRecipient(owner.publicKey), passphraseRecipient('pw', FAST)],
      signer,
    });
    const ids = [rsaIdentity(owner.privateKey)];
    await expect(reEnvelope(sealed.manifest, ids, { fileId: FILE_ID, signer: other, change: {} })).rejects.toThrow(
      'Only the key that sealed this file can change who may open it.',
    );
    const edited = sealed.manifest.slice();
    edited[60] = (edited[60] ?? 0) ^ 1;
    await expect(reEnvelope(edited, ids, { fileId: FILE_ID, signer, change: {} })).rejects.toBeInstanceOf(TamperedError);
    await expect(reEnvelope(sealed.manifest, ids, { fileId: FILE_ID, signer, change: { remove: () => true } })).rejects.toThrow(
      'A file needs 1 to 64 envelopes.',
    );
    await expect(
      reEnvelope(sealed.manifest, ids, { fileId: FILE_ID, signer, change: { add: [passphraseRecipient('pw2', FAST)] } }),
    ).rejects.toThrow('A file can have at most one passphrase.');
    await expect(
      reEnvelope(sealed.manifest, [linkSecretIdentity(newLinkSecret())], { fileId: FILE_ID, signer, change: {} }),
    ).rejects.toBeInstanceOf(WrongKeyError);
  });
});
