/**
 * A manifest re-sealed for the owner's new keys after a rotation (FORMAT.md
 * §10.6): the new keys open it and it is signed by the new key; the former
 * keys no longer do; other people's envelopes (a link) survive; the payload
 * digest and metadata are unchanged; a rotated manifest is skipped; someone
 * else's file and a tampered one are refused. Node and Chromium run this.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { driveKeyIdentity, driveKeyRecipient, importDriveKey, STANZA_DRIVE_KEY } from './drive-key.ts';
import { TamperedError, WrongKeyError } from './errors.ts';
import { generateIdentityKeys, type IdentityKeys } from './identity.ts';
import { openManifest, parseManifest } from './manifest.ts';
import { linkSecretIdentity, linkSecretRecipient, newLinkSecret, rsaIdentity, rsaRecipient } from './recipients.ts';
import { signingKeyFingerprint } from './fingerprint.ts';
import { rotateManifest, type FormerOwnerKeys } from './rotate-manifest.ts';
import { sealForTest } from './test-seal.ts';

const FILE_ID = '00112233445566778899aabbccddeeff';
let before: IdentityKeys;
let after: IdentityKeys;
let stranger: IdentityKeys;
let oldDrive: CryptoKey;
let newDrive: CryptoKey;

beforeAll(async () => {
  [before, after, stranger] = await Promise.all([generateIdentityKeys(), generateIdentityKeys(), generateIdentityKeys()]);
  oldDrive = await importDriveKey(new Uint8Array(32).fill(1));
  newDrive = await importDriveKey(new Uint8Array(32).fill(2));
}, 30_000);

const former = (): FormerOwnerKeys => ({ decrypt: before.encrypt.privateKey, verify: before.sign.publicKey, driveKey: oldDrive });
const add = () => [driveKeyRecipient(newDrive), rsaRecipient(after.encrypt.publicKey)];

describe('rotateManifest', () => {
  it('re-seals an owner file for the new keys, keeps a link envelope, and drops the former owner envelopes', async () => {
    const secret = newLinkSecret();
    const plaintext = new Uint8Array(3000).fill(7);
    const sealed = await sealForTest({
      fileId: FILE_ID,
      plaintext,
      recipients: [driveKeyRecipient(oldDrive), rsaRecipient(before.encrypt.publicKey), linkSecretRecipient(secret)],
      signer: before.sign,
      metadata: { name: 'plan.txt' },
    });
    const rotated = await rotateManifest(sealed.manifest, { fileId: FILE_ID, former: former(), signer: after.sign, add: add() });
    if (rotated === null) throw new Error('expected a rotated manifest');

    const byRsa = await openManifest(rotated, [rsaIdentity(after.encrypt.privateKey)], { fileId: FILE_ID });
    expect(byRsa.metadata.name).toBe('plan.txt');
    expect(byRsa.signer.fingerprint).toBe(await signingKeyFingerprint(after.sign.publicKey));
    const byDrive = await openManifest(rotated, [driveKeyIdentity(newDrive)], { fileId: FILE_ID });
    expect(byDrive.metadata.name).toBe('plan.txt');
    const byLink = await openManifest(rotated, [linkSecretIdentity(secret)], { fileId: FILE_ID });
    expect(byLink.metadata.name).toBe('plan.txt');
    await expect(openManifest(rotated, [rsaIdentity(before.encrypt.privateKey), driveKeyIdentity(oldDrive)], { fileId: FILE_ID })).rejects.toBeInstanceOf(
      WrongKeyError,
    );

    const was = parseManifest(sealed.manifest);
    const now = parseManifest(rotated);
    expect(now.payloadDigest).toEqual(was.payloadDigest);
    expect(now.sealedMetadata).toEqual(was.sealedMetadata);
    expect(now.headerBytes).toEqual(was.headerBytes);
    expect(now.stanzas.filter((s) => s.typeId === STANZA_DRIVE_KEY)).toHaveLength(1);
    expect(now.stanzas).toHaveLength(3);
  });

  it('opens a file sealed before drive keys through the former RSA key', async () => {
    const sealed = await sealForTest({ fileId: FILE_ID, plaintext: new Uint8Array(10), recipients: [rsaRecipient(before.encrypt.publicKey)], signer: before.sign });
    const rotated = await rotateManifest(sealed.manifest, { fileId: FILE_ID, former: { ...former(), driveKey: null }, signer: after.sign, add: add() });
    if (rotated === null) throw new Error('expected a rotated manifest');
    expect((await openManifest(rotated, [driveKeyIdentity(newDrive)], { fileId: FILE_ID })).metadata.size).toBe(10);
  });

  it('returns null for a manifest already signed by the new key (a resumed rotation skips it)', async () => {
    const sealed = await sealForTest({ fileId: FILE_ID, plaintext: new Uint8Array(1), recipients: add(), signer: after.sign });
    expect(await rotateManifest(sealed.manifest, { fileId: FILE_ID, former: former(), signer: after.sign, add: add() })).toBeNull();
  });

  it('re-seals an upload sealed for the former keys but finished with the new signer', async () => {
    const sealed = await sealForTest({ fileId: FILE_ID, plaintext: new Uint8Array(5), recipients: [driveKeyRecipient(oldDrive), rsaRecipient(before.encrypt.publicKey)], signer: after.sign });
    const rotated = await rotateManifest(sealed.manifest, { fileId: FILE_ID, former: former(), signer: after.sign, add: add() });
    if (rotated === null) throw new Error('expected a rotated manifest');
    expect((await openManifest(rotated, [rsaIdentity(after.encrypt.privateKey)], { fileId: FILE_ID })).metadata.size).toBe(5);
  });

  it('refuses a file signed by someone else', async () => {
    const sealed = await sealForTest({ fileId: FILE_ID, plaintext: new Uint8Array(1), recipients: [rsaRecipient(before.encrypt.publicKey)], signer: stranger.sign });
    await expect(rotateManifest(sealed.manifest, { fileId: FILE_ID, former: former(), signer: after.sign, add: add() })).rejects.toThrow(
      new RangeError('This file was not sealed with your former key.'),
    );
  });

  it('refuses a manifest whose signature does not verify, and one moved from another file', async () => {
    const sealed = await sealForTest({ fileId: FILE_ID, plaintext: new Uint8Array(1), recipients: [rsaRecipient(before.encrypt.publicKey)], signer: before.sign });
    const flipped = sealed.manifest.slice();
    flipped[flipped.length - 1] = (flipped[flipped.length - 1] ?? 0) ^ 1;
    await expect(rotateManifest(flipped, { fileId: FILE_ID, former: former(), signer: after.sign, add: add() })).rejects.toBeInstanceOf(TamperedError);
    await expect(
      rotateManifest(sealed.manifest, { fileId: 'ffeeddccbbaa99887766554433221100', former: former(), signer: after.sign, add: add() }),
    ).rejects.toThrow(new TamperedError('This manifest belongs to a different file.'));
  });
});
