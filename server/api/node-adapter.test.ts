import { createServer, request as httpRequest, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Api, ApiRequest } from './api-types.ts';
import { toNodeHandler } from './node-adapter.ts';

const seen: ApiRequest[] = [];
const echo: Api = {
  handle(req) {
    seen.push(req);
    return Promise.resolve({ status: 200, headers: { 'content-type': 'application/json; charset=utf-8', 'x-test': 'yes' }, body: JSON.stringify({ bytes: req.body.byteLength }) });
  },
};

let server: Server;
let base: string;
beforeAll(async () => {
  server = createServer(toNodeHandler(echo, { maxBodyBytes: 1024 }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('server has no port');
  base = `http://127.0.0.1:${address.port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('Node adapter', () => {
  it('passes method, raw path, lowercased headers, body and address through, and writes the answer', async () => {
    const res = await fetch(`${base}/api/v1/files/%41b/read?x=1`, { method: 'POST', headers: { 'X-Sealdrop-Token': 'abc' }, body: new Blob([new Uint8Array(1024)]) });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-test')).toBe('yes');
    expect(await res.json()).toEqual({ bytes: 1024 });
    const req = seen.at(-1);
    expect(req?.method).toBe('POST');
    expect(req?.url).toBe('/api/v1/files/%41b/read?x=1');
    expect(req?.headers['x-sealdrop-token']).toBe('abc');
    expect(req?.remoteAddress).toBe('127.0.0.1');
    expect(req?.secure).toBe(false);
  });

  it('answers 413 from the declared length without handing the request on', async () => {
    const before = seen.length;
    const res = await fetch(`${base}/api/v1/uploads`, { method: 'POST', body: new Blob([new Uint8Array(64 * 1024)]) });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: 'body_too_large' });
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(seen.length).toBe(before);
  });

  it('answers 413 to a streamed body as soon as it passes the limit', async () => {
    const before = seen.length;
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${base}/api/v1/uploads`, { method: 'POST', headers: { 'transfer-encoding': 'chunked' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.write(new Uint8Array(800));
      req.write(new Uint8Array(800));
      // Never ends: the server must answer without waiting for the rest.
    });
    expect(status).toBe(413);
    expect(seen.length).toBe(before);
  });
});
