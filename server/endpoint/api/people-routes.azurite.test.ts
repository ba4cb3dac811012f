/**
 * Sharing with a person against a real Azurite: the owner shares a file
 * with a directory user, who finds it in their inbox and alone gets read
 * grants; the owner lists and revokes; every rule has a test, including
 * other users with valid tokens.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ACCOUNT_DELETE_CONFIRMATION,
  errorBody,
  fileGrantsSchema,
  fileListSchema,
  inboxPageSchema,
  personShareListSchema,
  personShareReadSchema,
  personShareSchema,
} from '../../../src/contract/index.ts';
import { deriveUserId } from '../auth/user-id.ts';
import { startAzurite, type AzuriteHandle } from '../../local/azurite.ts';
import { b64, newTestKeys, publicIdentityV2 } from '../../test-support/key-proofs.ts';
import { call, createTestApi, type TestApi } from '../../test-support/test-api.ts';
import { createTestIssuer, TEST_ISSUER, type TestIssuer } from '../../test-support/test-issuer.ts';

let azurite: AzuriteHandle;
let issuer: TestIssuer;
let t: TestApi;
let alice: string;
let bob: string;
let carol: string;
const bobId = deriveUserId({ scheme: 'oidc', iss: TEST_ISSUER, sub: 'bob' });
const carolId = deriveUserId({ scheme: 'oidc', iss: TEST_ISSUER, sub: 'carol' });
const aliceId = deriveUserId({ scheme: 'oidc', iss: TEST_ISSUER, sub: 'alice' });

/** A fake sealed manifest: the server only compares its first 182 bytes and its size. */
const MANIFEST = Uint8Array.from({ length: 300 }, (_, i) => (i * 13 + 1) % 256);
const PAYLOAD = Uint8Array.from({ length: 64 }, (_, i) => i);
const TAG = 'cd'.repeat(16);

beforeAll(async () => {
  [azurite, issuer] = await Promise.all([startAzurite({ inMemory: true, port: 0 }), createTestIssuer()]);
  t = await createTestApi(azurite, issuer, { container: 'sealdrop' });
  alice = await issuer.mint('alice', { email: 'alice@example.com', email_verified: true });
  bob = await issuer.mint('bob', { email: 'bob@example.com', email_verified: true });
  carol = await issuer.mint('carol', { email: 'carol@example.com', email_verified: true });
  // Bob and Carol publish keys, so the directory knows their addresses.
  for (const token of [bob, carol, alice]) {
    const res = await call(t.api, 'POST', '/api/v1/keys/public', { token, json: { publicIdentity: b64(await publicIdentityV2(await newTestKeys())) } });
    expect(res.status).toBe(201);
  }
}, 60_000);

afterAll(async () => {
  await azurite?.stop();
});

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

const grown = (extra: number): Uint8Array => Uint8Array.from([...MANIFEST, ...new Uint8Array(extra).fill(7)]);
const errorOf = (json: unknown): string => errorBody.parse(json).error;

async function share(token: string, fileId: string, to: { email: string; id: string }, etag?: string) {
  return call(t.api, 'POST', `/api/v1/files/${fileId}/people`, {
    token,
    json: {
      manifest: b64(grown(387)),
      manifestEtag: etag ?? (await manifestEtag(token, fileId)),
      recipientEmail: to.email,
      recipientId: to.id,
      envelopeTag: TAG,
    },
  });
}

const BOB = { email: 'Bob@Example.com', id: bobId };
const readShare = (token: string, shareId: string) => call(t.api, 'POST', `/api/v1/people-shares/${shareId}/read`, { token });
const inbox = (token: string) => call(t.api, 'GET', '/api/v1/inbox', { token });

describe('sharing a file with a person', () => {
  it('writes the manifest, records the share, and puts a pointer in the recipient’s inbox', async () => {
    const fileId = await uploadFile(alice);
    const res = await share(alice, fileId, BOB);
    expect(res.status).toBe(201);
    const entry = personShareSchema.parse(res.json);
    expect(entry).toMatchObject({ fileId, recipientId: bobId, recipientEmail: 'bob@example.com', envelopeTag: TAG });

    const list = personShareListSchema.parse((await call(t.api, 'GET', `/api/v1/files/${fileId}/people`, { token: alice })).json);
    expect(list.people.map((p) => p.shareId)).toEqual([entry.shareId]);

    const page = inboxPageSchema.parse((await inbox(bob)).json);
    const mine = page.entries.find((e) => e.shareId === entry.shareId);
    expect(mine).toMatchObject({ fileId, ownerId: aliceId, ownerEmail: 'alice@example.com' });
    // The inbox's manifest grant reads the re-enveloped manifest.
    const manifest = new Uint8Array(await (await fetch(mine?.manifestRead.url ?? '')).arrayBuffer());
    expect(manifest.length).toBe(MANIFEST.length + 387);

    const grants = personShareReadSchema.parse((await readShare(bob, entry.shareId)).json);
    expect(grants.manifest.permissions).toBe('r');
    expect(grants.payload.permissions).toBe('r');
    expect(new Uint8Array(await (await fetch(grants.payload.url)).arrayBuffer())).toEqual(PAYLOAD);
    // Read-only: the grant cannot overwrite the owner's payload.
    const write = await fetch(grants.payload.url, { method: 'PUT', headers: { 'x-ms-blob-type': 'BlockBlob' }, body: new Blob([new Uint8Array(3)]) });
    expect(write.status).toBe(403);
  });

  it('refuses an address that does not name that directory user (404)', async () => {
    const fileId = await uploadFile(alice);
    const wrong = await share(alice, fileId, { email: 'carol@example.com', id: bobId });
    expect(wrong.status).toBe(404);
    expect(errorOf(wrong.json)).toBe('no_such_person');
    const unknown = await share(alice, fileId, { email: 'nobody@example.com', id: bobId });
    expect(unknown.status).toBe(404);
  });

  it('refuses sharing with oneself (400), twice with the same person (409), and a stale manifest (412)', async () => {
    const fileId = await uploadFile(alice);
    const self = await share(alice, fileId, { email: 'alice@example.com', id: aliceId });
    expect(self.status).toBe(400);
    const etag = await manifestEtag(alice, fileId);
    expect((await share(alice, fileId, BOB, etag)).status).toBe(201);
    const again = await share(alice, fileId, BOB);
    expect(again.status).toBe(409);
    expect(errorOf(again.json)).toBe('already_shared');
    const stale = await share(alice, fileId, { email: 'carol@example.com', id: carolId }, etag);
    expect(stale.status).toBe(412);
  });

  it('refuses sharing another user’s file, even with a valid token (404)', async () => {
    const fileId = await uploadFile(alice);
    const res = await call(t.api, 'POST', `/api/v1/files/${fileId}/people`, {
      token: carol,
      json: { manifest: b64(grown(387)), manifestEtag: '"x"', recipientEmail: 'bob@example.com', recipientId: bobId, envelopeTag: TAG },
    });
    expect(res.status).toBe(404);
  });
});

describe('read grants go to the named recipient only', () => {
  it('refuses another signed-in user, and the owner, the share’s grants (404)', async () => {
    const fileId = await uploadFile(alice);
    const { shareId } = personShareSchema.parse((await share(alice, fileId, BOB)).json);
    for (const token of [carol, alice]) {
      const res = await readShare(token, shareId);
      expect(res.status).toBe(404);
      expect(errorOf(res.json)).toBe('not_shared');
    }
    // Nor does Carol see it in her inbox, or list its people.
    const carolsInbox = inboxPageSchema.parse((await inbox(carol)).json);
    expect(carolsInbox.entries.some((e) => e.shareId === shareId)).toBe(false);
    const people = personShareListSchema.parse((await call(t.api, 'GET', `/api/v1/files/${fileId}/people`, { token: carol })).json);
    expect(people.people).toEqual([]);
  });

  it('refuses an anonymous read (401) and an unknown share id (404)', async () => {
    const anon = await call(t.api, 'POST', `/api/v1/people-shares/${'a'.repeat(32)}/read`, {});
    expect(anon.status).toBe(401);
    const unknown = await readShare(bob, 'b'.repeat(32));
    expect(unknown.status).toBe(404);
  });

  it('refuses Bob’s grant for the owner’s own file route (404: not his file)', async () => {
    const fileId = await uploadFile(alice);
    await share(alice, fileId, BOB);
    const res = await call(t.api, 'POST', `/api/v1/files/${fileId}/read`, { token: bob });
    expect(res.status).toBe(404);
  });
});

describe('revoking', () => {
  it('removes the record, the inbox pointer and the index; the recipient’s next read is refused', async () => {
    const fileId = await uploadFile(alice);
    const { shareId } = personShareSchema.parse((await share(alice, fileId, BOB)).json);
    expect((await readShare(bob, shareId)).status).toBe(200);
    const etag = await manifestEtag(alice, fileId);
    const res = await call(t.api, 'POST', `/api/v1/people-shares/${shareId}/revoke`, { token: alice, json: { manifest: b64(MANIFEST), manifestEtag: etag } });
    expect(res.status).toBe(200);
    const after = await readShare(bob, shareId);
    expect(after.status).toBe(404);
    expect(errorOf(after.json)).toBe('not_shared');
    expect(inboxPageSchema.parse((await inbox(bob)).json).entries.some((e) => e.shareId === shareId)).toBe(false);
    expect(personShareListSchema.parse((await call(t.api, 'GET', `/api/v1/files/${fileId}/people`, { token: alice })).json).people).toEqual([]);
    // The manifest without the envelope was written.
    const grants = fileGrantsSchema.parse((await call(t.api, 'POST', `/api/v1/files/${fileId}/read`, { token: alice })).json);
    expect((await (await fetch(grants.manifest.url)).arrayBuffer()).byteLength).toBe(MANIFEST.length);
    // Sharing again afterwards works.
    expect((await share(alice, fileId, BOB)).status).toBe(201);
  });

  it('lets only the owner revoke: the recipient and a stranger get 404', async () => {
    const fileId = await uploadFile(alice);
    const { shareId } = personShareSchema.parse((await share(alice, fileId, BOB)).json);
    for (const token of [bob, carol]) {
      const res = await call(t.api, 'POST', `/api/v1/people-shares/${shareId}/revoke`, { token, json: {} });
      expect(res.status).toBe(404);
    }
    expect((await readShare(bob, shareId)).status).toBe(200);
  });
});

describe('the inbox', () => {
  it('pages with a cursor and refuses a cursor it did not give (400)', async () => {
    const bad = await call(t.api, 'GET', '/api/v1/inbox?cursor=bm9wZQ', { token: bob });
    expect(bad.status).toBe(400);
    const page = inboxPageSchema.parse((await inbox(bob)).json);
    expect(page.entries.every((e) => e.ownerId === aliceId)).toBe(true);
  });

  it('does not list a file whose owner deleted it', async () => {
    const fileId = await uploadFile(alice);
    const { shareId } = personShareSchema.parse((await share(alice, fileId, BOB)).json);
    const del = fileGrantsSchema.parse((await call(t.api, 'POST', `/api/v1/files/${fileId}/delete`, { token: alice })).json);
    await fetch(del.manifest.url, { method: 'DELETE' });
    await fetch(del.payload.url, { method: 'DELETE' });
    expect(inboxPageSchema.parse((await inbox(bob)).json).entries.some((e) => e.shareId === shareId)).toBe(false);
    expect((await readShare(bob, shareId)).status).toBe(404);
  });
});

describe('account deletion', () => {
  it('removes the person shares the user made (the recipient is refused) and the user’s own inbox pointers', async () => {
    const dave = await issuer.mint('dave', { email: 'dave@example.com', email_verified: true, auth_time: Math.floor(Date.now() / 1000) - 5 });
    expect((await call(t.api, 'POST', '/api/v1/keys/public', { token: dave, json: { publicIdentity: b64(await publicIdentityV2(await newTestKeys())) } })).status).toBe(201);
    const fileId = await uploadFile(dave);
    const { shareId } = personShareSchema.parse((await share(dave, fileId, BOB)).json);
    // Alice shares a file with Dave: his inbox holds a pointer.
    const alicesFile = await uploadFile(alice);
    const toDave = personShareSchema.parse((await share(alice, alicesFile, { email: 'dave@example.com', id: deriveUserId({ scheme: 'oidc', iss: TEST_ISSUER, sub: 'dave' }) })).json);
    expect((await readShare(bob, shareId)).status).toBe(200);
    for (let i = 0; i < 20; i++) {
      const res = await call(t.api, 'POST', '/api/v1/account/delete', { token: dave, json: { confirm: ACCOUNT_DELETE_CONFIRMATION } });
      expect(res.status).toBe(200);
      if ((res.json as { done: boolean }).done) break;
    }
    expect((await readShare(bob, shareId)).status).toBe(404);
    expect(inboxPageSchema.parse((await inbox(bob)).json).entries.some((e) => e.shareId === shareId)).toBe(false);
    // Alice's share record is hers: untouched (her list still shows it).
    const people = personShareListSchema.parse((await call(t.api, 'GET', `/api/v1/files/${alicesFile}/people`, { token: alice })).json);
    expect(people.people.map((p) => p.shareId)).toEqual([toDave.shareId]);
  });
});
