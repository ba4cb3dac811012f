/**
 * Runs the API behind Node's `http` server: reads the body (refusing more
 * than the limit), builds an {@link ApiRequest} and writes the response.
 *
 * An `@azure/functions` v4 adapter is equally thin (the package is not a
 * dependency of this project, so it is only sketched here):
 *
 *   app.http('api', { route: 'v1/{*rest}', methods: ['GET','POST','OPTIONS'], authLevel: 'anonymous',
 *     handler: async (req) => {
 *       const body = new Uint8Array(await req.arrayBuffer());   // the host enforces its own size cap too
 *       const u = new URL(req.url);
 *       const res = await api.handle({ method: req.method, url: u.pathname + u.search,
 *         headers: Object.fromEntries(req.headers), body,
 *         remoteAddress: req.headers.get('x-forwarded-for')?.split(',').at(-1)?.trim() ?? 'unknown',
 *         secure: u.protocol === 'https:' });
 *       return { status: res.status, headers: res.headers, body: res.body };
 *     } });
 *
 * (Functions mounts routes under `/api` by default, so `v1/{*rest}` gives
 * `/api/v1/...` as the API expects.)
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError } from './api-error.ts';
import type { Api, ApiRequest, ApiResponse } from './api-types.ts';
import { errorResponse } from './app.ts';

function headerRecord(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function clientAddress(req: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    // The last entry is the one our own proxy appended; earlier ones are the client's say-so.
    const forwarded = req.headers['x-forwarded-for'];
    const last = (Array.isArray(forwarded) ? forwarded.join(',') : (forwarded ?? '')).split(',').at(-1)?.trim();
    if (last !== undefined && last !== '') return last;
  }
  return req.socket.remoteAddress ?? 'unknown';
}

function isSecure(req: IncomingMessage, trustProxy: boolean): boolean {
  if ('encrypted' in req.socket && req.socket.encrypted === true) return true;
  return trustProxy && req.headers['x-forwarded-proto'] === 'https';
}

function send(res: ServerResponse, response: ApiResponse, close = false): void {
  const body = typeof response.body === 'string' ? Buffer.from(response.body, 'utf8') : response.body;
  res.writeHead(response.status, {
    ...response.headers,
    'content-length': String(body.byteLength),
    ...(close ? { connection: 'close' } : {}),
  });
  res.end(body);
}

/**
 * How much of an oversize body we read and throw away after answering 413,
 * beyond the limit itself. Closing a connection while the client is still
 * sending makes the client's kernel see a reset, and the client then reports
 * EPIPE or ECONNRESET instead of our answer; draining lets it read the 413.
 * Past this cap we stop paying for someone else's upload and close anyway.
 */
export const OVERSIZE_DRAIN_BYTES = 1024 * 1024;

/**
 * Answers 413 at once (head and body written, `Connection: close`) but
 * keeps the connection open while the rest of the request body arrives, reading
 * and discarding it; ends the response when the body has ended, or closes the
 * connection when more than {@link OVERSIZE_DRAIN_BYTES} beyond the limit
 * arrive.
 */
function refuseOversize(req: IncomingMessage, res: ServerResponse, response: ApiResponse, maxBodyBytes: number, alreadyRead: number): void {
  const body = typeof response.body === 'string' ? Buffer.from(response.body, 'utf8') : response.body;
  res.writeHead(response.status, { ...response.headers, 'content-length': String(body.byteLength), connection: 'close' });
  // The whole answer goes out now; `end()` waits for the body to drain,
  // because ending closes the socket (Connection: close).
  res.write(body);
  let discarded = alreadyRead;
  const cap = maxBodyBytes + OVERSIZE_DRAIN_BYTES;
  const finish = (): void => {
    if (!res.writableEnded) res.end();
  };
  req.removeAllListeners('data');
  req.removeAllListeners('end');
  req.on('data', (chunk: Buffer) => {
    discarded += chunk.byteLength;
    if (discarded > cap) {
      req.removeAllListeners('data');
      // Give the answer a moment to leave before the socket goes.
      res.once('finish', () => setTimeout(() => req.destroy(), 100).unref());
      finish();
    }
  });
  req.once('end', finish);
  req.resume();
}

/**
 * Returns a Node request listener for `api`. A body over `maxBodyBytes`
 * (declared or counted) gets a 413 JSON error at once, without handing the
 * request on; the rest of the body is read and thrown away up to
 * {@link OVERSIZE_DRAIN_BYTES} more, so the client reads the answer instead
 * of a reset connection, and the connection is then closed.
 */
export function toNodeHandler(api: Api, opts: { maxBodyBytes: number; trustProxy?: boolean }): (req: IncomingMessage, res: ServerResponse) => void {
  const trustProxy = opts.trustProxy === true;
  return (req, res) => {
    const secure = isSecure(req, trustProxy);
    const tooLarge = (alreadyRead: number): void => {
      refuseOversize(
        req,
        res,
        errorResponse(new ApiError(413, 'body_too_large', `Request bodies can be at most ${opts.maxBodyBytes} bytes.`), secure),
        opts.maxBodyBytes,
        alreadyRead,
      );
    };

    const declared = Number(req.headers['content-length'] ?? '0');
    if (Number.isFinite(declared) && declared > opts.maxBodyBytes) {
      tooLarge(0);
      return;
    }

    const chunks: Buffer[] = [];
    let received = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      received += chunk.byteLength;
      if (received > opts.maxBodyBytes) {
        refused = true;
        tooLarge(received);
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', () => {
      refused = true;
      res.destroy();
    });
    req.on('end', () => {
      if (refused) return;
      const request: ApiRequest = {
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        headers: headerRecord(req),
        body: new Uint8Array(Buffer.concat(chunks)),
        remoteAddress: clientAddress(req, trustProxy),
        secure,
      };
      void api.handle(request).then((response) => send(res, response));
    });
  };
}
