/**
 * Runs the API as an Azure Functions (Node programming model v4) HTTP
 * handler: builds an {@link ApiRequest} from the host's `HttpRequest` and
 * turns the {@link ApiResponse} into an `HttpResponseInit`. As thin as the
 * Node adapter (node-adapter.ts); the routes never see either.
 *
 * Functions mounts HTTP routes under `/api` (host.json's default
 * `routePrefix`), so the route `v1/{*rest}` answers `/api/v1/...`, the
 * paths the API expects.
 */
import { isIP } from 'node:net';
import type { HttpHandler, HttpMethod, HttpRequest, HttpResponseInit } from '@azure/functions';
import { ApiError } from './api-error.ts';
import type { Api, ApiRequest, ApiResponse } from './api-types.ts';
import { errorResponse } from './app.ts';

/** The one function the endpoint registers, and how (see {@link registerApi}). */
export const FUNCTION_NAME = 'api';
export const FUNCTION_ROUTE = 'v1/{*rest}';
export const FUNCTION_METHODS: HttpMethod[] = ['GET', 'POST', 'OPTIONS'];

/**
 * The raw path and query of `url` (`https://host/api/v1/x?y` → `/api/v1/x?y`).
 * Taken from the string rather than `new URL`, so nothing is re-encoded here
 * (the host has already resolved `..` segments before we see the URL).
 */
function pathAndQuery(url: string): string {
  const match = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*([^#]*)/i.exec(url);
  const rest = match?.[1] ?? '';
  return rest === '' || rest.startsWith('?') ? `/${rest}` : rest;
}

/**
 * The client's address. The Functions front end (App Service) appends the
 * address it received the connection from to `X-Forwarded-For`, as
 * `ip:port`; earlier entries are the client's say-so and are ignored. The
 * port is dropped so every connection of one client shares a bucket. An
 * entry that is not an IP address (never written by the front end) gives
 * `unknown` rather than a bucket key the caller could choose.
 */
export function functionsClientAddress(forwardedFor: string | null): string {
  const last = (forwardedFor ?? '').split(',').at(-1)?.trim() ?? '';
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(last);
  // One colon: IPv4 with a port. More: a bare IPv6 address, kept whole.
  const colons = last.split(':').length - 1;
  const address = bracketed?.[1] ?? (colons === 1 ? (last.split(':')[0] ?? '') : last);
  return isIP(address) === 0 ? 'unknown' : address;
}

function toInit(response: ApiResponse): HttpResponseInit {
  return { status: response.status, headers: response.headers, body: response.body };
}

/**
 * Returns a Functions HTTP handler for `api`. A body over `maxBodyBytes`
 * (declared or counted) gets a 413 JSON error without handing the request
 * on. The handler never rejects: `api.handle` turns every failure into a
 * JSON answer.
 */
export function toFunctionsHandler(api: Api, opts: { maxBodyBytes: number }): HttpHandler {
  return async (req: HttpRequest): Promise<HttpResponseInit> => {
    const secure = /^https:/i.test(req.url);
    const tooLarge = (): HttpResponseInit =>
      toInit(errorResponse(new ApiError(413, 'body_too_large', `Request bodies can be at most ${opts.maxBodyBytes} bytes.`), secure));
    const declared = Number(req.headers.get('content-length') ?? '0');
    if (Number.isFinite(declared) && declared > opts.maxBodyBytes) return tooLarge();
    const body = new Uint8Array(await req.arrayBuffer());
    if (body.byteLength > opts.maxBodyBytes) return tooLarge();

    const headers: Record<string, string> = {};
    for (const [name, value] of req.headers) headers[name.toLowerCase()] = value;
    const request: ApiRequest = {
      method: req.method,
      url: pathAndQuery(req.url),
      headers,
      body,
      remoteAddress: functionsClientAddress(req.headers.get('x-forwarded-for')),
      secure,
    };
    return toInit(await api.handle(request));
  };
}

/** The part of `@azure/functions`' `app` the endpoint uses (tests pass a recorder). */
export interface FunctionsHost {
  http(name: string, options: { route: string; methods: HttpMethod[]; authLevel: 'anonymous'; handler: HttpHandler }): void;
}

/**
 * Registers the API as one anonymous HTTP function answering every
 * `/api/v1/...` path: authentication is the API's own (the caller's Entra
 * token), not a Functions key.
 */
export function registerApi(host: FunctionsHost, api: Api, opts: { maxBodyBytes: number }): void {
  host.http(FUNCTION_NAME, {
    route: FUNCTION_ROUTE,
    methods: FUNCTION_METHODS,
    authLevel: 'anonymous',
    handler: toFunctionsHandler(api, opts),
  });
}
