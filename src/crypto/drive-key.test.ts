/**
 * The drive key (FORMAT.md §7.5, §10.5): envelopes that the owner opens
 * without RSA, the "not mine" / "mine but broken" contract, the identity
 * order that lets a file without (or with a damaged) drive-key envelope
 * open through RSA, and the signed copy in the key directory. Node and
 * Chromium run this same file.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ByteWriter, randomBytes, toBytes } from './bytes.ts';
import {
  DRIVE_ENVELOPE_LENGTH,
  STANZA_DRIVE_KEY,
  assembleDriveKeyCopy,
  driveKeyIdentity,
  driveKeyRecipient,
  importDriveKey,
  isDriveKey,
  newDriveKey,
  openDriveKeyCopy,
  parseDriveKeyCopy,
  sealDriveKeyStanza,
} from './drive-key.ts';
import { MalformedError, TamperedError, UnsupportedVersionError, WrongKeyError } from './errors.ts';
import { encodeHeader } from './format.ts';
import { generateIdentityKeys, type IdentityKeys } from './identity.ts';
import { openManifest, parseManifest } from './manifest.ts';
import { rsaIdentity, rsaRecipient, type Identity, type Recipient, type Stanza } from './recipients.ts';
import { sealForTest } from './test-seal.ts';

const FILE_ID = '00112233445566778899aabbccddeeff';
let owner: IdentityKeys;
let stranger: IdentityKeys;

beforeAll(async () => {
  [owner, stranger] = await Promise.all([generateIdentityKeys(), generateIdentityKeys()]);
}, 30_000);

const header = (): Uint8Array => encodeHeader({ segmentSize: 1024, fileId: FILE_ID, salt: randomBytes(32) });

async function sealWith(recipients: Recipient[]): Promise<Uint8Array> {
  const sealed = await sealForTest({ fileId: FILE_ID, plaintext: new Uint8Array([1, 2, 3]), recipients, signer: owner.sign });
  return sealed.manifest;
}

/** A recipient that returns a fixed stanza (to put damaged envelopes into a validly MAC'd and signed manifest). */
const fixedStanza = (stanza: Stanza): Recipient => ({ wrap: () => Promise.resolve(stanza) });

describe('drive key', () => {
  it('is held as a non-extractable HKDF key whose bytes cannot be exported', async () => {
    const key = await importDriveKey(randomBytes(32));
    expect(isDriveKey(key)).toBe(true);
    expect(key.extractable).toBe(false);
    // Node 20: InvalidAccessError "key is not extractable"; Chromium 156: NotSupportedError "HKDF: Unsupported
    // operation: exportKey"; Node 24: NotSupportedError "HKDF key export is not supported".
    await expect(crypto.subtle.exportKey('raw', key)).rejects.toThrow(/extract|access|unsupported operation|export is not supported/i);
    await expect(importDriveKey(randomBytes(31))).rejects.toThrow(RangeError);
    expect(() => driveKeyIdentity(owner.encrypt.privateKey)).toThrow(TypeError);
  });

  it('a file sealed for the drive key and the RSA key opens with either, and the envelope is 60 bytes', async () => {
    const { driveKey } = await newDriveKey(owner);
    const manifest = await sealWith([driveKeyRecipient(driveKey), rsaRecipient(owner.encrypt.publicKey)]);
    const stanzas = parseManifest(manifest).stanzas;
    expect(stanzas.map((s) => [s.typeId, s.body.length])).toEqual([
      [STANZA_DRIVE_KEY, DRIVE_ENVELOPE_LENGTH],
      [1, 384],
    ]);
    for (const identities of [[driveKeyIdentity(driveKey)], [rsaIdentity(owner.encrypt.privateKey)]] as Identity[][]) {
      const opened = await openManifest(manifest, identities, { fileId: FILE_ID });
      expect(opened.metadata.name).toBe('test.bin');
    }
  });

  it('another account’s drive key: not mine (null), so a file with only a drive-key envelope is WrongKeyError, and RSA still opens one with both', async () => {
    const mine = await importDriveKey(randomBytes(32));
    const theirs = await importDriveKey(randomBytes(32));
    const context = header();
    const stanza = await driveKeyRecipient(mine).wrap(randomBytes(32), context);
    expect(await driveKeyIdentity(theirs).unwrap(stanza, context)).toBeNull();
    // Another kind is never the drive identity's.
    expect(await driveKeyIdentity(mine).unwrap({ typeId: 1, body: stanza.body }, context)).toBeNull();

    const onlyDrive = await sealWith([driveKeyRecipient(mine)]);
    await expect(openManifest(onlyDrive, [driveKeyIdentity(theirs)], { fileId: FILE_ID })).rejects.toBeInstanceOf(WrongKeyError);
    const both = await sealWith([driveKeyRecipient(mine), rsaRecipient(owner.encrypt.publicKey)]);
    const opened = await openManifest(both, [driveKeyIdentity(theirs), rsaIdentity(owner.encrypt.privateKey)], { fileId: FILE_ID });
    expect(opened.metadata.size).toBe(3);
  });

  it('a drive-key envelope of the wrong length is mine but broken (MalformedError); with an RSA envelope the file still opens', async () => {
    const driveKey = await importDriveKey(randomBytes(32));
    const context = header();
    const good = await driveKeyRecipient(driveKey).wrap(randomBytes(32), context);
    for (const body of [good.body.slice(0, 59), new Uint8Array([...good.body, 0]), new Uint8Array(0)]) {
      await expect(driveKeyIdentity(driveKey).unwrap({ typeId: STANZA_DRIVE_KEY, body }, context)).rejects.toBeInstanceOf(MalformedError);
    }
    const truncated = fixedStanza({ typeId: STANZA_DRIVE_KEY, body: good.body.slice(0, 59) });
    const manifest = await sealWith([truncated, rsaRecipient(owner.encrypt.publicKey)]);
    await expect(openManifest(manifest, [driveKeyIdentity(driveKey)], { fileId: FILE_ID })).rejects.toBeInstanceOf(MalformedError);
    const opened = await openManifest(manifest, [driveKeyIdentity(driveKey), rsaIdentity(owner.encrypt.privateKey)], { fileId: FILE_ID });
    expect(opened.metadata.size).toBe(3);
  });

  it('an envelope moved to another file (another header) does not open: not mine', async () => {
    const driveKey = await importDriveKey(randomBytes(32));
    const stanza = await sealDriveKeyStanza(driveKey, randomBytes(12), randomBytes(32), header());
    expect(await driveKeyIdentity(driveKey).unwrap(stanza, header())).toBeNull();
  });

  it('a drive-key envelope that opens to a key that is not the file’s is tampered, with no fall-through to RSA (§7.4 step 5)', async () => {
    const driveKey = await importDriveKey(randomBytes(32));
    const wrongKey: Recipient = { wrap: (_fileKey, context) => sealDriveKeyStanza(driveKey, randomBytes(12), randomBytes(32), context) };
    const manifest = await sealWith([wrongKey, rsaRecipient(owner.encrypt.publicKey)]);
    await expect(
      openManifest(manifest, [driveKeyIdentity(driveKey), rsaIdentity(owner.encrypt.privateKey)], { fileId: FILE_ID }),
    ).rejects.toBeInstanceOf(TamperedError);
  });
});

describe('drive-key copy (SDDK)', () => {
  async function sameKey(a: CryptoKey, b: CryptoKey): Promise<boolean> {
    const context = header();
    const stanza = await driveKeyRecipient(a).wrap(randomBytes(32), context);
    return (await driveKeyIdentity(b).unwrap(stanza, context)) !== null;
  }

  it('opens with the owner’s keys to the same drive key, as a non-extractable key', async () => {
    const { driveKey, copy } = await newDriveKey(owner);
    expect(copy.length).toBe(4 + 1 + 32 + 2 + 384 + 64);
    expect(new TextDecoder().decode(copy.subarray(0, 4))).toBe('SDDK');
    const opened = await openDriveKeyCopy(copy, owner);
    expect(opened.extractable).toBe(false);
    expect(await sameKey(driveKey, opened)).toBe(true);
  });

  it('a copy substituted by someone else (signed by another key) is refused as TamperedError', async () => {
    // The server knows this key: wrapped to the owner's public RSA key, but it cannot sign as the owner.
    const forged = await assembleDriveKeyCopy(randomBytes(32), { encrypt: owner.encrypt, sign: stranger.sign });
    await expect(openDriveKeyCopy(forged, owner)).rejects.toBeInstanceOf(TamperedError);
    const { copy } = await newDriveKey(owner);
    const flipped = toBytes(copy).slice();
    flipped[flipped.length - 1] = (flipped[flipped.length - 1] ?? 0) ^ 1;
    await expect(openDriveKeyCopy(flipped, owner)).rejects.toBeInstanceOf(TamperedError);
    const otherWrapped = toBytes(copy).slice();
    otherWrapped[100] = (otherWrapped[100] ?? 0) ^ 1;
    await expect(openDriveKeyCopy(otherWrapped, owner)).rejects.toBeInstanceOf(TamperedError);
  });

  it('a copy signed by the owner but wrapped to another RSA key is WrongKeyError', async () => {
    const copy = await assembleDriveKeyCopy(randomBytes(32), { encrypt: stranger.encrypt, sign: owner.sign });
    await expect(openDriveKeyCopy(copy, owner)).rejects.toBeInstanceOf(WrongKeyError);
  });

  it('parses strictly: wrong magic, truncated, appended, bad wrapped length → MalformedError; version 1 or 3 → UnsupportedVersionError', async () => {
    const { copy } = await newDriveKey(owner);
    const edit = (f: (b: Uint8Array) => Uint8Array): Uint8Array => f(toBytes(copy).slice());
    const cases: [string, Uint8Array, typeof MalformedError | typeof UnsupportedVersionError][] = [
      ['empty', new Uint8Array(0), MalformedError],
      ['wrong magic', edit((b) => ((b[3] = 0x58), b)), MalformedError],
      ['magic only', copy.slice(0, 4), MalformedError],
      ['version 1', edit((b) => ((b[4] = 1), b)), UnsupportedVersionError],
      ['version 3', copy.slice(0, 5).map((x, i) => (i === 4 ? 3 : x)), UnsupportedVersionError],
      ['one byte short', copy.slice(0, copy.length - 1), MalformedError],
      ['one byte more', new Uint8Array([...copy, 0]), MalformedError],
      ['wrapped 383 bytes', new ByteWriter().raw(copy.slice(0, 37)).lp16(new Uint8Array(383)).raw(new Uint8Array(64)).bytes(), MalformedError],
    ];
    for (const [name, bytes, error] of cases) {
      expect(() => parseDriveKeyCopy(bytes), name).toThrow(error);
      await expect(openDriveKeyCopy(bytes, owner), name).rejects.toBeInstanceOf(error);
    }
  });
});
