/**
 * File requests against a real Azurite: the owner creates, lists and revokes
 * requests; an anonymous sender gets the owner's public key and create-only
 * upload grants only for an open, unexpired, unrevoked request within its
 * cap; the owner lists, reads and deletes what was received; other users
 * with valid tokens get 404; every failure is the contract's JSON error.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobServiceClient, StorageSharedKeyCredential, type ContainerClient } from '@azure/storage-blob';
import {
  ACCOUNT_DELETE_CONFIRMATION,
  errorBody,
  fileGrantsSchema,
  receivedListSchema,
  requestEntrySchema,
  requestListSchema,
  requestOpenSchema,
} from '../../../src/contract/index.ts';
import { deriveUserId } from '../auth/user-id.ts';
import { startAzurite, type AzuriteHandle } from '../../local/azurite.ts';
import { b64, newTestKeys, publicIdentityV2 } from '../../test-support/key-proofs.ts';
import { call, createTestApi, type TestApi } from '../../test-support/test-api.ts';
import { createTestIssuer, TEST_ISSUER, type TestIssuer } from '../../test-support/test-issuer.ts';

let azurite: AzuriteHandle;
let issuer: TestIssuer;
let t: TestApi;
let container: ContainerClient;
let alice: string;
let bob: string;
let carol: string;
let aliceIdentity: Uint8Array;
const aliceId = deriveUserId({ scheme: 'oidc', iss: TEST_ISSUER, sub: 'alice' });

const MANIFEST = Uint8Array.from({ length: 300 }, (_, i) => (i * 13 + 1) % 256);
const PAYLOAD = Uint8Array.from({ length: 64 }, (_, i) => i);

beforeAll(async () => {
  [azurite, issuer] = await Promise.all([startAzurite({ inMemory: true, port: 0 }), createTestIssuer()]);
  t = await createTestApi(azurite, issuer, { container: 'sealdrop' });
  container = new BlobServiceClient(azurite.blobEndpoint, new StorageSharedKeyCredential(azurite.accountName, azurite.accountKey)).getContainerClient('sealdrop');
  alice = await issuer.mint('alice', { email: 'alice@example.com', email_verified: true });
  bob = await issuer.mint('bob', { email: 'bob@example.com', email_verified: true });
  carol = await issuer.mint('carol', { email: 'carol@example.com', email_verified: true });
  aliceIdentity = await publicIdentityV2(await newTestKeys());
  expect((await call(t.api, 'POST', '/api/v1/keys/public', { token: alice, json: { publicIdentity: b64(aliceIdentity) } })).status).toBe(201);
  const bobIdentity = await publicIdentityV2(await newTestKeys());
  expect((await call(t.api, 'POST', '/api/v1/keys/public', { token: bob, json: { publicIdentity: b64(bobIdentity) } })).status).toBe(201);
});

afterAll(async () => {
  await azurite?.stop();
});

const put = (url: string, bytes: Uint8Array, ifNoneMatch = true) =>
  fetch(url, {
    method: 'PUT',
    headers: { 'x-ms-blob-type': 'BlockBlob', ...(ifNoneMatch ? { 'if-none-match': '*' } : {}) },
    body: new Blob([Uint8Array.from(bytes)]),
  });

async function newRequest(token: string, maxBytes = 10_000, expiresInSeconds = 3600) {
  const res = await call(t.api, 'POST', '/api/v1/requests', { token, json: { expiresInSeconds, maxBytes } });
  expect(res.status).toBe(201);
  return requestEntrySchema.parse(res.json);
}

const upload = (requestId: string, payloadBytes = PAYLOAD.length, manifestBytes = MANIFEST.length) =>
  call(t.api, 'POST', `/api/v1/requests/${requestId}/uploads`, { json: { payloadBytes, manifestBytes } });

function code(res: { json: unknown }): string {
  return errorBody.parse(res.json).error;
}

/** Sends one whole file through a request (as a sender's browser does) and returns its file id. */
async function sendOne(requestId: string): Promise<string> {
  const res = await upload(requestId);
  expect(res.status).toBe(201);
  const grants = fileGrantsSchema.parse(res.json);
  expect((await put(grants.payload.url, PAYLOAD)).status).toBe(201);
  expect((await put(grants.manifest.url, MANIFEST)).status).toBe(201);
  return grants.fileId;
}

describe('creating and listing requests', () => {
  it('creates an open request with its cap and expiry, and lists it for its owner only', async () => {
    const r = await newRequest(alice, 5000);
    expect(r).toMatchObject({ maxBytes: 5000, usedBytes: 0, files: 0, revoked: false, state: 'open' });
    expect(Date.parse(r.expiresAt) - Date.parse(r.createdAt)).toBe(3600 * 1000);
    const mine = requestListSchema.parse((await call(t.api, 'GET', '/api/v1/requests', { token: alice })).json);
    expect(mine.requests.map((x) => x.requestId)).toContain(r.requestId);
    const bobs = requestListSchema.parse((await call(t.api, 'GET', '/api/v1/requests', { token: bob })).json);
    expect(bobs.requests.map((x) => x.requestId)).not.toContain(r.requestId);
  });

  it('refuses a request from an account without a published key (409) and bad bodies (400)', async () => {
    const res = await call(t.api, 'POST', '/api/v1/requests', { token: carol, json: { expiresInSeconds: 3600, maxBytes: 5000 } });
    expect(res.status).toBe(409);
    expect(code(res)).toBe('request_owner_has_no_key');
    const tooLong = await call(t.api, 'POST', '/api/v1/requests', { token: alice, json: { expiresInSeconds: 31 * 24 * 3600, maxBytes: 5000 } });
    expect(tooLong.status).toBe(400);
    expect(code(tooLong)).toBe('invalid_body');
    const extra = await call(t.api, 'POST', '/api/v1/requests', { token: alice, json: { expiresInSeconds: 3600, maxBytes: 5000, label: 'x' } });
    expect(extra.status).toBe(400);
    const anonymous = await call(t.api, 'POST', '/api/v1/requests', { json: { expiresInSeconds: 3600, maxBytes: 5000 } });
    expect(anonymous.status).toBe(401);
  });
});

describe('an anonymous sender', () => {
  it('reads the owner’s published public identity and the request’s limits', async () => {
    const r = await newRequest(alice);
    const res = await call(t.api, 'POST', `/api/v1/requests/${r.requestId}/open`);
    expect(res.status).toBe(200);
    const open = requestOpenSchema.parse(res.json);
    expect(Buffer.from(open.publicIdentity, 'base64').equals(Buffer.from(aliceIdentity))).toBe(true);
    expect(open).toMatchObject({ maxBytes: 10_000, usedBytes: 0 });
  });

  it('gets create-only grants for a fresh file under the owner’s received area, and the owner lists and reads it', async () => {
    const r = await newRequest(alice);
    const fileId = await sendOne(r.requestId);
    const grant = t.audit.filter((a) => 'action' in a && a.action === 'request-upload').at(-1);
    expect(grant).toMatchObject({ user: `request:${r.requestId}`, permissions: 'cw', blob: `received/${aliceId}/${fileId}/manifest` });
    const list = receivedListSchema.parse((await call(t.api, 'GET', '/api/v1/received', { token: alice })).json);
    const entry = list.files.find((f) => f.fileId === fileId);
    expect(entry).toMatchObject({ payloadBytes: PAYLOAD.length, manifestBytes: MANIFEST.length });
    expect(entry?.manifestRead.permissions).toBe('r');
    const read = await call(t.api, 'POST', `/api/v1/received/${fileId}/read`, { token: alice });
    expect(read.status).toBe(200);
    const payload = new Uint8Array(await (await fetch(fileGrantsSchema.parse(read.json).payload.url)).arrayBuffer());
    expect(Buffer.from(payload).equals(Buffer.from(PAYLOAD))).toBe(true);
    const after = requestListSchema.parse((await call(t.api, 'GET', '/api/v1/requests', { token: alice })).json).requests.find((x) => x.requestId === r.requestId);
    expect(after).toMatchObject({ usedBytes: PAYLOAD.length + MANIFEST.length, files: 1 });
  });

  it('cannot overwrite a finished file with its grant (If-None-Match) nor read it', async () => {
    const r = await newRequest(alice);
    const res = await upload(r.requestId);
    const grants = fileGrantsSchema.parse(res.json);
    expect((await put(grants.manifest.url, MANIFEST)).status).toBe(201);
    expect((await put(grants.manifest.url, MANIFEST)).status).toBe(409);
    expect((await fetch(grants.manifest.url)).status).toBe(403);
  });

  it('is refused with 413 once the cap would be passed, and the request then counts as full', async () => {
    // 364 sealed bytes a file: two fit under 1024, a third does not.
    const r = await newRequest(alice, 1024);
    const tooBig = await upload(r.requestId, 2000, 300);
    expect(tooBig.status).toBe(413);
    expect(code(tooBig)).toBe('request_cap_reached');
    await sendOne(r.requestId);
    await sendOne(r.requestId);
    const third = await upload(r.requestId);
    expect(third.status).toBe(413);
    expect(errorBody.parse(third.json).message).toMatch(/does not fit: the request takes 296 more bytes/);
    const fill = await newRequest(alice, 1024);
    expect((await upload(fill.requestId, 1024 - 300, 300)).status).toBe(201);
    const full = await upload(fill.requestId, 0, 1);
    expect(full.status).toBe(413);
    expect(errorBody.parse(full.json).message).toMatch(/taken all the files/);
    const listed = requestListSchema.parse((await call(t.api, 'GET', '/api/v1/requests', { token: alice })).json).requests.find((x) => x.requestId === fill.requestId);
    expect(listed?.state).toBe('full');
  });

  it('is refused with 410 after expiry, for both open and upload', async () => {
    const r = await newRequest(alice, 10_000, 60);
    t.clock.offsetMs = 61_000;
    try {
      for (const res of [await call(t.api, 'POST', `/api/v1/requests/${r.requestId}/open`), await upload(r.requestId)]) {
        expect(res.status).toBe(410);
        expect(code(res)).toBe('request_expired');
      }
    } finally {
      t.clock.offsetMs = 0;
    }
  });

  it('is refused with 410 after the owner revokes, and with 404 for an unknown request', async () => {
    const r = await newRequest(alice);
    const revoked = await call(t.api, 'POST', `/api/v1/requests/${r.requestId}/revoke`, { token: alice });
    expect(revoked.status).toBe(200);
    expect(requestEntrySchema.parse(revoked.json).state).toBe('revoked');
    for (const res of [await call(t.api, 'POST', `/api/v1/requests/${r.requestId}/open`), await upload(r.requestId)]) {
      expect(res.status).toBe(410);
      expect(code(res)).toBe('request_revoked');
    }
    const unknown = await upload('0'.repeat(32));
    expect(unknown.status).toBe(404);
    expect(code(unknown)).toBe('request_not_found');
    const malformed = await call(t.api, 'POST', '/api/v1/requests/not-an-id/open');
    expect(malformed.status).toBe(400);
    expect(errorBody.safeParse(malformed.json).success).toBe(true);
  });

  it('never gets a grant for more than the declared sizes: an oversized file is swept, not listed', async () => {
    const r = await newRequest(alice);
    const grants = fileGrantsSchema.parse((await upload(r.requestId, 10, MANIFEST.length)).json);
    expect((await put(grants.payload.url, PAYLOAD)).status).toBe(201);
    expect((await put(grants.manifest.url, MANIFEST)).status).toBe(201);
    const list = receivedListSchema.parse((await call(t.api, 'GET', '/api/v1/received', { token: alice })).json);
    expect(list.files.map((f) => f.fileId)).not.toContain(grants.fileId);
    const left = [];
    for await (const b of container.listBlobsFlat({ prefix: `received/${aliceId}/${grants.fileId}/` })) left.push(b.name);
    expect(left).toEqual([]);
  });
});

describe('other users with valid tokens', () => {
  it('cannot revoke, read or delete what is not theirs (404), nor see it listed', async () => {
    const r = await newRequest(alice);
    const fileId = await sendOne(r.requestId);
    const revoke = await call(t.api, 'POST', `/api/v1/requests/${r.requestId}/revoke`, { token: bob });
    expect(revoke.status).toBe(404);
    expect(code(revoke)).toBe('request_not_found');
    for (const path of [`/api/v1/received/${fileId}/read`, `/api/v1/received/${fileId}/delete`]) {
      const res = await call(t.api, 'POST', path, { token: bob });
      expect(res.status).toBe(404);
      expect(code(res)).toBe('not_found');
    }
    // Bob's own file space knows nothing of it either.
    expect((await call(t.api, 'POST', `/api/v1/files/${fileId}/read`, { token: bob })).status).toBe(404);
    const bobs = receivedListSchema.parse((await call(t.api, 'GET', '/api/v1/received', { token: bob })).json);
    expect(bobs.files.map((f) => f.fileId)).not.toContain(fileId);
    // Still there for Alice, and still open.
    expect((await call(t.api, 'POST', `/api/v1/received/${fileId}/read`, { token: alice })).status).toBe(200);
  });
});

describe('deleting a received file', () => {
  it('gives delete grants and drops the file from the list at once', async () => {
    const r = await newRequest(alice);
    const fileId = await sendOne(r.requestId);
    const res = await call(t.api, 'POST', `/api/v1/received/${fileId}/delete`, { token: alice });
    expect(res.status).toBe(200);
    const grants = fileGrantsSchema.parse(res.json);
    expect(grants.payload.permissions).toBe('d');
    const list = receivedListSchema.parse((await call(t.api, 'GET', '/api/v1/received', { token: alice })).json);
    expect(list.files.map((f) => f.fileId)).not.toContain(fileId);
    expect((await call(t.api, 'POST', `/api/v1/received/${fileId}/read`, { token: alice })).status).toBe(404);
  });
});

describe('deleting the owner’s account', () => {
  it('removes their requests (they stop taking files) and everything received', async () => {
    const sub = 'dora';
    const token = await issuer.mint(sub, { email: 'dora@example.com', email_verified: true, auth_time: Math.floor(Date.now() / 1000) - 10 });
    const doraId = deriveUserId({ scheme: 'oidc', iss: TEST_ISSUER, sub });
    expect((await call(t.api, 'POST', '/api/v1/keys/public', { token, json: { publicIdentity: b64(await publicIdentityV2(await newTestKeys())) } })).status).toBe(201);
    const r = await newRequest(token);
    await sendOne(r.requestId);
    let done = false;
    for (let i = 0; i < 20 && !done; i++) {
      const res = await call(t.api, 'POST', '/api/v1/account/delete', { token, json: { confirm: ACCOUNT_DELETE_CONFIRMATION } });
      expect(res.status).toBe(200);
      done = (res.json as { done: boolean }).done;
    }
    expect(done).toBe(true);
    const gone = await upload(r.requestId);
    expect(gone.status).toBe(404);
    expect(code(gone)).toBe('request_not_found');
    const left: string[] = [];
    for (const prefix of [`received/${doraId}/`, `request-index/${doraId}/`, `requests/${r.requestId}`]) {
      for await (const b of container.listBlobsFlat({ prefix })) left.push(b.name);
    }
    expect(left).toEqual([]);
  });
});
