/**
 * The API's pipeline without storage: authentication, rate limits, size
 * limits, routing, headers and error bodies. Storage is a fake here; grants
 * are exercised for real in app.azurite.test.ts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../audit-log.ts';
import { deriveUserId } from '../auth/user-id.ts';
import { tokenBucketLimiter, type RateLimiter } from '../rate-limit.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import type { Api } from './api-types.ts';
import { createApi, type ApiDeps } from './app.ts';
import { call } from '../../test-support/test-api.ts';
import { API_PREFIX, errorBody as errorSchema, pathOf, ROUTES } from '../../../src/contract/index.ts';
import { TEST_DIRECTORY_KEY } from '../../test-support/test-api.ts';
import {
  createTestIssuer,
  hmacWithPublicKey,
  TEST_ISSUER,
  testVerifier,
  unsignedToken,
  type TestIssuer,
} from '../../test-support/test-issuer.ts';

const emptyStore: BlobStore = {
  list: () => Promise.resolve({ blobs: [], continuationToken: null }),
  stat: () => Promise.resolve(null),
  readSmall: () => Promise.resolve(null),
  createIfAbsent: () => Promise.resolve('"etag"'),
  replaceIfMatch: () => Promise.resolve(null),
  delete: () => Promise.resolve(),
  deleteWithBlocks: () => Promise.resolve(),
  createAppendIfAbsent: () => Promise.resolve(true),
  append: () => Promise.resolve(null),
  readFrom: () => Promise.resolve(null),
};

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await createTestIssuer();
});

function makeApi(overrides: Partial<ApiDeps> = {}, scheme: 'oidc' | 'entra' = 'oidc'): { api: Api; audit: AuditEntry[]; errors: string[] } {
  const audit: AuditEntry[] = [];
  const errors: string[] = [];
  const api = createApi({
    verifyToken: testVerifier(issuer.keys, scheme),
    signer: { sign: (r) => Promise.resolve(`sv=2025-01-01&sp=${r.permissions}&sig=SECRETSIGNATURE`) },
    store: emptyStore,
    blobEndpoint: 'https://acct.blob.core.windows.net',
    container: 'sealdrop',
    sasMinutes: 15,
    maxFileBytes: 1000,
    maxManifestBytes: 100,
    maxBodyBytes: 1024,
    directoryKey: TEST_DIRECTORY_KEY,
    userLimiter: tokenBucketLimiter({ perMinute: 1000 }),
    ipLimiter: tokenBucketLimiter({ perMinute: 1000 }),
    audit: (e) => audit.push(e),
    logError: (l) => errors.push(l),
    ...overrides,
  });
  return { api, audit, errors };
}

async function expectUnauthenticated(api: Api, token: string | undefined, custom = false): Promise<void> {
  const res = await call(api, 'GET', '/api/v1/me', token === undefined ? {} : { token, customHeader: custom });
  expect(res.status).toBe(401);
  expect(errorSchema.parse(res.json).error).toBe('unauthenticated');
  expect(res.headers['www-authenticate']).toBe('Bearer');
}

describe('sign-in token', () => {
  it('is accepted when valid, in Authorization or in X-Sealdrop-Token, and names the user from iss + sub', async () => {
    const { api } = makeApi();
    const token = await issuer.mint('user-1');
    const expected = { userId: deriveUserId({ scheme: 'oidc', iss: TEST_ISSUER, sub: 'user-1' }), email: null, name: null };
    expect((await call(api, 'GET', '/api/v1/me', { token })).json).toEqual(expected);
    expect((await call(api, 'GET', '/api/v1/me', { token, customHeader: true })).json).toEqual(expected);
  });

  it('prefers X-Sealdrop-Token over an Authorization header replaced by the host', async () => {
    const { api } = makeApi();
    const token = await issuer.mint('user-1');
    const res = await call(api, 'GET', '/api/v1/me', { token, customHeader: true, headers: { authorization: 'Bearer swa.platform.token' } });
    expect(res.status).toBe(200);
  });

  it('accepts the scope in its full form (scope) or short form (scp), and refuses a token without it', async () => {
    const { api } = makeApi();
    const scp = await issuer.mint('u', { scope: undefined, scp: 'files other' });
    expect((await call(api, 'GET', '/api/v1/me', { token: scp })).status).toBe(200);
    await expectUnauthenticated(api, await issuer.mint('u', { scope: 'openid profile' }));
    await expectUnauthenticated(api, await issuer.mint('u', { scope: 'api://sealdrop/filesx' }));
  });

  it('names Entra users by tid + oid, and refuses Entra tokens without them', async () => {
    const { api } = makeApi({}, 'entra');
    const token = await issuer.mint('pairwise-sub', { tid: 'tenant-1', oid: 'object-1', scp: 'files', email: 'Ann@Contoso.com', xms_edov: true });
    const res = await call(api, 'GET', '/api/v1/me', { token });
    expect(res.json).toEqual({ userId: deriveUserId({ scheme: 'entra', tid: 'tenant-1', oid: 'object-1' }), email: 'Ann@Contoso.com', name: null });
    await expectUnauthenticated(api, await issuer.mint('pairwise-sub', { tid: 'tenant-1' }));
  });

  it('ignores an e-mail the issuer marks unverified, and names that are not addresses', async () => {
    const { api } = makeApi();
    const res = await call(api, 'GET', '/api/v1/me', { token: await issuer.mint('u', { email: 'a@b.example', email_verified: false, preferred_username: 'not-an-address' }) });
    expect(res.json).toMatchObject({ email: null });
  });

  const cases: [string, (i: TestIssuer) => Promise<string | undefined>][] = [
    ['missing', () => Promise.resolve(undefined)],
    ['garbage', () => Promise.resolve('not a token')],
    ['expired', (i) => i.mint('u', { exp: Math.floor(Date.now() / 1000) - 3600 })],
    ['not yet valid', (i) => i.mint('u', { nbf: Math.floor(Date.now() / 1000) + 3600 })],
    ['wrong issuer', (i) => i.mint('u', { iss: 'http://127.0.0.1:17199/other' })],
    ['wrong audience', (i) => i.mint('u', { aud: 'api://someone-else' })],
    ['alg none', () => Promise.resolve(unsignedToken('u'))],
    ['HS256 signed with the public key', (i) => hmacWithPublicKey(i, 'u')],
    ['unknown kid', (i) => i.mintWithForeignKey('u', 'unknown-kid')],
    ['right kid, foreign key', (i) => i.mintWithForeignKey('u', 'test-key-1')],
    [
      'bad signature',
      async (i) => {
        const [h, p, s] = (await i.mint('u')).split('.');
        const flipped = `${s?.startsWith('A') === true ? 'B' : 'A'}${s?.slice(1) ?? ''}`;
        return `${h}.${p}.${flipped}`;
      },
    ],
    [
      'edited claims',
      async (i) => {
        const [h, , s] = (await i.mint('u')).split('.');
        const other = (await i.mint('admin')).split('.')[1];
        return `${h}.${other}.${s}`;
      },
    ],
    ['no exp', (i) => i.mintWithoutExpiry('u')],
  ];
  it.each(cases)('is refused with 401 when %s', async (_name, make) => {
    const { api, audit } = makeApi();
    const token = await make(issuer);
    await expectUnauthenticated(api, token);
    if (token !== undefined) await expectUnauthenticated(api, token, true);
    expect(audit).toEqual([]);
  });

  it('is required by every route but health', async () => {
    const { api } = makeApi();
    expect((await call(api, 'GET', '/api/v1/health')).json).toEqual({ status: 'ok', storage: 'ok', identity: 'ok' });
    const authed = Object.values(ROUTES).filter((r) => r.auth);
    expect(authed.length).toBe(Object.keys(ROUTES).length - 1);
    for (const route of authed) {
      const path = `${API_PREFIX}${pathOf(route, route.path.includes(':') ? 'a'.repeat(32) : undefined)}`;
      expect((await call(api, route.method, path)).status, path).toBe(401);
    }
  });

  it('answers 503, not 401, when the issuer keys cannot be fetched', async () => {
    const { api, errors } = makeApi({
      verifyToken: testVerifier(() => Promise.reject(new TypeError('fetch failed'))),
    });
    const res = await call(api, 'GET', '/api/v1/me', { token: await issuer.mint('u') });
    expect(res.status).toBe(503);
    expect(errorSchema.parse(res.json).error).toBe('unavailable');
    expect(errors).toHaveLength(1);
  });
});

describe('rate limits', () => {
  it('answer a burst from one user with 429 and Retry-After, without affecting others', async () => {
    const { api } = makeApi({ userLimiter: tokenBucketLimiter({ perMinute: 5 }) });
    const token = await issuer.mint('busy');
    const statuses: number[] = [];
    let retryAfter: string | undefined;
    for (let i = 0; i < 8; i++) {
      const res = await call(api, 'GET', '/api/v1/me', { token });
      statuses.push(res.status);
      if (res.status === 429) {
        retryAfter = res.headers['retry-after'];
        expect(errorSchema.parse(res.json).error).toBe('rate_limited');
      }
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429, 429]);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(retryAfter)).toBeLessThanOrEqual(12);
    expect((await call(api, 'GET', '/api/v1/me', { token: await issuer.mint('calm') })).status).toBe(200);
  });

  it('answer a burst from one address with 429 even without a token', async () => {
    const { api } = makeApi({ ipLimiter: tokenBucketLimiter({ perMinute: 3 }) });
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await call(api, 'GET', '/api/v1/me', { ip: '192.0.2.7' })).status);
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
    const limited = await call(api, 'GET', '/api/v1/me', { ip: '192.0.2.7' });
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toMatch(/^\d+$/);
    expect(errorSchema.parse(limited.json).error).toBe('rate_limited');
    expect((await call(api, 'GET', '/api/v1/me', { ip: '192.0.2.8' })).status).toBe(401);
  });
});

/** A limiter that records every key it is asked for and refuses once `allow` keys of a name were taken. */
function countingLimiter(allow = Infinity): RateLimiter & { taken: string[] } {
  const taken: string[] = [];
  return {
    taken,
    take(key) {
      taken.push(key);
      return taken.filter((k) => k === key).length <= allow ? { allowed: true } : { allowed: false, retryAfterSeconds: 7 };
    },
  };
}

describe('limiter order', () => {
  it('charges a signed-in request to its user only, never to its address', async () => {
    const users = countingLimiter();
    const ips = countingLimiter();
    const { api } = makeApi({ userLimiter: users, ipLimiter: ips });
    const token = await issuer.mint('alice');
    expect((await call(api, 'GET', '/api/v1/me', { token, ip: '192.0.2.1' })).status).toBe(200);
    expect(users.taken).toHaveLength(1);
    expect(users.taken[0]).toMatch(/^user:[0-9a-f]{32}$/);
    expect(ips.taken).toEqual([]);
  });

  it('does not charge the address for a request the user limiter refused', async () => {
    const users = countingLimiter(2);
    const ips = countingLimiter();
    const { api } = makeApi({ userLimiter: users, ipLimiter: ips });
    const token = await issuer.mint('flood');
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await call(api, 'GET', '/api/v1/me', { token, ip: '192.0.2.1' })).status);
    expect(statuses).toEqual([200, 200, 429, 429]);
    expect(users.taken).toHaveLength(4);
    expect(ips.taken).toEqual([]);
  });

  it('charges the address once for requests without a verified sign-in: no token, a bad token, 404, 405, 413', async () => {
    const users = countingLimiter();
    const ips = countingLimiter();
    const { api } = makeApi({ userLimiter: users, ipLimiter: ips });
    const token = await issuer.mint('bob');
    expect((await call(api, 'GET', '/api/v1/me', { ip: '192.0.2.9' })).status).toBe(401);
    expect((await call(api, 'GET', '/api/v1/me', { ip: '192.0.2.9', token: unsignedToken('x') })).status).toBe(401);
    expect((await call(api, 'GET', '/api/v1/nothing', { ip: '192.0.2.9', token })).status).toBe(404);
    expect((await call(api, 'GET', '/api/v1/uploads', { ip: '192.0.2.9', token })).status).toBe(405);
    expect((await call(api, 'POST', '/api/v1/uploads', { ip: '192.0.2.9', token, body: new Uint8Array(2048) })).status).toBe(413);
    expect(ips.taken).toEqual(Array(5).fill('ip:192.0.2.9'));
    expect(users.taken).toEqual([]);
  });

  it('never limits /health and never charges it', async () => {
    const users = countingLimiter(0);
    const ips = countingLimiter(0);
    const { api } = makeApi({ userLimiter: users, ipLimiter: ips });
    for (let i = 0; i < 3; i++) expect((await call(api, 'GET', '/api/v1/health', { ip: '192.0.2.7' })).status).toBe(200);
    expect(ips.taken).toEqual([]);
    expect(users.taken).toEqual([]);
  });

  it('lets another user behind the same address through while one user floods past the address limit', async () => {
    const { api } = makeApi({ userLimiter: tokenBucketLimiter({ perMinute: 5, now: () => 0 }), ipLimiter: tokenBucketLimiter({ perMinute: 10, now: () => 0 }) });
    const flooder = await issuer.mint('flooder');
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) statuses.push((await call(api, 'GET', '/api/v1/me', { token: flooder, ip: '198.51.100.4' })).status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(5);
    const refused = await call(api, 'GET', '/api/v1/me', { token: flooder, ip: '198.51.100.4' });
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('12');
    expect(refused.json).toEqual({ error: 'rate_limited', message: 'Too many requests. Please wait a moment.' });
    const other = await call(api, 'GET', '/api/v1/me', { token: await issuer.mint('neighbour'), ip: '198.51.100.4' });
    expect(other.status).toBe(200);
    expect((await call(api, 'GET', '/api/v1/health', { ip: '198.51.100.4' })).status).toBe(200);
    // Unauthenticated requests from that address still have their whole bucket.
    const anonymous = [];
    for (let i = 0; i < 11; i++) anonymous.push((await call(api, 'GET', '/api/v1/me', { ip: '198.51.100.4' })).status);
    expect(anonymous).toEqual([...Array(10).fill(401), 429]);
  });

  it('reports storage and identity from the injected health check, even when the address is over its limit', async () => {
    const { api } = makeApi({
      ipLimiter: countingLimiter(0),
      health: () => Promise.resolve({ status: 'degraded', storage: 'down', identity: 'ok' }),
    });
    const res = await call(api, 'GET', '/api/v1/health');
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ status: 'degraded', storage: 'down', identity: 'ok' });
  });
});

describe('requests', () => {
  it('over the body size limit get 413', async () => {
    const { api } = makeApi();
    const res = await call(api, 'POST', '/api/v1/uploads', {
      token: await issuer.mint('u'),
      body: new Uint8Array(1025),
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(413);
    expect(errorSchema.parse(res.json).error).toBe('body_too_large');
  });

  it('to unknown paths get 404 and to known paths with the wrong method 405 with Allow', async () => {
    const { api } = makeApi();
    for (const path of ['/', '/api', '/api/v1', '/api/v2/health', '/api/v1/nothing', '/api/v1/health/x', '/api/v1//health']) {
      const res = await call(api, 'GET', path);
      expect(res.status, path).toBe(404);
      errorSchema.parse(res.json);
    }
    const res = await call(api, 'DELETE', '/api/v1/files');
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('GET');
    expect(errorSchema.parse(res.json).error).toBe('method_not_allowed');
    expect((await call(api, 'GET', `/api/v1/files/${'a'.repeat(32)}/read`)).status).toBe(405);
  });

  it('with unexpected query parameters get 400', async () => {
    const { api } = makeApi();
    expect((await call(api, 'GET', '/api/v1/me?x=1', { token: await issuer.mint('u') })).status).toBe(400);
    expect((await call(api, 'GET', '/api/v1/health?x=1')).status).toBe(400);
  });
});

describe('responses', () => {
  it('carry the API security headers, and HSTS only over HTTPS', async () => {
    const { api } = makeApi();
    const plain = await call(api, 'GET', '/api/v1/health');
    expect(plain.headers).toMatchObject({
      'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
      'referrer-policy': 'no-referrer',
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-store',
      'content-type': 'application/json; charset=utf-8',
    });
    expect(plain.headers['strict-transport-security']).toBeUndefined();
    const secure = await api.handle({ method: 'GET', url: '/api/v1/health', headers: {}, body: new Uint8Array(), remoteAddress: '::1', secure: true });
    expect(secure.headers['strict-transport-security']).toMatch(/^max-age=\d+/);
    const error = await call(api, 'GET', '/api/v1/nothing');
    expect(error.headers['cache-control']).toBe('no-store');
    expect(error.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
  });

  it('for unexpected failures are a generic 500 and the log line holds no secret', async () => {
    const failing: BlobStore = {
      ...emptyStore,
      list: () => Promise.reject(new Error('boom at https://acct/x?sv=1&sig=LEAKEDSIG&se=2 for eyJhbGciOi.eyJzdWIiOi.c2ln')),
    };
    const { api, errors } = makeApi({ store: failing });
    const res = await call(api, 'POST', `/api/v1/files/${'a'.repeat(32)}/read`, { token: await issuer.mint('u') });
    expect(res.status).toBe(500);
    expect(res.json).toEqual({ error: 'internal', message: 'Something went wrong on our side. Please try again later.' });
    expect(errors).toHaveLength(1);
    expect(errors[0]).not.toContain('LEAKEDSIG');
    expect(errors[0]).not.toContain('eyJhbGciOi.eyJzdWIiOi');
  });

  it('answer CORS preflights only for configured origins', async () => {
    const { api } = makeApi({ corsOrigins: ['https://app.example'] });
    const ok = await call(api, 'OPTIONS', '/api/v1/files', { headers: { origin: 'https://app.example' } });
    expect(ok.status).toBe(204);
    expect(ok.headers['access-control-allow-origin']).toBe('https://app.example');
    expect(ok.headers['access-control-allow-headers']).toContain('X-Sealdrop-Token');
    const other = await call(api, 'OPTIONS', '/api/v1/files', { headers: { origin: 'https://evil.example' } });
    expect(other.status).toBe(405);
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('grants (fake signer)', () => {
  it('build the URL from endpoint, container and server-made blob name, and audit without the SAS', async () => {
    const { api, audit } = makeApi();
    const token = await issuer.mint('u');
    const res = await call(api, 'POST', '/api/v1/uploads', { token, json: { payloadBytes: 1000, manifestBytes: 100 } });
    expect(res.status).toBe(201);
    const text = JSON.stringify(res.json);
    expect(text).toMatch(/https:\/\/acct\.blob\.core\.windows\.net\/sealdrop\/files\/[0-9a-f]{32}\/[0-9a-f]{32}\/payload\?sv=/);
    expect(audit).toHaveLength(2);
    expect(JSON.stringify(audit)).not.toContain('SECRETSIGNATURE');
    expect(JSON.stringify(audit)).not.toContain(token);
    const over = await call(api, 'POST', '/api/v1/uploads', { token, json: { payloadBytes: 1001, manifestBytes: 100 } });
    expect(over.status).toBe(413);
  });
});
