/**
 * The token endpoint as a framework-free function: request in, response out.
 * Order of checks: per-IP rate limit → route → body size → sign-in →
 * per-user rate limit → path id, query and body schemas → handler.
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
import { API_PREFIX, hexId, type ErrorBody } from '../../src/contract/index.ts';
import type { NameKey } from '../storage/blob-layout.ts';
import { routes, type Route, type RouteServices } from './routes.ts';

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
  audit: AuditSink;
  /** Origins allowed to call cross-origin; default none. */
  corsOrigins?: readonly string[];
  /** Receives one sanitized line per unexpected failure; default stderr. */
  logError?: (line: string) => void;
  now?: () => Date;
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
  for (const route of routes) {
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

  const run = async (request: ApiRequest): Promise<ApiResponse> => {
    const ip = deps.ipLimiter.take(`ip:${request.remoteAddress}`);
    if (!ip.allowed) {
      throw new ApiError(429, 'rate_limited', 'Too many requests from your network. Please wait a moment.', {
        'retry-after': String(ip.retryAfterSeconds),
      });
    }

    const queryAt = request.url.indexOf('?');
    const path = queryAt === -1 ? request.url : request.url.slice(0, queryAt);
    const { matches } = matchPath(path);
    if (matches.length === 0) throw notFound();
    const method = request.method.toUpperCase();
    if (method === 'OPTIONS' && request.headers.origin !== undefined && corsOrigins.includes(request.headers.origin)) {
      return respond(request, 204, null, PREFLIGHT_HEADERS);
    }
    const match = matches.find((m) => m.route.method === method);
    if (match === undefined) {
      const allow = [...new Set(matches.map((m) => m.route.method))].join(', ');
      throw new ApiError(405, 'method_not_allowed', `Use ${allow} for this address.`, { allow });
    }

    if (request.body.byteLength > deps.maxBodyBytes) {
      throw new ApiError(413, 'body_too_large', `Request bodies can be at most ${deps.maxBodyBytes} bytes.`);
    }

    let caller: Caller | null = null;
    if (match.route.auth) {
      const token = bearerToken(request.headers);
      if (token === null) throw new UnauthenticatedError('Sign in first: this request carries no sign-in token.');
      caller = await deps.verifyToken(token);
      const user = deps.userLimiter.take(`user:${caller.userId}`);
      if (!user.allowed) {
        throw new ApiError(429, 'rate_limited', 'Too many requests. Please wait a moment.', {
          'retry-after': String(user.retryAfterSeconds),
        });
      }
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

function isStorageUnreachable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = 'code' in err ? err.code : undefined;
  return code === 'ECONNREFUSED' || code === 'ETIMEDOUT' || code === 'ENOTFOUND' || code === 'REQUEST_SEND_ERROR';
}
