/**
 * Former encryption keys kept in a recovery kit (FORMAT.md §11.3), in Node
 * and in Chromium: a rotation's kit keeps the retired RSA key (most recent
 * first), restores it non-extractable, carries it through a passphrase
 * change, drops it on request; a kit of before (no former kinds) restores
 * as it did; a damaged former key is refused plainly.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ByteReader } from './bytes.ts';
import { MalformedError, WrongKeyError, WrongPassphraseError } from './errors.ts';
import {
  assembleBackup,
  backupIdentity,
  dropFormerKeys,
  generateIdentityKeys,
  KEY_KIND_FORMER_RSA_OAEP,
  MAX_FORMER_KEYS,
  restoreBackup,
  restoreIdentity,
  rewrapBackup,
  rotateBackup,
  samePublicKeys,
  type IdentityKeys,
} from './identity.ts';
import { newKdfBlock, readKdfBlock, type KdfParams } from './kdf.ts';
import { openManifest } from './manifest.ts';
import { rsaIdentity, rsaRecipient } from './recipients.ts';
import { sealForTest } from './test-seal.ts';

const FAST: KdfParams = { kdf: 'scrypt', logN: 10, r: 8, p: 1 };
const PASS = 'former keys passphrase';
const FILE_ID = 'ccccccccccccccccdddddddddddddddd';
let first: IdentityKeys;
let second: IdentityKeys;
let third: IdentityKeys;

beforeAll(async () => {
  [first, second, third] = await Promise.all([generateIdentityKeys(), generateIdentityKeys(), generateIdentityKeys()]);
}, 90_000);

/** The kinds a kit lists, read as FORMAT.md §11.1 lays them out. */
function kindsOf(kit: Uint8Array): number[] {
  const r = new ByteReader(kit);
  r.take(5);
  readKdfBlock(r);
  const count = r.u8();
  const kinds: number[] = [];
  for (let i = 0; i < count; i++) {
    kinds.push(r.u8());
    r.lp16();
  }
  return kinds;
}

async function spkiHex(key: CryptoKey): Promise<string> {
  return Array.from(new Uint8Array(await crypto.subtle.exportKey('spki', key)), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** A file sealed for `keys`' RSA key alone (as a person share or a request link seals it). */
async function sealedFor(keys: IdentityKeys): Promise<Uint8Array> {
  const sealed = await sealForTest({
    fileId: FILE_ID,
    plaintext: new Uint8Array(3),
    metadata: { name: 'shared.txt', lastModified: 1 },
    recipients: [rsaRecipient(keys.encrypt.publicKey)],
    signer: third.sign,
    segmentSize: 1024,
  });
  return sealed.manifest;
}

describe('former keys in a recovery kit', () => {
  it('a kit made before former keys existed restores with none kept', async () => {
    const kit = await backupIdentity(first, PASS, FAST);
    expect(kindsOf(kit)).toEqual([1, 2]);
    const restored = await restoreBackup(kit, PASS);
    expect(restored.former).toEqual([]);
    expect(await samePublicKeys(restored.keys, first)).toBe(true);
  });

  it('a rotation keeps the retired RSA key as kind 0x80, non-extractable, and it opens what was sealed for it', async () => {
    const before = await backupIdentity(first, PASS, FAST);
    const kit = await rotateBackup(before, PASS, second, FAST);
    expect(kindsOf(kit)).toEqual([1, 2, KEY_KIND_FORMER_RSA_OAEP]);
    const restored = await restoreBackup(kit, PASS);
    expect(await samePublicKeys(restored.keys, second)).toBe(true);
    expect(restored.former).toHaveLength(1);
    const kept = restored.former[0];
    if (kept === undefined) throw new Error('no former key');
    expect(await spkiHex(kept.publicKey)).toBe(await spkiHex(first.encrypt.publicKey));
    expect(kept.privateKey.extractable).toBe(false);
    await expect(crypto.subtle.exportKey('pkcs8', kept.privateKey)).rejects.toThrow(DOMException);

    const manifest = await sealedFor(first);
    await expect(openManifest(manifest, [rsaIdentity(restored.keys.encrypt.privateKey)], { fileId: FILE_ID })).rejects.toThrow(WrongKeyError);
    const opened = await openManifest(manifest, [rsaIdentity(restored.keys.encrypt.privateKey), rsaIdentity(kept.privateKey)], { fileId: FILE_ID });
    expect(opened.metadata.name).toBe('shared.txt');
    // restoreIdentity (what a version without former keys calls) still gives the current keys.
    expect(await samePublicKeys(await restoreIdentity(kit, PASS), second)).toBe(true);
  });

  it('a second rotation keeps both, the most recently retired first', async () => {
    const kit = await rotateBackup(await rotateBackup(await backupIdentity(first, PASS, FAST), PASS, second, FAST), PASS, third, FAST);
    expect(kindsOf(kit)).toEqual([1, 2, 0x80, 0x81]);
    const restored = await restoreBackup(kit, PASS);
    expect(await samePublicKeys(restored.keys, third)).toBe(true);
    expect(await Promise.all(restored.former.map((p) => spkiHex(p.publicKey)))).toEqual([
      await spkiHex(second.encrypt.publicKey),
      await spkiHex(first.encrypt.publicKey),
    ]);
  });

  it('a passphrase change carries the former keys; the old passphrase no longer opens the kit', async () => {
    const kit = await rotateBackup(await backupIdentity(first, PASS, FAST), PASS, second, FAST);
    const rewrapped = await rewrapBackup(kit, PASS, 'another passphrase entirely', FAST);
    const restored = await restoreBackup(rewrapped, 'another passphrase entirely');
    expect(await Promise.all(restored.former.map((p) => spkiHex(p.publicKey)))).toEqual([await spkiHex(first.encrypt.publicKey)]);
    await expect(restoreBackup(rewrapped, PASS)).rejects.toThrow(WrongPassphraseError);
  });

  it('dropping the former keys leaves the current keys alone and keeps none', async () => {
    const kit = await rotateBackup(await backupIdentity(first, PASS, FAST), PASS, second, FAST);
    const dropped = await dropFormerKeys(kit, PASS, FAST);
    expect(kindsOf(dropped)).toEqual([1, 2]);
    const restored = await restoreBackup(dropped, PASS);
    expect(restored.former).toEqual([]);
    expect(await samePublicKeys(restored.keys, second)).toBe(true);
    await expect(dropFormerKeys(kit, 'wrong', FAST)).rejects.toThrow(WrongPassphraseError);
  });

  it(`keeps at most ${MAX_FORMER_KEYS} former keys: a rotation past that is refused`, async () => {
    const full = await assembleBackup(
      second,
      PASS,
      newKdfBlock(FAST),
      { encrypt: new Uint8Array(12).fill(1), sign: new Uint8Array(12).fill(2), former: Array.from({ length: MAX_FORMER_KEYS }, (_, i) => new Uint8Array(12).fill(10 + i)) },
      Array.from({ length: MAX_FORMER_KEYS }, () => first.encrypt),
    );
    expect((await restoreBackup(full, PASS)).former).toHaveLength(MAX_FORMER_KEYS);
    await expect(rotateBackup(full, PASS, third, FAST)).rejects.toThrow(`A recovery kit keeps at most ${MAX_FORMER_KEYS} former keys.`);
  });

  it('a damaged former key fails the restore plainly (the current keys are intact, so it is no wrong passphrase)', async () => {
    const kit = await rotateBackup(await backupIdentity(first, PASS, FAST), PASS, second, FAST);
    const bad = kit.slice();
    // The former key's wrapped bytes are the last entry of the kit.
    bad[bad.length - 1] = (bad[bad.length - 1] ?? 0) ^ 0x01;
    const error: unknown = await restoreBackup(bad, PASS).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MalformedError);
    expect((error as Error).message).toBe('The recovery kit holds a damaged former key.');
  });
});
