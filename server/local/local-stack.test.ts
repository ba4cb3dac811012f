/**
 * The local stack by real requests: static serving and its headers, the
 * runtime settings, and the provider's whole code + PKCE flow without a
 * browser (sign-in page → code → token → API). The browser journey is in
 * e2e/sign-in.spec.ts.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { PortInUseError, startLocalStack, type LocalStack } from './local-stack.ts';
import { precompressDir } from './precompress.ts';

/** A script big enough to be precompressed at build time (server/local/precompress.ts). */
const BIG_SCRIPT = `export const words = ${JSON.stringify(Array.from({ length: 400 }, (_, i) => `word-${i % 37}`))};\n`;

let stack: LocalStack;
let dir: string;
let base: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sealdrop-stack-test-'));
  const dist = join(dir, 'dist');
  await mkdir(join(dist, 'assets'), { recursive: true });
  await writeFile(join(dist, 'index.html'), '<!doctype html><title>app</title>');
  await writeFile(join(dist, 'redirect.html'), '<!doctype html><title>bridge</title>');
  await writeFile(join(dist, 'sw.js'), 'self.addEventListener("fetch", () => {});');
  await writeFile(join(dist, 'assets', 'main-abc123.js'), 'console.log(1);');
  await writeFile(join(dist, 'assets', 'big-def456.js'), BIG_SCRIPT);
  await precompressDir(dist);
  await writeFile(join(dir, 'secret.txt'), 'outside dist');
  stack = await startLocalStack({ port: 0, azuritePort: 0, inMemory: true, dataDir: join(dir, 'data'), distDir: dist });
  base = stack.url;
});

afterAll(async () => {
  await stack.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('static app', () => {
  it('serves index.html with the app CSP, COOP and no-cache', async () => {
    const res = await fetch(base);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self' 'wasm-unsafe-eval'");
    expect(csp).toContain("style-src 'self';");
    expect(csp).toMatch(/connect-src 'self' http:\/\/127\.0\.0\.1:\d+;/);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers.get('cross-origin-opener-policy')).toBe('same-origin-allow-popups');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('strict-transport-security')).toBeNull();
  });

  it('caches hashed assets forever and re-checks the service worker', async () => {
    const asset = await fetch(`${base}assets/main-abc123.js`);
    expect(asset.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const sw = await fetch(`${base}sw.js`);
    expect(sw.headers.get('cache-control')).toBe('no-cache');
    const etag = sw.headers.get('etag') ?? '';
    expect((await fetch(`${base}sw.js`, { headers: { 'if-none-match': etag } })).status).toBe(304);
  });

  it('sends the brotli or gzip copy made at build time when the browser takes it, the plain file otherwise', async () => {
    const raw = (encoding: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> =>
      new Promise((done, fail) => {
        const url = new URL(base);
        request({ host: '127.0.0.1', port: url.port, path: '/assets/big-def456.js', headers: { 'accept-encoding': encoding } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => done({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        })
          .on('error', fail)
          .end();
      });
    const br = await raw('gzip, deflate, br');
    expect(br.headers['content-encoding']).toBe('br');
    expect(brotliDecompressSync(br.body).toString('utf8')).toBe(BIG_SCRIPT);
    expect(br.body.length).toBeLessThan(BIG_SCRIPT.length);
    expect(br.headers['content-length']).toBe(String(br.body.length));
    expect(br.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(br.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(br.headers.vary).toBe('Accept-Encoding');
    expect(br.headers['content-security-policy']).toContain("script-src 'self' 'wasm-unsafe-eval'");

    const gz = await raw('gzip, br;q=0');
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.body).toString('utf8')).toBe(BIG_SCRIPT);
    expect(gz.headers.etag).not.toBe(br.headers.etag);

    const plain = await raw('identity');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.toString('utf8')).toBe(BIG_SCRIPT);
    expect(plain.headers.vary).toBe('Accept-Encoding');

    // A file too small to be worth a copy is sent as it is, whatever the browser takes.
    const small = await fetch(`${base}assets/main-abc123.js`, { headers: { 'accept-encoding': 'br' } });
    expect(small.headers.get('content-encoding')).toBeNull();
    expect(await small.text()).toBe('console.log(1);');
  });

  it('falls back to index.html for app routes, 404 for missing files', async () => {
    const route = await fetch(`${base}files/some-id`);
    expect(route.status).toBe(200);
    expect(await route.text()).toContain('<title>app</title>');
    expect((await fetch(`${base}assets/missing.js`)).status).toBe(404);
  });

  it('gives the redirect bridge no COOP header', async () => {
    const res = await fetch(`${base}redirect.html`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cross-origin-opener-policy')).toBeNull();
  });

  it('never serves a file outside dist', async () => {
    for (const path of ['%2e%2e/secret.txt', '..%2fsecret.txt', 'assets/%2e%2e/%2e%2e/secret.txt']) {
      const res = await fetch(`${base}${path}`);
      expect(await res.text()).not.toContain('outside dist');
      expect([400, 404]).toContain(res.status);
    }
    // fetch normalizes dot segments; a raw request does not.
    const raw = await new Promise<{ status: number; body: string }>((done, fail) => {
      const url = new URL(base);
      request({ host: '127.0.0.1', port: url.port, path: '/assets/../../secret.txt' }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
        res.on('end', () => done({ status: res.statusCode ?? 0, body }));
      })
        .on('error', fail)
        .end();
    });
    expect([400, 404]).toContain(raw.status);
    expect(raw.body).not.toContain('outside dist');
  });
});

const RuntimeConfig = z.object({
  auth: z.object({
    clientId: z.string(),
    authority: z.string(),
    knownAuthorities: z.array(z.string()),
    authorityMetadata: z.string(),
    redirectUri: z.string(),
    scopes: z.array(z.string()),
  }),
  apiBase: z.literal('/api/v1'),
});
const Discovery = z.object({
  issuer: z.string(),
  authorization_endpoint: z.string(),
  token_endpoint: z.string(),
  jwks_uri: z.string(),
  end_session_endpoint: z.string(),
});

describe('runtime settings', () => {
  it('give MSAL an https authority string and the provider metadata with its real http endpoints', async () => {
    const config = RuntimeConfig.parse(await (await fetch(`${base}config.json`)).json());
    const origin = base.slice(0, -1);
    const host = new URL(base).host;
    expect(config.auth.authority).toBe(`https://${host}/oidc`);
    expect(config.auth.knownAuthorities).toEqual([host]);
    expect(config.auth.redirectUri).toBe(`${origin}/redirect.html`);
    expect(config.auth.scopes).toEqual(['api://sealdrop/files']);
    const meta = Discovery.parse(JSON.parse(config.auth.authorityMetadata));
    expect(meta.issuer).toBe(`${origin}/oidc`);
    expect(meta.token_endpoint).toBe(`${origin}/oidc/token`);
    expect(meta.authorization_endpoint).toBe(`${origin}/oidc/auth`);
  });
});

/** A tiny cookie jar for the provider's session and interaction cookies. */
class CookieJar {
  readonly #cookies = new Map<string, string>();
  take(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const at = pair?.indexOf('=') ?? -1;
      if (pair === undefined || at < 1) continue;
      this.#cookies.set(pair.slice(0, at), pair.slice(at + 1));
    }
  }
  header(): string {
    return [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

describe('local identity provider', () => {
  it('serves its sign-in page in our look: no script, no inline style, no other host', async () => {
    const jar = new CookieJar();
    const { interactionUrl } = await startAuthorization(jar);
    const page = await fetch(interactionUrl, { headers: { cookie: jar.header() } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('Local stand-in for Microsoft Entra ID');
    expect(html).toMatch(/<label for="name">Name<\/label>/);
    expect(html).toMatch(/<label for="email">E-mail<\/label>/);
    expect(html).not.toMatch(/<script|style=|<style/i);
    // Every absolute URL in the page would be a request to another host.
    expect(html).not.toMatch(/https?:\/\//);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("form-action 'self'");
    expect(csp).toContain("default-src 'none'");
    const css = await fetch(`${base}oidc/ui/provider.css`);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(await css.text()).not.toMatch(/@import|url\(/);
  });

  it('signs anyone in by name and e-mail and issues a JWT access token the API accepts', async () => {
    const jar = new CookieJar();
    const { interactionUrl, verifier, redirectUri } = await startAuthorization(jar);
    await fetch(interactionUrl, { headers: { cookie: jar.header() } });
    const login = await fetch(`${interactionUrl}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ name: 'Ada Lovelace', email: 'Ada@Example.com' }),
    });
    expect(login.status).toBe(303);
    // Follow the provider's redirects to the bridge page with the code.
    let location = new URL(login.headers.get('location') ?? '', base).href;
    let hops = 0;
    while (!location.startsWith(redirectUri) && hops++ < 5) {
      const res = await fetch(location, { redirect: 'manual', headers: { cookie: jar.header() } });
      jar.take(res);
      location = new URL(res.headers.get('location') ?? '', base).href;
    }
    const fragment = new URLSearchParams(new URL(location).hash.slice(1));
    const code = fragment.get('code');
    expect(code).toBeTruthy();

    const tokenRes = await fetch(`${base}oidc/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: base.slice(0, -1) },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        client_id: 'sealdrop-web',
        code: code ?? '',
        redirect_uri: redirectUri,
        code_verifier: verifier,
        scope: 'openid profile api://sealdrop/files',
      }),
    });
    expect(tokenRes.status).toBe(200);
    const tokens = z
      .object({ access_token: z.string(), id_token: z.string(), refresh_token: z.string() })
      .parse(await tokenRes.json());

    const issuer = `${base}oidc`;
    const { payload, protectedHeader } = await jwtVerify(
      tokens.access_token,
      createRemoteJWKSet(new URL(`${base}oidc/jwks`)),
      { issuer, audience: 'api://sealdrop' },
    );
    expect(protectedHeader.alg).toBe('RS256');
    expect(protectedHeader.typ).toBe('at+jwt');
    const sub = createHash('sha256').update('ada@example.com').digest('hex');
    expect(payload.sub).toBe(sub);
    expect(payload.scope).toBe('api://sealdrop/files');
    expect(payload.client_id).toBe('sealdrop-web');
    // The local provider vouches for its addresses and says when the person signed in.
    expect(payload.email_verified).toBe(true);
    expect(typeof payload.auth_time).toBe('number');
    expect(Number(payload.auth_time)).toBeLessThanOrEqual(Number(payload.iat));

    const me = await fetch(`${base}api/v1/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(me.status).toBe(200);
    const userId = createHash('sha256').update(`oidc|${issuer}|${sub}`).digest().subarray(0, 16).toString('hex');
    expect(await me.json()).toEqual({ userId, email: 'ada@example.com', name: 'Ada Lovelace' });

    // Renewal as MSAL does it: the refresh token with the same scopes, no offline_access.
    const refreshed = await fetch(`${base}oidc/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: base.slice(0, -1) },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        client_id: 'sealdrop-web',
        refresh_token: tokens.refresh_token,
        scope: 'api://sealdrop/files openid profile',
      }),
    });
    expect(refreshed.status).toBe(200);
    const renewed = z.object({ access_token: z.string() }).parse(await refreshed.json());
    const again = await jwtVerify(renewed.access_token, createRemoteJWKSet(new URL(`${base}oidc/jwks`)), {
      issuer,
      audience: 'api://sealdrop',
    });
    expect(again.payload.sub).toBe(sub);
    // A refreshed token keeps the time of the interactive sign-in, so it never counts as a fresh one.
    expect(again.payload.auth_time).toBe(payload.auth_time);
  });

  it('rejects an API call without a token', async () => {
    expect((await fetch(`${base}api/v1/me`)).status).toBe(401);
  });
});

/** One raw request with the Host we choose (fetch would not let us set it). */
function rawGet(port: string | number, path: string, host: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((done, fail) => {
    request({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      res.on('end', () => done({ status: res.statusCode ?? 0, type: res.headers['content-type'] ?? '', body }));
    })
      .on('error', fail)
      .end();
  });
}

describe('DNS rebinding', () => {
  it('answers only localhost:<port> and 127.0.0.1:<port>: JSON for the API, plain text for pages', async () => {
    const { port } = new URL(base);
    const api = await rawGet(port, '/api/v1/health', `evil.example:${port}`);
    expect(api.status).toBe(421);
    expect(api.type).toBe('application/json; charset=utf-8');
    expect(JSON.parse(api.body)).toEqual({ error: 'wrong_host', message: `This Sealdrop answers only 127.0.0.1:${port} and localhost:${port}.` });
    const page = await rawGet(port, '/', `evil.example:${port}`);
    expect(page.status).toBe(421);
    expect(page.type).toBe('text/plain; charset=utf-8');
    expect(page.body).not.toContain('<title>app</title>');
    expect((await rawGet(port, '/oidc/.well-known/openid-configuration', `evil.example:${port}`)).status).toBe(421);
    expect((await rawGet(port, '/', `localhost:${Number(port) + 1}`)).status).toBe(421);
    // Our own names still work.
    expect((await rawGet(port, '/', `localhost:${port}`)).body).toContain('<title>app</title>');
    expect((await rawGet(port, '/', `127.0.0.1:${port}`)).status).toBe(200);
  });

  it('guards the storage port too, and its storage copies nothing', async () => {
    const { port } = new URL(stack.blobEndpoint);
    expect((await rawGet(port, '/devstoreaccount1/sealdrop?restype=container', `evil.example:${port}`)).status).toBe(421);
    const copy = await fetch(`${stack.blobEndpoint}/sealdrop/anything`, { method: 'PUT', headers: { 'x-ms-copy-source': `${stack.blobEndpoint}/sealdrop/other` } });
    expect(copy.status).toBe(403);
    expect(copy.headers.get('x-ms-error-code')).toBe('CopyNotAllowed');
  });
});

describe('server secret', () => {
  it('is made in the data folder when the stack starts (32 random bytes, for the API)', async () => {
    const secret = await readFile(join(dir, 'data', 'server-secret'), 'utf8');
    expect(Buffer.from(secret.trim(), 'base64').byteLength).toBe(32);
  });
});

describe('ports', () => {
  it('explains a taken app port in one line', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((done) => blocker.listen(0, '127.0.0.1', done));
    const address = blocker.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    try {
      const attempt = startLocalStack({ port, azuritePort: 0, inMemory: true, dataDir: join(dir, 'data2') });
      await expect(attempt).rejects.toBeInstanceOf(PortInUseError);
      await expect(attempt).rejects.toThrow(`Port ${port} on 127.0.0.1 is already in use`);
    } finally {
      await new Promise<void>((done) => blocker.close(() => done()));
    }
  });
});

/** Starts an authorization request with PKCE; resolves to the interaction page URL. */
async function startAuthorization(jar: CookieJar): Promise<{ interactionUrl: string; verifier: string; redirectUri: string }> {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const redirectUri = `${base}redirect.html`;
  const auth = new URL(`${base}oidc/auth`);
  auth.search = new URLSearchParams({
    client_id: 'sealdrop-web',
    response_type: 'code',
    response_mode: 'fragment',
    redirect_uri: redirectUri,
    scope: 'openid profile api://sealdrop/files',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: randomBytes(8).toString('hex'),
    nonce: randomBytes(8).toString('hex'),
  }).toString();
  const res = await fetch(auth, { redirect: 'manual' });
  expect(res.status).toBe(303);
  jar.take(res);
  const location = res.headers.get('location') ?? '';
  expect(location).toMatch(/^\/oidc\/interaction\/[\w-]+$/);
  return { interactionUrl: new URL(location, base).href, verifier, redirectUri };
}
