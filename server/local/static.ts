/**
 * Serves the built app (`dist/`) for the local stack: correct content types,
 * long immutable caching for Vite's hashed `/assets/*`, revalidation for
 * HTML and the service worker, the SPA fallback to `index.html` for page
 * URLs that are not files, and the brotli or gzip copy made at build time
 * (server/local/precompress.ts) when the browser accepts it.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { COMPRESSIBLE, PRECOMPRESSED } from './precompress.ts';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.wasm': 'application/wasm',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

/** How one response is to be cached. */
function cacheControl(urlPath: string, ext: string): string {
  if (urlPath.startsWith('/assets/')) return 'public, max-age=31536000, immutable';
  // HTML, the service worker and its manifest must be re-checked on every
  // load, or a new version never reaches the user.
  if (ext === '.html' || urlPath === '/sw.js' || ext === '.webmanifest') return 'no-cache';
  return 'public, max-age=3600';
}

/** The encodings `accept-encoding` allows (a `q=0` refuses one; `*` is not honoured: only what is named). */
function acceptedEncodings(header: string | string[] | undefined): Set<string> {
  const accepted = new Set<string>();
  for (const part of (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',')) {
    const [name = '', ...params] = part.trim().toLowerCase().split(';');
    const refused = params.some((p) => /^\s*q\s*=\s*0(\.0*)?\s*$/.test(p));
    if (name !== '' && !refused) accepted.add(name);
  }
  return accepted;
}

/** What the static handler tells its caller about a request. */
export type StaticResult = 'served' | 'not-found';

/** A request handler for the built app; see {@link createStaticHandler}. */
export type StaticHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  headersFor: (urlPath: string) => Readonly<Record<string, string>>,
) => Promise<StaticResult>;

/**
 * Returns a handler that serves files under `root`. GET and HEAD only (others
 * get 405). A path with no file extension that is not a file falls back to
 * `index.html` (client-side routes); a missing asset gives `'not-found'` and
 * writes nothing, so the caller answers 404. `headersFor(path)` adds the
 * security headers for the file actually served. Never serves outside
 * `root` (`..`, encoded or not, and NUL bytes are refused with 400).
 */
export function createStaticHandler(root: string): StaticHandler {
  const base = resolve(root);
  return async (req, res, headersFor) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('Method not allowed.\n');
      return 'served';
    }
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    let decoded: string;
    try {
      decoded = decodeURIComponent(pathname);
    } catch {
      decoded = '\0';
    }
    if (decoded.includes('\0') || decoded.split('/').includes('..')) {
      res.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('Bad request.\n');
      return 'served';
    }
    let urlPath = decoded.endsWith('/') ? `${decoded}index.html` : decoded;
    let file = resolve(base, `.${urlPath}`);
    if (file !== base && !file.startsWith(base + sep)) return 'not-found';

    let info = await stat(file).catch(() => undefined);
    if (info?.isDirectory() === true) {
      urlPath = `${urlPath}/index.html`;
      file = resolve(file, 'index.html');
      info = await stat(file).catch(() => undefined);
    }
    if (info === undefined || !info.isFile()) {
      if (extname(urlPath) !== '') return 'not-found';
      urlPath = '/index.html';
      file = resolve(base, 'index.html');
      info = await stat(file).catch(() => undefined);
      if (info === undefined || !info.isFile()) return 'not-found';
    }

    const ext = extname(file).toLowerCase();
    // The build's compressed copy the browser accepts, brotli first (server/local/precompress.ts).
    let encoding: string | null = null;
    if (COMPRESSIBLE.has(ext)) {
      const accepted = acceptedEncodings(req.headers['accept-encoding']);
      for (const candidate of PRECOMPRESSED) {
        if (!accepted.has(candidate.encoding)) continue;
        const copy = await stat(`${file}${candidate.suffix}`).catch(() => undefined);
        if (copy?.isFile() !== true) continue;
        encoding = candidate.encoding;
        file = `${file}${candidate.suffix}`;
        info = copy;
        break;
      }
    }
    const etag = `W/"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}${encoding === null ? '' : `-${encoding}`}"`;
    const headers: Record<string, string> = {
      ...headersFor(urlPath),
      'Content-Type': CONTENT_TYPES[ext] ?? 'application/octet-stream',
      'Cache-Control': cacheControl(urlPath, ext),
      ETag: etag,
      // Caches must keep the compressed and plain answers apart.
      ...(COMPRESSIBLE.has(ext) ? { Vary: 'Accept-Encoding' } : {}),
      ...(encoding === null ? {} : { 'Content-Encoding': encoding }),
    };
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, headers);
      res.end();
      return 'served';
    }
    res.writeHead(200, { ...headers, 'Content-Length': String(info.size) });
    if (req.method === 'HEAD') {
      res.end();
      return 'served';
    }
    await pipeline(createReadStream(file), res);
    return 'served';
  };
}
