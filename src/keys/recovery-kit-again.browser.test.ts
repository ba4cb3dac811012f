/**
 * "Download the recovery kit again": the kit is rebuilt from the copy in
 * storage once the passphrase opens it and it holds this device's keys;
 * a wrong passphrase or a copy of other keys makes no kit.
 */
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { ApiError } from '../contract/index.ts';
import { backupIdentity, generateIdentityKeys, WrongPassphraseError, type IdentityKeys, type KdfParams } from '../crypto/index.ts';
import type { KeyApi, UnlockedIdentity } from './account-keys.ts';
import { toBase64 } from './base64.ts';
import { NoRecoveryCopyError, RecoveryCopyMismatchError } from './key-errors.ts';
import { parseRecoveryKit, recoveryKitText } from './recovery-kit.ts';
import { rebuildRecoveryKit } from './recovery-kit-again.ts';

const TEST_KDF: KdfParams = { kdf: 'scrypt', logN: 10, r: 8, p: 1 };
const PASSPHRASE = 'juniper falcon quarry velvet';
const USER = 'c'.repeat(32);
const FINGERPRINT = '12345 67890 12345 67890 12345 67890 12345 67890';

function apiHolding(copy: Uint8Array | null): KeyApi & { paths: string[] } {
  const paths: string[] = [];
  return {
    paths,
    post<T>(path: string, _body: unknown, schema: z.ZodType<T>): Promise<T> {
      paths.push(path);
      if (copy === null) return Promise.reject(new ApiError(404, 'not_found', 'none'));
      return Promise.resolve(schema.parse({ recovery: toBase64(copy), etag: '"1"' }));
    },
  };
}

function unlocked(keys: IdentityKeys): UnlockedIdentity {
  return { userId: USER, encrypt: keys.encrypt, sign: keys.sign, publicIdentity: new Uint8Array([1]), fingerprint: FINGERPRINT, driveKey: null };
}

describe('rebuildRecoveryKit', () => {
  it('makes a kit of the stored copy once the passphrase opens it and it holds this device’s keys; the kit reads back', async () => {
    const keys = await generateIdentityKeys();
    const copy = new Uint8Array(await backupIdentity(keys, PASSPHRASE, TEST_KDF));
    const api = apiHolding(copy);
    const kit = await rebuildRecoveryKit(api, unlocked(keys), 'ann@example.test', PASSPHRASE);
    expect(api.paths).toEqual(['/keys/recovery/read']);
    expect([kit.userId, kit.email, kit.fingerprint]).toEqual([USER, 'ann@example.test', FINGERPRINT]);
    expect(kit.recoveryBlob).toEqual(copy);
    const text = recoveryKitText(kit);
    expect(text).not.toContain(PASSPHRASE);
    expect(parseRecoveryKit(text).recoveryBlob).toEqual(copy);
  });

  it('makes no kit with a wrong passphrase, from a copy of other keys, or without a copy', async () => {
    const [mine, other] = await Promise.all([generateIdentityKeys(), generateIdentityKeys()]);
    const copy = new Uint8Array(await backupIdentity(mine, PASSPHRASE, TEST_KDF));
    await expect(rebuildRecoveryKit(apiHolding(copy), unlocked(mine), null, 'not the passphrase')).rejects.toBeInstanceOf(WrongPassphraseError);
    await expect(rebuildRecoveryKit(apiHolding(copy), unlocked(other), null, PASSPHRASE)).rejects.toBeInstanceOf(RecoveryCopyMismatchError);
    await expect(rebuildRecoveryKit(apiHolding(null), unlocked(mine), null, PASSPHRASE)).rejects.toBeInstanceOf(NoRecoveryCopyError);
  });
});
