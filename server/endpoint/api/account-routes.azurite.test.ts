/**
 * Deleting an account (`POST /account/delete`) against a real Azurite:
 * only the verified caller's own area goes (every prefix: files, change
 * log, keys, links and their records, the directory entry), the first call
 * needs a fresh sign-in, the work is paged and resumes after a cut, a
 * second delete is harmless, an audit line is written per call, and the
 * same person can publish a new identity afterwards.
 */
import { BlobServiceClient, StorageSharedKeyCredential, type ContainerClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountDeleteResponse, ACCOUNT_DELETE_CONFIRMATION, errorBody, fileGrantsSchema, lookupResponse } from '../../../src/contract/index.ts';
import { deriveUserId } from '../auth/user-id.ts';
import { startAzurite, type AzuriteHandle } from '../../local/azurite.ts';
import { directoryBlob, driveKeyBlob, rotationBlob } from '../storage/blob-layout.ts';
import { b64, newTestKeys, publicIdentityV2 } from '../../test-support/key-proofs.ts';
import { call, createTestApi, TEST_DIRECTORY_KEY, type TestApi } from '../../test-support/test-api.ts';
import { createTestIssuer, TEST_ISSUER, type TestIssuer } from '../../test-support/test-issuer.ts';

let azurite: AzuriteHandle;
let issuer: TestIssuer;
/** Small pages, so paging is seen with a few dozen blobs. */
let t: TestApi;
let container: ContainerClient;
const PAGE = 7;

beforeAll(async () => {
  [azurite, issuer] = await Promise.all([startAzurite({ inMemory: true, port: 0 }), createTestIssuer()]);
  t = await createTestApi(azurite, issuer, { container: 'sealdrop', overrides: { accountDeletion: { blobsPerCall: PAGE } } });
  container = new BlobServiceClient(azurite.blobEndpoint, new StorageSharedKeyCredential(azurite.accountName, azurite.accountKey)).getContainerClient('sealdrop');
});

afterAll(async () => {
  await azurite?.stop();
});

const nowSeconds = (): number => Math.floor(Date.now() / 1000);
const confirm = { confirm: ACCOUNT_DELETE_CONFIRMATION };
const codeOf = (json: unknown): string => errorBody.parse(json).error;
const hex = (n: number): string => n.toString(16).padStart(32, '0');

interface Person {
  sub: string;
  email: string;
  userId: string;
  /** Signed in just now. */
  fresh: () => Promise<string>;
  /** Signed in an hour ago (a token refreshed since). */
  stale: () => Promise<string>;
}

function person(sub: string): Person {
  const email = `${sub}@example.test`;
  const claims = (authTime: number) => ({ email, email_verified: true, auth_time: authTime });
  return {
    sub,
    email,
    userId: deriveUserId({ scheme: 'oidc', iss: TEST_ISSUER, sub }),
    fresh: () => issuer.mint(sub, claims(nowSeconds() - 10)),
    stale: () => issuer.mint(sub, claims(nowSeconds() - 3600)),
  };
}

async function names(prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const b of container.listBlobsFlat({ prefix, includeUncommitedBlobs: true })) out.push(b.name);
  return out;
}

/** Every blob that belongs to `p`'s account, under any prefix. */
async function areaOf(p: Person): Promise<string[]> {
  const all = await Promise.all(
    [`files/${p.userId}/`, `index/${p.userId}/`, `keys/${p.userId}/`, `share-index/${p.userId}/`, `account-deletions/${p.userId}`].map(names),
  );
  const dir = directoryBlob(p.email, TEST_DIRECTORY_KEY);
  return [...all.flat(), ...((await names(dir)).includes(dir) ? [dir] : [])];
}

async function put(name: string, bytes: Uint8Array | string = new Uint8Array([1])): Promise<void> {
  const body = typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes;
  await container.getBlockBlobClient(name).upload(body, body.byteLength);
}

/** A complete file uploaded as the app does (declared, payload, manifest, logged in the change log). */
async function uploadFile(token: string): Promise<string> {
  const res = await call(t.api, 'POST', '/api/v1/uploads', { token, json: { payloadBytes: 3, manifestBytes: 3 } });
  expect(res.status).toBe(201);
  const up = fileGrantsSchema.parse(res.json);
  const putBlob = (url: string) => fetch(url, { method: 'PUT', headers: { 'x-ms-blob-type': 'BlockBlob', 'if-none-match': '*' }, body: new Blob([new Uint8Array([1, 2, 3])]) });
  expect((await putBlob(up.payload.url)).status).toBe(201);
  expect((await putBlob(up.manifest.url)).status).toBe(201);
  expect((await call(t.api, 'POST', `/api/v1/files/${up.fileId}/complete`, { token })).status).toBe(200);
  return up.fileId;
}

/**
 * An account with something under every prefix: a published identity (and
 * its directory entry), a recovery copy, a drive-key copy and a rotation
 * statement (written directly: their checks are tested elsewhere), two
 * files with their change log, a link share (record and index), and an
 * upload that has only uncommitted blocks. Returns the link's share id.
 */
async function seedAccount(p: Person): Promise<{ shareId: string; fileId: string }> {
  const token = await p.fresh();
  const keys = await newTestKeys();
  expect((await call(t.api, 'POST', '/api/v1/keys/public', { token, json: { publicIdentity: b64(await publicIdentityV2(keys)) } })).status).toBe(201);
  const recovery = new Uint8Array([...new TextEncoder().encode('SDBK'), 1, ...new Uint8Array(40).fill(7)]);
  expect((await call(t.api, 'POST', '/api/v1/keys/recovery', { token, json: { recovery: b64(recovery) } })).status).toBe(201);
  await put(driveKeyBlob(p.userId));
  await put(rotationBlob(p.userId, 1));
  const fileId = await uploadFile(token);
  await uploadFile(token);
  const shareId = (await crypto.randomUUID()).replace(/-/g, '');
  const record = { v: 1, ownerId: p.userId, fileId, createdAt: new Date().toISOString(), expiresAt: new Date(Date.now() + 3600_000).toISOString(), maxDownloads: null, downloads: 0, revoked: false, envelopeTag: hex(1) };
  await put(`shares/${shareId}`, JSON.stringify(record));
  await put(`share-index/${p.userId}/${fileId}/${shareId}`);
  // An upload cut before its commit: only uncommitted blocks.
  const up = fileGrantsSchema.parse((await call(t.api, 'POST', '/api/v1/uploads', { token, json: { payloadBytes: 3, manifestBytes: 3 } })).json);
  const block = Buffer.from('blk-000000').toString('base64');
  expect((await fetch(`${up.payload.url}&comp=block&blockid=${encodeURIComponent(block)}`, { method: 'PUT', body: new Blob([new Uint8Array([9])]) })).status).toBe(201);
  return { shareId, fileId };
}

/** Calls delete until done; returns the answers. */
async function deleteAll(token: string): Promise<{ deleted: number; done: boolean }[]> {
  const pages = [];
  for (let i = 0; i < 100; i++) {
    const res = await call(t.api, 'POST', '/api/v1/account/delete', { token, json: confirm });
    expect(res.status).toBe(200);
    const page = accountDeleteResponse.parse(res.json);
    pages.push(page);
    if (page.done) return pages;
  }
  throw new Error('Account deletion never finished.');
}

describe('POST /account/delete (Azurite)', () => {
  it('removes only the caller’s own area, every prefix of it, in pages; links stop working; other people’s blobs stay', async () => {
    const ann = person('del-ann');
    const bob = person('del-bob');
    const annSeed = await seedAccount(ann);
    const bobSeed = await seedAccount(bob);
    const annBefore = await areaOf(ann);
    const bobBefore = await areaOf(bob);
    // Keys (public, recovery, drive, rotation), directory, 2 × (declared, payload, manifest, logged), the change log, the link, the cut upload.
    expect(annBefore.length).toBeGreaterThan(PAGE);
    expect(annBefore.some((n) => n.startsWith(`index/${ann.userId}/log-`))).toBe(true);
    expect(annBefore.some((n) => n.startsWith(`keys/${ann.userId}/recovery-`))).toBe(true);
    expect(annBefore).toContain(directoryBlob(ann.email, TEST_DIRECTORY_KEY));
    // Ann's link works before.
    expect((await call(t.api, 'POST', `/api/v1/shares/${annSeed.shareId}/read`)).status).toBe(200);

    const start = t.audit.length;
    const pages = await deleteAll(await ann.fresh());
    expect(pages.length).toBeGreaterThan(1);
    expect(pages.slice(0, -1).every((p) => !p.done)).toBe(true);
    expect(pages.reduce((n, p) => n + p.deleted, 0)).toBeGreaterThanOrEqual(annBefore.length);

    expect(await areaOf(ann)).toEqual([]);
    expect(await names(`shares/${annSeed.shareId}`)).toEqual([]);
    // Her link stops working; she is gone from the directory.
    expect(codeOf((await call(t.api, 'POST', `/api/v1/shares/${annSeed.shareId}/read`)).json)).toBe('link_not_found');
    const lookup = await call(t.api, 'POST', '/api/v1/users/lookup', { token: await bob.fresh(), json: { email: ann.email } });
    expect(lookup.status).toBe(404);
    // Bob's area, his link and his directory entry are untouched.
    expect((await areaOf(bob)).sort()).toEqual(bobBefore.sort());
    expect((await call(t.api, 'POST', `/api/v1/shares/${bobSeed.shareId}/read`)).status).toBe(200);
    expect(lookupResponse.parse((await call(t.api, 'POST', '/api/v1/users/lookup', { token: await ann.fresh(), json: { email: bob.email } })).json).userId).toBe(bob.userId);

    // One audit line per call, naming the user only, the first marked started.
    const lines = t.audit.slice(start).filter((l) => l.event === 'account-delete');
    expect(lines).toHaveLength(pages.length);
    expect(lines.every((l) => l.user === ann.userId)).toBe(true);
    expect(lines.map((l) => l.event === 'account-delete' && l.started)).toEqual(pages.map((_, i) => i === 0));
    expect(JSON.stringify(lines)).not.toContain(ann.email);
  });

  it('needs a fresh sign-in to begin, and a signed-in caller at all; a token refreshed since refuses and deletes nothing', async () => {
    const cy = person('del-cy');
    await seedAccount(cy);
    const before = await areaOf(cy);
    const stale = await call(t.api, 'POST', '/api/v1/account/delete', { token: await cy.stale(), json: confirm });
    expect([stale.status, codeOf(stale.json)]).toEqual([401, 'reauth_required']);
    expect(stale.headers['www-authenticate']).toContain('insufficient_user_authentication');
    const anonymous = await call(t.api, 'POST', '/api/v1/account/delete', { json: confirm });
    expect(anonymous.status).toBe(401);
    const unconfirmed = await call(t.api, 'POST', '/api/v1/account/delete', { token: await cy.fresh(), json: { confirm: 'yes' } });
    expect([unconfirmed.status, codeOf(unconfirmed.json)]).toEqual([400, 'invalid_body']);
    const noBody = await call(t.api, 'POST', '/api/v1/account/delete', { token: await cy.fresh() });
    expect(noBody.status).toBe(400);
    expect((await areaOf(cy)).sort()).toEqual(before.sort());
  });

  it('resumes after a cut, refuses new keys and uploads meanwhile, and a second delete afterwards is harmless', async () => {
    const di = person('del-di');
    await seedAccount(di);
    const first = await call(t.api, 'POST', '/api/v1/account/delete', { token: await di.fresh(), json: confirm });
    expect(accountDeleteResponse.parse(first.json)).toEqual({ deleted: expect.any(Number) as number, done: false });
    expect(await names(`account-deletions/${di.userId}`)).toEqual([`account-deletions/${di.userId}`]);

    // The cut: the client went away. Meanwhile nothing new may be written to the account.
    const upload = await call(t.api, 'POST', '/api/v1/uploads', { token: await di.fresh(), json: { payloadBytes: 3, manifestBytes: 3 } });
    expect([upload.status, codeOf(upload.json)]).toEqual([409, 'account_deleting']);
    const keys = await newTestKeys();
    const publish = await call(t.api, 'POST', '/api/v1/keys/public', { token: await di.fresh(), json: { publicIdentity: b64(await publicIdentityV2(keys)) } });
    expect([publish.status, codeOf(publish.json)]).toEqual([409, 'account_deleting']);

    // Carrying on needs no fresh sign-in: the deletion was confirmed when it began.
    const rest = await deleteAll(await di.stale());
    expect(rest.at(-1)?.done).toBe(true);
    expect(await areaOf(di)).toEqual([]);

    // Again, with nothing left: done at once, nothing else touched.
    const others = await names('files/');
    const again = await call(t.api, 'POST', '/api/v1/account/delete', { token: await di.fresh(), json: confirm });
    expect([again.status, accountDeleteResponse.parse(again.json)]).toEqual([200, { deleted: 0, done: true }]);
    expect(await names('files/')).toEqual(others);
  });

  it('lets the same person sign up afresh: a new identity is published and found by e-mail again', async () => {
    const ed = person('del-ed');
    await seedAccount(ed);
    await deleteAll(await ed.fresh());
    const token = await ed.fresh();
    const keys = await newTestKeys();
    const published = await call(t.api, 'POST', '/api/v1/keys/public', { token, json: { publicIdentity: b64(await publicIdentityV2(keys)) } });
    expect([published.status, published.json]).toEqual([201, { userId: ed.userId }]);
    const recovery = new Uint8Array([...new TextEncoder().encode('SDBK'), 1, ...new Uint8Array(40).fill(8)]);
    expect((await call(t.api, 'POST', '/api/v1/keys/recovery', { token, json: { recovery: b64(recovery) } })).status).toBe(201);
    const found = await call(t.api, 'POST', '/api/v1/users/lookup', { token, json: { email: ed.email } });
    expect(lookupResponse.parse(found.json).userId).toBe(ed.userId);
    // The listing starts empty: no file of the old account survived.
    const list = await call(t.api, 'GET', '/api/v1/files', { token });
    expect(list.json).toEqual({ files: [], next: null });
  });

  it('works through more blobs than one call may delete, each call within its page', async () => {
    const fay = person('del-fay');
    const token = await fay.fresh();
    const count = PAGE * 5 + 3;
    await Promise.all(Array.from({ length: count }, (_, i) => put(`files/${fay.userId}/${hex(i + 1)}/payload`)));
    const pages = await deleteAll(token);
    expect(pages.length).toBeGreaterThanOrEqual(Math.ceil(count / PAGE));
    for (const p of pages) expect(p.deleted).toBeLessThanOrEqual(PAGE);
    expect(pages.reduce((n, p) => n + p.deleted, 0)).toBe(count);
    expect(await areaOf(fay)).toEqual([]);
  });
});
