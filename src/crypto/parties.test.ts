/**
 * Send and open take parties as parameters (issue 17, Deliver 1): a file is
 * sealed for the readers given and signed by the signer given; opening
 * accepts only the signers the reader trusts and reports which one signed.
 * Sharing with a person is an RSA envelope added by re-enveloping, and
 * revoking takes it out again.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { UntrustedSignerError, WrongKeyError } from './errors.ts';
import { signingKeyFingerprint } from './fingerprint.ts';
import { generateIdentityKeys, type IdentityKeys } from './identity.ts';
import { openManifest } from './manifest.ts';
import { reEnvelope } from './re-envelope.ts';
import { STANZA_RSA_OAEP, rsaIdentity, rsaRecipient } from './recipients.ts';
import { sealForTest } from './test-seal.ts';

const FILE_ID = 'a0112233445566778899aabbccddeeff';
let alice: IdentityKeys;
let bob: IdentityKeys;
let carol: IdentityKeys;
let aliceFp: string;
let carolFp: string;

beforeAll(async () => {
  [alice, bob, carol] = await Promise.all([generateIdentityKeys(), generateIdentityKeys(), generateIdentityKeys()]);
  aliceFp = await signingKeyFingerprint(alice.sign.publicKey);
  carolFp = await signingKeyFingerprint(carol.sign.publicKey);
}, 60_000);

const plaintext = new TextEncoder().encode('for bob only');

describe('readers and signer as parameters', () => {
  it('a file sealed for Bob and signed by Alice opens for Bob when he trusts Alice, and says Alice sealed it', async () => {
    const { manifest } = await sealForTest({ fileId: FILE_ID, plaintext, recipients: [rsaRecipient(alice.encrypt.publicKey), rsaRecipient(bob.encrypt.publicKey)], signer: alice.sign });
    const opened = await openManifest(manifest, [rsaIdentity(bob.encrypt.privateKey)], { fileId: FILE_ID, trustedSigners: new Set([aliceFp]) });
    expect(opened.signer.fingerprint).toBe(aliceFp);
    expect(opened.metadata.size).toBe(plaintext.length);
  });

  it('refuses a good signature by a key the reader does not trust (UntrustedSignerError)', async () => {
    const { manifest } = await sealForTest({ fileId: FILE_ID, plaintext, recipients: [rsaRecipient(bob.encrypt.publicKey)], signer: carol.sign });
    await expect(openManifest(manifest, [rsaIdentity(bob.encrypt.privateKey)], { fileId: FILE_ID, trustedSigners: new Set([aliceFp]) })).rejects.toBeInstanceOf(UntrustedSignerError);
    // Without a trust set, it opens and reports Carol.
    const opened = await openManifest(manifest, [rsaIdentity(bob.encrypt.privateKey)], { fileId: FILE_ID });
    expect(opened.signer.fingerprint).toBe(carolFp);
  });

  it('a reader left out cannot open it (WrongKeyError)', async () => {
    const { manifest } = await sealForTest({ fileId: FILE_ID, plaintext, recipients: [rsaRecipient(alice.encrypt.publicKey)], signer: alice.sign });
    await expect(openManifest(manifest, [rsaIdentity(bob.encrypt.privateKey)], { fileId: FILE_ID })).rejects.toBeInstanceOf(WrongKeyError);
  });
});

describe('sharing with a person by re-enveloping', () => {
  it('adds Bob’s envelope (Alice re-signs), and removing it shuts Bob out again', async () => {
    const { manifest } = await sealForTest({ fileId: FILE_ID, plaintext, recipients: [rsaRecipient(alice.encrypt.publicKey)], signer: alice.sign });
    const shared = await reEnvelope(manifest, [rsaIdentity(alice.encrypt.privateKey)], { fileId: FILE_ID, signer: alice.sign, change: { add: [rsaRecipient(bob.encrypt.publicKey)] } });
    const forBob = await openManifest(shared.manifest, [rsaIdentity(bob.encrypt.privateKey)], { fileId: FILE_ID, trustedSigners: new Set([aliceFp]) });
    expect(forBob.signer.fingerprint).toBe(aliceFp);
    const tag = shared.added[0]?.body.subarray(0, 16) ?? new Uint8Array(16);
    const revoked = await reEnvelope(shared.manifest, [rsaIdentity(alice.encrypt.privateKey)], {
      fileId: FILE_ID,
      signer: alice.sign,
      change: { remove: (s) => s.typeId === STANZA_RSA_OAEP && s.body.subarray(0, 16).every((b, i) => b === tag[i]) },
    });
    expect(revoked.manifest.length).toBe(manifest.length);
    await expect(openManifest(revoked.manifest, [rsaIdentity(bob.encrypt.privateKey)], { fileId: FILE_ID })).rejects.toBeInstanceOf(WrongKeyError);
    // Alice still opens her file.
    expect((await openManifest(revoked.manifest, [rsaIdentity(alice.encrypt.privateKey)], { fileId: FILE_ID, trustedSigners: new Set([aliceFp]) })).signer.fingerprint).toBe(aliceFp);
  });
});
