/**
 * A key rotation's server side, by injection (storage in memory with its
 * conditional writes): a manifest re-sealed for new keys is written only
 * when it keeps the file's header and payload digest, is signed by the key
 * published now (so only after a rotation the old key signed), and names the
 * ETag read; the change log then carries it. A drive-key copy is replaced
 * only when the stored one is wrapped to a key no longer published.
 */
import { Buffer } from 'node:buffer';
import { webcrypto } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { errorBody, fileChangesSchema } from '../../../src/contract/index.ts';
import { deriveUserId } from '../auth/user-id.ts';
import { tokenBucketLimiter } from '../rate-limit.ts';
import { driveKeyBlob, fileBlob, formerIdentityBlob } from '../storage/blob-layout.ts';
import { b64, publicIdentityV2, rotationStatement, type TestKeys } from '../../test-support/key-proofs.ts';
import { memoryStore, type MemoryStore } from '../../test-support/memory-store.ts';
import { call, TEST_DIRECTORY_KEY } from '../../test-support/test-api.ts';
import { createTestIssuer, TEST_ISSUER, testVerifier, type TestIssuer } from '../../test-support/test-issuer.ts';
import type { Api } from './api-types.ts';
import { createApi } from './app.ts';

const { subtle } = webcrypto;
let issuer: TestIssuer;
let oldKeys: TestKeys;
let newKeys: TestKeys;
beforeAll(async () => {
  issuer = await createTestIssuer();
  [oldKeys, newKeys] = await Promise.all([appKeys(), appKeys()]);
}, 30_000);

/** RSA-OAEP 3072 as the app makes it (a drive-key copy wraps to it). */
async function appKeys(): Promise<TestKeys> {
  const [encrypt, sign] = await Promise.all([
    subtle.generateKey({ name: 'RSA-OAEP', modulusLength: 3072, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, true, ['encrypt', 'decrypt']),
    subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']),
  ]);
  return { encrypt, sign };
}

const NOW = new Date('2026-06-01T12:00:00Z');
function makeApi(store: MemoryStore = memoryStore()): Api {
  return createApi({
    verifyToken: testVerifier(issuer.keys),
    signer: { sign: (r) => Promise.resolve(`sv=2025-01-01&sp=${r.permissions}&sig=x`) },
    store,
    blobEndpoint: 'https://acct.blob.core.windows.net',
    container: 'sealdrop',
    sasMinutes: 15,
    maxFileBytes: 1_000_000,
    maxManifestBytes: 10_000,
    maxBodyBytes: 32 * 1024,
    directoryKey: TEST_DIRECTORY_KEY,
    userLimiter: tokenBucketLimiter({ perMinute: 10_000 }),
    ipLimiter: tokenBucketLimiter({ perMinute: 10_000 }),
    audit: () => undefined,
    logError: (line) => {
      throw new Error(`unexpected server error: ${line}`);
    },
    now: () => NOW,
  });
}

const idOf = (sub: string): string => deriveUserId({ scheme: 'oidc', iss: TEST_ISSUER, sub });
const codeOf = (json: unknown): string => errorBody.parse(json).error;
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

/**
 * Manifest-shaped bytes (the server reads only the fixed prefix): a 57-byte
 * header, lp16 of the signer's SPKI, a payload digest, then `tail`.
 */
async function manifestOf(signer: TestKeys, digestByte: number, tail: number, header = new Uint8Array(57).fill(0x11)): Promise<Uint8Array<ArrayBuffer>> {
  const spki = new Uint8Array(await subtle.exportKey('spki', signer.sign.publicKey));
  return concat(header, Uint8Array.of(0, spki.length), spki, new Uint8Array(32).fill(digestByte), new Uint8Array(tail).fill(0x22));
}

/** An SDDK v2 copy wrapped to `to` and signed by its own signing key (docs/FORMAT.md §10.5). */
async function driveKeyCopy(to: TestKeys): Promise<Uint8Array<ArrayBuffer>> {
  const raw = webcrypto.getRandomValues(new Uint8Array(32));
  const wrapped = new Uint8Array(await subtle.encrypt({ name: 'RSA-OAEP', label: labelled('sealdrop/v2/drive-key-wrap', new Uint8Array(0)) }, to.encrypt.publicKey, raw));
  const recipient = new Uint8Array(await subtle.digest('SHA-256', await subtle.exportKey('spki', to.encrypt.publicKey)));
  const body = concat(new TextEncoder().encode('SDDK'), Uint8Array.of(2), recipient, Uint8Array.of(wrapped.length >> 8, wrapped.length & 0xff), wrapped);
  const signature = new Uint8Array(await subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, to.sign.privateKey, labelled('sealdrop/v2/drive-key-copy', body)));
  return concat(body, signature);
}

/** An account with published old keys and one complete file sealed by them; returns what the tests need. */
async function accountWithFile(sub: string) {
  const store = memoryStore();
  const api = makeApi(store);
  const token = await issuer.mint(sub);
  const userId = idOf(sub);
  const current = await publicIdentityV2(oldKeys);
  expect((await call(api, 'POST', '/api/v1/keys/public', { token, json: { publicIdentity: b64(current) } })).status).toBe(201);
  const manifest = await manifestOf(oldKeys, 0x33, 100);
  const up = await call(api, 'POST', '/api/v1/uploads', { token, json: { payloadBytes: 10, manifestBytes: manifest.length } });
  const fileId = (up.json as { fileId: string }).fileId;
  store.put(fileBlob(userId, fileId, 'payload'), new Uint8Array(10));
  store.put(fileBlob(userId, fileId, 'manifest'), manifest);
  expect((await call(api, 'POST', `/api/v1/files/${fileId}/complete`, { token })).status).toBe(200);
  const rotate = async () => {
    const next = await publicIdentityV2(newKeys);
    const statement = await rotationStatement(current, next, oldKeys.sign.privateKey);
    expect((await call(api, 'POST', '/api/v1/keys/public/rotate', { token, json: { publicIdentity: b64(next), statement: b64(statement) } })).status).toBe(200);
  };
  const etag = (): string => store.blobs.get(fileBlob(userId, fileId, 'manifest'))?.etag ?? '';
  const write = (bytes: Uint8Array, manifestEtag = etag()) =>
    call(api, 'POST', `/api/v1/files/${fileId}/manifest/rotate`, { token, json: { manifest: b64(bytes), manifestEtag } });
  return { api, store, token, userId, fileId, rotate, etag, write };
}

describe('POST /files/:fileId/manifest/rotate', () => {
  it('refuses a manifest signed by a key that is not published (no rotation yet), and keeps the stored one', async () => {
    const a = await accountWithFile('ada');
    const before = a.store.blobs.get(fileBlob(a.userId, a.fileId, 'manifest'))?.bytes;
    const refused = await a.write(await manifestOf(newKeys, 0x33, 100));
    expect([refused.status, codeOf(refused.json)]).toEqual([400, 'invalid_manifest']);
    expect(a.store.blobs.get(fileBlob(a.userId, a.fileId, 'manifest'))?.bytes).toEqual(before);
  });

  it('after a rotation, writes a re-sealed manifest (grown by an envelope) with If-Match and logs it', async () => {
    const a = await accountWithFile('bea');
    await a.rotate();
    // Still signed by the old key: refused now that the new key is published.
    expect((await a.write(await manifestOf(oldKeys, 0x33, 100))).status).toBe(400);
    // Another file's header, or another payload digest: not the same file.
    expect((await a.write(await manifestOf(newKeys, 0x33, 100, new Uint8Array(57).fill(0x12)))).status).toBe(400);
    expect((await a.write(await manifestOf(newKeys, 0x34, 100))).status).toBe(400);
    const stale = await a.write(await manifestOf(newKeys, 0x33, 163), '"0x0stale"');
    expect([stale.status, codeOf(stale.json)]).toEqual([412, 'stale_etag']);

    const rotated = await manifestOf(newKeys, 0x33, 163);
    const ok = await a.write(rotated);
    expect(ok.status).toBe(200);
    expect(a.store.blobs.get(fileBlob(a.userId, a.fileId, 'manifest'))?.bytes).toEqual(rotated);
    const changes = fileChangesSchema.parse((await call(a.api, 'GET', '/api/v1/files/changes?limit=100', { token: a.token })).json).changes;
    const adds = changes.filter((c) => c.op === 'add' && c.fileId === a.fileId);
    expect(adds).toHaveLength(2);
    const last = adds[1];
    if (last?.op !== 'add') throw new Error('expected an add event');
    expect(last.manifest).toBe(b64(rotated));
    expect(last.manifestBytes).toBe(rotated.length);
    // The file still reads (its declaration grew with it).
    expect((await call(a.api, 'POST', `/api/v1/files/${a.fileId}/read`, { token: a.token })).status).toBe(200);
  });

  it('answers 404 for a file the caller does not have', async () => {
    const a = await accountWithFile('cy');
    const other = await issuer.mint('dee');
    const res = await call(a.api, 'POST', `/api/v1/files/${a.fileId}/manifest/rotate`, {
      token: other,
      json: { manifest: b64(await manifestOf(newKeys, 0x33, 100)), manifestEtag: a.etag() },
    });
    expect(res.status).toBe(404);
  });
});

describe('drive-key copy after a rotation', () => {
  it('replaces a copy wrapped to the rotated-away key with one for the published key, once', async () => {
    const a = await accountWithFile('eve');
    expect((await call(a.api, 'POST', '/api/v1/keys/drive', { token: a.token, json: { driveKey: b64(await driveKeyCopy(oldKeys)) } })).status).toBe(201);
    // Before the rotation the stored copy is current: no replacement.
    const early = await call(a.api, 'POST', '/api/v1/keys/drive', { token: a.token, json: { driveKey: b64(await driveKeyCopy(oldKeys)) } });
    expect([early.status, codeOf(early.json)]).toEqual([409, 'drive_key_exists']);
    await a.rotate();
    const fresh = await driveKeyCopy(newKeys);
    expect((await call(a.api, 'POST', '/api/v1/keys/drive', { token: a.token, json: { driveKey: b64(fresh) } })).status).toBe(201);
    expect(a.store.blobs.get(driveKeyBlob(a.userId))?.bytes).toEqual(fresh);
    const again = await call(a.api, 'POST', '/api/v1/keys/drive', { token: a.token, json: { driveKey: b64(await driveKeyCopy(newKeys)) } });
    expect([again.status, codeOf(again.json)]).toEqual([409, 'drive_key_exists']);
    expect(a.store.blobs.get(driveKeyBlob(a.userId))?.bytes).toEqual(fresh);
  });
});

describe('POST /keys/public/:userId/history', () => {
  it('keeps each identity a rotation replaced, oldest first, readable by any signed-in user beside the statements', async () => {
    const a = await accountWithFile('fay');
    const third = await appKeys();
    const reader = await issuer.mint('gus');
    const readKey = async () => (await call(a.api, 'POST', `/api/v1/keys/public/${a.userId}/read`, { token: reader })).json as { publicIdentity: string; rotations: string[] };
    const first = (await readKey()).publicIdentity;
    await a.rotate();
    const second = (await readKey()).publicIdentity;
    const next = await publicIdentityV2(third);
    const statement = await rotationStatement(Buffer.from(second, 'base64'), next, newKeys.sign.privateKey);
    expect((await call(a.api, 'POST', '/api/v1/keys/public/rotate', { token: a.token, json: { publicIdentity: b64(next), statement: b64(statement) } })).status).toBe(200);

    const history = await call(a.api, 'POST', `/api/v1/keys/public/${a.userId}/history`, { token: reader });
    expect(history.status).toBe(200);
    const formerIdentities = (history.json as { formerIdentities: string[] }).formerIdentities;
    expect(formerIdentities).toHaveLength(2);
    // Exactly the identities published before each rotation, stored beside their statements.
    expect(formerIdentities).toEqual([first, second]);
    expect((await readKey()).rotations).toHaveLength(2);
    expect(a.store.blobs.has(formerIdentityBlob(a.userId, 2))).toBe(true);
  });

  it('answers 404 for nobody published, 401 without a sign-in', async () => {
    const a = await accountWithFile('hal');
    const reader = await issuer.mint('ivy');
    const none = await call(a.api, 'POST', `/api/v1/keys/public/${'0'.repeat(32)}/history`, { token: reader });
    expect(none.status).toBe(404);
    const anonymous = await call(a.api, 'POST', `/api/v1/keys/public/${a.userId}/history`, {});
    expect(anonymous.status).toBe(401);
    const empty = await call(a.api, 'POST', `/api/v1/keys/public/${a.userId}/history`, { token: reader });
    expect((empty.json as { formerIdentities: string[] }).formerIdentities).toEqual([]);
  });
});
