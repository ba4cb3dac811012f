/**
 * Re-seal against a real Azurite (docs/CONTRACTS.md §2: `POST /uploads`
 * with `replaces`): the new upload takes the old file's place only once it
 * is complete, in one change-log append; the old file's links and people
 * are refused from then on; a switch cut off after the manifest was stored
 * is finished by the next listing; an unfinished re-seal changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobServiceClient, StorageSharedKeyCredential, type ContainerClient } from '@azure/storage-blob';
import { errorBody, fileChangesSchema, fileGrantsSchema, fileListSchema, shareEntrySchema, type FileGrants } from '../../../src/contract/index.ts';
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
const aliceId = deriveUserId({ scheme: 'oidc', iss: TEST_ISSUER, sub: 'alice-reseal' });

/** Fake sealed blobs: the server compares only sizes and, for shares, the manifest's first 182 bytes. */
const MANIFEST = Uint8Array.from({ length: 300 }, (_, i) => (i * 13 + 1) % 256);
const NEW_MANIFEST = Uint8Array.from({ length: 300 }, (_, i) => (i * 7 + 3) % 256);
const PAYLOAD = Uint8Array.from({ length: 64 }, (_, i) => i);
const TAG = 'ab'.repeat(16);

beforeAll(async () => {
  [azurite, issuer] = await Promise.all([startAzurite({ inMemory: true, port: 0 }), createTestIssuer()]);
  t = await createTestApi(azurite, issuer, { container: 'sealdrop' });
  container = new BlobServiceClient(azurite.blobEndpoint, new StorageSharedKeyCredential(azurite.accountName, azurite.accountKey)).getContainerClient('sealdrop');
  alice = await issuer.mint('alice-reseal', { email: 'alice-reseal@example.com', email_verified: true });
  bob = await issuer.mint('bob-reseal', { email: 'bob-reseal@example.com', email_verified: true });
});

afterAll(async () => {
  await azurite?.stop();
});

const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');
const errorOf = (json: unknown): string => errorBody.parse(json).error;
const put = (url: string, bytes: Uint8Array) =>
  fetch(url, { method: 'PUT', headers: { 'x-ms-blob-type': 'BlockBlob', 'if-none-match': '*' }, body: new Blob([Uint8Array.from(bytes)]) });

/** Asks for upload grants (a re-seal of `replaces` when given). */
async function grant(token: string, replaces?: string): Promise<{ status: number; json: unknown }> {
  return call(t.api, 'POST', '/api/v1/uploads', {
    token,
    json: { payloadBytes: PAYLOAD.length, manifestBytes: MANIFEST.length, ...(replaces === undefined ? {} : { replaces }) },
  });
}

/** Stores payload and manifest with the grants; `complete` also calls the complete route. */
async function store(token: string, up: FileGrants, manifest: Uint8Array, complete: boolean): Promise<void> {
  expect((await put(up.payload.url, PAYLOAD)).status).toBe(201);
  expect((await put(up.manifest.url, manifest)).status).toBe(201);
  if (complete) expect((await call(t.api, 'POST', `/api/v1/files/${up.fileId}/complete`, { token })).status).toBe(200);
}

async function uploadFile(token: string): Promise<string> {
  const up = fileGrantsSchema.parse((await grant(token)).json);
  await store(token, up, MANIFEST, true);
  return up.fileId;
}

async function listedIds(token: string): Promise<string[]> {
  const res = await call(t.api, 'GET', '/api/v1/files', { token });
  return fileListSchema.parse(res.json).files.map((f) => f.fileId);
}

async function blobNames(prefix: string): Promise<string[]> {
  const names: string[] = [];
  for await (const b of container.listBlobsFlat({ prefix })) names.push(b.name);
  return names;
}

async function newLink(fileId: string): Promise<string> {
  const files = fileListSchema.parse((await call(t.api, 'GET', '/api/v1/files', { token: alice })).json).files;
  const etag = files.find((f) => f.fileId === fileId)?.etag ?? '';
  const res = await call(t.api, 'POST', `/api/v1/files/${fileId}/shares`, {
    token: alice,
    json: { manifest: b64(Uint8Array.from([...MANIFEST, ...new Uint8Array(115).fill(5)])), manifestEtag: etag, expiresInSeconds: 3600, maxDownloads: null, envelopeTag: TAG },
  });
  expect(res.status).toBe(201);
  return shareEntrySchema.parse(res.json).shareId;
}

describe('re-seal', () => {
  it('changes nothing until the new file is complete, then replaces the old one in one change-log append', async () => {
    const oldId = await uploadFile(alice);
    const shareId = await newLink(oldId);
    const { json: before } = await call(t.api, 'GET', '/api/v1/files/changes?limit=1000', { token: alice });
    const position = fileChangesSchema.parse(before).next;

    const up = fileGrantsSchema.parse((await grant(alice, oldId)).json);
    expect(up.fileId).not.toBe(oldId);
    expect(await blobNames(`files/${aliceId}/${up.fileId}/`)).toContain(`files/${aliceId}/${up.fileId}/from-${oldId}`);
    await store(alice, up, NEW_MANIFEST, false);
    // Payload and manifest stored, complete not called yet: the old file still opens, by its owner and by its link.
    expect((await call(t.api, 'POST', `/api/v1/files/${oldId}/read`, { token: alice })).status).toBe(200);
    expect((await call(t.api, 'POST', `/api/v1/shares/${shareId}/read`, {})).status).toBe(200);

    const done = await call(t.api, 'POST', `/api/v1/files/${up.fileId}/complete`, { token: alice });
    expect(done.status).toBe(200);
    expect(done.json).toMatchObject({ fileId: up.fileId, appended: true });

    // The old file is gone for everyone: its owner, its link; its blobs and the marker are deleted.
    const read = await call(t.api, 'POST', `/api/v1/files/${oldId}/read`, { token: alice });
    expect(read.status).toBe(404);
    const link = await call(t.api, 'POST', `/api/v1/shares/${shareId}/read`, {});
    expect(link.status).toBe(404);
    expect(errorOf(link.json)).toBe('link_not_found');
    expect(await blobNames(`files/${aliceId}/${oldId}/`)).toEqual([]);
    expect((await blobNames(`files/${aliceId}/${up.fileId}/`)).some((n) => n.includes('/from-'))).toBe(false);
    const listed = await listedIds(alice);
    expect(listed).toContain(up.fileId);
    expect(listed).not.toContain(oldId);

    // One append: the add of the new file and the delete of the old one, together, in that order.
    const { json } = await call(t.api, 'GET', `/api/v1/files/changes?limit=1000${position === null ? '' : `&after=${encodeURIComponent(position)}`}`, { token: alice });
    const changes = fileChangesSchema.parse(json).changes.map((c) => `${c.op}:${c.fileId}`);
    expect(changes).toEqual([`add:${up.fileId}`, `delete:${oldId}`]);

    // Completing again appends nothing more.
    const again = await call(t.api, 'POST', `/api/v1/files/${up.fileId}/complete`, { token: alice });
    expect(again.json).toMatchObject({ fileId: up.fileId, appended: false });
  });

  it('finishes a switch whose complete call was lost at the next listing, which never shows both files', async () => {
    const oldId = await uploadFile(alice);
    const up = fileGrantsSchema.parse((await grant(alice, oldId)).json);
    await store(alice, up, NEW_MANIFEST, false);
    const listed = await listedIds(alice);
    expect(listed).toContain(up.fileId);
    expect(listed).not.toContain(oldId);
    expect(await blobNames(`files/${aliceId}/${oldId}/`)).toEqual([]);
    expect((await call(t.api, 'POST', `/api/v1/files/${up.fileId}/complete`, { token: alice })).json).toMatchObject({ appended: false });
  });

  it('leaves the old file whole when the re-seal upload never finishes, and deleting that upload drops its marker', async () => {
    const oldId = await uploadFile(alice);
    const up = fileGrantsSchema.parse((await grant(alice, oldId)).json);
    expect((await put(up.payload.url, PAYLOAD)).status).toBe(201);
    // No manifest: complete is refused and the old file is untouched.
    const early = await call(t.api, 'POST', `/api/v1/files/${up.fileId}/complete`, { token: alice });
    expect(early.status).toBe(409);
    expect(errorOf(early.json)).toBe('upload_incomplete');
    expect((await call(t.api, 'POST', `/api/v1/files/${oldId}/read`, { token: alice })).status).toBe(200);
    expect(await listedIds(alice)).toContain(oldId);

    expect((await call(t.api, 'POST', `/api/v1/files/${up.fileId}/delete`, { token: alice })).status).toBe(200);
    expect((await blobNames(`files/${aliceId}/${up.fileId}/`)).some((n) => n.includes('/from-'))).toBe(false);
    expect((await call(t.api, 'POST', `/api/v1/files/${oldId}/read`, { token: alice })).status).toBe(200);
  });

  it('re-seals only a complete file of the caller (404 for another user’s, 400 for a malformed id)', async () => {
    const oldId = await uploadFile(alice);
    const theirs = await grant(bob, oldId);
    expect(theirs.status).toBe(404);
    expect(errorOf(theirs.json)).toBe('not_found');
    const unknown = await grant(alice, 'c'.repeat(32));
    expect(unknown.status).toBe(404);
    const malformed = await grant(alice, '../x');
    expect(malformed.status).toBe(400);
    expect(errorOf(malformed.json)).toBe('invalid_body');
    expect(await listedIds(alice)).toContain(oldId);
  });
});
