/**
 * The whole of Sealdrop on one machine, for `npm start` and the end-to-end
 * tests: Azurite (blob storage), the local OpenID Connect provider, the
 * token endpoint and the built app, the last three on ONE plain-http
 * origin, `http://localhost:<port>`, bound to 127.0.0.1 only.
 *
 * One origin and no certificate is the layout PLATFORM-NOTES proves for
 * MSAL: the browser treats `http://localhost` as a secure context, so the
 * service worker and WebCrypto work for a new user who never meets a
 * certificate warning. Plain http is safe only on loopback: never bind this
 * to a network address.
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { startAzurite, prepareStorage, type AzuriteHandle } from './azurite.ts';
import { OIDC_MOUNT, createLocalOidc } from './oidc.ts';
import { createLocalApi } from './local-stack-api.ts';
import { apiHeaders, appHeaders, applyHeaders } from './security-headers.ts';
import { createStaticHandler } from './static.ts';
import { isLoopbackHost, wrongHostMessage } from './loopback-host.ts';
import { loadOrCreateServerSecret } from './server-secret.ts';

/** Loopback only: see the module comment. */
export const LOCAL_HOST = '127.0.0.1';
/** The blob container the app uses. */
export const LOCAL_CONTAINER = 'sealdrop';
/** The API's audience and scope at the local provider (and Entra's app registration). */
export const LOCAL_API_AUDIENCE = 'api://sealdrop';
export const LOCAL_API_SCOPE = 'api://sealdrop/files';

/** What {@link startLocalStack} needs. */
export interface LocalStackOptions {
  /** Port of the app origin (0 = any free port). */
  port: number;
  /** Azurite's port (0 = any free port). */
  azuritePort: number;
  /** Where Azurite's data and the provider's keys live; default `.sealdrop/` in the project. */
  dataDir?: string;
  /** Keep blobs in memory (tests) instead of under `<dataDir>/azurite`. */
  inMemory?: boolean;
  /** Folder of the built app; default `dist/` in the project. */
  distDir?: string;
  /**
   * Test-only: requests per minute per user and per address, overriding
   * SEALDROP_RATE_*. `npm start` never sets it; the rate-limit e2e spec
   * starts its own stack with low limits so it does not slow the shared one.
   */
  rateLimit?: { perUserPerMinute: number; perIpPerMinute: number };
}

/** A running local stack. */
export interface LocalStack {
  /** `http://localhost:<port>/`, the URL to open. */
  url: string;
  /** Azurite's blob endpoint, e.g. `http://127.0.0.1:10000/devstoreaccount1`. */
  blobEndpoint: string;
  /**
   * Azurite's fault controls (kill it as a crash would and keep it down;
   * start it again). Only the end-to-end stack's test-only control port
   * (e2e/support/serve.ts) uses them; `npm start` never exposes them.
   */
  storageFaults: Pick<AzuriteHandle, 'crash' | 'revive'>;
  /** Stops the HTTP server and Azurite; resolves when both are down. */
  stop(): Promise<void>;
}

/** Thrown when a port the stack needs is taken; its message is one plain line. */
export class PortInUseError extends Error {
  /** The port that was taken. */
  readonly port: number;
  constructor(port: number, what: string) {
    super(`Port ${port} on ${LOCAL_HOST} is already in use (${what}).`);
    this.name = 'PortInUseError';
    this.port = port;
  }
}

const projectRoot = resolve(import.meta.dirname, '../..');

/**
 * Starts Azurite, prepares the container and CORS, then serves the provider
 * (`/oidc/*`), the API (`/api/*`), the app's runtime settings
 * (`/config.json`) and the built app (everything else) on
 * `http://localhost:<port>`. Throws {@link PortInUseError} when a port is
 * taken, and a plain one-line error when Azurite or the provider cannot
 * start; nothing is left running when it throws.
 */
export async function startLocalStack(opts: LocalStackOptions): Promise<LocalStack> {
  const dataDir = resolve(opts.dataDir ?? resolve(projectRoot, '.sealdrop'));
  const distDir = resolve(opts.distDir ?? resolve(projectRoot, 'dist'));
  await mkdir(dataDir, { recursive: true });

  // Bind the app port first: it is the one a person is most likely to have
  // taken, and the issuer URL depends on it when it is 0.
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  let ownPort = opts.port;
  const server = createServer((req, res) => {
    if (!isLoopbackHost(req.headers.host, ownPort)) {
      refuseForeignHost(req, res, ownPort);
      return;
    }
    if (handler === undefined) {
      res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8', 'Retry-After': '1' });
      res.end('Sealdrop is starting.\n');
      return;
    }
    handler(req, res);
  });
  const port = await listen(server, opts.port);
  ownPort = port;
  const origin = `http://localhost:${port}`;

  let azurite: AzuriteHandle | undefined;
  try {
    if (opts.inMemory !== true) await mkdir(resolve(dataDir, 'azurite'), { recursive: true });
    azurite = await startAzurite({
      port: opts.azuritePort,
      ...(opts.inMemory === true ? { inMemory: true } : { location: resolve(dataDir, 'azurite') }),
    }).catch((err: unknown) => {
      if (err instanceof Error && err.message.includes('already in use')) {
        throw new PortInUseError(opts.azuritePort, 'Azurite; set SEALDROP_AZURITE_PORT to use another');
      }
      throw err;
    });
    const storage = azurite;
    const prepare = (): Promise<void> =>
      prepareStorage({
        blobEndpoint: storage.blobEndpoint,
        accountName: storage.accountName,
        accountKey: storage.accountKey,
        container: LOCAL_CONTAINER,
        corsOrigins: [origin],
      });
    await prepare();
    // An emulator restarted in memory comes back without container or CORS rules.
    storage.onRestart(prepare);

    const oidc = await createLocalOidc({
      origin,
      keysFile: resolve(dataDir, 'oidc-keys.json'),
      apiAudience: LOCAL_API_AUDIENCE,
      apiScope: LOCAL_API_SCOPE,
    });
    const api = createLocalApi({
      blobEndpoint: azurite.blobEndpoint,
      accountName: azurite.accountName,
      accountKey: azurite.accountKey,
      container: LOCAL_CONTAINER,
      issuer: oidc.issuer,
      // Loopback by address: the API fetches the keys from this very server.
      jwksUri: `http://${LOCAL_HOST}:${port}${OIDC_MOUNT}/jwks`,
      audience: LOCAL_API_AUDIENCE,
      scope: LOCAL_API_SCOPE,
      // Made once in the data folder; keys the key directory's blob names.
      directoryKey: await loadOrCreateServerSecret(dataDir),
    }, opts.rateLimit === undefined ? process.env : {
      ...process.env,
      SEALDROP_RATE_USER_PER_MINUTE: String(opts.rateLimit.perUserPerMinute),
      SEALDROP_RATE_IP_PER_MINUTE: String(opts.rateLimit.perIpPerMinute),
    });

    const blobOrigin = new URL(azurite.blobEndpoint).origin;
    const pageHeaders = appHeaders({ https: false, blobOrigins: [blobOrigin] });
    const bridgeHeaders = appHeaders({ https: false, blobOrigins: [blobOrigin], redirectBridge: true });
    const apiHeaderSet = apiHeaders({ https: false });
    const serveStatic = createStaticHandler(distDir);
    // Filled in once the provider answers its own discovery request below.
    const runtime: { config?: string } = {};

    handler = (req, res) => {
      const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
      if (pathname === OIDC_MOUNT || pathname.startsWith(`${OIDC_MOUNT}/`)) {
        oidc.handle(req, res);
        return;
      }
      if (pathname === '/api' || pathname.startsWith('/api/')) {
        applyHeaders(res, apiHeaderSet);
        api(req, res);
        return;
      }
      if (pathname === '/config.json' && runtime.config !== undefined) {
        sendConfig(req, res, pageHeaders, runtime.config);
        return;
      }
      serveStatic(req, res, (path) => (path === '/redirect.html' ? bridgeHeaders : pageHeaders))
        .then((result) => {
          if (result === 'not-found') {
            applyHeaders(res, pageHeaders);
            res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
            res.end(`Not found. Has the app been built (npm run build)?\n`);
          }
        })
        .catch(() => {
          if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
          res.end();
        });
    };

    // MSAL gets the provider's metadata from configuration and never fetches
    // discovery itself (its authority string must be https: PLATFORM-NOTES).
    const discovery = await fetchLocal(port, `${OIDC_MOUNT}/.well-known/openid-configuration`, `localhost:${port}`);
    runtime.config = JSON.stringify({
      auth: {
        clientId: oidc.clientId,
        authority: `https://localhost:${port}${OIDC_MOUNT}`,
        knownAuthorities: [`localhost:${port}`],
        authorityMetadata: discovery,
        redirectUri: oidc.redirectUri,
        scopes: [LOCAL_API_SCOPE],
      },
      apiBase: '/api/v1',
    });
  } catch (err) {
    await closeServer(server);
    await azurite?.stop();
    throw err;
  }

  const running = azurite;
  if (running === undefined) throw new Error('Azurite did not start.');
  let stopping: Promise<void> | undefined;
  return {
    url: `${origin}/`,
    blobEndpoint: running.blobEndpoint,
    storageFaults: { crash: () => running.crash(), revive: () => running.revive() },
    stop: () => {
      stopping ??= Promise.all([closeServer(server), running.stop()]).then(() => undefined);
      return stopping;
    },
  };
}

/**
 * DNS rebinding (loopback-host.ts): 421 Misdirected Request, as JSON for the
 * API (its clients read `{ error, message }`) and plain text for pages.
 */
function refuseForeignHost(req: IncomingMessage, res: ServerResponse, port: number): void {
  const message = wrongHostMessage('This Sealdrop', port);
  const pathname = (req.url ?? '/').split('?')[0] ?? '/';
  const body =
    pathname === '/api' || pathname.startsWith('/api/')
      ? { type: 'application/json; charset=utf-8', text: JSON.stringify({ error: 'wrong_host', message }) }
      : { type: 'text/plain; charset=utf-8', text: `${message}\n` };
  res.writeHead(421, {
    'Content-Type': body.type,
    'Content-Length': String(Buffer.byteLength(body.text)),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    Connection: 'close',
  });
  res.end(body.text);
}

function sendConfig(req: IncomingMessage, res: ServerResponse, headers: Readonly<Record<string, string>>, body: string): void {
  applyHeaders(res, headers);
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('Method not allowed.\n');
    return;
  }
  res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-cache' });
  res.end(req.method === 'HEAD' ? undefined : body);
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      reject(err.code === 'EADDRINUSE' ? new PortInUseError(port, 'the app; set SEALDROP_PORT to use another') : err);
    };
    server.once('error', onError);
    server.listen({ port, host: LOCAL_HOST }, () => {
      server.removeListener('error', onError);
      const address = server.address();
      if (address === null || typeof address === 'string') {
        reject(new Error('The local server has no TCP address.'));
        return;
      }
      resolvePort(address.port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((done) => {
    if (!server.listening) {
      done();
      return;
    }
    server.close(() => done());
    // Browsers keep connections alive; do not wait for them to go idle.
    server.closeAllConnections();
  });
}

/** GETs a path from our own server on loopback, with the Host the browser uses. */
function fetchLocal(port: number, path: string, host: string): Promise<string> {
  return new Promise((done, fail) => {
    const req = request({ host: LOCAL_HOST, port, path, headers: { host, accept: 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode !== 200) {
          fail(new Error(`The local identity provider did not answer ${path} (HTTP ${res.statusCode ?? 0}).`));
          return;
        }
        done(text);
      });
      res.on('error', fail);
    });
    req.on('error', fail);
    req.end();
  });
}
