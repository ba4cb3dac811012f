import { beforeAll, describe, expect, it } from 'vitest';
import {
  KdfParamsTooHighError,
  MalformedError,
  SealdropCryptoError,
  TamperedError,
  UnsupportedVersionError,
  WrongPassphraseError,
} from './errors.ts';
import { signingKeyFingerprint } from './fingerprint.ts';
import {
  backupIdentity,
  exportPublicIdentity,
  fingerprint,
  generateIdentityKeys,
  importPublicIdentity,
  restoreIdentity,
  rewrapBackup,
  samePublicKeys,
  type IdentityKeys,
} from './identity.ts';
import type { KdfParams } from './kdf.ts';
import { openManifest } from './manifest.ts';
import { sealForTest } from './test-seal.ts';
import { rsaIdentity, rsaRecipient } from './recipients.ts';

const FAST: KdfParams = { kdf: 'scrypt', logN: 10, r: 8, p: 1 };
const FILE_ID = 'aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbb';
let keys: IdentityKeys;
let other: IdentityKeys;

beforeAll(async () => {
  [keys, other] = await Promise.all([generateIdentityKeys(), generateIdentityKeys()]);
}, 60_000);

function flip(bytes: Uint8Array, at: number): Uint8Array {
  const bad = bytes.slice();
  bad[at] = (bad[at] ?? 0) ^ 0x01;
  return bad;
}

describe('identity keys', () => {
  it('are RSA-OAEP-3072/SHA-256 and ECDSA P-256', () => {
    expect(keys.encrypt.publicKey.algorithm).toMatchObject({ name: 'RSA-OAEP', modulusLength: 3072, hash: { name: 'SHA-256' } });
    expect(keys.sign.publicKey.algorithm).toMatchObject({ name: 'ECDSA', namedCurve: 'P-256' });
  });

  it('export and import a self-signed public identity with a comparable fingerprint', async () => {
    const pub = await exportPublicIdentity(keys);
    const imported = await importPublicIdentity(pub);
    expect(imported.fingerprint).toMatch(/^\d{5}( \d{5}){7}$/);
    expect(imported.fingerprint).toBe(await fingerprint(pub));
    expect(imported.fingerprint).toBe(await signingKeyFingerprint(keys.sign.publicKey));
    expect(imported.fingerprint).not.toBe(await fingerprint(await exportPublicIdentity(other)));
    // The fingerprint names the key, not one export of it (signatures are randomised).
    expect(await fingerprint(await exportPublicIdentity(keys))).toBe(imported.fingerprint);
    // The imported encrypt key works with the real private key.
    const sealed = await sealForTest({
      fileId: FILE_ID,
      plaintext: new Uint8Array(1),
      metadata: { name: 'a', type: 'text/plain' },
      recipients: [rsaRecipient(imported.encrypt)],
      signer: keys.sign,
      segmentSize: 1024,
    });
    const opened = await openManifest(sealed.manifest, [rsaIdentity(keys.encrypt.privateKey)], { fileId: FILE_ID });
    expect(opened.signer.fingerprint).toBe(imported.fingerprint);
  });

  it('reject a public identity with a swapped key, a flipped bit or an unknown version', async () => {
    const pub = await exportPublicIdentity(keys);
    await expect(importPublicIdentity(flip(pub, pub.length - 1))).rejects.toThrow(TamperedError);
    await expect(importPublicIdentity(flip(pub, 100))).rejects.toThrow(TamperedError);
    for (const version of [1, 3]) {
      const other = pub.slice();
      other[4] = version;
      await expect(importPublicIdentity(other)).rejects.toThrow(UnsupportedVersionError);
    }
    await expect(importPublicIdentity(pub.slice(0, 50))).rejects.toThrow(MalformedError);
    // Someone else's encryption key under my signature: the self-signature fails.
    const mine = await exportPublicIdentity(keys);
    const theirs = await exportPublicIdentity(other);
    const encLen = ((mine[7] ?? 0) << 8) | (mine[8] ?? 0);
    const spliced = new Uint8Array([...theirs.slice(0, 9 + encLen), ...mine.slice(9 + encLen)]);
    await expect(importPublicIdentity(spliced)).rejects.toThrow(TamperedError);
  });
});

describe('backup and restore', () => {
  let backup: Uint8Array;
  beforeAll(async () => {
    backup = await backupIdentity(keys, 'my recovery phrase', FAST);
  });

  it('restores into non-extractable private keys that still work', async () => {
    const restored = await restoreIdentity(backup, 'my recovery phrase');
    expect(restored.encrypt.privateKey.extractable).toBe(false);
    expect(restored.sign.privateKey.extractable).toBe(false);
    await expect(crypto.subtle.exportKey('pkcs8', restored.encrypt.privateKey)).rejects.toThrow();
    await expect(crypto.subtle.exportKey('pkcs8', restored.sign.privateKey)).rejects.toThrow();
    await expect(crypto.subtle.exportKey('jwk', restored.sign.privateKey)).rejects.toThrow();
    expect(await fingerprint(await exportPublicIdentity(restored))).toBe(
      await signingKeyFingerprint(keys.sign.publicKey),
    );
    // Restored keys open what the original public key sealed, and sign what the original verifies.
    const sealed = await sealForTest({
      fileId: FILE_ID,
      plaintext: new Uint8Array(0),
      metadata: { name: 'b', lastModified: 1 },
      recipients: [rsaRecipient(keys.encrypt.publicKey)],
      signer: restored.sign,
      segmentSize: 1024,
    });
    const opened = await openManifest(sealed.manifest, [rsaIdentity(restored.encrypt.privateKey)], { fileId: FILE_ID });
    expect(opened.signer.fingerprint).toBe(await signingKeyFingerprint(keys.sign.publicKey));
  });

  it('re-wraps under a new passphrase: the new one restores the same keys, the old one no longer opens it', async () => {
    const rewrapped = await rewrapBackup(backup, 'my recovery phrase', 'a brand new phrase', FAST);
    const restored = await restoreIdentity(rewrapped, 'a brand new phrase');
    expect(await samePublicKeys(restored, keys)).toBe(true);
    expect(restored.encrypt.privateKey.extractable).toBe(false);
    await expect(restoreIdentity(rewrapped, 'my recovery phrase')).rejects.toThrow(WrongPassphraseError);
    // A fresh salt: the KDF block (after magic and version) differs from the old copy's.
    expect(Array.from(rewrapped.subarray(0, 40))).not.toEqual(Array.from(backup.subarray(0, 40)));
  });

  it('refuses to re-wrap with a wrong current passphrase, and changes nothing', async () => {
    const error: unknown = await rewrapBackup(backup, 'not my phrase', 'a brand new phrase', FAST).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WrongPassphraseError);
    await expect(restoreIdentity(backup, 'my recovery phrase')).resolves.toBeDefined();
  });

  it('refuses to back up non-extractable keys', async () => {
    const restored = await restoreIdentity(backup, 'my recovery phrase');
    await expect(backupIdentity(restored, 'x', FAST)).rejects.toThrow(TypeError);
  });

  it('rejects a wrong passphrase with a message that does not carry it', async () => {
    const error: unknown = await restoreIdentity(backup, 'not my phrase').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WrongPassphraseError);
    expect(String(error)).not.toContain('not my');
  });

  it('rejects a flipped bit in a wrapped key or the public keys it carries', async () => {
    await expect(restoreIdentity(flip(backup, backup.length - 1), 'my recovery phrase')).rejects.toThrow(
      WrongPassphraseError,
    );
    // Byte 200 sits inside the RSA public key: either unparseable or not the wrapped key's half.
    const error: unknown = await restoreIdentity(flip(backup, 200), 'my recovery phrase').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SealdropCryptoError);
  });

  it('rejects over-cap KDF parameters before any work, and unknown versions', async () => {
    const hostile = backup.slice();
    hostile[5 + 1 + 32] = 25; // logN of the scrypt block
    await expect(restoreIdentity(hostile, 'my recovery phrase')).rejects.toThrow(KdfParamsTooHighError);
    const v2 = backup.slice();
    v2[4] = 9;
    await expect(restoreIdentity(v2, 'my recovery phrase')).rejects.toThrow(UnsupportedVersionError);
    const kdf = backup.slice();
    kdf[5] = 7;
    await expect(restoreIdentity(kdf, 'my recovery phrase')).rejects.toThrow(UnsupportedVersionError);
  });
});

describe('samePublicKeys', () => {
  it('tells the same identity from another', async () => {
    const a = await generateIdentityKeys();
    const b = await generateIdentityKeys();
    expect(await samePublicKeys(a, a)).toBe(true);
    expect(await samePublicKeys(a, b)).toBe(false);
    expect(await samePublicKeys(a, { encrypt: a.encrypt, sign: b.sign })).toBe(false);
  });
});
