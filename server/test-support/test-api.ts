/**
 * Builds the API for tests: a real Azurite (started by the caller's
 * beforeAll), the shared-key signer, a local issuer, recorded audit lines and
 * a controllable clock. Requests are injected with {@link call}, no socket.
 */
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { ACCOUNT_ROUTES, API_PREFIX, errorBody, PEOPLE_ROUTES, REQUEST_ROUTES, ROTATION_ROUTES, ROUTES, SHARE_ROUTES, type RouteContract } from '../../src/contract/index.ts';
import { prepareStorage, type AzuriteHandle } from '../local/azurite.ts';
import type { AuditEntry } from '../endpoint/audit-log.ts';
import type { Api, ApiResponse } from '../endpoint/api/api-types.ts';
import { createApi, type ApiDeps } from '../endpoint/api/app.ts';
import { tokenBucketLimiter } from '../endpoint/rate-limit.ts';
import { containerBlobStore } from '../endpoint/storage/blob-store.ts';
import { sasProtocolFor, sharedKeySasSigner } from '../endpoint/storage/sas-signer.ts';
import { testVerifier, type TestIssuer } from './test-issuer.ts';
import { handleVia, testAdapterFromEnv } from './adapters.ts';

/** The API under test and what it recorded. */
export interface TestApi {
  api: Api;
  audit: AuditEntry[];
  errors: string[];
  /** Shifts the API's clock (not Azurite's) by this many ms. */
  clock: { offsetMs: number };
}

/** The fixed directory key of the tests (a deployment's comes from SEALDROP_DIRECTORY_KEY). */
export const TEST_DIRECTORY_KEY: Uint8Array = new Uint8Array(32).fill(0x2a);

/** Creates the container (CORS for a test origin) and returns an API bound to it. */
export async function createTestApi(
  azurite: AzuriteHandle,
  issuer: TestIssuer,
  opts: { container: string; overrides?: Partial<ApiDeps> },
): Promise<TestApi> {
  await prepareStorage({ ...azurite, container: opts.container, corsOrigins: ['http://127.0.0.1:17101'] });
  const service = new BlobServiceClient(azurite.blobEndpoint, new StorageSharedKeyCredential(azurite.accountName, azurite.accountKey));
  const audit: AuditEntry[] = [];
  const errors: string[] = [];
  const clock = { offsetMs: 0 };
  const api = createApi({
    verifyToken: testVerifier(issuer.keys),
    signer: sharedKeySasSigner({
      container: opts.container,
      accountName: azurite.accountName,
      accountKey: azurite.accountKey,
      protocol: sasProtocolFor(azurite.blobEndpoint),
    }),
    store: containerBlobStore(service.getContainerClient(opts.container)),
    blobEndpoint: azurite.blobEndpoint,
    container: opts.container,
    sasMinutes: 15,
    maxFileBytes: 1024 ** 3,
    maxManifestBytes: 1024 * 1024,
    maxBodyBytes: 16 * 1024,
    directoryKey: TEST_DIRECTORY_KEY,
    userLimiter: tokenBucketLimiter({ perMinute: 10_000 }),
    ipLimiter: tokenBucketLimiter({ perMinute: 10_000 }),
    audit: (e) => audit.push(e),
    logError: (line) => errors.push(line),
    now: () => new Date(Date.now() + clock.offsetMs),
    ...opts.overrides,
  });
  return { api, audit, errors, clock };
}

/** Options of one injected request. */
export interface CallOptions {
  token?: string;
  /** Send the token in X-Sealdrop-Token instead of Authorization. */
  customHeader?: boolean;
  json?: unknown;
  body?: Uint8Array;
  headers?: Record<string, string>;
  ip?: string;
}

/** The contract route `method` + `url` names, or null for an unknown address. */
function contractRoute(method: string, url: string): RouteContract | null {
  const path = url.split('?')[0] ?? '';
  if (!path.startsWith(`${API_PREFIX}/`)) return null;
  const segments = path.slice(API_PREFIX.length).split('/');
  for (const route of [...Object.values(ROUTES), ...Object.values(SHARE_ROUTES), ...Object.values(PEOPLE_ROUTES), ...Object.values(ACCOUNT_ROUTES), ...Object.values(REQUEST_ROUTES), ...Object.values(ROTATION_ROUTES)] as RouteContract[]) {
    const pattern = route.path.split('/');
    if (route.method !== method.toUpperCase() || pattern.length !== segments.length) continue;
    if (pattern.every((p, i) => p.startsWith(':') || p === segments[i])) return route;
  }
  return null;
}

/**
 * Checks an answer against the wire contract: a success must have its
 * route's status and match its response schema (strictly: no extra field),
 * a failure must be the contract's error body. Throws naming the mismatch.
 */
export function assertContract(method: string, url: string, status: number, json: unknown): void {
  if (status >= 400) {
    const parsed = errorBody.safeParse(json);
    if (!parsed.success) throw new Error(`${method} ${url} answered ${status} without the contract's error body: ${parsed.error.message}`);
    return;
  }
  if (status === 204) return; // CORS preflight: no body
  const route = contractRoute(method, url);
  if (route === null) throw new Error(`${method} ${url} answered ${status} but is not in the contract.`);
  if (status !== route.status) throw new Error(`${method} ${url} answered ${status}; the contract says ${route.status}.`);
  const parsed = route.response.safeParse(json);
  if (!parsed.success) throw new Error(`${method} ${url} answered a body the contract does not allow: ${parsed.error.message}`);
}

/**
 * Injects one request into `api` (directly, or through the adapter that
 * SEALDROP_TEST_ADAPTER names), parses a JSON body when there is one and
 * checks the answer against the wire contract ({@link assertContract}), so
 * every server test also tests the response schemas.
 */
export async function call(api: Api, method: string, url: string, opts: CallOptions = {}): Promise<ApiResponse & { json: unknown }> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token !== undefined) {
    if (opts.customHeader === true) headers['x-sealdrop-token'] = opts.token;
    else headers.authorization = `Bearer ${opts.token}`;
  }
  let body = opts.body ?? new Uint8Array();
  if (opts.json !== undefined) {
    body = new TextEncoder().encode(JSON.stringify(opts.json));
    headers['content-type'] ??= 'application/json';
  }
  // Through the host SEALDROP_TEST_ADAPTER names (adapters.ts): the same route tests run behind each adapter.
  const res = await handleVia(testAdapterFromEnv(), api, { method, url, headers, body, remoteAddress: opts.ip ?? '127.0.0.1' });
  const text = typeof res.body === 'string' ? res.body : new TextDecoder().decode(res.body);
  const json: unknown = text === '' ? null : JSON.parse(text);
  assertContract(method, url, res.status, json);
  return { ...res, json };
}
