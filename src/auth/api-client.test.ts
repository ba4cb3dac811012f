import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ApiClient, ApiError, OfflineError, SessionExpiredError, UnexpectedResponseError, type TokenSource } from './api-client.ts';

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

  it('gives a generic ApiError for a non-JSON 5xx', async () => {
    const { fetchFn } = scripted([new Response('<html>boom</html>', { status: 502 })]);
    const client = new ApiClient('/api/v1', tokens().source, fetchFn);
    await expect(client.get('/files', Ok)).rejects.toMatchObject({ status: 502, code: 'http_502' });
  });

  it('throws OfflineError when the network fails', async () => {
    const { fetchFn } = scripted([new TypeError('Failed to fetch')]);
    const client = new ApiClient('/api/v1', tokens().source, fetchFn);
    await expect(client.get('/files', Ok)).rejects.toBeInstanceOf(OfflineError);
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
