/**
 * The change log (issue 16) against a real Azurite: completing a file
 * appends one add event (once), deleting appends a delete event, the
 * changes route pages through them in order with the manifests' read
 * grants, segments roll over (a tiny segment size is injected), a drive
 * older than its log is seeded from one walk, unknown positions are 410 and
 * nobody reads or completes another user's files.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobServiceClient, StorageSharedKeyCredential, type ContainerClient } from '@azure/storage-blob';
import { completeResponse, errorBody, fileChangesSchema, fileGrantsSchema, type FileChangesPage } from '../../../src/contract/index.ts';
import { startAzurite, type AzuriteHandle } from '../../local/azurite.ts';
import { deriveUserId } from '../auth/user-id.ts';
import { changeLogBlob, changeLogPrefix } from '../storage/blob-layout.ts';
import { call, createTestApi, type TestApi } from '../../test-support/test-api.ts';
import { createTestIssuer, TEST_ISSUER, type TestIssuer } from '../../test-support/test-issuer.ts';

/** Tiny segments, so a handful of events roll over. */
const SEGMENT_BLOCKS = 3;

let azurite: AzuriteHandle;
let issuer: TestIssuer;
let t: TestApi;
let container: ContainerClient;
let n = 0;

beforeAll(async () => {
  [azurite, issuer] = await Promise.all([startAzurite({ inMemory: true, port: 0 }), createTestIssuer()]);
  t = await createTestApi(azurite, issuer, { container: 'changelog', overrides: { changeLogSegmentBlocks: SEGMENT_BLOCKS } });
  container = new BlobServiceClient(azurite.blobEndpoint, new StorageSharedKeyCredential(azurite.accountName, azurite.accountKey)).getContainerClient('changelog');
});

afterAll(async () => {
  await azurite?.stop();
});

/** A fresh user: a token and their id. */
async function newUser(): Promise<{ token: string; id: string }> {
  const sub = `user-${++n}`;
  return { token: await issuer.mint(sub), id: deriveUserId({ scheme: 'oidc', iss: TEST_ISSUER, sub }) };
}

async function putBlob(url: string, bytes: Uint8Array<ArrayBuffer>): Promise<number> {
  const res = await fetch(url, { method: 'PUT', headers: { 'x-ms-blob-type': 'BlockBlob', 'if-none-match': '*' }, body: new Blob([bytes]) });
  return res.status;
}

/** Uploads a file as the client does (payload, then manifest); `complete` also calls the complete route. */
async function upload(token: string, opts: { manifest?: boolean; complete?: boolean } = {}): Promise<string> {
  const res = await call(t.api, 'POST', '/api/v1/uploads', { token, json: { payloadBytes: 5, manifestBytes: 3 } });
  const up = fileGrantsSchema.parse(res.json);
  expect(await putBlob(up.payload.url, new Uint8Array([1, 2, 3, 4, 5]))).toBe(201);
  if (opts.manifest !== false) expect(await putBlob(up.manifest.url, new Uint8Array([1, 2, 3]))).toBe(201);
  if (opts.complete !== false && opts.manifest !== false) {
    const done = await call(t.api, 'POST', `/api/v1/files/${up.fileId}/complete`, { token });
    expect(done.status).toBe(200);
  }
  return up.fileId;
}

async function changes(token: string, query: Record<string, string> = {}): Promise<{ status: number; page: FileChangesPage | null; json: unknown }> {
  const qs = new URLSearchParams(query).toString();
  const res = await call(t.api, 'GET', `/api/v1/files/changes${qs === '' ? '' : `?${qs}`}`, { token });
  return { status: res.status, page: res.status === 200 ? fileChangesSchema.parse(res.json) : null, json: res.json };
}

/** Reads the whole log from `after` in pages of `limit`; returns the events as `+id`/`-id` and the last position. */
async function readAll(token: string, limit: number, after?: string): Promise<{ ops: string[]; next: string; calls: number }> {
  const ops: string[] = [];
  let position = after;
  let calls = 0;
  for (;;) {
    const { page } = await changes(token, { limit: String(limit), ...(position === undefined ? {} : { after: position }) });
    if (page === null) throw new Error('changes failed');
    calls++;
    ops.push(...page.changes.map((c) => `${c.op === 'add' ? '+' : '-'}${c.fileId}`));
    position = page.next;
    if (page.exhausted) return { ops, next: page.next, calls };
  }
}

async function segmentNames(userId: string): Promise<string[]> {
  const names: string[] = [];
  for await (const b of container.listBlobsFlat({ prefix: changeLogPrefix(userId) })) names.push(b.name);
  return names;
}

describe('the change log', () => {
  it('records a completed file once, with its manifest ETag and a read grant that reads the manifest', async () => {
    const u = await newUser();
    const fileId = await upload(u.token);
    const again = await call(t.api, 'POST', `/api/v1/files/${fileId}/complete`, { token: u.token });
    expect(completeResponse.parse(again.json)).toMatchObject({ fileId, appended: false });
    const { page } = await changes(u.token);
    expect(page?.exhausted).toBe(true);
    expect(page?.changes).toHaveLength(1);
    const add = page?.changes[0];
    if (add?.op !== 'add') throw new Error('expected an add event');
    expect(add).toMatchObject({ fileId, payloadBytes: 5, manifestBytes: 3 });
    const props = await container.getBlobClient(`files/${u.id}/${fileId}/manifest`).getProperties();
    // As storage's listing spells it (unquoted), the same as GET /files entries, so caches from either compare.
    expect(add.etag.replaceAll('"', '')).toBe(props.etag?.replaceAll('"', ''));
    expect(add.manifestRead.permissions).toBe('r');
    const read = await fetch(add.manifestRead.url);
    expect(new Uint8Array(await read.arrayBuffer())).toEqual(new Uint8Array([1, 2, 3]));
    // The manifest itself rides in the event: a cold listing reads no blob for it.
    expect(add.manifest).toBe(Buffer.from([1, 2, 3]).toString('base64'));
    // Nothing new after the position it gave.
    const after = await changes(u.token, { after: page?.next ?? '' });
    expect(after.page).toEqual({ changes: [], next: page?.next, exhausted: true });
  });

  it('appends a delete event when a file is deleted, after its add', async () => {
    const u = await newUser();
    const kept = await upload(u.token);
    const gone = await upload(u.token);
    const first = await readAll(u.token, 100);
    expect((await call(t.api, 'POST', `/api/v1/files/${gone}/delete`, { token: u.token })).status).toBe(200);
    const later = await readAll(u.token, 100, first.next);
    expect(first.ops).toEqual([`+${kept}`, `+${gone}`]);
    expect(later.ops).toEqual([`-${gone}`]);
    // Completing a deleted file is refused: its declaration is gone.
    const res = await call(t.api, 'POST', `/api/v1/files/${gone}/complete`, { token: u.token });
    expect(res.status).toBe(404);
  });

  it('refuses to complete an upload without a manifest (409) or an unknown id (404)', async () => {
    const u = await newUser();
    const partial = await upload(u.token, { manifest: false });
    const res = await call(t.api, 'POST', `/api/v1/files/${partial}/complete`, { token: u.token });
    expect(res.status).toBe(409);
    expect(errorBody.parse(res.json).error).toBe('upload_incomplete');
    const unknown = await call(t.api, 'POST', `/api/v1/files/${'c'.repeat(32)}/complete`, { token: u.token });
    expect(unknown.status).toBe(404);
  });

  it('pages through many events in order, rolling over to new segments, with every event seen once', async () => {
    const u = await newUser();
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) ids.push(await upload(u.token));
    const all = await readAll(u.token, 3);
    expect(all.ops).toEqual(ids.map((id) => `+${id}`));
    expect(all.calls).toBeGreaterThanOrEqual(3);
    // 8 blocks at 3 a segment (the log's first block is the empty seed's: none).
    expect((await segmentNames(u.id)).length).toBeGreaterThanOrEqual(3);
    // A reader in the middle of a full segment goes on into the next.
    const part = await readAll(u.token, 2);
    expect(part.ops).toEqual(all.ops);
    const more = await upload(u.token);
    expect((await readAll(u.token, 50, all.next)).ops).toEqual([`+${more}`]);
  });

  it('writes an event that raced past a full segment again into the next one', async () => {
    const u = await newUser();
    const ids = await Promise.all(Array.from({ length: 7 }, () => upload(u.token)));
    const seen = (await readAll(u.token, 100)).ops;
    // Every file at least once; more than once only when an append raced past the limit.
    expect(new Set(seen)).toEqual(new Set(ids.map((id) => `+${id}`)));
  });

  it('seeds the log of a drive older than it from one walk, on the first read', async () => {
    const u = await newUser();
    const old = [await upload(u.token, { complete: false }), await upload(u.token, { complete: false })];
    await upload(u.token, { manifest: false });
    expect(await segmentNames(u.id)).toEqual([]);
    const all = await readAll(u.token, 100);
    expect(all.ops.sort()).toEqual(old.map((id) => `+${id}`).sort());
    // A later complete adds to the same log, and completing a seeded file appends it once more at most.
    const fresh = await upload(u.token);
    expect((await readAll(u.token, 100, all.next)).ops).toEqual([`+${fresh}`]);
  });

  it('seeds the log on the first complete too, with the files that were there', async () => {
    const u = await newUser();
    const old = await upload(u.token, { complete: false });
    const fresh = await upload(u.token);
    const ops = (await readAll(u.token, 100)).ops;
    expect(new Set(ops)).toEqual(new Set([`+${old}`, `+${fresh}`]));
  });

  it('answers 410 for a position it does not know and 400 for a malformed one', async () => {
    const u = await newUser();
    await upload(u.token);
    const { page } = await changes(u.token);
    const [logId, segment, offset] = (page?.next ?? '').split('.');
    const unknown = [
      `${'0'.repeat(16)}.${segment}.${offset}`, // another log
      `${logId}.${segment}.${Number(offset) + 1000}`, // past the end
      `${logId}.${segment}.5`, // inside a record
      `${logId}.7.0`, // a segment that does not exist
    ];
    for (const after of unknown) {
      const res = await changes(u.token, { after });
      expect(res.status, after).toBe(410);
      expect(errorBody.parse(res.json).error).toBe('log_position_unknown');
    }
    for (const after of ['nope', `${logId}.x.1`, `${logId}.0.-1`]) {
      const res = await changes(u.token, { after });
      expect(res.status, after).toBe(400);
    }
    expect((await changes(u.token, { limit: '0' })).status).toBe(400);
  });

  it('keeps users apart: another user reads only their own log and cannot complete your file', async () => {
    const alice = await newUser();
    const bob = await newUser();
    const file = await upload(alice.token, { complete: false });
    const res = await call(t.api, 'POST', `/api/v1/files/${file}/complete`, { token: bob.token });
    expect(res.status).toBe(404);
    const bobs = await changes(bob.token);
    expect(bobs.page?.changes).toEqual([]);
    // Alice's position means nothing in Bob's log.
    await call(t.api, 'POST', `/api/v1/files/${file}/complete`, { token: alice.token });
    const alices = await changes(alice.token);
    expect(alices.page?.changes.map((c) => c.fileId)).toEqual([file]);
    expect((await changes(bob.token, { after: alices.page?.next ?? '' })).status).toBe(410);
    // Nobody unsigned.
    expect((await call(t.api, 'GET', '/api/v1/files/changes')).status).toBe(401);
    // Every segment is the server's, under the user's own index prefix.
    expect(await segmentNames(alice.id)).toEqual([changeLogBlob(alice.id, 0)]);
  });
});
