/**
 * The storage proxy against a real Azurite: user B, holding a legitimate
 * upload grant for B's own blob, tries every shape of "storage, copy this
 * for me" at user A's recovery blob and payload. Each is refused with 403
 * CopyNotAllowed and B's blob never holds A's bytes. The same request sent
 * straight to Azurite succeeds: that is the hole the proxy closes (and the
 * proof that these tests fail without it).
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startAzurite, type AzuriteHandle } from './azurite.ts';
import { deriveUserId } from '../endpoint/auth/user-id.ts';
import { recoveryBlob } from '../endpoint/storage/blob-layout.ts';
import { call, createTestApi, TEST_DIRECTORY_KEY, type TestApi } from '../test-support/test-api.ts';
import { createTestIssuer, TEST_ISSUER, type TestIssuer } from '../test-support/test-issuer.ts';

// Loose on purpose: these tests are about storage, not about the grant's exact shape.
const grant = z.object({ url: z.string() });
const uploadGrants = z.object({ fileId: z.string(), payload: grant, manifest: grant });

// A recovery copy starts with its magic "SDBK" (the server checks that much).
const ALICE_RECOVERY = new TextEncoder().encode('SDBK-ALICE-WRAPPED-PRIVATE-KEYS');
const ALICE_PAYLOAD = new TextEncoder().encode('ALICE-SEALED-PAYLOAD-BYTES');
const CORS_ORIGIN = 'http://127.0.0.1:17101'; // the origin createTestApi allows

let azurite: AzuriteHandle;
let issuer: TestIssuer;
let t: TestApi;
let bob: string;
/** Unsigned URLs of Alice's blobs, as an attacker would write them. */
let aliceRecoveryUrl: string;
let alicePayloadUrl: string;

beforeAll(async () => {
  [azurite, issuer] = await Promise.all([startAzurite({ inMemory: true, port: 0 }), createTestIssuer()]);
  t = await createTestApi(azurite, issuer, { container: 'sealdrop' });
  const alice = await issuer.mint('alice', { email: 'alice@example.com' });
  bob = await issuer.mint('bob', { email: 'bob@example.com' });

  // Alice stores her recovery copy (the server writes it) and one file, as the app does.
  const rec = await call(t.api, 'POST', '/api/v1/keys/recovery', { token: alice, json: { recovery: Buffer.from(ALICE_RECOVERY).toString('base64') } });
  expect(rec.status).toBe(201);
  const up = await newUpload(alice);
  expect((await fetch(up.payload.url, { method: 'PUT', headers: { 'x-ms-blob-type': 'BlockBlob' }, body: new Blob([ALICE_PAYLOAD]) })).status).toBe(201);
  alicePayloadUrl = unsigned(up.payload.url);
  // Worst case for these tests: the attacker knows the recovery copy's name
  // (in a deployment it is keyed by the server secret and cannot be guessed).
  const aliceId = deriveUserId({ scheme: 'oidc', iss: TEST_ISSUER, sub: 'alice' });
  const url = new URL(alicePayloadUrl);
  url.pathname = url.pathname.replace(/files\/.*$/, recoveryBlob(aliceId, TEST_DIRECTORY_KEY));
  aliceRecoveryUrl = url.toString();
});

afterAll(async () => {
  await azurite?.stop();
});

function unsigned(url: string): string {
  const u = new URL(url);
  u.search = '';
  return u.toString();
}

/** The same URL (SAS and all) at Azurite's own port, bypassing the proxy. */
function direct(url: string): string {
  const u = new URL(url);
  u.port = new URL(azurite.unfilteredBlobEndpoint).port;
  return u.toString();
}

async function newUpload(token: string): Promise<z.infer<typeof uploadGrants>> {
  const res = await call(t.api, 'POST', '/api/v1/uploads', { token, json: { payloadBytes: 64, manifestBytes: 8 } });
  expect(res.status).toBe(201);
  return uploadGrants.parse(res.json);
}

/** What Bob's own payload blob holds now (empty when it does not exist). */
async function bobsBlob(url: string): Promise<string> {
  const res = await fetch(url);
  if (res.status === 404) return '';
  expect(res.status).toBe(200);
  return res.text();
}

const blockId = Buffer.from('blk-000000').toString('base64');

/** Every shape of copy request, aimed at `source`, written into Bob's payload blob `target`. */
function copyShapes(target: string, source: string): { name: string; url: string; headers: Record<string, string> }[] {
  return [
    { name: 'Copy Blob', url: target, headers: { 'x-ms-copy-source': source } },
    { name: 'Copy Blob, header in another case', url: target, headers: { 'X-MS-Copy-Source': source } },
    { name: 'synchronous Copy Blob From URL', url: target, headers: { 'x-ms-copy-source': source, 'x-ms-requires-sync': 'true' } },
    {
      name: 'Put Blob From URL',
      url: target,
      headers: { 'x-ms-copy-source': source, 'x-ms-blob-type': 'BlockBlob', 'x-ms-version': '2020-10-02' },
    },
    {
      name: 'Put Block From URL',
      url: `${target}&comp=block&blockid=${encodeURIComponent(blockId)}`,
      headers: { 'x-ms-copy-source': source, 'x-ms-source-range': 'bytes=0-15', 'x-ms-version': '2020-10-02' },
    },
    { name: 'source authorization alone', url: target, headers: { 'x-ms-copy-source-authorization': 'Bearer stolen' } },
    { name: 'source conditions alone', url: target, headers: { 'x-ms-source-if-match': '"0x1"' } },
    { name: 'incremental copy', url: `${target}&comp=incrementalcopy`, headers: {} },
    { name: 'incremental copy, query in another case', url: `${target}&COMP=IncrementalCopy`, headers: {} },
    { name: 'abort copy', url: `${target}&comp=copy&copyid=00000000-0000-0000-0000-000000000000`, headers: { 'x-ms-copy-action': 'abort' } },
  ];
}

describe('the hole the proxy closes', () => {
  it('Azurite itself copies Alice\'s recovery blob into Bob\'s blob for Bob\'s write grant', async () => {
    const target = (await newUpload(bob)).payload.url;
    const res = await fetch(direct(target), { method: 'PUT', headers: { 'x-ms-copy-source': aliceRecoveryUrl } });
    // If Azurite ever stops doing this, the proxy is still right; update PLATFORM-NOTES.
    expect(res.status).toBe(202);
    expect(await bobsBlob(target)).toBe(new TextDecoder().decode(ALICE_RECOVERY));
  });
});

describe('through the storage proxy', () => {
  for (const [what, source] of [
    ["Alice's recovery blob", () => aliceRecoveryUrl],
    ["Alice's payload", () => alicePayloadUrl],
  ] as const) {
    it(`refuses every copy shape aimed at ${what}, and Bob's blob never holds her bytes`, async () => {
      const target = (await newUpload(bob)).payload.url;
      for (const shape of copyShapes(target, source())) {
        const res = await fetch(shape.url, { method: 'PUT', headers: { ...shape.headers, origin: CORS_ORIGIN } });
        expect(res.status, shape.name).toBe(403);
        expect(res.headers.get('x-ms-error-code'), shape.name).toBe('CopyNotAllowed');
        // The browser can read the refusal (CORS) and its body is storage's own error shape.
        expect(res.headers.get('access-control-allow-origin'), shape.name).toBe(CORS_ORIGIN);
        expect(await res.text(), shape.name).toMatch(/<Error><Code>CopyNotAllowed<\/Code><Message>[^<]+<\/Message><\/Error>$/);
      }
      const held = await bobsBlob(target);
      expect(held).not.toContain('ALICE');
      // No block was staged from her blob either.
      const blocks = await fetch(`${target}&comp=blocklist&blocklisttype=all`);
      expect([200, 404]).toContain(blocks.status);
      expect(await blocks.text()).not.toContain(blockId);
    });
  }

  it('passes Bob\'s own ordinary upload and download through unchanged', async () => {
    const target = (await newUpload(bob)).payload.url;
    const put = await fetch(target, { method: 'PUT', headers: { 'x-ms-blob-type': 'BlockBlob', 'if-none-match': '*' }, body: new Blob(['bob']) });
    expect(put.status).toBe(201);
    expect(put.headers.get('etag')).toMatch(/^"/);
    expect(await bobsBlob(target)).toBe('bob');
    // Storage's own refusals pass through with their status and code.
    const again = await fetch(target, { method: 'PUT', headers: { 'x-ms-blob-type': 'BlockBlob', 'if-none-match': '*' }, body: new Blob(['x']) });
    expect(again.status).toBe(409);
    expect(again.headers.get('x-ms-error-code')).toBe('BlobAlreadyExists');
    // And CORS answers too.
    const preflight = await fetch(target, {
      method: 'OPTIONS',
      headers: { origin: CORS_ORIGIN, 'access-control-request-method': 'PUT', 'access-control-request-headers': 'x-ms-blob-type' },
    });
    expect(preflight.status).toBe(200);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(CORS_ORIGIN);
  });

  it('survives a client that goes away mid-upload', async () => {
    const target = new URL((await newUpload(bob)).payload.url);
    await new Promise<void>((done) => {
      const req = request(
        { host: '127.0.0.1', port: target.port, method: 'PUT', path: `${target.pathname}${target.search}`, headers: { 'x-ms-blob-type': 'BlockBlob', 'content-length': String(1024 * 1024) } },
        () => undefined,
      );
      req.on('error', () => done());
      req.on('close', () => done());
      req.write(Buffer.alloc(64 * 1024, 1), () => req.destroy());
    });
    // The proxy still answers, and the half-sent body was never committed.
    expect(await bobsBlob(target.toString())).toBe('');
  });
});

describe('Host check (DNS rebinding)', () => {
  it('answers only 127.0.0.1:<port> and localhost:<port>', async () => {
    const status = (host: string): Promise<{ status: number; body: string }> =>
      new Promise((done, fail) => {
        request({ host: '127.0.0.1', port: azurite.port, path: '/devstoreaccount1/sealdrop?restype=container', headers: { host } }, (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
          res.on('end', () => done({ status: res.statusCode ?? 0, body }));
        })
          .on('error', fail)
          .end();
      });
    const evil = await status(`evil.example:${azurite.port}`);
    expect(evil.status).toBe(421);
    expect(evil.body).toContain(`only 127.0.0.1:${azurite.port} and localhost:${azurite.port}`);
    expect((await status(`127.0.0.1:${azurite.port + 1}`)).status).toBe(421);
    // Loopback names reach Azurite (which refuses the anonymous request itself).
    expect((await status(`127.0.0.1:${azurite.port}`)).status).not.toBe(421);
    expect((await status(`LOCALHOST:${azurite.port}`)).status).not.toBe(421);
  });
});
