import { afterEach, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { rsaIdentity, rsaRecipient, WrongPassphraseError, type KdfParams } from '../crypto/index.ts';
import { StorageError } from '../storage/storage-error.ts';
import {
  keyStatus,
  loadUnlockedIdentity,
  restoreFromKit,
  restoreKeys,
  setupKeys,
  type AccountKeyOptions,
  type KeyApi,
  type KeyBlobTransport,
  type SetupStep,
} from './account-keys.ts';
import { RecoveryCopyExistsError, RecoveryKitError } from './key-errors.ts';
import { createKeyStore, type KeyStore } from './key-store.ts';
import { recoveryKitText } from './recovery-kit.ts';

// Small enough to be quick, still above the crypto core's floor; the default stays N=2^17.
const TEST_KDF: KdfParams = { kdf: 'scrypt', logN: 10, r: 8, p: 1 };
const PASSPHRASE = 'lantern quiet marble oyster';

/** Blob storage in a Map, with Azure's not-found and If-None-Match behaviour. */
class FakeStorage implements KeyBlobTransport {
  readonly blobs = new Map<string, Uint8Array>();
  async getBlob(url: string): Promise<Uint8Array> {
    const bytes = this.blobs.get(url);
    if (bytes === undefined) throw new StorageError('not-found', { status: 404 });
    return bytes.slice();
  }
  async putBlob(url: string, body: Blob, opts: { ifNoneMatch?: '*' } = {}): Promise<void> {
    if (opts.ifNoneMatch === '*' && this.blobs.has(url)) throw new StorageError('conflict', { status: 409 });
    this.blobs.set(url, new Uint8Array(await body.arrayBuffer()));
  }
}

/** The token endpoint's key routes for one signed-in user; grants are just blob names. */
class FakeApi implements KeyApi {
  readonly calls: string[] = [];
  constructor(readonly userId: string) {}
  async post<T>(path: string, body: unknown, schema: z.ZodType<T>): Promise<T> {
    this.calls.push(path);
    const grant = (blob: string, permissions: string) => ({ url: blob, expiresAt: new Date().toISOString(), permissions });
    if (path === '/keys/recovery') {
      const write = typeof body === 'object' && body !== null && 'access' in body && body.access === 'write';
      return schema.parse({ grant: grant(`keys/${this.userId}/recovery`, write ? 'cw' : 'r') });
    }
    if (path === '/keys/public') return schema.parse({ userId: this.userId, grant: grant(`keys/${this.userId}/public`, 'cw') });
    const read = /^\/keys\/public\/([0-9a-f]{32})\/read$/.exec(path);
    if (read?.[1] !== undefined) return schema.parse({ userId: read[1], grant: grant(`keys/${read[1]}/public`, 'r') });
    throw new Error(`unexpected path ${path}`);
  }
}

const stores: KeyStore[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

function newUserId(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** A browser with its own IndexedDB database, sharing the account's storage. */
function device(storage: FakeStorage): AccountKeyOptions & { store: KeyStore } {
  const store = createKeyStore(`test-device-${crypto.randomUUID()}`);
  stores.push(store);
  return { store, blobs: storage, kdfParams: TEST_KDF, persist: async () => true };
}

describe('account keys: setup and restore', () => {
  it('sets up on one device, restores on a new one, and the new one opens what was sealed to the first', async () => {
    const userId = newUserId();
    const api = new FakeApi(userId);
    const storage = new FakeStorage();
    const first = device(storage);

    expect(await keyStatus(api, userId, first)).toBe('needs-setup');
    const steps: SetupStep[] = [];
    const setup = await setupKeys(api, userId, PASSPHRASE, (s) => steps.push(s), first);
    expect(steps).toEqual(['generating', 'protecting', 'uploading', 'saving']);
    expect(setup.identity.encrypt.privateKey.extractable).toBe(false);
    expect(setup.identity.sign.privateKey.extractable).toBe(false);
    expect(setup.identity.fingerprint).toMatch(/^\d{5}( \d{5}){7}$/);
    expect(storage.blobs.get(`keys/${userId}/recovery`)).toEqual(setup.recoveryBlob);
    expect(storage.blobs.get(`keys/${userId}/public`)).toEqual(setup.identity.publicIdentity);
    expect(await keyStatus(api, userId, first)).toBe('ready');

    const fileKey = crypto.getRandomValues(new Uint8Array(32));
    const context = new TextEncoder().encode('file-context');
    const stanza = await rsaRecipient(setup.identity.encrypt.publicKey).wrap(fileKey, context);

    const second = device(storage);
    expect(await keyStatus(api, userId, second)).toBe('needs-restore');
    const restored = await restoreKeys(api, userId, PASSPHRASE, second);
    expect(restored.identity.fingerprint).toBe(setup.identity.fingerprint);
    expect(await keyStatus(api, userId, second)).toBe('ready');

    const reloaded = await loadUnlockedIdentity(userId, second);
    expect(reloaded).not.toBeNull();
    if (reloaded === null) return;
    await expect(crypto.subtle.exportKey('pkcs8', reloaded.encrypt.privateKey)).rejects.toThrow();
    expect(await rsaIdentity(reloaded.encrypt.privateKey).unwrap(stanza, context)).toEqual(fileKey);
  });

  it('a wrong passphrase throws WrongPassphraseError and stores nothing', async () => {
    const userId = newUserId();
    const api = new FakeApi(userId);
    const storage = new FakeStorage();
    await setupKeys(api, userId, PASSPHRASE, undefined, device(storage));
    const recoveryBefore = storage.blobs.get(`keys/${userId}/recovery`);

    const second = device(storage);
    await expect(restoreKeys(api, userId, 'lantern quiet marble oysters', second)).rejects.toBeInstanceOf(WrongPassphraseError);
    expect(await second.store.load(userId)).toBeNull();
    expect(storage.blobs.get(`keys/${userId}/recovery`)).toEqual(recoveryBefore);
    // The user can simply try again.
    expect((await restoreKeys(api, userId, PASSPHRASE, second)).identity.userId).toBe(userId);
  });

  it('a second device racing setup never overwrites the first copy', async () => {
    const userId = newUserId();
    const api = new FakeApi(userId);
    const storage = new FakeStorage();
    const first = await setupKeys(api, userId, PASSPHRASE, undefined, device(storage));
    const recovery = storage.blobs.get(`keys/${userId}/recovery`);

    // Same passphrase: the late device adopts the first device's keys.
    const sameSecret = device(storage);
    const adopted = await setupKeys(api, userId, PASSPHRASE, undefined, sameSecret);
    expect(adopted.identity.fingerprint).toBe(first.identity.fingerprint);

    // Another passphrase: refused, nothing stored, storage untouched.
    const otherSecret = device(storage);
    await expect(setupKeys(api, userId, 'glacier tuba nostril pamphlet', undefined, otherSecret)).rejects.toBeInstanceOf(
      RecoveryCopyExistsError,
    );
    expect(await otherSecret.store.load(userId)).toBeNull();
    expect(storage.blobs.get(`keys/${userId}/recovery`)).toEqual(recovery);
    expect(storage.blobs.get(`keys/${userId}/public`)).toEqual(first.identity.publicIdentity);
  });

  it('restores from a kit file when the copy in storage is gone, and puts the copy back', async () => {
    const userId = newUserId();
    const api = new FakeApi(userId);
    const storage = new FakeStorage();
    const setup = await setupKeys(api, userId, PASSPHRASE, undefined, device(storage));
    const text = recoveryKitText({
      userId,
      email: 'ada@example.test',
      fingerprint: setup.identity.fingerprint,
      createdAt: new Date(),
      recoveryBlob: setup.recoveryBlob,
    });
    storage.blobs.delete(`keys/${userId}/recovery`);

    const fresh = device(storage);
    expect(await keyStatus(api, userId, fresh)).toBe('needs-setup');
    await expect(restoreFromKit(api, userId, text, 'not the passphrase at all', fresh)).rejects.toBeInstanceOf(
      WrongPassphraseError,
    );
    expect(await fresh.store.load(userId)).toBeNull();
    const restored = await restoreFromKit(api, userId, text, PASSPHRASE, fresh);
    expect(restored.identity.fingerprint).toBe(setup.identity.fingerprint);
    expect(storage.blobs.get(`keys/${userId}/recovery`)).toEqual(setup.recoveryBlob);

    const stranger = newUserId();
    const error = await restoreFromKit(new FakeApi(stranger), stranger, text, PASSPHRASE, device(storage)).catch(
      (e: unknown) => e,
    );
    expect(error instanceof RecoveryKitError && error.code).toBe('kit-other-account');
  });

  it('refuses an old kit whose keys the account no longer uses', async () => {
    const userId = newUserId();
    const api = new FakeApi(userId);
    const storage = new FakeStorage();
    const old = await setupKeys(api, userId, PASSPHRASE, undefined, device(storage));
    const oldKit = recoveryKitText({ userId, email: null, fingerprint: old.identity.fingerprint, createdAt: new Date(), recoveryBlob: old.recoveryBlob });
    // The account started over with new keys (storage cleared, set up again).
    storage.blobs.clear();
    await setupKeys(api, userId, PASSPHRASE, undefined, device(storage));

    const fresh = device(storage);
    const error = await restoreFromKit(api, userId, oldKit, PASSPHRASE, fresh).catch((e: unknown) => e);
    expect(error instanceof RecoveryKitError && error.code).toBe('kit-stale');
    expect(await fresh.store.load(userId)).toBeNull();
  });
});
