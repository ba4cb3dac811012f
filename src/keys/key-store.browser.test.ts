import { openDB } from 'idb';
import { afterEach, describe, expect, it } from 'vitest';
import { createKeyStore, KeyStoreError, type KeyStore, type StoredIdentity } from './key-store.ts';

const RSA = { name: 'RSA-OAEP', hash: 'SHA-256' } as const;
const opened: KeyStore[] = [];

function freshStore(name = `test-keys-${crypto.randomUUID()}`): { store: KeyStore; name: string } {
  const store = createKeyStore(name);
  opened.push(store);
  return { store, name };
}

afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

function userId(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}

// 2048-bit keeps the test quick: the store checks algorithm, type, usages and extractability, not size.
async function identity(id: string, opts: { extractable?: boolean; fingerprint?: string } = {}): Promise<StoredIdentity> {
  const extractable = opts.extractable ?? false;
  const encrypt = await crypto.subtle.generateKey(
    { ...RSA, modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) },
    extractable,
    ['encrypt', 'decrypt'],
  );
  const sign = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, extractable, ['sign', 'verify']);
  return {
    userId: id,
    encrypt,
    sign,
    publicIdentity: new Uint8Array([1, 2, 3]),
    fingerprint: opts.fingerprint ?? '11111 22222 33333 44444 55555 66666 77777 88888',
    createdAt: Date.now(),
  };
}

describe('key store (IndexedDB)', () => {
  it('keeps non-extractable private keys across a reopen, usable and unreadable', async () => {
    const { store, name } = freshStore();
    const id = userId();
    await store.save(await identity(id));
    await store.close();

    const reopened = createKeyStore(name);
    opened.push(reopened);
    const loaded = await reopened.load(id);
    expect(loaded).not.toBeNull();
    if (loaded === null) return;
    expect(loaded.encrypt.privateKey.extractable).toBe(false);
    expect(loaded.sign.privateKey.extractable).toBe(false);
    await expect(crypto.subtle.exportKey('pkcs8', loaded.encrypt.privateKey)).rejects.toThrow();
    await expect(crypto.subtle.exportKey('pkcs8', loaded.sign.privateKey)).rejects.toThrow();

    const secret = crypto.getRandomValues(new Uint8Array(32));
    const sealed = await crypto.subtle.encrypt(RSA, loaded.encrypt.publicKey, secret);
    const opened2 = new Uint8Array(await crypto.subtle.decrypt(RSA, loaded.encrypt.privateKey, sealed));
    expect(opened2).toEqual(secret);
  });

  it('never silently overwrites an identity, and replaces only when told', async () => {
    const { store } = freshStore();
    const id = userId();
    await store.save(await identity(id, { fingerprint: 'first' }));
    const second = await identity(id, { fingerprint: 'second' });
    const refused = await store.save(second).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(KeyStoreError);
    expect(refused instanceof KeyStoreError && refused.code).toBe('exists');
    expect((await store.load(id))?.fingerprint).toBe('first');

    await store.save(second, { replace: true });
    expect((await store.load(id))?.fingerprint).toBe('second');
  });

  it('keeps accounts apart and forgets one of them', async () => {
    const { store } = freshStore();
    const [a, b] = [userId(), userId()];
    await store.save(await identity(a, { fingerprint: 'a' }));
    await store.save(await identity(b, { fingerprint: 'b' }));
    await store.forget(a);
    expect(await store.load(a)).toBeNull();
    expect((await store.load(b))?.fingerprint).toBe('b');
  });

  it('refuses to store an extractable private key', async () => {
    const { store } = freshStore();
    const id = userId();
    const error = await store.save(await identity(id, { extractable: true })).catch((e: unknown) => e);
    expect(error instanceof KeyStoreError && error.code).toBe('corrupt');
    expect(await store.load(id)).toBeNull();
  });

  it('refuses to hand out a stored record that fails validation', async () => {
    const { store, name } = freshStore();
    const id = userId();
    await store.save(await identity(id));
    await store.close();
    // Write a record behind the store's back, as a bug or another script could.
    const db = await openDB(name, 1);
    await db.put('identities', { ...(await identity(id, { extractable: true })) });
    db.close();
    const again = createKeyStore(name);
    opened.push(again);
    const error = await again.load(id).catch((e: unknown) => e);
    expect(error instanceof KeyStoreError && error.code).toBe('corrupt');
  });
});
