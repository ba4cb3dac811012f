/**
 * The drive key on a device (Chromium: IndexedDB and non-extractable keys):
 * setup makes and publishes it, a second device restoring from the recovery
 * copy fetches, verifies and saves the same key, an older account gets one
 * on its next start, and a copy substituted by the server is refused with
 * DriveKeyRefusedError and never saved.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { ApiError, ERROR_CODES, pathOf, ROUTES, type RouteContract } from '../contract/index.ts';
import {
  driveKeyIdentity,
  driveKeyRecipient,
  generateIdentityKeys,
  newDriveKey,
  type KdfParams,
} from '../crypto/index.ts';
import { addDriveKey, loadUnlockedIdentity, restoreKeys, setupKeys, type KeyApi } from './account-keys.ts';
import { fromBase64, toBase64 } from './base64.ts';
import { ensureDriveKey } from './drive-key.ts';
import { DriveKeyRefusedError } from './key-errors.ts';
import { createKeyStore, type KeyStore } from './key-store.ts';

const TEST_KDF: KdfParams = { kdf: 'scrypt', logN: 10, r: 8, p: 1 };
const PASSPHRASE = 'harbour violet tinsel meadow';

/** The key routes of one signed-in user, in memory, written once (409) as the server does. */
class FakeKeyServer implements KeyApi {
  recovery: Uint8Array | null = null;
  publicIdentity: Uint8Array | null = null;
  driveKey: Uint8Array | null = null;
  driveKeyPosts = 0;
  constructor(readonly userId: string) {}

  async post<T>(path: string, body: unknown, schema: z.ZodType<T>): Promise<T> {
    const is = (route: RouteContract) => path === pathOf(route);
    const bytes = (b64: string): Uint8Array => fromBase64(b64) ?? new Uint8Array();
    let answer: unknown;
    if (is(ROUTES.readRecovery)) {
      if (this.recovery === null) throw new ApiError(404, 'not_found', 'none');
      answer = { recovery: toBase64(this.recovery), etag: '"1"' };
    } else if (is(ROUTES.createRecovery)) {
      if (this.recovery !== null) throw new ApiError(409, ERROR_CODES.recoveryExists, 'exists');
      this.recovery = bytes(ROUTES.createRecovery.body.parse(body).recovery);
      answer = { etag: '"1"' };
    } else if (is(ROUTES.publishKey)) {
      if (this.publicIdentity !== null) throw new ApiError(409, ERROR_CODES.publicKeyExists, 'exists');
      this.publicIdentity = bytes(ROUTES.publishKey.body.parse(body).publicIdentity);
      answer = { userId: this.userId };
    } else if (path === pathOf(ROUTES.readPublicKey, this.userId)) {
      if (this.publicIdentity === null) throw new ApiError(404, 'not_found', 'none');
      answer = { userId: this.userId, publicIdentity: toBase64(this.publicIdentity), rotations: [] };
    } else if (is(ROUTES.createDriveKey)) {
      this.driveKeyPosts += 1;
      if (this.driveKey !== null) throw new ApiError(409, ERROR_CODES.driveKeyExists, 'exists');
      this.driveKey = bytes(ROUTES.createDriveKey.body.parse(body).driveKey);
      answer = { userId: this.userId };
    } else if (is(ROUTES.readDriveKey)) {
      if (this.driveKey === null) throw new ApiError(404, 'not_found', 'none');
      answer = { driveKey: toBase64(this.driveKey) };
    } else {
      throw new Error(`unexpected path ${path}`);
    }
    return schema.parse(answer);
  }
}

const stores: KeyStore[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});
function device(): KeyStore {
  const store = createKeyStore(`test-drive-key-${crypto.randomUUID()}`);
  stores.push(store);
  return store;
}
function newUserId(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}
const opts = (store: KeyStore) => ({ store, kdfParams: TEST_KDF, persist: () => Promise.resolve(true) });

/** True when a file key wrapped under `a` opens under `b`: the same drive key. */
async function sameDriveKey(a: CryptoKey, b: CryptoKey): Promise<boolean> {
  const header = new Uint8Array(57);
  header.set([0x53, 0x44, 0x52, 0x50, 2, 0, 0, 4, 0]);
  const stanza = await driveKeyRecipient(a).wrap(crypto.getRandomValues(new Uint8Array(32)), header);
  return (await driveKeyIdentity(b).unwrap(stanza, header)) !== null;
}

describe('drive key on this device', () => {
  it('setup makes and publishes it; a second device restoring gets the same key, non-extractable, and keeps it across a reopen', async () => {
    const userId = newUserId();
    const server = new FakeKeyServer(userId);
    const first = device();
    const setup = await setupKeys(server, userId, PASSPHRASE, undefined, opts(first));
    expect(setup.identity.driveKey).not.toBeNull();
    expect(server.driveKey?.length).toBe(487);
    expect(server.driveKeyPosts).toBe(1);

    const second = device();
    const restored = await restoreKeys(server, userId, PASSPHRASE, opts(second));
    const key = restored.identity.driveKey;
    if (key === null || setup.identity.driveKey === null) throw new Error('no drive key');
    expect(key.extractable).toBe(false);
    await expect(crypto.subtle.exportKey('raw', key)).rejects.toThrow(/extract|access|unsupported operation/i); // Chromium 156: "HKDF: Unsupported operation: exportKey"
    expect(await sameDriveKey(setup.identity.driveKey, key)).toBe(true);
    expect(server.driveKeyPosts).toBe(1);

    const reloaded = await loadUnlockedIdentity(userId, { store: second });
    if (reloaded?.driveKey == null) throw new Error('not saved');
    expect(reloaded.driveKey.extractable).toBe(false);
    expect(await sameDriveKey(reloaded.driveKey, setup.identity.driveKey)).toBe(true);
  });

  it('an account made before drive keys gets one on its next start (addDriveKey), saved once', async () => {
    const userId = newUserId();
    const server = new FakeKeyServer(userId);
    const store = device();
    await setupKeys(server, userId, PASSPHRASE, undefined, opts(store));
    // As if set up before drive keys: nothing in the directory, nothing on the device.
    server.driveKey = null;
    const saved = await store.load(userId);
    if (saved === null) throw new Error('no identity');
    await store.save({ ...saved, driveKey: undefined }, { replace: true });
    const before = await loadUnlockedIdentity(userId, { store });
    if (before === null) throw new Error('no identity');
    expect(before.driveKey).toBeNull();

    const after = await addDriveKey(server, before, { store });
    expect(after.driveKey).not.toBeNull();
    expect(server.driveKey).not.toBeNull();
    expect((await loadUnlockedIdentity(userId, { store }))?.driveKey).not.toBeNull();
  });

  it('a copy substituted by the server (a drive key it knows, wrapped to the public RSA key but signed by another key) is refused: DriveKeyRefusedError, nothing saved', async () => {
    const userId = newUserId();
    const server = new FakeKeyServer(userId);
    const store = device();
    const setup = await setupKeys(server, userId, PASSPHRASE, undefined, opts(store));
    const stranger = await generateIdentityKeys();
    server.driveKey = (await newDriveKey({ encrypt: setup.identity.encrypt, sign: stranger.sign })).copy;
    const saved = await store.load(userId);
    if (saved === null) throw new Error('no identity');
    await store.save({ ...saved, driveKey: undefined }, { replace: true });

    const refused = await ensureDriveKey(server, userId, setup.identity, { store }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(DriveKeyRefusedError);
    expect(refused instanceof DriveKeyRefusedError ? refused.reason : null).toBe('not-signed');
    expect((await store.load(userId))?.driveKey).toBeUndefined();
    // Restoring on a new device says nothing but leaves the drive key out.
    const other = await restoreKeys(server, userId, PASSPHRASE, opts(device()));
    expect(other.identity.driveKey).toBeNull();
  });

  it('two devices making it at once: the one that loses (409) uses the winner’s key', async () => {
    const userId = newUserId();
    const server = new FakeKeyServer(userId);
    const store = device();
    const setup = await setupKeys(server, userId, PASSPHRASE, undefined, opts(store));
    const winner = setup.identity.driveKey;
    if (winner === null) throw new Error('no drive key');
    // The loser saw no copy when it looked, then its POST meets the winner's.
    const saved = await store.load(userId);
    if (saved === null) throw new Error('no identity');
    await store.save({ ...saved, driveKey: undefined }, { replace: true });
    const copy = server.driveKey;
    let reads = 0;
    const racing: KeyApi = {
      post: (path, body, schema) => {
        if (path === pathOf(ROUTES.readDriveKey) && reads++ === 0) {
          server.driveKey = null;
          return server.post(path, body, schema).finally(() => (server.driveKey = copy));
        }
        return server.post(path, body, schema);
      },
    };
    const key = await ensureDriveKey(racing, userId, setup.identity, { store });
    if (key === null) throw new Error('no key');
    expect(server.driveKeyPosts).toBe(2);
    expect(await sameDriveKey(key, winner)).toBe(true);
  });
});
