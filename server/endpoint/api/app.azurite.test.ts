/**
 * The token endpoint against a real Azurite: grants are checked by using
 * them, exactly as a browser would (plain fetch, no x-ms-version header, so
 * the SAS's own version decides).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAzurite, type AzuriteHandle } from '../../local/azurite.ts';
import { deriveUserId } from '../auth/user-id.ts';
import { BlobServiceClient, StorageSharedKeyCredential, type ContainerClient } from '@azure/storage-blob';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import {
  errorBody as errorSchema,
  fileGrantsSchema,
  fileListSchema as listSchema,
  publicKeyResponse,
  recoveryResponse,
  recoveryWrittenResponse,
} from '../../../src/contract/index.ts';
import { directoryBlob, recoveryBlob } from '../storage/blob-layout.ts';
import { b64, newTestKeys, publicIdentityV2, rotationStatement, type TestKeys } from '../../test-support/key-proofs.ts';
import { call, createTestApi, TEST_DIRECTORY_KEY, type TestApi } from '../../test-support/test-api.ts';
import { testAdapterFromEnv } from '../../test-support/adapters.ts';
import { createTestIssuer, TEST_ISSUER, type TestIssuer } from '../../test-support/test-issuer.ts';

let azurite: AzuriteHandle;
let issuer: TestIssuer;
let t: TestApi;
let container: ContainerClient;
let alice: string;
let bob: string;
const aliceId = deriveUserId({ scheme: 'oidc', iss: TEST_ISSUER, sub: 'alice' });
const bobId = deriveUserId({ scheme: 'oidc', iss: TEST_ISSUER, sub: 'bob' });

beforeAll(async () => {
  [azurite, issuer] = await Promise.all([startAzurite({ inMemory: true, port: 0 }), createTestIssuer()]);
  t = await createTestApi(azurite, issuer, { container: 'sealdrop' });
  container = new BlobServiceClient(azurite.blobEndpoint, new StorageSharedKeyCredential(azurite.accountName, azurite.accountKey)).getContainerClient('sealdrop');
  alice = await issuer.mint('alice', { email: 'Alice@Example.com', email_verified: true, name: 'Alice' });
  bob = await issuer.mint('bob', { email: 'bob@example.com', email_verified: true });
});

afterAll(async () => {
  await azurite?.stop();
});

const blockId = (i: number): string => Buffer.from(`blk-${String(i).padStart(6, '0')}`).toString('base64');

/** Same SAS, another blob path. */
function retarget(url: string, blobName: string): string {
  const u = new URL(url);
  u.pathname = `/${azurite.accountName}/sealdrop/${blobName}`;
  return u.toString();
}

async function putBlock(grantUrl: string, index: number, bytes: Uint8Array<ArrayBuffer>): Promise<Response> {
  return fetch(`${grantUrl}&comp=block&blockid=${encodeURIComponent(blockId(index))}`, { method: 'PUT', body: new Blob([bytes]) });
}

async function commitBlocks(grantUrl: string, count: number): Promise<Response> {
  const ids = Array.from({ length: count }, (_, i) => `<Latest>${blockId(i)}</Latest>`).join('');
  return fetch(`${grantUrl}&comp=blocklist`, {
    method: 'PUT',
    headers: { 'if-none-match': '*' },
    body: `<?xml version="1.0" encoding="utf-8"?><BlockList>${ids}</BlockList>`,
  });
}

async function putBlob(url: string, bytes: Uint8Array<ArrayBuffer>): Promise<Response> {
  return fetch(url, { method: 'PUT', headers: { 'x-ms-blob-type': 'BlockBlob', 'if-none-match': '*' }, body: new Blob([bytes]) });
}

async function newUpload(token: string, payloadBytes = 5, manifestBytes = 3): Promise<z.infer<typeof fileGrantsSchema>> {
  const res = await call(t.api, 'POST', '/api/v1/uploads', { token, json: { payloadBytes, manifestBytes } });
  expect(res.status).toBe(201);
  return fileGrantsSchema.parse(res.json);
}

/** Uploads a whole file the way the client does; `complete: false` stops before the manifest. */
async function uploadFile(token: string, payload: Uint8Array<ArrayBuffer>, opts: { complete?: boolean } = {}): Promise<string> {
  const up = await newUpload(token, payload.byteLength);
  expect((await putBlock(up.payload.url, 0, payload)).status).toBe(201);
  expect((await commitBlocks(up.payload.url, 1)).status).toBe(201);
  if (opts.complete !== false) expect((await putBlob(up.manifest.url, new Uint8Array([1, 2, 3]))).status).toBe(201);
  return up.fileId;
}

describe('upload grants', () => {
  it('make a server-chosen file id and grant rcw on the payload and cw on the manifest, for minutes', async () => {
    const before = Date.now();
    const up = await newUpload(alice);
    const after = Date.now();
    expect(up.payload.permissions).toBe('rcw');
    expect(up.manifest.permissions).toBe('cw');
    expect(new URL(up.payload.url).pathname).toBe(`/devstoreaccount1/sealdrop/files/${aliceId}/${up.fileId}/payload`);
    expect(new URL(up.manifest.url).pathname).toBe(`/devstoreaccount1/sealdrop/files/${aliceId}/${up.fileId}/manifest`);
    const q = new URL(up.payload.url).searchParams;
    expect(q.get('sr')).toBe('b');
    expect(q.get('sp')).toBe('rcw');
    const lifetime = Date.parse(up.payload.expiresAt) - before;
    expect(lifetime).toBeGreaterThan(14 * 60_000);
    // Measured from after the answer: through an adapter on a busy machine the request itself can take a second.
    expect(Date.parse(up.payload.expiresAt)).toBeLessThanOrEqual(after + 15 * 60_000);
    expect(new Date(q.get('se') ?? '').getTime()).toBe(Date.parse(up.payload.expiresAt));
    // Start 5 minutes back for clock skew.
    expect(before - new Date(q.get('st') ?? '').getTime()).toBeGreaterThan(4 * 60_000);
    const again = await newUpload(alice);
    expect(again.fileId).not.toBe(up.fileId);
  });

  it('let the owner upload blocks, commit once, read back the block list and write the manifest once', async () => {
    const up = await newUpload(alice);
    expect((await putBlock(up.payload.url, 0, new Uint8Array([1, 2, 3]))).status).toBe(201);
    expect((await putBlock(up.payload.url, 1, new Uint8Array([4, 5]))).status).toBe(201);
    const list = await fetch(`${up.payload.url}&comp=blocklist&blocklisttype=uncommitted`);
    expect(list.status).toBe(200);
    expect(await list.text()).toContain(blockId(1));
    expect((await commitBlocks(up.payload.url, 2)).status).toBe(201);
    expect((await commitBlocks(up.payload.url, 2)).status).toBe(409);
    expect((await putBlob(up.manifest.url, new Uint8Array([9]))).status).toBe(201);
    expect((await putBlob(up.manifest.url, new Uint8Array([9]))).status).toBe(409);
    const read = await fetch(up.payload.url);
    expect(new Uint8Array(await read.arrayBuffer())).toEqual(new Uint8Array([1, 2, 3, 4, 5]));
  });

  it('answer 413 for a file or manifest over the limit and 400 for bad bodies', async () => {
    const big = await call(t.api, 'POST', '/api/v1/uploads', { token: alice, json: { payloadBytes: 1024 ** 3 + 1, manifestBytes: 1 } });
    expect(big.status).toBe(413);
    expect(errorSchema.parse(big.json).error).toBe('file_too_large');
    const bigManifest = await call(t.api, 'POST', '/api/v1/uploads', { token: alice, json: { payloadBytes: 1, manifestBytes: 1024 * 1024 + 1 } });
    expect(bigManifest.status).toBe(413);
    for (const json of [{}, { payloadBytes: -1, manifestBytes: 1 }, { payloadBytes: 1.5, manifestBytes: 1 }, { payloadBytes: 1, manifestBytes: 0 }, { payloadBytes: 1, manifestBytes: 1, fileId: 'x' }, [1]]) {
      const res = await call(t.api, 'POST', '/api/v1/uploads', { token: alice, json });
      expect(res.status, JSON.stringify(json)).toBe(400);
      errorSchema.parse(res.json);
    }
    const notJson = await call(t.api, 'POST', '/api/v1/uploads', { token: alice, body: new TextEncoder().encode('{'), headers: { 'content-type': 'application/json' } });
    expect(notJson.status).toBe(400);
    const wrongType = await call(t.api, 'POST', '/api/v1/uploads', { token: alice, body: new TextEncoder().encode('{}'), headers: { 'content-type': 'text/plain' } });
    expect(wrongType.status).toBe(415);
  });
});

describe('a SAS for one blob', () => {
  it('cannot write another blob: the manifest, another file, another user', async () => {
    const up = await newUpload(alice);
    const other = await newUpload(alice);
    const targets = [
      `files/${aliceId}/${up.fileId}/manifest`,
      `files/${aliceId}/${other.fileId}/payload`,
      `files/${bobId}/${up.fileId}/payload`,
      `keys/${aliceId}/public`,
      `files/${aliceId}/${up.fileId}/payload2`,
    ];
    for (const blob of targets) {
      const res = await putBlob(retarget(up.payload.url, blob), new Uint8Array([1]));
      expect(res.status, blob).toBe(403);
    }
    // The manifest grant cannot touch the payload either.
    expect((await putBlock(retarget(up.manifest.url, `files/${aliceId}/${up.fileId}/payload`), 0, new Uint8Array([1]))).status).toBe(403);
  });

  it('cannot read another blob', async () => {
    const fileId = await uploadFile(alice, new Uint8Array([7, 7]));
    const mine = fileGrantsSchema.parse((await call(t.api, 'POST', `/api/v1/files/${fileId}/read`, { token: alice })).json);
    const otherId = await uploadFile(alice, new Uint8Array([8]));
    expect((await fetch(mine.payload.url)).status).toBe(200);
    expect((await fetch(retarget(mine.payload.url, `files/${aliceId}/${otherId}/payload`))).status).toBe(403);
    expect((await fetch(retarget(mine.payload.url, `files/${aliceId}/${fileId}/manifest`))).status).toBe(403);
  });

  it('cannot do what its permissions do not allow', async () => {
    const fileId = await uploadFile(alice, new Uint8Array([1, 2]));
    const read = fileGrantsSchema.parse((await call(t.api, 'POST', `/api/v1/files/${fileId}/read`, { token: alice })).json);
    expect(read.payload.permissions).toBe('r');
    expect((await fetch(read.payload.url, { method: 'PUT', headers: { 'x-ms-blob-type': 'BlockBlob' }, body: new Blob(['x']) })).status).toBe(403);
    expect((await fetch(read.payload.url, { method: 'DELETE' })).status).toBe(403);

    const up = await newUpload(alice);
    // cw on the manifest: no read, no delete.
    expect((await putBlob(up.manifest.url, new Uint8Array([5]))).status).toBe(201);
    expect((await fetch(up.manifest.url)).status).toBe(403);
    expect((await fetch(up.manifest.url, { method: 'DELETE' })).status).toBe(403);
    // rcw on the payload: no delete.
    expect((await fetch(up.payload.url, { method: 'DELETE' })).status).not.toBe(202);

    const del = fileGrantsSchema.parse((await call(t.api, 'POST', `/api/v1/files/${fileId}/delete`, { token: alice })).json);
    expect(del.payload.permissions).toBe('d');
    expect((await fetch(del.payload.url)).status).toBe(403);
    expect((await fetch(del.payload.url, { method: 'DELETE' })).status).toBe(202);
    expect((await fetch(del.manifest.url, { method: 'DELETE' })).status).toBe(202);
    expect((await call(t.api, 'POST', `/api/v1/files/${fileId}/read`, { token: alice })).status).toBe(404);
  });

  it('fails once expired', async () => {
    const fileId = await uploadFile(alice, new Uint8Array([3]));
    t.clock.offsetMs = -30 * 60_000;
    try {
      const read = fileGrantsSchema.parse((await call(t.api, 'POST', `/api/v1/files/${fileId}/read`, { token: alice })).json);
      expect(Date.parse(read.payload.expiresAt)).toBeLessThan(Date.now());
      const res = await fetch(read.payload.url);
      expect(res.status).toBe(403);
      expect(await res.text()).toMatch(/AuthorizationFailure|AuthenticationFailed/);
    } finally {
      t.clock.offsetMs = 0;
    }
  });

  it('fails when its signature or scope is edited', async () => {
    const fileId = await uploadFile(alice, new Uint8Array([3]));
    const read = fileGrantsSchema.parse((await call(t.api, 'POST', `/api/v1/files/${fileId}/read`, { token: alice })).json);
    const u = new URL(read.payload.url);
    u.searchParams.set('sp', 'rwd');
    expect((await fetch(u, { method: 'DELETE' })).status).toBe(403);
  });
});

describe('other users', () => {
  it("cannot get grants for another user's file: it is not in their area (404, no existence oracle)", async () => {
    const fileId = await uploadFile(alice, new Uint8Array([1]));
    for (const action of ['read', 'delete']) {
      const res = await call(t.api, 'POST', `/api/v1/files/${fileId}/${action}`, { token: bob });
      expect(res.status, action).toBe(404);
      expect(JSON.stringify(res.json)).not.toContain(aliceId);
    }
    expect((await call(t.api, 'POST', `/api/v1/uploads/${fileId}/renew`, { token: bob })).status).toBe(404);
    // And a grant Bob does hold answers 403 on Alice's blob.
    const bobs = await newUpload(bob);
    expect((await fetch(retarget(bobs.payload.url, `files/${aliceId}/${fileId}/payload`))).status).toBe(403);
  });

  it('see only their own files in the listing', async () => {
    const carolToken = await issuer.mint('carol');
    const daveToken = await issuer.mint('dave');
    const c1 = await uploadFile(carolToken, new Uint8Array(10));
    const c2 = await uploadFile(carolToken, new Uint8Array(20), { complete: false });
    const d1 = await uploadFile(daveToken, new Uint8Array(30));
    const list = listSchema.parse((await call(t.api, 'GET', '/api/v1/files', { token: carolToken })).json);
    expect(list.next).toBeNull();
    expect(list.files.map((f) => f.fileId).sort()).toEqual([c1, c2].sort());
    expect(list.files.map((f) => f.fileId)).not.toContain(d1);
    const first = list.files.find((f) => f.fileId === c1);
    expect(first).toMatchObject({ payloadBytes: 10, manifestBytes: 3, complete: true });
    expect(first?.etag).toBeTruthy();
    expect(list.files.find((f) => f.fileId === c2)).toMatchObject({ payloadBytes: 20, manifestBytes: 0, complete: false });
    const daves = listSchema.parse((await call(t.api, 'GET', '/api/v1/files', { token: daveToken })).json);
    expect(daves.files.map((f) => f.fileId)).toEqual([d1]);
  });
});

describe('listing', () => {
  it('pages through every file exactly once, even when pages split one file’s blobs', async () => {
    const erin = await issuer.mint('erin');
    const ids = new Set<string>();
    for (let i = 0; i < 4; i++) ids.add(await uploadFile(erin, new Uint8Array(i + 1), { complete: i !== 2 }));
    for (const limit of [1, 2, 3]) {
      const seen: z.infer<typeof listSchema>['files'] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const url: string = `/api/v1/files?limit=${limit}${cursor === null ? '' : `&cursor=${cursor}`}`;
        const res = await call(t.api, 'GET', url, { token: erin });
        expect(res.status).toBe(200);
        const page = listSchema.parse(res.json);
        seen.push(...page.files);
        cursor = page.next;
        pages++;
      } while (cursor !== null && pages < 50);
      expect(seen.map((f) => f.fileId).sort(), `limit ${limit}`).toEqual([...ids].sort());
      expect(seen.filter((f) => f.complete)).toHaveLength(3);
      // A split never loses the payload size.
      for (const f of seen) expect(f.payloadBytes, `limit ${limit}`).toBeGreaterThan(0);
    }
  });

  it('rejects bad paging input', async () => {
    for (const q of ['limit=0', 'limit=1001', 'limit=x', 'cursor=%25%25', 'cursor=abc', 'limit=1&limit=2', 'other=1']) {
      const res = await call(t.api, 'GET', `/api/v1/files?${q}`, { token: alice });
      expect(res.status, q).toBe(400);
    }
  });

  it('cannot be steered into another user’s prefix by a forged cursor', async () => {
    await uploadFile(alice, new Uint8Array([1]));
    const frank = await issuer.mint('frank');
    const forged = Buffer.from(JSON.stringify({ t: `files/${aliceId}/`, skip: null })).toString('base64url');
    const res = await call(t.api, 'GET', `/api/v1/files?cursor=${forged}`, { token: frank });
    // The prefix is always the caller's own, whatever the marker says.
    // (Azurite answers an empty page; real Azure may refuse the marker instead.)
    if (res.status === 200) expect(listSchema.parse(res.json).files).toEqual([]);
    else expect(res.status).toBe(500);
  });
});

describe('renewal', () => {
  it('renews an upload in progress, answers 409 once complete and 404 for unknown ids', async () => {
    const up = await newUpload(alice);
    expect((await call(t.api, 'POST', `/api/v1/uploads/${up.fileId}/renew`, { token: alice })).status).toBe(404);
    expect((await putBlock(up.payload.url, 0, new Uint8Array([1]))).status).toBe(201);
    const renewed = await call(t.api, 'POST', `/api/v1/uploads/${up.fileId}/renew`, { token: alice });
    expect(renewed.status).toBe(200);
    const grants = fileGrantsSchema.parse(renewed.json);
    expect(grants.fileId).toBe(up.fileId);
    expect(grants.payload.permissions).toBe('rcw');
    expect((await putBlock(grants.payload.url, 1, new Uint8Array([2]))).status).toBe(201);
    expect((await commitBlocks(grants.payload.url, 2)).status).toBe(201);
    expect((await putBlob(grants.manifest.url, new Uint8Array([1]))).status).toBe(201);
    const done = await call(t.api, 'POST', `/api/v1/uploads/${up.fileId}/renew`, { token: alice });
    expect(done.status).toBe(409);
    expect(errorSchema.parse(done.json).error).toBe('upload_complete');
  });
});

async function exists(name: string): Promise<boolean> {
  return container.getBlobClient(name).exists();
}

describe('declared sizes', () => {
  it('sweep a file whose committed payload is bigger than its upload declared: never listed, never granted', async () => {
    const gina = await issuer.mint('gina');
    const up = await newUpload(gina, 4, 3);
    expect((await putBlock(up.payload.url, 0, new Uint8Array(64))).status).toBe(201);
    expect((await commitBlocks(up.payload.url, 1)).status).toBe(201);
    expect((await putBlob(up.manifest.url, new Uint8Array([1, 2, 3]))).status).toBe(201);
    const honest = await uploadFile(gina, new Uint8Array(4));

    const list = listSchema.parse((await call(t.api, 'GET', '/api/v1/files', { token: gina })).json);
    expect(list.files.map((f) => f.fileId)).toEqual([honest]);
    const ginaId = deriveUserId({ scheme: 'oidc', iss: TEST_ISSUER, sub: 'gina' });
    expect(await exists(`files/${ginaId}/${up.fileId}/payload`)).toBe(false);
    expect(await exists(`files/${ginaId}/${up.fileId}/manifest`)).toBe(false);
    expect((await call(t.api, 'POST', `/api/v1/files/${up.fileId}/read`, { token: gina })).status).toBe(404);
  });

  it('sweep a manifest bigger than declared, at the read route too', async () => {
    const hank = await issuer.mint('hank');
    const up = await newUpload(hank, 1, 2);
    expect((await putBlock(up.payload.url, 0, new Uint8Array(1))).status).toBe(201);
    expect((await commitBlocks(up.payload.url, 1)).status).toBe(201);
    expect((await putBlob(up.manifest.url, new Uint8Array(3))).status).toBe(201);
    expect((await call(t.api, 'POST', `/api/v1/files/${up.fileId}/read`, { token: hank })).status).toBe(404);
    const hankId = deriveUserId({ scheme: 'oidc', iss: TEST_ISSUER, sub: 'hank' });
    expect(await exists(`files/${hankId}/${up.fileId}/manifest`)).toBe(false);
  });
});

async function publish(token: string, keys: TestKeys): Promise<{ status: number; json: unknown; bytes: Uint8Array }> {
  const bytes = await publicIdentityV2(keys);
  const res = await call(t.api, 'POST', '/api/v1/keys/public', { token, json: { publicIdentity: b64(bytes) } });
  return { status: res.status, json: res.json, bytes };
}

describe('public keys and the directory', () => {
  it('publishes a verified public key once, records the verified e-mail, and lets any signed-in user find and read it', async () => {
    const keys = await newTestKeys();
    const first = await publish(alice, keys);
    expect(first.status, JSON.stringify(first.json)).toBe(201);
    expect(first.json).toEqual({ userId: aliceId });

    const found = await call(t.api, 'POST', '/api/v1/users/lookup', { token: bob, json: { email: ' ALICE@example.COM ' } });
    expect(found.status, JSON.stringify(found.json)).toBe(200);
    expect(found.json).toEqual({ userId: aliceId, email: 'alice@example.com' });

    const read = publicKeyResponse.parse((await call(t.api, 'POST', `/api/v1/keys/public/${aliceId}/read`, { token: bob })).json);
    expect(Buffer.from(read.publicIdentity, 'base64')).toEqual(Buffer.from(first.bytes));
    expect(read.rotations).toEqual([]);

    expect((await call(t.api, 'POST', '/api/v1/users/lookup', { token: bob, json: { email: 'nobody@example.com' } })).status).toBe(404);
    expect((await call(t.api, 'POST', '/api/v1/users/lookup', { token: bob, json: { email: 'not-an-address' } })).status).toBe(400);
    expect((await call(t.api, 'POST', '/api/v1/users/lookup', { json: { email: 'alice@example.com' } })).status).toBe(401);
  });

  it('refuses a second publish (409) and keeps the first key', async () => {
    const dora = await issuer.mint('dora');
    const first = await publish(dora, await newTestKeys());
    expect(first.status).toBe(201);
    const second = await publish(dora, await newTestKeys());
    expect(second.status).toBe(409);
    expect(errorSchema.parse(second.json).error).toBe('public_key_exists');
    const doraId = deriveUserId({ scheme: 'oidc', iss: TEST_ISSUER, sub: 'dora' });
    const read = publicKeyResponse.parse((await call(t.api, 'POST', `/api/v1/keys/public/${doraId}/read`, { token: bob })).json);
    expect(Buffer.from(read.publicIdentity, 'base64')).toEqual(Buffer.from(first.bytes));
  });

  it('refuses a public key whose self-signature does not verify', async () => {
    const keys = await newTestKeys();
    const forged = await publicIdentityV2(keys, (await newTestKeys()).sign.privateKey);
    const res = await call(t.api, 'POST', '/api/v1/keys/public', { token: await issuer.mint('ivy'), json: { publicIdentity: b64(forged) } });
    expect(res.status).toBe(400);
    expect(errorSchema.parse(res.json).error).toBe('invalid_public_key');
  });

  it('takes the address for a lookup only in a POST body: GET answers 405, whatever the query', async () => {
    const res = await call(t.api, 'GET', '/api/v1/users/lookup?email=alice%40example.com', { token: bob });
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('POST');
  });

  it('never registers or finds an address the issuer does not vouch for', async () => {
    const unverified = await issuer.mint('carl', { email: 'carl@example.com', email_verified: false });
    const username = await issuer.mint('carla', { preferred_username: 'carla@example.com' });
    for (const token of [unverified, username]) expect((await publish(token, await newTestKeys())).status).toBe(201);
    for (const email of ['carl@example.com', 'carla@example.com']) {
      expect((await call(t.api, 'POST', '/api/v1/users/lookup', { token: bob, json: { email } })).status, email).toBe(404);
    }
  });

  it('never lets a second user take over an e-mail already in the directory', async () => {
    const impostor = await issuer.mint('mallory', { email: 'alice@example.com', email_verified: true });
    await publish(alice, await newTestKeys());
    expect((await publish(impostor, await newTestKeys())).status).toBe(201);
    const found = await call(t.api, 'POST', '/api/v1/users/lookup', { token: bob, json: { email: 'alice@example.com' } });
    expect(found.json).toEqual({ userId: aliceId, email: 'alice@example.com' });
  });

  it('names directory entries by an HMAC under the server key, not by a plain SHA-256 of the address', async () => {
    await publish(alice, await newTestKeys());
    const plain = createHash('sha256').update('alice@example.com').digest('hex');
    expect(await exists(`directory/${plain}`)).toBe(false);
    expect(await exists(directoryBlob('alice@example.com', TEST_DIRECTORY_KEY))).toBe(true);
  });
});

describe('key rotation', () => {
  it('needs a statement signed by the current signing key; stores it beside the new key for readers', async () => {
    const jay = await issuer.mint('jay');
    const jayId = deriveUserId({ scheme: 'oidc', iss: TEST_ISSUER, sub: 'jay' });
    const oldKeys = await newTestKeys();
    const { bytes: current } = await publish(jay, oldKeys);
    const newKeys = await newTestKeys();
    const next = await publicIdentityV2(newKeys);
    const rotate = (statement?: Uint8Array) =>
      call(t.api, 'POST', '/api/v1/keys/public/rotate', {
        token: jay,
        json: statement === undefined ? { publicIdentity: b64(next) } : { publicIdentity: b64(next), statement: b64(statement) },
      });

    expect((await rotate()).status).toBe(400);
    const bySelf = await rotate(await rotationStatement(current, next, newKeys.sign.privateKey));
    expect(bySelf.status).toBe(403);
    expect(errorSchema.parse(bySelf.json).error).toBe('invalid_rotation');
    expect((await rotate(await rotationStatement(next, next, oldKeys.sign.privateKey))).status).toBe(403);

    const statement = await rotationStatement(current, next, oldKeys.sign.privateKey);
    const good = await rotate(statement);
    expect(good.status, JSON.stringify(good.json)).toBe(200);
    const read = publicKeyResponse.parse((await call(t.api, 'POST', `/api/v1/keys/public/${jayId}/read`, { token: bob })).json);
    expect(Buffer.from(read.publicIdentity, 'base64')).toEqual(Buffer.from(next));
    expect(read.rotations).toEqual([b64(statement)]);
    // Replaying the same statement no longer starts from the published key.
    expect((await rotate(statement)).status).toBe(403);
  });
});

function recoveryCopy(fill: number): Uint8Array {
  return new Uint8Array([...new TextEncoder().encode('SDBK'), 1, ...new Uint8Array(40).fill(fill)]);
}

describe('the recovery copy', () => {
  it('is written once by its owner (409 after), read only by its owner, under a name keyed by the server', async () => {
    const created = await call(t.api, 'POST', '/api/v1/keys/recovery', { token: alice, json: { recovery: b64(recoveryCopy(1)) } });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const again = await call(t.api, 'POST', '/api/v1/keys/recovery', { token: alice, json: { recovery: b64(recoveryCopy(2)) } });
    expect(again.status).toBe(409);
    expect(errorSchema.parse(again.json).error).toBe('recovery_exists');

    const read = recoveryResponse.parse((await call(t.api, 'POST', '/api/v1/keys/recovery/read', { token: alice })).json);
    expect(Buffer.from(read.recovery, 'base64')).toEqual(Buffer.from(recoveryCopy(1)));
    expect((await call(t.api, 'POST', '/api/v1/keys/recovery/read', { token: bob })).status).toBe(404);

    expect(await exists(`keys/${aliceId}/recovery`)).toBe(false);
    expect(await exists(recoveryBlob(aliceId, TEST_DIRECTORY_KEY))).toBe(true);
    expect((await call(t.api, 'POST', '/api/v1/keys/recovery', { token: bob, json: { recovery: b64(new Uint8Array(40)) } })).status).toBe(400);
  });

  it('is replaced only with the current ETag (412 otherwise) and a sign-in from the last five minutes (401 reauth_required otherwise)', async () => {
    const now = () => Math.floor(Date.now() / 1000);
    const kim = await issuer.mint('kim');
    const kimFresh = await issuer.mint('kim', { auth_time: now() - 30 });
    const kimStale = await issuer.mint('kim', { auth_time: now() - 3600 });
    const created = recoveryWrittenResponse.parse(
      (await call(t.api, 'POST', '/api/v1/keys/recovery', { token: kim, json: { recovery: b64(recoveryCopy(1)) } })).json,
    );
    const replace = (token: string, etag: string, fill: number) =>
      call(t.api, 'POST', '/api/v1/keys/recovery/replace', { token, json: { recovery: b64(recoveryCopy(fill)), etag } });

    for (const token of [kim, kimStale]) {
      const res = await replace(token, created.etag, 2);
      expect(res.status).toBe(401);
      expect(errorSchema.parse(res.json).error).toBe('reauth_required');
      expect(res.headers['www-authenticate']).toContain('insufficient_user_authentication');
    }
    const stale = await replace(kimFresh, '"0x8D000000000000"', 3);
    expect(stale.status).toBe(412);
    expect(errorSchema.parse(stale.json).error).toBe('stale_etag');

    const ok = await replace(kimFresh, created.etag, 4);
    expect(ok.status, JSON.stringify(ok.json)).toBe(200);
    const read = recoveryResponse.parse((await call(t.api, 'POST', '/api/v1/keys/recovery/read', { token: kim })).json);
    expect(Buffer.from(read.recovery, 'base64')).toEqual(Buffer.from(recoveryCopy(4)));
    // The ETag read before the change is stale now.
    expect((await replace(kimFresh, created.etag, 5)).status).toBe(412);
  });
});

describe('ids in paths', () => {
  const bad = [
    '..',
    '%2e%2e',
    '%2E%2E',
    '..%2f..%2fkeys',
    `${'a'.repeat(31)}/b`,
    `..%2F${'a'.repeat(32)}`,
    'a'.repeat(33),
    'a'.repeat(300),
    'A'.repeat(32),
    `${'a'.repeat(31)}\u0430`, // Cyrillic а
    `${'a'.repeat(31)}%D0%B0`,
    `${'0'.repeat(31)}\uFF10`, // fullwidth 0
    `${'a'.repeat(32)}%00`,
    '',
  ];
  it.each(bad)('rejects %j with 400 before touching storage', async (id) => {
    for (const [method, path] of [
      ['POST', `/api/v1/files/${id}/read`],
      ['POST', `/api/v1/files/${id}/delete`],
      ['POST', `/api/v1/uploads/${id}/renew`],
      ['POST', `/api/v1/keys/public/${id}/read`],
    ] as const) {
      const res = await call(t.api, method, path, { token: alice });
      // The Functions host parses the URL (WHATWG rules) and resolves dot
      // segments, `%2e%2e` too, before the API sees it: `files/../read`
      // arrives as `files/read`, which is no route (404), still before storage.
      const resolvedByHost = testAdapterFromEnv() === 'functions' && /^(\.\.|%2e%2e)$/i.test(id);
      expect(res.status, path).toBe(resolvedByHost ? 404 : 400);
      expect(errorSchema.parse(res.json).error).toBe(resolvedByHost ? 'not_found' : 'invalid_id');
    }
  });
});

describe('me', () => {
  it('answers with the user id from verified claims, the e-mail and the name', async () => {
    const res = await call(t.api, 'GET', '/api/v1/me', { token: alice });
    expect(res.json).toEqual({ userId: aliceId, email: 'Alice@Example.com', name: 'Alice' });
    const noEmail = await call(t.api, 'GET', '/api/v1/me', { token: await issuer.mint('gina') });
    expect(noEmail.json).toMatchObject({ email: null, name: null });
  });
});

describe('the audit log', () => {
  it('has one line per grant naming user, action, blob, permissions and expiry, and no secret', async () => {
    const start = t.audit.length;
    const up = await newUpload(alice);
    const lines = t.audit.slice(start).filter((l) => l.event === 'grant');
    expect(t.audit.slice(start)).toHaveLength(2);
    expect(lines.map((l) => l.blob).sort()).toEqual([`files/${aliceId}/${up.fileId}/manifest`, `files/${aliceId}/${up.fileId}/payload`]);
    for (const l of lines) {
      expect(l).toMatchObject({ event: 'grant', user: aliceId, action: 'upload' });
      expect(l.expiresAt).toBe(up.payload.expiresAt);
    }
    const all = t.audit.map((l) => JSON.stringify(l)).join('\n');
    const sig = new URL(up.payload.url).searchParams.get('sig') ?? 'missing';
    expect(all).not.toContain('sig=');
    expect(all).not.toContain(sig);
    expect(all).not.toContain(alice);
    expect(all).not.toContain(alice.split('.')[2]);
    expect(all).not.toContain(azurite.accountKey);
    expect(all).not.toContain(azurite.accountKey.slice(0, 20));
    expect(all).not.toContain('?');
    expect(t.errors).toEqual([]);
  });
});
