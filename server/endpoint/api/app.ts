/**
 * The token endpoint as a framework-free function: request in, response out.
 * Order of checks: route (`/health` answers here, never limited) → a
 * request that is not signed in is charged to its IP address (preflight,
 * 404, 405, 413, no token, or a token that fails verification) → a verified
 * caller is charged to its user only → path id, query and body schemas →
 * handler. Each request is charged to exactly one bucket, so one user's
 * flood never empties the bucket other people behind the same address
 * share, and nothing refused by one limiter is charged to the other.
 */
import type { AuditSink } from '../audit-log.ts';
import { SigningKeysUnavailableError, UnauthenticatedError, type Caller, type TokenVerifier } from '../auth/token-verifier.ts';
import type { RateLimiter } from '../rate-limit.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import type { SasSigner } from '../storage/sas-signer.ts';
import { ApiError, INTERNAL_ERROR, UNAVAILABLE_ERROR, badRequest, notFound } from './api-error.ts';
import { apiSecurityHeaders, corsHeaders, PREFLIGHT_HEADERS } from './api-headers.ts';
import type { Api, ApiRequest, ApiResponse } from './api-types.ts';
import { createGrantIssuer } from './grants.ts';
import { createHealthCheck, type HealthCheck } from '../health.ts';
import { API_PREFIX, hexId, ROUTES, type ErrorBody } from '../../../src/contract/index.ts';
import type { NameKey } from '../storage/blob-layout.ts';
import { DEFAULT_SEGMENT_BLOCKS } from './change-log.ts';
import { routes, type Route, type RouteServices } from './routes.ts';
import { shareRoutes } from './share-routes.ts';
import { peopleRoutes } from './people-routes.ts';
import { requestRoutes } from './request-routes.ts';
import { accountRoutes, DEFAULT_DELETE_BLOBS_PER_CALL, DEFAULT_DELETE_MS_PER_CALL } from './account-routes.ts';
import { rotationRoutes } from './rotation-routes.ts';

/** Every route the endpoint mounts: the core table, the link shares, person shares, the account, the file requests and key rotation. */
const allRoutes: Route[] = [...routes, ...shareRoutes, ...peopleRoutes, ...accountRoutes, ...requestRoutes, ...rotationRoutes];

/** Everything the API needs, injected (tests pass fakes or a real Azurite). */
export interface ApiDeps {
  verifyToken: TokenVerifier;
  signer: SasSigner;
  store: BlobStore;
  blobEndpoint: string;
  container: string;
  sasMinutes: number;
  maxFileBytes: number;
  maxManifestBytes: number;
  maxBodyBytes: number;
  /** Secret keying the key directory's blob names (config SEALDROP_DIRECTORY_KEY). */
  directoryKey: NameKey;
  userLimiter: RateLimiter;
  ipLimiter: RateLimiter;
  /**
   * What `/health` reports. Default: storage probed by listing one name
   * through `store`, identity reported reachable (deployments pass a real
   * probe of the issuer's keys, see from-config.ts).
   */
  health?: HealthCheck;
  audit: AuditSink;
  /** Origins allowed to call cross-origin; default none. */
  corsOrigins?: readonly string[];
  /** Receives one sanitized line per unexpected failure; default stderr. */
  logError?: (line: string) => void;
  now?: () => Date;
  /** Blocks after which a change-log segment is full; default {@link DEFAULT_SEGMENT_BLOCKS} (tests make it small). */
  changeLogSegmentBlocks?: number;
  /** What one account-deletion call removes at most; defaults {@link DEFAULT_DELETE_BLOBS_PER_CALL} blobs, {@link DEFAULT_DELETE_MS_PER_CALL} ms (tests make them small). */
  accountDeletion?: { blobsPerCall?: number; msPerCall?: number };
}

export { API_PREFIX };
const MAX_TOKEN_LENGTH = 16 * 1024;
const TOKEN_SYNTAX = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/;

interface Match {
  route: Route;
  param: string;
}

/**
 * Matches a raw path (not decoded, not normalized) against the routes. A
 * `:param` takes every segment between the fixed ones, so `files/a/b/read`
 * or `files/../read` reach the id check and get a 400, not a 404.
 */
function matchPath(path: string): { matches: Match[] } {
  if (!path.startsWith(`${API_PREFIX}/`)) return { matches: [] };
  const segments = path.slice(API_PREFIX.length + 1).split('/');
  const matches: Match[] = [];
  for (const route of allRoutes) {
    const pattern = route.path.slice(1).split('/');
    const at = pattern.findIndex((p) => p.startsWith(':'));
    if (at === -1) {
      if (pattern.length === segments.length && pattern.every((p, i) => p === segments[i])) matches.push({ route, param: '' });
      continue;
    }
    const before = pattern.slice(0, at);
    const after = pattern.slice(at + 1);
    if (segments.length < pattern.length) continue;
    if (!before.every((p, i) => p === segments[i])) continue;
    if (!after.every((p, i) => p === segments[segments.length - after.length + i])) continue;
    matches.push({ route, param: segments.slice(at, segments.length - after.length).join('/') });
  }
  return { matches };
}

function parseQuery(raw: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(raw)) {
    if (Object.hasOwn(out, key)) throw badRequest('invalid_query', `The query gives "${key.slice(0, 40)}" more than once.`);
    out[key] = value;
  }
  return out;
}

function parseBody(request: ApiRequest): unknown {
  if (request.body.byteLength === 0) return {};
  const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json') throw new ApiError(415, 'unsupported_media_type', 'Send the request body as application/json.');
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(request.body));
  } catch {
    throw badRequest('invalid_json', 'The request body is not valid JSON.');
  }
}

function bearerToken(headers: Record<string, string>): string | null {
  // Azure Static Web Apps replaces Authorization with its own token, so our
  // own header wins when both are present.
  const custom = headers['x-sealdrop-token']?.trim();
  const auth = headers.authorization?.trim();
  let token: string | undefined;
  if (custom !== undefined && custom !== '') token = custom.replace(/^Bearer\s+/i, '');
  else if (auth !== undefined && /^Bearer\s+/i.test(auth)) token = auth.replace(/^Bearer\s+/i, '');
  if (token === undefined || token === '') return null;
  if (token.length > MAX_TOKEN_LENGTH || !TOKEN_SYNTAX.test(token)) throw new UnauthenticatedError('Your sign-in token is not valid.');
  return token;
}

/**
 * A JSON error response with the API's headers, for adapters that must answer
 * before the API sees the request (e.g. a body over the size limit).
 */
export function errorResponse(err: ApiError, secure: boolean): ApiResponse {
  return {
    status: err.status,
    headers: { ...apiSecurityHeaders(secure), 'content-type': 'application/json; charset=utf-8', ...err.headers },
    body: JSON.stringify({ error: err.code, message: err.message } satisfies ErrorBody),
  };
}

function sanitize(err: unknown): string {
  const text = err instanceof Error ? `${err.name}: ${err.message}` : 'non-error thrown';
  // Belt and braces: nothing that looks like a SAS signature or a bearer token reaches a log.
  return text
    .replace(/([?&]sig=)[^&\s"']*/gi, '$1[redacted]')
    .replace(/eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g, '[token]')
    .slice(0, 500);
}

/**
 * Creates the API. `handle` never rejects: every failure becomes a JSON
 * `{ error, message }` response with its status; unexpected failures become
 * a generic 500 (503 when storage or the sign-in keys are unreachable) and
 * one sanitized line to `logError`.
 */
export function createApi(deps: ApiDeps): Api {
  const now = deps.now ?? (() => new Date());
  const logError = deps.logError ?? ((line: string) => process.stderr.write(`${line}\n`));
  const corsOrigins = deps.corsOrigins ?? [];
  const services: RouteServices = {
    store: deps.store,
    maxFileBytes: deps.maxFileBytes,
    maxManifestBytes: deps.maxManifestBytes,
    nameKey: deps.directoryKey,
    now,
    changeLogSegmentBlocks: deps.changeLogSegmentBlocks ?? DEFAULT_SEGMENT_BLOCKS,
    audit: deps.audit,
    accountDeletion: {
      blobsPerCall: deps.accountDeletion?.blobsPerCall ?? DEFAULT_DELETE_BLOBS_PER_CALL,
      msPerCall: deps.accountDeletion?.msPerCall ?? DEFAULT_DELETE_MS_PER_CALL,
    },
    health:
      deps.health ??
      createHealthCheck({
        storage: async () => {
          await deps.store.list('health/', { maxPageSize: 1 });
        },
        identity: () => Promise.resolve(),
      }),
    grant: createGrantIssuer({
      signer: deps.signer,
      blobEndpoint: deps.blobEndpoint,
      container: deps.container,
      sasMinutes: deps.sasMinutes,
      audit: deps.audit,
      now,
    }),
  };

  const respond = (request: ApiRequest, status: number, body: unknown, extra: Record<string, string> = {}): ApiResponse => ({
    status,
    headers: {
      ...apiSecurityHeaders(request.secure === true),
      ...corsHeaders(request.headers.origin, corsOrigins),
      ...(body === null ? {} : { 'content-type': 'application/json; charset=utf-8' }),
      ...extra,
    },
    body: body === null ? '' : JSON.stringify(body),
  });

  const fail = (request: ApiRequest, err: ApiError): ApiResponse =>
    respond(request, err.status, { error: err.code, message: err.message } satisfies ErrorBody, err.headers);

  /** Charges an unauthenticated request to its address; rejects with a 429 when the address's bucket is empty. */
  const chargeIp = async (request: ApiRequest): Promise<void> => {
    const ip = await deps.ipLimiter.take(`ip:${request.remoteAddress}`);
    if (!ip.allowed) throw rateLimited('Too many requests from your network. Please wait a moment.', ip.retryAfterSeconds);
  };

  const run = async (request: ApiRequest): Promise<ApiResponse> => {
    try {
      return await route(request);
    } catch (err) {
      // A signed-in request was charged to its user (or refused by the user
      // limiter) and is never charged again; everything else that fails
      // before sign-in is charged to the address now, so refusals cost too.
      if (err instanceof NotSignedIn) {
        await chargeIp(request);
        throw err.cause;
      }
      throw err;
    }
  };

  const route = async (request: ApiRequest): Promise<ApiResponse> => {
    const queryAt = request.url.indexOf('?');
    const path = queryAt === -1 ? request.url : request.url.slice(0, queryAt);
    const { matches } = matchPath(path);
    const method = request.method.toUpperCase();
    const match = matches.find((m) => m.route.method === method);
    // Health is for load balancers and for the app to tell a person what is
    // down: it must answer even to an address that is over its limit.
    const isHealth = match?.route === healthRoute;

    let signedIn: Caller | null = null;
    if (!isHealth) {
      if (match?.route.auth === true && request.body.byteLength <= deps.maxBodyBytes) signedIn = await verifiedCaller(request);
      if (signedIn === null) await chargeIp(request);
    }
    return answer(request, queryAt, matches, match, method, signedIn);
  };

  /**
   * The verified caller of a request to a signed-in route, charged to its
   * user (429 when that bucket is empty); null when the request carries no
   * token (it is charged to its address). A token that fails verification
   * throws {@link NotSignedIn}, charged to the address by `run`.
   */
  const verifiedCaller = async (request: ApiRequest): Promise<Caller | null> => {
    let caller: Caller;
    try {
      const token = bearerToken(request.headers);
      if (token === null) return null;
      caller = await deps.verifyToken(token);
    } catch (err) {
      if (err instanceof UnauthenticatedError) throw new NotSignedIn(err);
      throw err;
    }
    const user = await deps.userLimiter.take(`user:${caller.userId}`);
    if (!user.allowed) throw rateLimited('Too many requests. Please wait a moment.', user.retryAfterSeconds);
    return caller;
  };

  const answer = async (
    request: ApiRequest,
    queryAt: number,
    matches: Match[],
    match: Match | undefined,
    method: string,
    signedIn: Caller | null,
  ): Promise<ApiResponse> => {
    if (matches.length === 0) throw notFound();
    if (method === 'OPTIONS' && request.headers.origin !== undefined && corsOrigins.includes(request.headers.origin)) {
      return respond(request, 204, null, PREFLIGHT_HEADERS);
    }
    if (match === undefined) {
      const allow = [...new Set(matches.map((m) => m.route.method))].join(', ');
      throw new ApiError(405, 'method_not_allowed', `Use ${allow} for this address.`, { allow });
    }

    if (request.body.byteLength > deps.maxBodyBytes) {
      throw new ApiError(413, 'body_too_large', `Request bodies can be at most ${deps.maxBodyBytes} bytes.`);
    }

    let caller: Caller | null = null;
    if (match.route.auth) {
      if (signedIn === null) throw new UnauthenticatedError('Sign in first: this request carries no sign-in token.');
      caller = signedIn;
    }

    if (match.route.path.includes(':') && !hexId.safeParse(match.param).success) {
      throw badRequest('invalid_id', 'The id in the address is not valid: ids are 32 lowercase hex characters.');
    }
    const query = parseQuery(queryAt === -1 ? '' : request.url.slice(queryAt + 1));
    const body = parseBody(request);
    const result = await match.route.run({ caller, param: match.param, query, body, services });
    return respond(request, result.status, result.body);
  };

  return {
    async handle(request) {
      try {
        return await run(request);
      } catch (err) {
        if (err instanceof ApiError) return fail(request, err);
        if (err instanceof UnauthenticatedError) {
          return fail(request, new ApiError(401, 'unauthenticated', err.message, { 'www-authenticate': 'Bearer' }));
        }
        logError(sanitize(err));
        return fail(request, err instanceof SigningKeysUnavailableError || isStorageUnreachable(err) ? UNAVAILABLE_ERROR : INTERNAL_ERROR);
      }
    },
  };
}

/** The health route: never rate limited. */
const healthRoute = routes.find((r) => r.method === ROUTES.health.method && r.path === ROUTES.health.path);

/** A 429 with Retry-After (whole seconds) and the JSON error body. */
function rateLimited(message: string, retryAfterSeconds: number): ApiError {
  return new ApiError(429, 'rate_limited', message, { 'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))) });
}

/** A token that failed verification: the request is unauthenticated and is charged to its address. */
class NotSignedIn extends Error {
  override readonly cause: UnauthenticatedError;
  constructor(cause: UnauthenticatedError) {
    super(cause.message);
    this.cause = cause;
  }
}

function isStorageUnreachable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = 'code' in err ? err.code : undefined;
  return code === 'ECONNREFUSED' || code === 'ETIMEDOUT' || code === 'ENOTFOUND' || code === 'REQUEST_SEND_ERROR';
}
