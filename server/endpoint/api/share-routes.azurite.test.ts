/**
 * Link shares against a real Azurite: the owner creates, lists and revokes
 * links; an anonymous caller gets read-only grants only for a live link;
 * every rule has a test, including other users with valid tokens.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobServiceClient, StorageSharedKeyCredential, type ContainerClient } from '@azure/storage-blob';
import { z } from 'zod';
import { errorBody, fileChangesSchema, fileGrantsSchema, fileListSchema, shareEntrySchema, shareListSchema, shareReadSchema } from '../../../src/contract/index.ts';
import { deriveUserId } from '../auth/user-id.ts';
import { startAzurite, type AzuriteHandle } from '../../local/azurite.ts';
import { call, createTestApi, type TestApi } from '../../test-support/test-api.ts';
import { createTestIssuer, TEST_ISSUER, type TestIssuer } from '../../test-support/test-issuer.ts';

let azurite: AzuriteHandle;
let issuer: TestIssuer;
let t: TestApi;
let container: ContainerClient;
let alice: string;
let bob: string;
const aliceId = deriveUserId({ scheme: 'oidc', iss: TEST_ISSUER, sub: 'alice' });

/** A fake sealed manifest: the server only compares its first 182 bytes and its size. */
const MANIFEST = Uint8Array.from({ length: 300 }, (_, i) => (i * 13 + 1) % 256);
const PAYLOAD = Uint8Array.from({ length: 64 }, (_, i) => i);

beforeAll(async () => {
  [azurite, issuer] = await Promise.all([startAzurite({ inMemory: true, port: 0 }), createTestIssuer()]);
  t = await createTestApi(azurite, issuer, { container: 'sealdrop' });
  container = new BlobServiceClient(azurite.blobEndpoint, new StorageSharedKeyCredential(azurite.accountName, azurite.accountKey)).getContainerClient('sealdrop');
  alice = await issuer.mint('alice', { email: 'alice@example.com', email_verified: true });
  bob = await issuer.mint('bob', { email: 'bob@example.com', email_verified: true });
});

afterAll(async () => {
  await azurite?.stop();
});

const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');

async function uploadFile(token: string): Promise<string> {
  const res = await call(t.api, 'POST', '/api/v1/uploads', { token, json: { payloadBytes: PAYLOAD.length, manifestBytes: MANIFEST.length } });
  const up = fileGrantsSchema.parse(res.json);
  const put = (url: string, bytes: Uint8Array) =>
    fetch(url, { method: 'PUT', headers: { 'x-ms-blob-type': 'BlockBlob', 'if-none-match': '*' }, body: new Blob([Uint8Array.from(bytes)]) });
  expect((await put(up.payload.url, PAYLOAD)).status).toBe(201);
  expect((await put(up.manifest.url, MANIFEST)).status).toBe(201);
  return up.fileId;
}

async function manifestEtag(token: string, fileId: string): Promise<string> {
  const res = await call(t.api, 'GET', '/api/v1/files', { token });
  const entry = fileListSchema.parse(res.json).files.find((f) => f.fileId === fileId);
  if (entry === undefined) throw new Error('file not listed');
  return entry.etag;
}

/** The manifest with `extra` bytes appended (a stand-in for an added envelope). */
const grown = (extra: number): Uint8Array => Uint8Array.from([...MANIFEST, ...new Uint8Array(extra).fill(5)]);
const TAG = 'ab'.repeat(16);

async function createLink(token: string, fileId: string, opts: { maxDownloads?: number | null; expiresInSeconds?: number; manifest?: Uint8Array } = {}) {
  return call(t.api, 'POST', `/api/v1/files/${fileId}/shares`, {
    token,
    json: {
      manifest: b64(opts.manifest ?? grown(115)),
      manifestEtag: await manifestEtag(token, fileId),
      expiresInSeconds: opts.expiresInSeconds ?? 3600,
      maxDownloads: opts.maxDownloads ?? null,
      envelopeTag: TAG,
    },
  });
}

async function newLink(opts: Parameters<typeof createLink>[2] = {}): Promise<{ fileId: string; shareId: string }> {
  const fileId = await uploadFile(alice);
  const res = await createLink(alice, fileId, opts);
  expect(res.status).toBe(201);
  return { fileId, shareId: shareEntrySchema.parse(res.json).shareId };
}

const read = (shareId: string, ip = '203.0.113.7') => call(t.api, 'POST', `/api/v1/shares/${shareId}/read`, { ip });
const errorOf = (json: unknown): string => errorBody.parse(json).error;

describe('creating a link', () => {
  it('writes the re-enveloped manifest, grows the declaration and keeps the file listed', async () => {
    const fileId = await uploadFile(alice);
    const res = await createLink(alice, fileId, { maxDownloads: 3 });
    expect(res.status).toBe(201);
    const entry = shareEntrySchema.parse(res.json);
    expect(entry).toMatchObject({ fileId, maxDownloads: 3, downloads: 0, revoked: false, state: 'active', envelopeTag: TAG });
    const stored = await container.getBlobClient(`files/${aliceId}/${fileId}/manifest`).downloadToBuffer();
    expect(new Uint8Array(stored)).toEqual(grown(115));
    const listed = fileListSchema.parse((await call(t.api, 'GET', '/api/v1/files', { token: alice })).json).files.find((f) => f.fileId === fileId);
    expect(listed?.manifestBytes).toBe(MANIFEST.length + 115);
    const names: string[] = [];
    for await (const b of container.listBlobsFlat({ prefix: `files/${aliceId}/${fileId}/` })) names.push(b.name);
    expect(names.filter((n) => n.includes('declared-'))).toEqual([`files/${aliceId}/${fileId}/declared-${PAYLOAD.length}-${MANIFEST.length + 115}`]);
    // The record holds no secret: owner, file, expiry, limit, count, revoked, the envelope's public tag.
    const record = JSON.parse((await container.getBlobClient(`shares/${entry.shareId}`).downloadToBuffer()).toString('utf8')) as Record<string, unknown>;
    expect(Object.keys(record).sort()).toEqual(['createdAt', 'downloads', 'envelopeTag', 'expiresAt', 'fileId', 'maxDownloads', 'ownerId', 'revoked', 'v']);
  });

  it('appends an add event carrying the new manifest to the change log, as every manifest replacement does', async () => {
    const fileId = await uploadFile(alice);
    const before = fileChangesSchema.parse((await call(t.api, 'GET', '/api/v1/files/changes?limit=1000', { token: alice })).json).next;
    expect((await createLink(alice, fileId)).status).toBe(201);
    const after = await call(t.api, 'GET', `/api/v1/files/changes?limit=1000${before === null ? '' : `&after=${encodeURIComponent(before)}`}`, { token: alice });
    const changes = fileChangesSchema.parse(after.json).changes;
    expect(changes.map((c) => `${c.op}:${c.fileId}`)).toEqual([`add:${fileId}`]);
    const added = changes[0];
    expect(added?.op === 'add' ? added.manifest : undefined).toBe(b64(grown(115)));
    expect(added?.op === 'add' ? added.manifestBytes : 0).toBe(MANIFEST.length + 115);
  });

  it('refuses a stale manifest ETag (412), a reshaped manifest (400), no token (401) and a bad expiry (400)', async () => {
    const fileId = await uploadFile(alice);
    const stale = await call(t.api, 'POST', `/api/v1/files/${fileId}/shares`, {
      token: alice,
      json: { manifest: b64(grown(10)), manifestEtag: '"0x1"', expiresInSeconds: 3600, maxDownloads: null, envelopeTag: TAG },
    });
    expect(stale.status).toBe(412);
    const reshaped = grown(10);
    reshaped[100] = (reshaped[100] ?? 0) ^ 1;
    const bad = await createLink(alice, fileId, { manifest: reshaped });
    expect(bad.status).toBe(400);
    expect(errorOf(bad.json)).toBe('invalid_manifest');
    const anon = await call(t.api, 'POST', `/api/v1/files/${fileId}/shares`, { json: {} });
    expect(anon.status).toBe(401);
    const tooLong = await createLink(alice, fileId, { expiresInSeconds: 31 * 24 * 3600 });
    expect(tooLong.status).toBe(400);
  });

  it('lets no other user create a link on the owner’s file, even with a valid token (404)', async () => {
    const fileId = await uploadFile(alice);
    const etag = await manifestEtag(alice, fileId);
    const res = await call(t.api, 'POST', `/api/v1/files/${fileId}/shares`, {
      token: bob,
      json: { manifest: b64(grown(10)), manifestEtag: etag, expiresInSeconds: 3600, maxDownloads: null, envelopeTag: TAG },
    });
    expect(res.status).toBe(404);
    const stored = await container.getBlobClient(`files/${aliceId}/${fileId}/manifest`).downloadToBuffer();
    expect(new Uint8Array(stored)).toEqual(MANIFEST);
  });
});

describe('reading a link anonymously', () => {
  it('gives read-only grants for the file’s two blobs, minutes long, and counts the use', async () => {
    const { fileId, shareId } = await newLink();
    const before = Date.now();
    const res = await read(shareId);
    const after = Date.now();
    expect(res.status).toBe(200);
    const grants = shareReadSchema.parse(res.json);
    expect(grants.fileId).toBe(fileId);
    for (const [g, part] of [[grants.manifest, 'manifest'], [grants.payload, 'payload']] as const) {
      expect(g.permissions).toBe('r');
      expect(new URL(g.url).pathname).toBe(`/devstoreaccount1/sealdrop/files/${aliceId}/${fileId}/${part}`);
      expect(new URL(g.url).searchParams.get('sp')).toBe('r');
      // At most 15 minutes from the moment the server answered (bounded by the request's own start and end).
      expect(Date.parse(g.expiresAt)).toBeGreaterThan(before);
      expect(Date.parse(g.expiresAt)).toBeLessThanOrEqual(after + 15 * 60_000);
    }
    expect(new Uint8Array(await (await fetch(grants.payload.url)).arrayBuffer())).toEqual(PAYLOAD);
    const write = await fetch(grants.payload.url, { method: 'PUT', headers: { 'x-ms-blob-type': 'BlockBlob' }, body: new Blob([new Uint8Array([1])]) });
    expect(write.status).toBe(403);
    expect(t.audit.some((e) => e.event === 'grant' && e.user === `link:${shareId}` && e.permissions === 'r')).toBe(true);
    const list = shareListSchema.parse((await call(t.api, 'GET', `/api/v1/files/${fileId}/shares`, { token: alice })).json);
    expect(list.shares.map((s) => [s.shareId, s.downloads])).toEqual([[shareId, 1]]);
  });

  it('answers 404 link_not_found for an unknown link and 400 for a malformed id', async () => {
    const unknown = await read('0'.repeat(32));
    expect(unknown.status).toBe(404);
    expect(errorOf(unknown.json)).toBe('link_not_found');
    expect((await call(t.api, 'POST', '/api/v1/shares/nothex/read')).status).toBe(400);
  });

  it('stops at the download limit with 410 link_used_up', async () => {
    const { shareId } = await newLink({ maxDownloads: 2 });
    expect((await read(shareId)).status).toBe(200);
    expect((await read(shareId)).status).toBe(200);
    const third = await read(shareId);
    expect(third.status).toBe(410);
    expect(errorOf(third.json)).toBe('link_used_up');
  });

  it('never lets two concurrent opens both take the last use', async () => {
    const { shareId } = await newLink({ maxDownloads: 1 });
    const results = await Promise.all(Array.from({ length: 4 }, () => read(shareId)));
    expect(results.map((r) => r.status).sort()).toEqual([200, 410, 410, 410]);
  });

  it('answers 410 link_expired after the expiry', async () => {
    const { shareId } = await newLink({ expiresInSeconds: 60 });
    t.clock.offsetMs = 61_000;
    try {
      const res = await read(shareId);
      expect(res.status).toBe(410);
      expect(errorOf(res.json)).toBe('link_expired');
    } finally {
      t.clock.offsetMs = 0;
    }
    expect((await read(shareId)).status).toBe(200);
  });

  it('answers 404 once the owner deleted the file', async () => {
    const { fileId, shareId } = await newLink();
    expect((await call(t.api, 'POST', `/api/v1/files/${fileId}/delete`, { token: alice })).status).toBe(200);
    expect((await read(shareId)).status).toBe(404);
  });
});

describe('revoking a link', () => {
  it('lets the owner revoke it: 410 link_revoked after, listed as revoked', async () => {
    const { fileId, shareId } = await newLink();
    const res = await call(t.api, 'POST', `/api/v1/shares/${shareId}/revoke`, { token: alice, json: {} });
    expect(res.status).toBe(200);
    expect(shareEntrySchema.parse(res.json).state).toBe('revoked');
    const after = await read(shareId);
    expect(after.status).toBe(410);
    expect(errorOf(after.json)).toBe('link_revoked');
    const list = shareListSchema.parse((await call(t.api, 'GET', `/api/v1/files/${fileId}/shares`, { token: alice })).json);
    expect(list.shares.find((s) => s.shareId === shareId)?.state).toBe('revoked');
  });

  it('also writes the manifest without the link’s envelope when given one', async () => {
    const { fileId, shareId } = await newLink();
    const res = await call(t.api, 'POST', `/api/v1/shares/${shareId}/revoke`, {
      token: alice,
      json: { manifest: b64(MANIFEST), manifestEtag: await manifestEtag(alice, fileId) },
    });
    expect(res.status).toBe(200);
    const stored = await container.getBlobClient(`files/${aliceId}/${fileId}/manifest`).downloadToBuffer();
    expect(new Uint8Array(stored)).toEqual(MANIFEST);
  });

  it('lets no other user revoke or list the owner’s links, even with a valid token', async () => {
    const { fileId, shareId } = await newLink();
    const res = await call(t.api, 'POST', `/api/v1/shares/${shareId}/revoke`, { token: bob, json: {} });
    expect(res.status).toBe(404);
    expect(errorOf(res.json)).toBe('link_not_found');
    expect((await read(shareId)).status).toBe(200);
    const list = shareListSchema.parse((await call(t.api, 'GET', `/api/v1/files/${fileId}/shares`, { token: bob })).json);
    expect(list.shares).toEqual([]);
    expect((await call(t.api, 'POST', `/api/v1/shares/${shareId}/revoke`, { json: {} })).status).toBe(401);
  });
});

describe('rate limit', () => {
  it('charges anonymous reads to the caller’s address', async () => {
    const { shareId } = await newLink();
    const limited = await createTestApi(azurite, issuer, {
      container: 'sealdrop',
      overrides: { ipLimiter: (await import('../rate-limit.ts')).tokenBucketLimiter({ perMinute: 2 }) },
    });
    const go = () => call(limited.api, 'POST', `/api/v1/shares/${shareId}/read`, { ip: '198.51.100.9' });
    expect((await go()).status).toBe(200);
    expect((await go()).status).toBe(200);
    const third = await go();
    expect(third.status).toBe(429);
    expect(z.object({ error: z.literal('rate_limited') }).passthrough().parse(third.json).error).toBe('rate_limited');
    // Another address is not affected.
    expect((await call(limited.api, 'POST', `/api/v1/shares/${shareId}/read`, { ip: '198.51.100.10' })).status).toBe(200);
  });
});
