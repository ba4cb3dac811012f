/**
 * The drive key's copy in the key directory (`POST /keys/drive`, `POST
 * /keys/drive/read`) against a real Azurite: written once (409 after), read
 * by its owner only (another user gets their own 404), refused unless it is
 * wrapped to the caller's published RSA key and signed by the caller's
 * published signing key, and refused before any public key is published.
 */
import { webcrypto } from 'node:crypto';
import { BlobServiceClient, StorageSharedKeyCredential, type ContainerClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { driveKeyResponse, errorBody } from '../../../src/contract/index.ts';
import { deriveUserId } from '../auth/user-id.ts';
import { startAzurite, type AzuriteHandle } from '../../local/azurite.ts';
import { driveKeyBlob } from '../storage/blob-layout.ts';
import { b64, publicIdentityV2, type TestKeys } from '../../test-support/key-proofs.ts';
import { call, createTestApi, type TestApi } from '../../test-support/test-api.ts';
import { createTestIssuer, TEST_ISSUER, type TestIssuer } from '../../test-support/test-issuer.ts';

const { subtle } = webcrypto;
let azurite: AzuriteHandle;
let issuer: TestIssuer;
let t: TestApi;
let container: ContainerClient;

beforeAll(async () => {
  [azurite, issuer] = await Promise.all([startAzurite({ inMemory: true, port: 0 }), createTestIssuer()]);
  t = await createTestApi(azurite, issuer, { container: 'sealdrop' });
  container = new BlobServiceClient(azurite.blobEndpoint, new StorageSharedKeyCredential(azurite.accountName, azurite.accountKey)).getContainerClient('sealdrop');
});

afterAll(async () => {
  await azurite?.stop();
});

/** An account's keys as the app makes them (RSA-OAEP 3072: a drive-key copy wraps to it). */
async function appKeys(): Promise<TestKeys> {
  const [encrypt, sign] = await Promise.all([
    subtle.generateKey({ name: 'RSA-OAEP', modulusLength: 3072, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, true, ['encrypt', 'decrypt']),
    subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']),
  ]);
  return { encrypt, sign };
}

const concat = (...parts: Uint8Array[]): Uint8Array<ArrayBuffer> => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};
const labelled = (label: string, body: Uint8Array): Uint8Array<ArrayBuffer> => concat(new TextEncoder().encode(label), Uint8Array.of(0), body);

/** An SDDK v2 copy (docs/FORMAT.md §10.5), built here from the layout: wrapped to `to`, signed by `signer`. */
async function driveKeyCopy(to: TestKeys, signer: CryptoKey, version = 2): Promise<Uint8Array<ArrayBuffer>> {
  const raw = webcrypto.getRandomValues(new Uint8Array(32));
  const wrapped = new Uint8Array(await subtle.encrypt({ name: 'RSA-OAEP', label: labelled('sealdrop/v2/drive-key-wrap', new Uint8Array(0)) }, to.encrypt.publicKey, raw));
  const recipient = new Uint8Array(await subtle.digest('SHA-256', await subtle.exportKey('spki', to.encrypt.publicKey)));
  const body = concat(new TextEncoder().encode('SDDK'), Uint8Array.of(version), recipient, Uint8Array.of(wrapped.length >> 8, wrapped.length & 0xff), wrapped);
  const signature = new Uint8Array(await subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, signer, labelled('sealdrop/v2/drive-key-copy', body)));
  return concat(body, signature);
}

const codeOf = (json: unknown): string => errorBody.parse(json).error;

async function account(sub: string): Promise<{ token: string; keys: TestKeys; userId: string }> {
  const token = await issuer.mint(sub);
  const keys = await appKeys();
  const published = await call(t.api, 'POST', '/api/v1/keys/public', { token, json: { publicIdentity: b64(await publicIdentityV2(keys)) } });
  expect(published.status).toBe(201);
  return { token, keys, userId: deriveUserId({ scheme: 'oidc', iss: TEST_ISSUER, sub }) };
}

describe('drive key in the key directory (Azurite)', () => {
  it('is written once under keys/<userId>/drive: a second copy is 409 drive_key_exists and the first stays', async () => {
    const ann = await account('dk-ann');
    const first = await driveKeyCopy(ann.keys, ann.keys.sign.privateKey);
    const created = await call(t.api, 'POST', '/api/v1/keys/drive', { token: ann.token, json: { driveKey: b64(first) } });
    expect([created.status, created.json]).toEqual([201, { userId: ann.userId }]);
    const again = await call(t.api, 'POST', '/api/v1/keys/drive', { token: ann.token, json: { driveKey: b64(await driveKeyCopy(ann.keys, ann.keys.sign.privateKey)) } });
    expect([again.status, codeOf(again.json)]).toEqual([409, 'drive_key_exists']);
    const stored = await container.getBlockBlobClient(driveKeyBlob(ann.userId)).downloadToBuffer();
    expect(new Uint8Array(stored)).toEqual(first);
    const read = await call(t.api, 'POST', '/api/v1/keys/drive/read', { token: ann.token });
    expect(read.status).toBe(200);
    expect(driveKeyResponse.parse(read.json).driveKey).toBe(b64(first));
  });

  it('is read by its owner only: another user gets 404 for their own (there is no way to name someone else’s)', async () => {
    const ben = await account('dk-ben');
    expect((await call(t.api, 'POST', '/api/v1/keys/drive', { token: ben.token, json: { driveKey: b64(await driveKeyCopy(ben.keys, ben.keys.sign.privateKey)) } })).status).toBe(201);
    const cat = await account('dk-cat');
    const read = await call(t.api, 'POST', '/api/v1/keys/drive/read', { token: cat.token });
    expect([read.status, codeOf(read.json)]).toEqual([404, 'not_found']);
    const anonymous = await call(t.api, 'POST', '/api/v1/keys/drive/read');
    expect(anonymous.status).toBe(401);
  });

  it('refuses a copy not signed by the caller’s published key, or wrapped to another key, with 400 invalid_drive_key; nothing is stored', async () => {
    const dan = await account('dk-dan');
    const stranger = await appKeys();
    const cases = [
      ['signed by another key (a substituted drive key)', await driveKeyCopy(dan.keys, stranger.sign.privateKey)],
      ['wrapped to another RSA key', await driveKeyCopy(stranger, dan.keys.sign.privateKey)],
      ['version 3', await driveKeyCopy(dan.keys, dan.keys.sign.privateKey, 3)],
      ['one byte short', (await driveKeyCopy(dan.keys, dan.keys.sign.privateKey)).slice(0, -1)],
      ['not SDDK', concat(new TextEncoder().encode('SDBK'), (await driveKeyCopy(dan.keys, dan.keys.sign.privateKey)).slice(4))],
    ] as const;
    for (const [what, bytes] of cases) {
      const res = await call(t.api, 'POST', '/api/v1/keys/drive', { token: dan.token, json: { driveKey: b64(bytes) } });
      expect([res.status, codeOf(res.json)], what).toEqual([400, 'invalid_drive_key']);
    }
    expect(await container.getBlockBlobClient(driveKeyBlob(dan.userId)).exists()).toBe(false);
    const tooBig = await call(t.api, 'POST', '/api/v1/keys/drive', { token: dan.token, json: { driveKey: b64(new Uint8Array(700)) } });
    expect([tooBig.status, codeOf(tooBig.json)]).toEqual([400, 'invalid_body']);
  });

  it('needs the public key published first: 409 public_key_missing', async () => {
    const token = await issuer.mint('dk-eve');
    const keys = await appKeys();
    const res = await call(t.api, 'POST', '/api/v1/keys/drive', { token, json: { driveKey: b64(await driveKeyCopy(keys, keys.sign.privateKey)) } });
    expect([res.status, codeOf(res.json)]).toEqual([409, 'public_key_missing']);
    expect(t.errors).toEqual([]);
  });
});
