/**
 * The user-delegation mode for real: Azurite's blob service over HTTPS
 * (a certificate made for this test) with `--oauth basic`, which hands out
 * user delegation keys to a bearer token and checks the SAS signed with
 * them. The endpoint obtains the key through its own wiring
 * (`userDelegationSigner` over a `BlobServiceClient` with a token
 * credential, as with the managed identity in Azure); grants come from the
 * API's own routes. Azurite checks the token's issuer, audience and expiry
 * but not its signature, so a made-up Entra-shaped token stands in for the
 * managed identity's.
 */
import { request as httpsRequest, Agent } from 'node:https';
import type { AccessToken, TokenCredential } from '@azure/identity';
import { BlobServiceClient, newPipeline, type RequestPolicy, type RequestPolicyFactory, type WebResource } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileGrantsSchema } from '../../../src/contract/index.ts';
import { createApi } from '../api/app.ts';
import type { Api } from '../api/api-types.ts';
import { userDelegationSigner } from '../api/from-config.ts';
import { tokenBucketLimiter } from '../rate-limit.ts';
import { makeTestCertificate, startAzuriteService, type AzuriteService, type TestCertificate } from '../../test-support/azurite-service.ts';
import { call, TEST_DIRECTORY_KEY } from '../../test-support/test-api.ts';
import { createTestIssuer, testVerifier, type TestIssuer } from '../../test-support/test-issuer.ts';
import { containerBlobStore } from './blob-store.ts';
import type { SasSigner } from './sas-signer.ts';

const TENANT = '72f988bf-0000-4000-8000-000000000001';
const ENDPOINT_OBJECT_ID = '5a0e8a3c-0000-4000-8000-000000000002';
const CONTAINER = 'sealdrop';

/** An Entra-shaped access token for storage, as the managed identity would get (unsigned: Azurite does not check signatures). */
function storageToken(objectId: string, expiresInSeconds = 3600): AccessToken {
  const now = Math.floor(Date.now() / 1000);
  const part = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  const payload = { aud: 'https://storage.azure.com', iss: `https://sts.windows.net/${TENANT}/`, iat: now - 60, nbf: now - 60, exp: now + expiresInSeconds, oid: objectId, tid: TENANT };
  return { token: `${part({ alg: 'RS256', typ: 'JWT' })}.${part(payload)}.c2ln`, expiresOnTimestamp: (now + expiresInSeconds) * 1000 };
}

/** Counts token requests, like a managed identity endpoint would see them. */
function managedIdentityStandIn(objectId: string): TokenCredential & { requests: number } {
  const credential = {
    requests: 0,
    getToken: (): Promise<AccessToken> => {
      credential.requests += 1;
      return Promise.resolve(storageToken(objectId));
    },
  };
  return credential;
}

/** Makes the SDK trust the test certificate (its pipeline has no TLS option; an agent per request does it), and counts delegation key requests. */
function trustingAgent(agent: Agent): RequestPolicyFactory {
  return {
    create: (next: RequestPolicy): RequestPolicy => ({
      sendRequest: (request: WebResource) => {
        request.agent = agent;
        if (/[?&]comp=userdelegationkey/.test(request.url)) keyFetches += 1;
        return next.sendRequest(request);
      },
    }),
  };
}

interface Answer {
  status: number;
  body: Buffer;
  headers: Record<string, string | string[] | undefined>;
}

/** One raw HTTPS request trusting the test certificate, as a browser with a grant URL would send it. */
function send(agent: Agent, url: string, method: string, headers: Record<string, string> = {}, body?: Uint8Array): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method, agent, headers: { ...headers, 'content-length': String(body?.byteLength ?? 0) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), headers: res.headers }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

let cert: TestCertificate;
let azurite: AzuriteService;
let agent: Agent;
let issuer: TestIssuer;
let credential: ReturnType<typeof managedIdentityStandIn>;
let service: BlobServiceClient;
let signer: SasSigner;
let keyFetches = 0;
let api: Api;
let alice: string;

beforeAll(async () => {
  cert = await makeTestCertificate();
  [azurite, issuer] = await Promise.all([
    startAzuriteService('blob', ['--cert', cert.certFile, '--key', cert.keyFile, '--oauth', 'basic', '--silent']),
    createTestIssuer(),
  ]);
  agent = new Agent({ ca: cert.cert, keepAlive: true });
  credential = managedIdentityStandIn(ENDPOINT_OBJECT_ID);
  const pipeline = newPipeline(credential);
  pipeline.factories.unshift(trustingAgent(agent));
  service = new BlobServiceClient(azurite.endpoint, pipeline);
  await service.getContainerClient(CONTAINER).createIfNotExists();
  signer = userDelegationSigner(service, CONTAINER, 'devstoreaccount1');
  api = createApi({
    verifyToken: testVerifier(issuer.keys),
    signer,
    store: containerBlobStore(service.getContainerClient(CONTAINER)),
    blobEndpoint: azurite.endpoint,
    container: CONTAINER,
    sasMinutes: 15,
    maxFileBytes: 1024 * 1024,
    maxManifestBytes: 1024,
    maxBodyBytes: 16 * 1024,
    directoryKey: TEST_DIRECTORY_KEY,
    userLimiter: tokenBucketLimiter({ perMinute: 10_000 }),
    ipLimiter: tokenBucketLimiter({ perMinute: 10_000 }),
    audit: () => undefined,
  });
  alice = await issuer.mint('alice');
});

afterAll(async () => {
  agent?.destroy();
  await azurite?.stop();
  await cert?.remove();
});

/** Uploads a small file through the API's grants; resolves its id and bytes. */
async function upload(bytes: Uint8Array): Promise<string> {
  const res = await call(api, 'POST', '/api/v1/uploads', { token: alice, json: { payloadBytes: bytes.byteLength, manifestBytes: 3 } });
  expect(res.status).toBe(201);
  const grants = fileGrantsSchema.parse(res.json);
  const put = await send(agent, grants.payload.url, 'PUT', { 'x-ms-blob-type': 'BlockBlob', 'if-none-match': '*' }, bytes);
  expect(put.status, put.body.toString()).toBe(201);
  const manifest = await send(agent, grants.manifest.url, 'PUT', { 'x-ms-blob-type': 'BlockBlob', 'if-none-match': '*' }, new Uint8Array([1, 2, 3]));
  expect(manifest.status, manifest.body.toString()).toBe(201);
  return grants.fileId;
}

describe('user-delegation SAS against Azurite over HTTPS with OAuth', () => {
  it('grants carry the endpoint identity’s delegation key, HTTPS only, and upload and download work', async () => {
    const bytes = new Uint8Array(1000).map((_, i) => (i * 7) & 0xff);
    const fileId = await upload(bytes);
    const read = await call(api, 'POST', `/api/v1/files/${fileId}/read`, { token: alice });
    expect(read.status).toBe(200);
    const grant = fileGrantsSchema.parse(read.json);
    const q = new URL(grant.payload.url).searchParams;
    expect(q.get('skoid')).toBe(ENDPOINT_OBJECT_ID);
    expect(q.get('sktid')).toBe(TENANT);
    expect(q.get('spr')).toBe('https');
    expect(q.get('sp')).toBe('r');
    const got = await send(agent, grant.payload.url, 'GET');
    expect(got.status).toBe(200);
    expect(new Uint8Array(got.body)).toEqual(bytes);
  });

  it('fetches one delegation key and reuses it for every grant while it is valid', async () => {
    const before = keyFetches;
    await upload(new Uint8Array([1]));
    await upload(new Uint8Array([2]));
    // The signer fetched at most once more (zero when the first test's key still covers these grants).
    expect(keyFetches - before).toBeLessThanOrEqual(1);
    expect(keyFetches).toBeGreaterThanOrEqual(1);
    expect(keyFetches).toBeLessThanOrEqual(2);
  });

  it('refuses a tampered SAS: edited signature, widened permissions, another blob, another object id', async () => {
    const fileId = await upload(new Uint8Array([9, 9, 9]));
    const read = fileGrantsSchema.parse((await call(api, 'POST', `/api/v1/files/${fileId}/read`, { token: alice })).json);
    const url = new URL(read.payload.url);
    const edit = (change: (u: URL) => void): string => {
      const u = new URL(url);
      change(u);
      return u.toString();
    };
    const sig = url.searchParams.get('sig') ?? '';
    const tampered = [
      edit((u) => u.searchParams.set('sig', `${sig.startsWith('A') ? 'B' : 'A'}${sig.slice(1)}`)),
      edit((u) => u.searchParams.set('sp', 'rd')),
      edit((u) => {
        u.pathname = u.pathname.replace(/\/payload$/, '/manifest');
      }),
      edit((u) => u.searchParams.set('skoid', '00000000-0000-4000-8000-000000000000')),
    ];
    for (const bad of tampered) {
      const res = await send(agent, bad, 'GET');
      expect(res.status, bad.replace(/sig=[^&]*/, 'sig=…')).toBe(403);
      expect(res.body.toString()).toMatch(/<Code>Authentication(Failed|Failure)<\/Code>|<Code>AuthorizationFailure<\/Code>/);
    }
    expect((await send(agent, url.toString(), 'GET')).status).toBe(200);
  });

  it('refuses an expired SAS signed with the delegation key', async () => {
    const fileId = await upload(new Uint8Array([4, 5]));
    const now = Date.now();
    const blobName = new URL((fileGrantsSchema.parse((await call(api, 'POST', `/api/v1/files/${fileId}/read`, { token: alice })).json)).payload.url).pathname.replace(`/devstoreaccount1/${CONTAINER}/`, '');
    const expired = await signer.sign({ blobName: decodeURIComponent(blobName), permissions: 'r', startsOn: new Date(now - 20 * 60_000), expiresOn: new Date(now - 60_000) });
    const res = await send(agent, `${azurite.endpoint}/${CONTAINER}/${blobName}?${expired}`, 'GET');
    expect(res.status).toBe(403);
    expect(res.body.toString()).toMatch(/<Code>Authentication(Failed|Failure)<\/Code>|<Code>AuthorizationFailure<\/Code>/);
    const fresh = await signer.sign({ blobName: decodeURIComponent(blobName), permissions: 'r', startsOn: new Date(now - 60_000), expiresOn: new Date(now + 5 * 60_000) });
    expect((await send(agent, `${azurite.endpoint}/${CONTAINER}/${blobName}?${fresh}`, 'GET')).status).toBe(200);
  });

  it('needs the OAuth identity for the key itself: no token, no delegation key', async () => {
    const anonymous = new BlobServiceClient(azurite.endpoint, (() => {
      const p = newPipeline();
      p.factories.unshift(trustingAgent(agent));
      return p;
    })());
    const now = Date.now();
    await expect(anonymous.getUserDelegationKey(new Date(now), new Date(now + 60_000))).rejects.toMatchObject({ statusCode: 403 });
    expect(credential.requests).toBeGreaterThanOrEqual(1);
  });
});
