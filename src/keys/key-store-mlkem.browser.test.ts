/**
 * The key store keeps an ML-KEM-768 pair (hybrid envelope, docs/FORMAT.md
 * §7.7) like the other keys: the private key non-extractable across a
 * reopen, still able to decapsulate; an extractable one refused. Chromium
 * only (IndexedDB); skipped where the browser has no ML-KEM-768.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { generateMlKemKeyPair, postQuantumSupported } from '../crypto/hybrid.ts';
import { createKeyStore, KeyStoreError, type KeyStore, type StoredIdentity } from './key-store.ts';

const SUPPORTED = await postQuantumSupported();
const opened: KeyStore[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

function userId(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}

interface KemSubtle {
  encapsulateBits(a: { name: string }, k: CryptoKey): Promise<{ sharedKey: ArrayBuffer; ciphertext: ArrayBuffer }>;
  decapsulateBits(a: { name: string }, k: CryptoKey, c: BufferSource): Promise<ArrayBuffer>;
}

async function identity(id: string, mlkemExtractable: boolean): Promise<StoredIdentity> {
  // 2048-bit keeps the test quick: the store checks algorithm, type, usages and extractability, not size.
  const encrypt = await crypto.subtle.generateKey(
    { name: 'RSA-OAEP', hash: 'SHA-256', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) },
    false,
    ['encrypt', 'decrypt'],
  );
  const sign = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
  return {
    userId: id,
    encrypt,
    sign,
    mlkem: await generateMlKemKeyPair(mlkemExtractable),
    publicIdentity: new Uint8Array([1, 2, 3]),
    fingerprint: '11111 22222 33333 44444 55555 66666 77777 88888',
    createdAt: Date.now(),
  };
}

describe.skipIf(!SUPPORTED)('key store: ML-KEM-768 pair (skipped in a browser without ML-KEM-768)', () => {
  it('keeps a non-extractable ML-KEM private key across a reopen, usable and unreadable', async () => {
    const name = `test-keys-${crypto.randomUUID()}`;
    const store = createKeyStore(name);
    opened.push(store);
    const id = userId();
    await store.save(await identity(id, false));
    await store.close();
    const reopened = createKeyStore(name);
    opened.push(reopened);
    const loaded = await reopened.load(id);
    if (loaded?.mlkem === undefined) throw new Error('the ML-KEM pair did not survive the reopen');
    expect(loaded.mlkem.privateKey.extractable).toBe(false);
    await expect(crypto.subtle.exportKey('pkcs8', loaded.mlkem.privateKey)).rejects.toHaveProperty('name', 'InvalidAccessError');
    const kem = crypto.subtle as unknown as KemSubtle;
    const { sharedKey, ciphertext } = await kem.encapsulateBits({ name: 'ML-KEM-768' }, loaded.mlkem.publicKey);
    expect(new Uint8Array(await kem.decapsulateBits({ name: 'ML-KEM-768' }, loaded.mlkem.privateKey, ciphertext))).toEqual(new Uint8Array(sharedKey));
  });

  it('refuses an extractable ML-KEM private key', async () => {
    const store = createKeyStore(`test-keys-${crypto.randomUUID()}`);
    opened.push(store);
    const saving = store.save(await identity(userId(), true));
    await expect(saving).rejects.toBeInstanceOf(KeyStoreError);
    await expect(store.save(await identity(userId(), true))).rejects.toHaveProperty('code', 'corrupt');
  });
});
