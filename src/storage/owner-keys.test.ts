/**
 * The owner's keys as storage uses them (FORMAT.md §7.4, §7.5): new files
 * get a drive-key envelope and an RSA one; opening tries the drive key first
 * and falls back to RSA for files sealed without it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  finishManifest,
  generateIdentityKeys,
  newDriveKey,
  openManifest,
  sealDraft,
  STANZA_DRIVE_KEY,
  STANZA_RSA_OAEP,
  WrongKeyError,
  type IdentityKeys,
} from '../crypto/index.ts';
import { parseManifest } from '../crypto/manifest.ts';
import { ownerIdentities, ownerRecipients, type OwnerKeys } from './owner-keys.ts';

const FILE_ID = 'aabbccddeeff00112233445566778899';
let owner: IdentityKeys;
let driveKey: CryptoKey;
let otherRsa: IdentityKeys;

beforeAll(async () => {
  [owner, otherRsa] = await Promise.all([generateIdentityKeys(), generateIdentityKeys()]);
  driveKey = (await newDriveKey(owner)).driveKey;
}, 30_000);

async function seal(keys: OwnerKeys): Promise<Uint8Array> {
  const recipients = ownerRecipients(keys);
  const draft = await sealDraft({ fileId: FILE_ID, metadata: { name: 'a.txt', type: '', size: 1, lastModified: 0 }, recipients });
  return finishManifest(draft, { payloadDigest: new Uint8Array(32), signer: owner.sign });
}

describe('owner keys', () => {
  it('with a drive key: a drive-key envelope then the RSA one; without: RSA only', async () => {
    expect(parseManifest(await seal({ ...owner, driveKey })).stanzas.map((s) => s.typeId)).toEqual([STANZA_DRIVE_KEY, STANZA_RSA_OAEP]);
    expect(parseManifest(await seal({ ...owner, driveKey: null })).stanzas.map((s) => s.typeId)).toEqual([STANZA_RSA_OAEP]);
  });

  it('opens through the drive key when there is one (proved with an RSA key that cannot open the file)', async () => {
    const manifest = await seal({ ...owner, driveKey });
    const noRsa: OwnerKeys = { encrypt: otherRsa.encrypt, sign: owner.sign, driveKey };
    const opened = await openManifest(manifest, ownerIdentities(noRsa), { fileId: FILE_ID });
    expect(opened.metadata.name).toBe('a.txt');
    await expect(openManifest(manifest, ownerIdentities({ ...noRsa, driveKey: null }), { fileId: FILE_ID })).rejects.toBeInstanceOf(WrongKeyError);
  });

  it('a file sealed before the drive key (RSA only) still opens with the drive key first in line', async () => {
    const manifest = await seal(owner);
    const opened = await openManifest(manifest, ownerIdentities({ ...owner, driveKey }), { fileId: FILE_ID });
    expect(opened.metadata.name).toBe('a.txt');
  });
});
