import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ApiClient,
  ApiError,
  OfflineError,
  ServerUnreachableError,
  SessionExpiredError,
  UnexpectedResponseError,
  type ApiClientOptions,
  type TokenSource,
} from './api-client.ts';

const Ok = z.object({ ok: z.literal(true) });

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

/** A fake fetch answering from a script, recording what it was asked. */
function scripted(answers: (Response | Error)[]) {
  const calls: { url: string; init: RequestInit | undefined }[] = [];
  const fetchFn: typeof fetch = (input, init) => {
    calls.push({ url: typeof input === 'string' ? input : input instanceof URL ? input.href : input.url, init });
    const next = answers.shift();
    if (next === undefined) return Promise.reject(new Error('unexpected extra call'));
    return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
  };
  return { calls, fetchFn };
}

function tokens(): { source: TokenSource; requests: (boolean | undefined)[] } {
  const requests: (boolean | undefined)[] = [];
  let n = 0;
  return {
    requests,
    source: (options) => {
      requests.push(options?.forceRefresh);
      n += 1;
      return Promise.resolve(`token-${n}`);
    },
  };
}

function header(init: RequestInit | undefined, name: string): string | undefined {
  const headers = init?.headers;
  if (headers === undefined || headers instanceof Headers || Array.isArray(headers)) return undefined;
  return headers[name];
}

describe('ApiClient', () => {
  it('sends the token in both headers and parses the answer with the schema', async () => {
    const { calls, fetchFn } = scripted([json(200, { ok: true, extra: 1 })]);
    const t = tokens();
    const client = new ApiClient('/api/v1/', t.source, fetchFn);
    await expect(client.post('/uploads', { a: 1 }, Ok)).resolves.toEqual({ ok: true });
    expect(calls[0]?.url).toBe('/api/v1/uploads');
    expect(calls[0]?.init?.method).toBe('POST');
    expect(calls[0]?.init?.body).toBe('{"a":1}');
    expect(header(calls[0]?.init, 'Authorization')).toBe('Bearer token-1');
    expect(header(calls[0]?.init, 'X-Sealdrop-Token')).toBe('token-1');
    expect(t.requests).toEqual([undefined]);
  });

  it('on 401 reauth_required throws ApiError at once: a refreshed token is no fresh sign-in', async () => {
    const { calls, fetchFn } = scripted([json(401, { error: 'reauth_required', message: 'Sign in again to confirm it is you.' })]);
    const t = tokens();
    const client = new ApiClient('/api/v1', t.source, fetchFn);
    let expired = 0;
    client.onSessionExpired(() => (expired += 1));
    const error = await client.post('/keys/recovery/replace', {}, Ok).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error instanceof ApiError && [error.status, error.code]).toEqual([401, 'reauth_required']);
    expect(calls).toHaveLength(1);
    expect(t.requests).toEqual([undefined]);
    expect(expired).toBe(0);
  });

  it('on 401 gets a fresh token once and retries', async () => {
    const { calls, fetchFn } = scripted([json(401, { error: 'unauthenticated', message: 'x' }), json(200, { ok: true })]);
    const t = tokens();
    const client = new ApiClient('/api/v1', t.source, fetchFn);
    await expect(client.get('/me', Ok)).resolves.toEqual({ ok: true });
    expect(t.requests).toEqual([undefined, true]);
    expect(header(calls[1]?.init, 'Authorization')).toBe('Bearer token-2');
  });

  it('after a second 401 throws SessionExpiredError and tells the listeners', async () => {
    const { fetchFn } = scripted([json(401, {}), json(401, {})]);
    const client = new ApiClient('/api/v1', tokens().source, fetchFn);
    let heard = 0;
    const off = client.onSessionExpired(() => (heard += 1));
    await expect(client.get('/me', Ok)).rejects.toBeInstanceOf(SessionExpiredError);
    expect(heard).toBe(1);
    off();
  });

  it('tells the listeners when the token source itself says the session expired (no redirect on its own)', async () => {
    const { calls, fetchFn } = scripted([json(401, {})]);
    let asked = 0;
    const source: TokenSource = (options) => {
      asked += 1;
      return options?.forceRefresh === true ? Promise.reject(new SessionExpiredError()) : Promise.resolve('token-1');
    };
    const client = new ApiClient('/api/v1', source, fetchFn);
    let heard = 0;
    client.onSessionExpired(() => (heard += 1));
    await expect(client.get('/me', Ok)).rejects.toBeInstanceOf(SessionExpiredError);
    expect(asked).toBe(2);
    expect(calls).toHaveLength(1);
    expect(heard).toBe(1);
  });

  it('tells SessionRestored listeners when the person signed in again, until they unregister', () => {
    const client = new ApiClient('/api/v1', tokens().source, scripted([]).fetchFn);
    let heard = 0;
    const off = client.onSessionRestored(() => (heard += 1));
    client.sessionRestored();
    expect(heard).toBe(1);
    off();
    client.sessionRestored();
    expect(heard).toBe(1);
  });

  it('does not tell the listeners about other token failures', async () => {
    const { fetchFn } = scripted([]);
    const client = new ApiClient('/api/v1', () => Promise.reject(new TypeError('no network')), fetchFn);
    let heard = 0;
    client.onSessionExpired(() => (heard += 1));
    await expect(client.get('/me', Ok)).rejects.toBeInstanceOf(TypeError);
    expect(heard).toBe(0);
  });

  it('turns JSON errors into ApiError with status, code and message', async () => {
    const { fetchFn } = scripted([json(413, { error: 'too_large', message: 'The file is too large.' })]);
    const client = new ApiClient('/api/v1', tokens().source, fetchFn);
    const err = await client.post('/uploads', {}, Ok).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 413, code: 'too_large', message: 'The file is too large.' });
  });

  it('gives a generic ApiError for a non-JSON 500', async () => {
    const { fetchFn } = scripted([new Response('<html>boom</html>', { status: 500 })]);
    const client = new ApiClient('/api/v1', tokens().source, fetchFn);
    await expect(client.get('/files', Ok)).rejects.toMatchObject({ status: 500, code: 'http_500' });
  });

  it('throws ServerUnreachableError for a gateway answer without our error body', async () => {
    const { fetchFn } = scripted([new Response('<html>bad gateway</html>', { status: 502 })]);
    const client = new ApiClient('/api/v1', tokens().source, fetchFn);
    await expect(client.get('/files', Ok)).rejects.toBeInstanceOf(ServerUnreachableError);
  });

  it('throws OfflineError when the network fails while the browser is offline', async () => {
    const { fetchFn } = scripted([new TypeError('Failed to fetch')]);
    const client = new ApiClient('/api/v1', tokens().source, fetchFn, { online: () => false });
    const err = await client.get('/files', Ok).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OfflineError);
    expect(err).not.toBeInstanceOf(ServerUnreachableError);
  });

  it('throws ServerUnreachableError when the network fails while the browser is online, and tells ServiceTrouble listeners', async () => {
    const { fetchFn } = scripted([new TypeError('Failed to fetch')]);
    const client = new ApiClient('/api/v1', tokens().source, fetchFn, { online: () => true });
    const heard: Error[] = [];
    client.onServiceTrouble((e) => heard.push(e));
    const err = await client.get('/files', Ok).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServerUnreachableError);
    expect(heard).toEqual([err]);
  });

  it('lets an abort through as itself, not as offline', async () => {
    const controller = new AbortController();
    controller.abort();
    const abortError = new DOMException('aborted', 'AbortError');
    const { fetchFn } = scripted([abortError]);
    const client = new ApiClient('/api/v1', tokens().source, fetchFn);
    await expect(client.get('/files', Ok, { signal: controller.signal })).rejects.toBe(abortError);
  });

  it('rejects a success body that does not match the schema', async () => {
    const { fetchFn } = scripted([json(200, { ok: 'yes' })]);
    const client = new ApiClient('/api/v1', tokens().source, fetchFn);
    await expect(client.get('/me', Ok)).rejects.toBeInstanceOf(UnexpectedResponseError);
  });
});

/** Options that record every pause instead of waiting, with a fixed "random" value. */
function patient(random = 0.5, extra: ApiClientOptions = {}): { options: ApiClientOptions; pauses: number[] } {
  const pauses: number[] = [];
  return {
    pauses,
    options: {
      random: () => random,
      sleep: (ms, signal) => {
        pauses.push(ms);
        signal?.throwIfAborted();
        return Promise.resolve();
      },
      now: () => Date.parse('2026-12-01T00:00:00Z'),
      ...extra,
    },
  };
}

const limited = (retryAfter?: string): Response =>
  new Response(JSON.stringify({ error: 'rate_limited', message: 'Too many requests. Please wait a moment.' }), {
    status: 429,
    headers: { 'content-type': 'application/json', ...(retryAfter === undefined ? {} : { 'retry-after': retryAfter }) },
  });

describe('ApiClient and Retry-After', () => {
  it('waits the pause a 429 names plus jitter, then sends again', async () => {
    const { calls, fetchFn } = scripted([limited('3'), limited('1'), json(200, { ok: true })]);
    const p = patient(0.5);
    const client = new ApiClient('/api/v1', tokens().source, fetchFn, p.options);
    await expect(client.post('/files/x/read', undefined, Ok)).resolves.toEqual({ ok: true });
    // 3 s + half of a 1 s spread; 1 s + half of a 1 s spread.
    expect(p.pauses).toEqual([3500, 1500]);
    expect(calls).toHaveLength(3);
  });

  it('reads an HTTP-date Retry-After against its clock', async () => {
    const { fetchFn } = scripted([limited('Tue, 01 Dec 2026 00:00:10 GMT'), json(200, { ok: true })]);
    const p = patient(0);
    const client = new ApiClient('/api/v1', tokens().source, fetchFn, p.options);
    await client.get('/me', Ok);
    expect(p.pauses).toEqual([10_000]);
  });

  it('gives up after the policy retries with the 429 as an ApiError', async () => {
    const { calls, fetchFn } = scripted([limited('1'), limited('1'), limited('1')]);
    const p = patient(0, { retry: { retries: 2, baseDelayMs: 1000, maxDelayMs: 60_000, jitter: 0.25 } });
    const client = new ApiClient('/api/v1', tokens().source, fetchFn, p.options);
    await expect(client.get('/me', Ok)).rejects.toMatchObject({ status: 429, code: 'rate_limited' });
    expect(p.pauses).toEqual([1000, 1000]);
    expect(calls).toHaveLength(3);
  });

  it('does not wait when the server asks for longer than the policy allows', async () => {
    const { calls, fetchFn } = scripted([limited('3600')]);
    const p = patient();
    const client = new ApiClient('/api/v1', tokens().source, fetchFn, p.options);
    await expect(client.get('/me', Ok)).rejects.toMatchObject({ status: 429 });
    expect(p.pauses).toEqual([]);
    expect(calls).toHaveLength(1);
  });

  it('backs off exponentially with jitter when a 429 names no pause', async () => {
    const { fetchFn } = scripted([limited(), limited(), limited(), json(200, { ok: true })]);
    const p = patient(1);
    const client = new ApiClient('/api/v1', tokens().source, fetchFn, p.options);
    await client.get('/files', Ok);
    expect(p.pauses).toEqual([1000, 2000, 4000]);
  });

  it('retries a 503 with Retry-After at most twice, and a 503 without one not at all', async () => {
    const unavailable = (retryAfter?: string): Response =>
      new Response(JSON.stringify({ error: 'unavailable', message: 'The service is temporarily unavailable.' }), {
        status: 503,
        headers: { 'content-type': 'application/json', ...(retryAfter === undefined ? {} : { 'retry-after': retryAfter }) },
      });
    const a = scripted([unavailable('5'), unavailable('5'), unavailable('5')]);
    const p = patient(0);
    await expect(new ApiClient('/api/v1', tokens().source, a.fetchFn, p.options).get('/files', Ok)).rejects.toMatchObject({ status: 503, code: 'unavailable' });
    expect(p.pauses).toEqual([5000, 5000]);
    const b = scripted([unavailable()]);
    const q = patient(0);
    await expect(new ApiClient('/api/v1', tokens().source, b.fetchFn, q.options).get('/files', Ok)).rejects.toMatchObject({ status: 503 });
    expect(q.pauses).toEqual([]);
  });

  it('stops waiting when the call is aborted, and sends nothing more', async () => {
    const controller = new AbortController();
    const { calls, fetchFn } = scripted([limited('2'), json(200, { ok: true })]);
    const client = new ApiClient('/api/v1', tokens().source, fetchFn, {
      random: () => 0,
      sleep: (_ms, signal) => {
        controller.abort(new DOMException('cancelled', 'AbortError'));
        return Promise.reject(signal?.reason);
      },
    });
    await expect(client.get('/files', Ok, { signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
    expect(calls).toHaveLength(1);
  });
});
