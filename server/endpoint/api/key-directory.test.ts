/**
 * The key directory's rules by injection (no socket, storage in memory with
 * storage's conditional writes): write-once keys and recovery copy, proof for
 * every change, verified addresses only, lookup by POST, and the declared-size
 * sweep. The same attacks run against a real Azurite in app.azurite.test.ts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { errorBody, recoveryResponse, recoveryWrittenResponse } from '../../../src/contract/index.ts';
import { deriveUserId } from '../auth/user-id.ts';
import { tokenBucketLimiter } from '../rate-limit.ts';
import { declarationBlob, directoryBlob, fileBlob, publicKeyBlob, recoveryBlob } from '../storage/blob-layout.ts';
import { b64, newTestKeys, publicIdentityV2, rotationStatement } from '../../test-support/key-proofs.ts';
import { memoryStore, type MemoryStore } from '../../test-support/memory-store.ts';
import { assertContract, call, TEST_DIRECTORY_KEY } from '../../test-support/test-api.ts';
import { createTestIssuer, TEST_ISSUER, testVerifier, type TestIssuer } from '../../test-support/test-issuer.ts';
import type { Api } from './api-types.ts';
import { createApi } from './app.ts';

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await createTestIssuer();
});

const NOW = new Date('2026-06-01T12:00:00Z');
const nowSeconds = Math.floor(NOW.getTime() / 1000);

function makeApi(store: MemoryStore = memoryStore()): { api: Api; store: MemoryStore } {
  const api = createApi({
    verifyToken: testVerifier(issuer.keys),
    signer: { sign: (r) => Promise.resolve(`sv=2025-01-01&sp=${r.permissions}&sig=x`) },
    store,
    blobEndpoint: 'https://acct.blob.core.windows.net',
    container: 'sealdrop',
    sasMinutes: 15,
    maxFileBytes: 1_000_000,
    maxManifestBytes: 10_000,
    maxBodyBytes: 16 * 1024,
    directoryKey: TEST_DIRECTORY_KEY,
    userLimiter: tokenBucketLimiter({ perMinute: 10_000 }),
    ipLimiter: tokenBucketLimiter({ perMinute: 10_000 }),
    audit: () => undefined,
    logError: (line) => {
      throw new Error(`unexpected server error: ${line}`);
    },
    now: () => NOW,
  });
  return { api, store };
}

const idOf = (sub: string): string => deriveUserId({ scheme: 'oidc', iss: TEST_ISSUER, sub });
const codeOf = (json: unknown): string => errorBody.parse(json).error;

describe('write-once keys', () => {
  it('answer a second publish and a second recovery copy with 409, keeping the first', async () => {
    const { api, store } = makeApi();
    const token = await issuer.mint('ann');
    const first = await publicIdentityV2(await newTestKeys());
    expect((await call(api, 'POST', '/api/v1/keys/public', { token, json: { publicIdentity: b64(first) } })).status).toBe(201);
    const second = await call(api, 'POST', '/api/v1/keys/public', { token, json: { publicIdentity: b64(await publicIdentityV2(await newTestKeys())) } });
    expect([second.status, codeOf(second.json)]).toEqual([409, 'public_key_exists']);
    expect(store.blobs.get(publicKeyBlob(idOf('ann')))?.bytes).toEqual(first);

    const copy = (n: number) => ({ recovery: b64(new Uint8Array([...new TextEncoder().encode('SDBK'), n, 1, 2, 3])) });
    expect((await call(api, 'POST', '/api/v1/keys/recovery', { token, json: copy(1) })).status).toBe(201);
    const again = await call(api, 'POST', '/api/v1/keys/recovery', { token, json: copy(2) });
    expect([again.status, codeOf(again.json)]).toEqual([409, 'recovery_exists']);
    expect(store.blobs.get(recoveryBlob(idOf('ann'), TEST_DIRECTORY_KEY))?.bytes[4]).toBe(1);
  });
});

describe('key rotation', () => {
  it('refuses a missing statement (400) or one not signed by the published key (403), and stores a good one', async () => {
    const { api, store } = makeApi();
    const token = await issuer.mint('ben');
    const oldKeys = await newTestKeys();
    const current = await publicIdentityV2(oldKeys);
    await call(api, 'POST', '/api/v1/keys/public', { token, json: { publicIdentity: b64(current) } });
    const newKeys = await newTestKeys();
    const next = await publicIdentityV2(newKeys);

    expect((await call(api, 'POST', '/api/v1/keys/public/rotate', { token, json: { publicIdentity: b64(next) } })).status).toBe(400);
    const forged = await rotationStatement(current, next, newKeys.sign.privateKey);
    const refused = await call(api, 'POST', '/api/v1/keys/public/rotate', { token, json: { publicIdentity: b64(next), statement: b64(forged) } });
    expect([refused.status, codeOf(refused.json)]).toEqual([403, 'invalid_rotation']);
    expect(store.blobs.get(publicKeyBlob(idOf('ben')))?.bytes).toEqual(current);

    const good = await rotationStatement(current, next, oldKeys.sign.privateKey);
    expect((await call(api, 'POST', '/api/v1/keys/public/rotate', { token, json: { publicIdentity: b64(next), statement: b64(good) } })).status).toBe(200);
    expect(store.blobs.get(publicKeyBlob(idOf('ben')))?.bytes).toEqual(next);
    expect(store.blobs.get(`keys/${idOf('ben')}/rotations/0001`)?.bytes).toEqual(good);
  });
});

describe('passphrase change', () => {
  async function withCopy(): Promise<{ api: Api; etag: string }> {
    const { api } = makeApi();
    const res = await call(api, 'POST', '/api/v1/keys/recovery', {
      token: await issuer.mint('cal'),
      json: { recovery: b64(new Uint8Array([...new TextEncoder().encode('SDBK'), 1, 0])) },
    });
    return { api, etag: recoveryWrittenResponse.parse(res.json).etag };
  }
  const body = (etag: string) => ({ recovery: b64(new Uint8Array([...new TextEncoder().encode('SDBK'), 1, 9])), etag });

  it('needs a sign-in from the last five minutes: 401 reauth_required otherwise', async () => {
    const { api, etag } = await withCopy();
    for (const claims of [{}, { auth_time: nowSeconds - 301 }, { auth_time: nowSeconds + 3600 }]) {
      const res = await call(api, 'POST', '/api/v1/keys/recovery/replace', { token: await issuer.mint('cal', claims), json: body(etag) });
      expect([res.status, codeOf(res.json)], JSON.stringify(claims)).toEqual([401, 'reauth_required']);
    }
    const fresh = await issuer.mint('cal', { auth_time: nowSeconds - 299 });
    expect((await call(api, 'POST', '/api/v1/keys/recovery/replace', { token: fresh, json: body(etag) })).status).toBe(200);
  });

  it('needs the current ETag: 412 for a stale one, and the copy stays', async () => {
    const { api, etag } = await withCopy();
    const fresh = await issuer.mint('cal', { auth_time: nowSeconds });
    const stale = await call(api, 'POST', '/api/v1/keys/recovery/replace', { token: fresh, json: body('"0xstale"') });
    expect([stale.status, codeOf(stale.json)]).toEqual([412, 'stale_etag']);
    const read = recoveryResponse.parse((await call(api, 'POST', '/api/v1/keys/recovery/read', { token: fresh })).json);
    expect(read.etag).toBe(etag);
  });
});

describe('the e-mail directory', () => {
  it('never registers or finds an address the issuer does not vouch for', async () => {
    const { api, store } = makeApi();
    const reader = await issuer.mint('reader');
    for (const [sub, claims] of [
      ['dee', { email: 'dee@example.com', email_verified: false }],
      ['dan', { email: 'dan@example.com' }],
      ['dot', { preferred_username: 'dot@example.com' }],
    ] as const) {
      const token = await issuer.mint(sub, claims);
      expect((await call(api, 'POST', '/api/v1/keys/public', { token, json: { publicIdentity: b64(await publicIdentityV2(await newTestKeys())) } })).status).toBe(201);
      const email = 'email' in claims ? claims.email : claims.preferred_username;
      expect(store.blobs.has(directoryBlob(email, TEST_DIRECTORY_KEY)), email).toBe(false);
      expect((await call(api, 'POST', '/api/v1/users/lookup', { token: reader, json: { email } })).status, email).toBe(404);
    }
    const verified = await issuer.mint('eve', { email: 'Eve@Example.com', email_verified: true });
    await call(api, 'POST', '/api/v1/keys/public', { token: verified, json: { publicIdentity: b64(await publicIdentityV2(await newTestKeys())) } });
    const found = await call(api, 'POST', '/api/v1/users/lookup', { token: reader, json: { email: 'eve@example.com' } });
    expect(found.json).toEqual({ userId: idOf('eve'), email: 'eve@example.com' });
  });

  it('takes the address in a POST body only: GET is 405 and never reads the directory', async () => {
    const { api } = makeApi();
    const res = await call(api, 'GET', '/api/v1/users/lookup?email=eve%40example.com', { token: await issuer.mint('reader') });
    expect([res.status, res.headers.allow]).toEqual([405, 'POST']);
  });
});

describe('declared sizes', () => {
  it('sweep a file that holds more than its upload declared, at listing and at read', async () => {
    const { api, store } = makeApi();
    const token = await issuer.mint('fay');
    const fay = idOf('fay');
    const up = await call(api, 'POST', '/api/v1/uploads', { token, json: { payloadBytes: 10, manifestBytes: 5 } });
    const fileId = (up.json as { fileId: string }).fileId;
    expect(store.blobs.has(declarationBlob(fay, fileId, { payloadBytes: 10, manifestBytes: 5 }))).toBe(true);
    store.put(fileBlob(fay, fileId, 'payload'), new Uint8Array(11));
    store.put(fileBlob(fay, fileId, 'manifest'), new Uint8Array(5));

    expect((await call(api, 'POST', `/api/v1/files/${fileId}/read`, { token })).status).toBe(404);
    expect([...store.blobs.keys()].filter((n) => n.includes(fileId))).toEqual([]);

    const up2 = await call(api, 'POST', '/api/v1/uploads', { token, json: { payloadBytes: 10, manifestBytes: 5 } });
    const second = (up2.json as { fileId: string }).fileId;
    store.put(fileBlob(fay, second, 'payload'), new Uint8Array(10));
    store.put(fileBlob(fay, second, 'manifest'), new Uint8Array(6));
    const list = await call(api, 'GET', '/api/v1/files', { token });
    expect(list.json).toEqual({ files: [], next: null });
    expect([...store.blobs.keys()].filter((n) => n.includes(second))).toEqual([]);
  });

  it('sweep blobs that have no declaration at all (never granted, or deletion asked)', async () => {
    const { api, store } = makeApi();
    const token = await issuer.mint('gus');
    const fileId = 'ab'.repeat(16);
    store.put(fileBlob(idOf('gus'), fileId, 'payload'), new Uint8Array(1));
    store.put(fileBlob(idOf('gus'), fileId, 'manifest'), new Uint8Array(1));
    expect((await call(api, 'GET', '/api/v1/files', { token })).json).toEqual({ files: [], next: null });
    expect(store.blobs.size).toBe(0);
  });
});

describe('answers', () => {
  it('are checked against the contract by the test helper, which refuses a body the contract does not allow', () => {
    const userId = idOf('x');
    expect(() => assertContract('GET', '/api/v1/me', 200, { userId, email: null, name: null })).not.toThrow();
    expect(() => assertContract('GET', '/api/v1/me', 200, { userId, email: null, name: null, authTime: 1 })).toThrow(/does not allow/);
    expect(() => assertContract('GET', '/api/v1/me', 201, { userId, email: null, name: null })).toThrow(/contract says 200/);
    expect(() => assertContract('POST', '/api/v1/keys/recovery', 409, { error: 'x' })).toThrow(/error body/);
  });
});
