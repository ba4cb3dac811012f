/**
 * A tiny static file server for the bench page, on 127.0.0.1 only (plain
 * http on loopback is a secure context, so WebCrypto works).
 */
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
};

/** A running static server. */
export interface StaticServer {
  /** e.g. `http://127.0.0.1:17600` */
  origin: string;
  /** Closes the server; resolves once it has stopped. */
  close(): Promise<void>;
}

function listen(server: Server, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const onError = (): void => resolve(false);
    server.once('error', onError);
    server.listen(port, '127.0.0.1', () => {
      server.removeListener('error', onError);
      resolve(true);
    });
  });
}

/**
 * Serves the files under `root` on the first free port of `ports` (inclusive
 * range). Throws when every port in the range is taken.
 */
export async function serveStatic(root: string, ports: { from: number; to: number }): Promise<StaticServer> {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    const file = join(root, path === sep || path === '/' ? 'index.html' : path);
    if (!file.startsWith(root + sep)) {
      res.writeHead(403).end();
      return;
    }
    readFile(file).then(
      (body) => {
        res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', 'Cache-Control': 'no-store' });
        res.end(body);
      },
      () => res.writeHead(404).end(),
    );
  });
  for (let port = ports.from; port <= ports.to; port++) {
    if (await listen(server, port)) {
      return {
        origin: `http://127.0.0.1:${port}`,
        close: () => new Promise<void>((resolve) => server.close(() => resolve())),
      };
    }
  }
  throw new Error(`No free port for the bench page between ${ports.from} and ${ports.to}.`);
}
