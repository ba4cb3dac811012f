/**
 * Runs an injected request through one of the endpoint's hosts, so the same
 * route tests exercise both adapters: `SEALDROP_TEST_ADAPTER=functions`
 * sends each request through the Azure Functions handler (as an
 * `HttpRequest`, the way the Functions host calls it; Core Tools cannot be
 * installed here), `node` through the Node `http` adapter on a loopback
 * socket, and `direct` (the default) straight into `Api.handle`. The
 * vitest projects `server-via-functions` and `server-via-node` set it.
 */
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import functions, { type HttpResponseInit } from '@azure/functions';
import type { Api, ApiRequest, ApiResponse } from '../endpoint/api/api-types.ts';
import { toFunctionsHandler } from '../endpoint/api/functions-adapter.ts';
import { toNodeHandler } from '../endpoint/api/node-adapter.ts';

/** Where {@link handleVia} sends a request. */
export type TestAdapter = 'direct' | 'node' | 'functions';

/** The adapter chosen by SEALDROP_TEST_ADAPTER (default `direct`); throws on an unknown name. */
export function testAdapterFromEnv(env: NodeJS.ProcessEnv = process.env): TestAdapter {
  const name = env.SEALDROP_TEST_ADAPTER ?? 'direct';
  if (name === 'direct' || name === 'node' || name === 'functions') return name;
  throw new Error(`SEALDROP_TEST_ADAPTER must be direct, node or functions (it is "${name}").`);
}

/** The hosts' own body cap in these tests: far above every API's limit, so the API's own 413 is what tests see. */
const ADAPTER_BODY_LIMIT = 64 * 1024 * 1024;

async function viaFunctions(api: Api, request: ApiRequest): Promise<ApiResponse> {
  const handler = toFunctionsHandler(api, { maxBodyBytes: ADAPTER_BODY_LIMIT });
  const req = new functions.HttpRequest({
    method: request.method,
    url: `${request.secure === true ? 'https' : 'http'}://sealdrop-test.azurewebsites.net${request.url}`,
    // The front end appends the caller's address and port, as in Azure.
    headers: { ...request.headers, 'x-forwarded-for': `${request.remoteAddress}:50123` },
    ...(request.body.byteLength === 0 ? {} : { body: { bytes: request.body } }),
  });
  const init = (await handler(req, new functions.InvocationContext({ functionName: 'api' }))) as HttpResponseInit;
  const headers: Record<string, string> = {};
  for (const [name, value] of new Headers(init.headers as Record<string, string> | undefined)) headers[name] = value;
  const body = init.body;
  if (body !== undefined && typeof body !== 'string' && !(body instanceof Uint8Array)) throw new Error('The Functions adapter answered a body that is neither text nor bytes.');
  return { status: init.status ?? 200, headers, body: body ?? '' };
}

const nodeServers = new WeakMap<Api, Promise<string>>();

/** A loopback server running `api` behind the Node adapter (one per API, closed when the test process ends). */
function nodeServerFor(api: Api): Promise<string> {
  let base = nodeServers.get(api);
  if (base === undefined) {
    const server: Server = createServer(toNodeHandler(api, { maxBodyBytes: ADAPTER_BODY_LIMIT, trustProxy: true }));
    base = new Promise<string>((resolve) => {
      server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
    });
    server.unref();
    nodeServers.set(api, base);
  }
  return base;
}

/** Sends one request with Node's client, which (unlike `fetch`) sends the path exactly as given, `..` included. */
async function viaNode(api: Api, request: ApiRequest): Promise<ApiResponse> {
  const base = await nodeServerFor(api);
  // The adapter trusts the proxy headers here, as behind a reverse proxy.
  const headers: Record<string, string> = {
    ...request.headers,
    'x-forwarded-for': request.remoteAddress,
    ...(request.secure === true ? { 'x-forwarded-proto': 'https' } : {}),
    'content-length': String(request.body.byteLength),
  };
  // Characters outside printable ASCII cannot go on the request line: a real client percent-encodes them.
  const path = request.url.replace(/[^\x21-\x7e]/gu, (c) => encodeURIComponent(c));
  return new Promise<ApiResponse>((resolve, reject) => {
    const req = httpRequest(`${base}${path}`, { method: request.method, headers, path }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const out: Record<string, string> = {};
        // Connection-level headers come from Node's server, not from the API.
        for (const [name, value] of Object.entries(res.headers)) {
          if (value === undefined || ['connection', 'keep-alive', 'date', 'content-length', 'transfer-encoding'].includes(name)) continue;
          out[name] = Array.isArray(value) ? value.join(', ') : value;
        }
        resolve({ status: res.statusCode ?? 0, headers: out, body: new Uint8Array(Buffer.concat(chunks)) });
      });
    });
    req.on('error', reject);
    req.end(request.body);
  });
}

/** Sends `request` to `api` through `adapter`; resolves the answer as the API's own shape. */
export function handleVia(adapter: TestAdapter, api: Api, request: ApiRequest): Promise<ApiResponse> {
  if (adapter === 'functions') return viaFunctions(api, request);
  if (adapter === 'node') return viaNode(api, request);
  return api.handle(request);
}
