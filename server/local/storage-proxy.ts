/**
 * A thin filtering reverse proxy in front of Azurite: the storage port the
 * browser, the bench and the tests talk to. It refuses every request that
 * asks storage to copy, and every request whose `Host` is not this loopback
 * port; everything else streams through untouched.
 *
 * Why: Azurite honours `x-ms-copy-source` on a SAS-authorised `PUT` and
 * copies any blob of the account into the caller's blob without checking
 * any authorisation for the source (PLATFORM-NOTES). With a one-blob upload
 * grant, user B could copy user A's recovery blob into B's own blob and read
 * it. Sealdrop never asks storage to copy, so the local stack refuses the
 * whole family. What real Azure does is in docs/THREAT-MODEL.md §3.4.
 *
 * Local stack only: in Azure the browser talks to the storage account
 * directly and nothing sits in between.
 */
import { Agent, createServer, request, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { pipeline } from 'node:stream';
import { isLoopbackHost, wrongHostMessage } from './loopback-host.ts';

/**
 * Request headers that make storage read from a source: Copy Blob, Copy Blob
 * From URL, Put Blob From URL, Put Block From URL, Append Block From URL,
 * Put Page From URL and Abort Copy Blob all carry one of these prefixes
 * (`x-ms-copy-source`, `x-ms-copy-source-authorization`,
 * `x-ms-copy-source-tag-option`, `x-ms-copy-action`,
 * `x-ms-source-if-match`, `x-ms-source-range`, `x-ms-source-content-md5`…).
 * A prefix rather than a list, so a header the service adds later is
 * refused too.
 */
const COPY_HEADER_PREFIXES = ['x-ms-copy-', 'x-ms-source-'] as const;

/**
 * `comp=` values refused whatever the headers say: the copy operations, and
 * `batch`, whose sub-requests (with their own headers) travel inside the
 * body, where a streaming proxy cannot check them without buffering.
 */
const REFUSED_COMP = new Set(['copy', 'incrementalcopy', 'batch']);

/** Hop-by-hop headers (RFC 9110 §7.6.1): never forwarded either way. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  // Node already answered `100 Continue` to our client; the upstream leg
  // needs no second handshake.
  'expect',
]);

/**
 * Returns why the request asks storage to copy, or `undefined` when it does
 * not. `headers` as Node gives them (names lowercased, so any spelling of
 * `X-Ms-Copy-Source` is caught); `url` is the request target.
 */
export function copyRequestReason(url: string, headers: IncomingHttpHeaders): string | undefined {
  for (const name of Object.keys(headers)) {
    const lower = name.toLowerCase();
    if (COPY_HEADER_PREFIXES.some((prefix) => lower.startsWith(prefix))) return `it carries the ${lower} header`;
  }
  const query = url.indexOf('?');
  if (query !== -1) {
    for (const [key, value] of new URLSearchParams(url.slice(query + 1))) {
      if (key.toLowerCase() === 'comp' && REFUSED_COMP.has(value.toLowerCase())) return `it asks for comp=${value}`;
    }
  }
  return undefined;
}

/** A running proxy. */
export interface StorageProxy {
  /** The port the proxy listens on (127.0.0.1). */
  port: number;
  /** Points the proxy at another upstream port (Azurite restarted on a new port). */
  setUpstreamPort(port: number): void;
  /** Stops listening, drops open connections; resolves when closed. */
  stop(): Promise<void>;
}

/** Thrown by {@link startStorageProxy} when the port is taken. */
export class StoragePortInUseError extends Error {
  readonly port: number;
  constructor(port: number) {
    super(`port ${port} on 127.0.0.1 is already in use.`);
    this.name = 'StoragePortInUseError';
    this.port = port;
  }
}

const XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>';

/**
 * Answers in storage's own error shape (XML body and `x-ms-error-code`), so
 * the browser's storage client maps it like any refusal (403 → `forbidden`),
 * with CORS headers for the requesting origin so a browser can read it. The
 * body says nothing secret, so echoing any origin is harmless.
 */
function refuse(req: IncomingMessage, res: ServerResponse, status: number, code: string, message: string): void {
  const body = `${XML_DECLARATION}<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
  const headers: Record<string, string> = {
    'content-type': 'application/xml',
    'content-length': String(Buffer.byteLength(body)),
    'x-ms-error-code': code,
    'cache-control': 'no-store',
  };
  const origin = req.headers.origin;
  if (origin !== undefined) {
    headers['access-control-allow-origin'] = origin;
    headers['access-control-expose-headers'] = 'x-ms-error-code, content-type, content-length, etag';
    headers.vary = 'Origin';
  }
  res.writeHead(status, headers);
  res.end(body);
  // The body the client may still be sending is not wanted; Node drains it
  // before reusing the connection.
}

function forwardableHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name)) continue;
    out[name] = value;
  }
  return out;
}

/**
 * Starts the proxy on `127.0.0.1:<port>` (0 = any free port), forwarding to
 * `127.0.0.1:<upstreamPort>`. Bodies stream both ways without buffering;
 * Node's pipes carry backpressure, and a client that goes away aborts the
 * upstream request (and the other way round). Rejects with
 * {@link StoragePortInUseError} when the port is taken.
 */
export async function startStorageProxy(opts: { port: number; upstreamPort: number }): Promise<StorageProxy> {
  let upstreamPort = opts.upstreamPort;
  let ownPort = opts.port;
  // Keep connections to Azurite open between requests (no handshake per
  // block), but drop idle ones well before Azurite's own 5 s keep-alive
  // timeout, so a request never lands on a socket Azurite is closing.
  const agent = new Agent({ keepAlive: true, maxSockets: Infinity, timeout: 2_000 });

  // requestTimeout 0: with Node's default (and the connection checker that
  // enforces it), long keep-alive connections carrying big uploads were cut
  // mid-body on this loaded 2-core machine (EPIPE at the client), also with
  // a bare Node server and no proxy. Loopback only, so there is no slow
  // client to defend against.
  const server: Server = createServer({ requestTimeout: 0 }, (req, res) => {
    if (!isLoopbackHost(req.headers.host, ownPort)) {
      // DNS rebinding: a page on evil.example that resolves to 127.0.0.1
      // reaches this port with its own name in Host. No CORS headers.
      res.writeHead(421, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
      res.end(`${wrongHostMessage('This storage emulator', ownPort)}\n`);
      return;
    }
    const reason = copyRequestReason(req.url ?? '/', req.headers);
    if (reason !== undefined) {
      refuse(req, res, 403, 'CopyNotAllowed', `Sealdrop's storage copies nothing: this request was refused because ${reason}.`);
      return;
    }

    const upstream = request({
      host: '127.0.0.1',
      port: upstreamPort,
      method: req.method,
      path: req.url,
      headers: forwardableHeaders(req.headers),
      agent,
    });
    upstream.on('response', (upRes) => {
      const headers = forwardableHeaders(upRes.headers);
      res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, headers);
      pipeline(upRes, res, (err) => {
        if (err !== undefined && err !== null) upstream.destroy();
      });
    });
    upstream.on('error', () => {
      if (!res.headersSent) {
        refuse(req, res, 502, 'StorageUnavailable', 'The storage emulator did not answer. Try again in a moment.');
      } else {
        res.destroy();
      }
    });
    // The client went away before the answer was complete: stop Azurite's side too.
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    pipeline(req, upstream, (err) => {
      if (err !== undefined && err !== null) upstream.destroy();
    });
  });

  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  ownPort = await new Promise<number>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      reject(err.code === 'EADDRINUSE' ? new StoragePortInUseError(opts.port) : err);
    };
    server.once('error', onError);
    server.listen({ port: opts.port, host: '127.0.0.1' }, () => {
      server.removeListener('error', onError);
      const address = server.address();
      if (address === null || typeof address === 'string') {
        reject(new Error('The storage proxy has no TCP address.'));
        return;
      }
      resolve(address.port);
    });
  });

  let stopping: Promise<void> | undefined;
  return {
    port: ownPort,
    setUpstreamPort(port) {
      upstreamPort = port;
    },
    stop() {
      stopping ??= new Promise<void>((done) => {
        server.close(() => done());
        for (const socket of sockets) socket.destroy();
        agent.destroy();
      });
      return stopping;
    },
  };
}
