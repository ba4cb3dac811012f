import { createServer, request as httpRequest, type Server } from 'node:http';
import { connect } from 'node:net';
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

  it('lets a client that keeps sending an oversize body read the 413 JSON error, with no reset connection', async () => {
    // A raw socket, because Node's own HTTP client stops sending once it has
    // an answer; browsers and other clients go on sending their body.
    const { port } = new URL(base);
    for (const chunked of [false, true]) {
      const before = seen.length;
      const piece = Buffer.alloc(16 * 1024, 7);
      const pieces = 16; // 256 KiB: far over the 1 KiB limit, well under the drain cap
      const frame = (data: Buffer): Buffer => (chunked ? Buffer.concat([Buffer.from(`${data.byteLength.toString(16)}\r\n`), data, Buffer.from('\r\n')]) : data);
      const raw = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(port), '127.0.0.1');
        let received = '';
        let sentRest = false;
        socket.on('data', (chunk: Buffer) => {
          received += chunk.toString('latin1');
          if (sentRest || !received.includes('}')) return;
          // The whole answer is here; now send the rest of the body, as a slow client would.
          sentRest = true;
          for (let i = 1; i < pieces; i++) socket.write(frame(piece));
          socket.end(chunked ? '0\r\n\r\n' : '');
        });
        // ECONNRESET / EPIPE: the server dropped the connection with our body unread.
        socket.on('error', reject);
        socket.on('close', (hadError) => (hadError ? undefined : resolve(received)));
        const length = chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${pieces * piece.byteLength}`;
        socket.write(`POST /api/v1/uploads HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${length}\r\n\r\n`);
        socket.write(frame(piece));
      });
      const [head = '', body = ''] = raw.split('\r\n\r\n');
      expect(head, chunked ? 'chunked' : 'declared length').toMatch(/^HTTP\/1\.1 413 /);
      expect(head.toLowerCase()).toContain('connection: close');
      expect(JSON.parse(body)).toEqual({ error: 'body_too_large', message: 'Request bodies can be at most 1024 bytes.' });
      expect(seen.length).toBe(before);
    }
  });

  it('stops draining and closes once a body runs past the cap', async () => {
    const outcome = await new Promise<string>((resolve) => {
      const req = httpRequest(`${base}/api/v1/uploads`, { method: 'POST', headers: { 'transfer-encoding': 'chunked' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(`answered ${res.statusCode ?? 0}`));
      });
      req.on('error', () => resolve('closed'));
      const piece = Buffer.alloc(64 * 1024);
      // Keep sending, well past limit + OVERSIZE_DRAIN_BYTES, and never end.
      let sent = 0;
      const pump = (): void => {
        while (sent < 4 * 1024 * 1024) {
          sent += piece.byteLength;
          if (!req.write(piece)) {
            req.once('drain', pump);
            return;
          }
        }
      };
      pump();
    });
    // The 413 reaches the client and the server ends the exchange instead of reading forever.
    expect(outcome).toMatch(/^(answered 413|closed)$/);
  });
});

