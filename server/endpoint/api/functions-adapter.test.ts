/**
 * The Azure Functions adapter on its own: handlers invoked directly with
 * `HttpRequest` objects, as the Functions host would (Core Tools cannot be
 * installed here). The route tests run through it as well, in the vitest
 * project `server-via-functions` (see test-support/adapters.ts).
 */
import functions, { type HttpHandler, type HttpResponseInit } from '@azure/functions';
import { describe, expect, it } from 'vitest';
import type { Api, ApiRequest } from './api-types.ts';
import { FUNCTION_ROUTE, functionsClientAddress, registerApi, toFunctionsHandler, type FunctionsHost } from './functions-adapter.ts';

const seen: ApiRequest[] = [];
const echo: Api = {
  handle(req) {
    seen.push(req);
    return Promise.resolve({ status: 201, headers: { 'content-type': 'application/json; charset=utf-8', 'x-test': 'yes' }, body: JSON.stringify({ bytes: req.body.byteLength }) });
  },
};

async function invoke(handler: HttpHandler, init: ConstructorParameters<typeof functions.HttpRequest>[0]): Promise<HttpResponseInit> {
  return (await handler(new functions.HttpRequest(init), new functions.InvocationContext({ functionName: 'api' }))) as HttpResponseInit;
}

describe('Functions adapter', () => {
  it('registers one anonymous function answering every /api/v1 path with GET, POST and OPTIONS', () => {
    const registered: Parameters<FunctionsHost['http']>[] = [];
    registerApi({ http: (...args) => registered.push(args) }, echo, { maxBodyBytes: 1024 });
    expect(registered).toHaveLength(1);
    const [name, options] = registered[0] ?? [];
    expect(name).toBe('api');
    expect(options).toMatchObject({ route: 'v1/{*rest}', methods: ['GET', 'POST', 'OPTIONS'], authLevel: 'anonymous' });
    expect(FUNCTION_ROUTE).toBe('v1/{*rest}');
  });

  it('passes method, path with query, lowercased headers, body, the front end’s address and HTTPS through, and returns the answer', async () => {
    const handler = toFunctionsHandler(echo, { maxBodyBytes: 1024 });
    const res = await invoke(handler, {
      method: 'POST',
      url: 'https://sealdrop-api.azurewebsites.net/api/v1/files/%41b/read?x=1',
      headers: { 'X-Sealdrop-Token': 'abc', 'X-Forwarded-For': '198.51.100.7, 203.0.113.9:51234', 'content-type': 'application/json' },
      body: { bytes: new Uint8Array(1024) },
    });
    expect(res.status).toBe(201);
    expect(res.headers).toMatchObject({ 'x-test': 'yes' });
    expect(JSON.parse(String(res.body))).toEqual({ bytes: 1024 });
    const req = seen.at(-1);
    expect(req?.method).toBe('POST');
    expect(req?.url).toBe('/api/v1/files/%41b/read?x=1');
    expect(req?.headers['x-sealdrop-token']).toBe('abc');
    expect(req?.headers['content-type']).toBe('application/json');
    // The last entry is what the front end saw; the first is the client's say-so.
    expect(req?.remoteAddress).toBe('203.0.113.9');
    expect(req?.secure).toBe(true);
  });

  it('answers 413 from the declared length or the counted body without handing the request on', async () => {
    const handler = toFunctionsHandler(echo, { maxBodyBytes: 1024 });
    const before = seen.length;
    for (const init of [
      { method: 'POST', url: 'http://h/api/v1/uploads', headers: { 'content-length': '999999' } },
      { method: 'POST', url: 'http://h/api/v1/uploads', body: { bytes: new Uint8Array(1025) } },
    ]) {
      const res = await invoke(handler, init);
      expect(res.status).toBe(413);
      expect(JSON.parse(String(res.body))).toEqual({ error: 'body_too_large', message: 'Request bodies can be at most 1024 bytes.' });
      expect(res.headers).toMatchObject({ 'cache-control': 'no-store' });
      expect(res.headers).not.toHaveProperty('strict-transport-security');
    }
    expect(seen.length).toBe(before);
  });

  it('hands a request with no body on as an empty body, over plain http as not secure', async () => {
    const handler = toFunctionsHandler(echo, { maxBodyBytes: 1024 });
    await invoke(handler, { method: 'GET', url: 'http://localhost:7071/api/v1/health' });
    expect(seen.at(-1)).toMatchObject({ method: 'GET', url: '/api/v1/health', secure: false, remoteAddress: 'unknown' });
    expect(seen.at(-1)?.body.byteLength).toBe(0);
  });
});

describe('the client address behind the Functions front end', () => {
  it.each([
    ['203.0.113.9:51234', '203.0.113.9'],
    ['203.0.113.9', '203.0.113.9'],
    ['10.0.0.1, 203.0.113.9:1', '203.0.113.9'],
    ['[2001:db8::1]:443', '2001:db8::1'],
    ['2001:db8::1', '2001:db8::1'],
    ['', 'unknown'],
    // Not an address: never from the front end, so no caller-chosen bucket.
    ['203.0.113.9, not-an-address', 'unknown'],
    ['alice:1', 'unknown'],
    ['[not:an:address]:1', 'unknown'],
    ['203.0.113.9:51234, 999.1.1.1', 'unknown'],
  ])('%j → %s', (header, expected) => {
    expect(functionsClientAddress(header)).toBe(expected);
  });

  it('is unknown when the header is missing', () => {
    expect(functionsClientAddress(null)).toBe('unknown');
  });
});
