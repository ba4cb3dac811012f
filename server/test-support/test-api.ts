/**
 * Builds the API for tests: a real Azurite (started by the caller's
 * beforeAll), the shared-key signer, a local issuer, recorded audit lines and
 * a controllable clock. Requests are injected with {@link call}, no socket.
 */
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { prepareStorage, type AzuriteHandle } from '../azurite.ts';
import type { AuditEntry } from '../audit-log.ts';
import type { Api, ApiResponse } from '../api/api-types.ts';
import { createApi, type ApiDeps } from '../api/app.ts';
import { tokenBucketLimiter } from '../rate-limit.ts';
import { containerBlobStore } from '../storage/blob-store.ts';
import { sasProtocolFor, sharedKeySasSigner } from '../storage/sas-signer.ts';
import { testVerifier, type TestIssuer } from './test-issuer.ts';

/** The API under test and what it recorded. */
export interface TestApi {
  api: Api;
  audit: AuditEntry[];
  errors: string[];
  /** Shifts the API's clock (not Azurite's) by this many ms. */
  clock: { offsetMs: number };
}

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

/** Injects one request into `api` and parses a JSON body when there is one. */
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
  const res = await api.handle({ method, url, headers, body, remoteAddress: opts.ip ?? '127.0.0.1' });
  const text = typeof res.body === 'string' ? res.body : new TextDecoder().decode(res.body);
  return { ...res, json: text === '' ? null : JSON.parse(text) };
}
