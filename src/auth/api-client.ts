/**
 * The one client for the token endpoint (`/api/v1`). Every call carries the
 * access token and is validated against a schema; there is one 401 policy
 * for the whole app: get a fresh token once and retry, and if the server
 * still says 401, the session has expired ({@link SessionExpiredError}, and
 * the `SessionExpired` listeners hear about it).
 */
import type { z } from 'zod';
import {
  abortableSleep,
  ApiError,
  cryptoRandomUnit,
  DEFAULT_RETRY_AFTER_POLICY,
  ERROR_CODES,
  errorBody,
  OfflineError,
  parseRetryAfter,
  retryAfterDelay,
  ServerUnreachableError,
  SessionExpiredError,
  UnexpectedResponseError,
  type RetryAfterPolicy,
} from '../contract/index.ts';

// The error classes are part of the wire contract; re-exported so callers keep one import.
export { ApiError, OfflineError, ServerUnreachableError, SessionExpiredError, UnexpectedResponseError };

/** How the client waits when the server says "later" (429, or 503 with Retry-After); injectable for tests. */
export interface ApiClientOptions {
  /** Default {@link DEFAULT_RETRY_AFTER_POLICY}. */
  retry?: RetryAfterPolicy;
  /** Uniform in [0, 1); default the CSPRNG. Tests pass a fixed sequence. */
  random?: () => number;
  /** Waits `ms` or rejects with the signal's reason; tests pass one that records and returns at once. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Whether the browser believes it is online; default `navigator.onLine`. */
  online?: () => boolean;
  /** Clock for HTTP-date Retry-After values; default `Date.now`. */
  now?: () => number;
}

/** Statuses that mean "the same request may work later": rate limited, or temporarily unavailable. */
const RETRY_LATER = new Set([429, 503]);
/** A 503 (storage or sign-in keys unreachable from the endpoint) is waited out only this often: tell the person soon. */
const MAX_UNAVAILABLE_RETRIES = 2;
/** Gateway answers without our JSON body: the endpoint behind it is not answering. */
const GATEWAY_DOWN = new Set([502, 503, 504]);

function browserOnline(): boolean {
  return typeof navigator === 'undefined' || navigator.onLine !== false;
}

/** Supplies access tokens; `forceRefresh` asks for a new one instead of a cached one. */
export type TokenSource = (options?: { forceRefresh?: boolean }) => Promise<string>;

/** Options of one call. */
export interface ApiCallOptions {
  signal?: AbortSignal;
}

/**
 * Calls the token endpoint at `baseUrl` (e.g. `/api/v1`) with tokens from
 * `getToken`. Errors: {@link ApiError} for JSON error answers,
 * {@link SessionExpiredError} after a 401 that a fresh token did not cure,
 * {@link OfflineError} when the network fails, {@link UnexpectedResponseError}
 * when a success body fails its schema; a 401 `reauth_required` (the action
 * needs a recent sign-in) is an {@link ApiError}, never retried; an aborted call rejects with the
 * signal's `AbortError`. Errors thrown by `getToken` pass through unchanged.
 *
 * A 429 (or a 503 naming a `Retry-After`) is retried after the pause the
 * server names plus jitter, up to the policy's retries; the last refusal is
 * then thrown as an {@link ApiError} (status 429/503). A network failure is
 * {@link OfflineError} when the browser is offline, and
 * {@link ServerUnreachableError} when it is online (the endpoint is down),
 * as are 502/503/504 answers without our JSON error body.
 */
export class ApiClient {
  readonly #baseUrl: string;
  readonly #getToken: TokenSource;
  readonly #fetch: typeof fetch;
  readonly #expiredListeners = new Set<() => void>();
  readonly #restoredListeners = new Set<() => void>();
  readonly #troubleListeners = new Set<(error: Error) => void>();
  readonly #retry: RetryAfterPolicy;
  readonly #random: () => number;
  readonly #sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly #online: () => boolean;
  readonly #now: () => number;

  constructor(baseUrl: string, getToken: TokenSource, fetchFn: typeof fetch = (input, init) => fetch(input, init), options: ApiClientOptions = {}) {
    this.#baseUrl = baseUrl.replace(/\/+$/, '');
    this.#getToken = getToken;
    this.#fetch = fetchFn;
    this.#retry = options.retry ?? DEFAULT_RETRY_AFTER_POLICY;
    this.#random = options.random ?? cryptoRandomUnit;
    this.#sleep = options.sleep ?? abortableSleep;
    this.#online = options.online ?? browserOnline;
    this.#now = options.now ?? (() => Date.now());
  }

  /**
   * Registers a `ServiceTrouble` listener, called with the error each time a
   * call fails because the endpoint or the network did not answer
   * ({@link OfflineError}, {@link ServerUnreachableError}) or the server
   * answered 5xx. Returns the function that unregisters it.
   */
  onServiceTrouble(listener: (error: Error) => void): () => void {
    this.#troubleListeners.add(listener);
    return () => this.#troubleListeners.delete(listener);
  }

  /** GET `path` (relative to the base, e.g. `/me`); resolves to the body parsed by `schema`. */
  get<T>(path: string, schema: z.ZodType<T>, options?: ApiCallOptions): Promise<T> {
    return this.#call('GET', path, undefined, schema, options);
  }

  /** POST `body` as JSON (none when undefined) to `path`; resolves to the body parsed by `schema`. */
  post<T>(path: string, body: unknown, schema: z.ZodType<T>, options?: ApiCallOptions): Promise<T> {
    return this.#call('POST', path, body, schema, options);
  }

  /** DELETE `path`; resolves to the body parsed by `schema`. */
  delete<T>(path: string, schema: z.ZodType<T>, options?: ApiCallOptions): Promise<T> {
    return this.#call('DELETE', path, undefined, schema, options);
  }

  /**
   * Registers a `SessionExpired` listener, called once per call that ends in
   * {@link SessionExpiredError} (a final 401, or a token source that says
   * the person must sign in again). Returns the function that unregisters it.
   */
  onSessionExpired(listener: () => void): () => void {
    this.#expiredListeners.add(listener);
    return () => this.#expiredListeners.delete(listener);
  }

  /**
   * Registers a `SessionRestored` listener, called each time
   * {@link sessionRestored} says the person signed in again in this page
   * (calls may succeed again). Returns the function that unregisters it.
   */
  onSessionRestored(listener: () => void): () => void {
    this.#restoredListeners.add(listener);
    return () => this.#restoredListeners.delete(listener);
  }

  /** Tells the `SessionRestored` listeners that the same person signed in again after a `SessionExpired`. */
  sessionRestored(): void {
    for (const listener of this.#restoredListeners) listener();
  }

  async #call<T>(method: string, path: string, body: unknown, schema: z.ZodType<T>, options?: ApiCallOptions): Promise<T> {
    try {
      return await this.#callOnce(method, path, body, schema, options);
    } catch (error) {
      if (error instanceof OfflineError || (error instanceof ApiError && error.status >= 500)) {
        for (const listener of this.#troubleListeners) listener(error);
      }
      throw error;
    }
  }

  async #callOnce<T>(method: string, path: string, body: unknown, schema: z.ZodType<T>, options?: ApiCallOptions): Promise<T> {
    let response = await this.#sendPatiently(method, path, body, await this.#token(), options);
    if (response.status === 401 && (await isReauthRequired(response))) throw await toApiError(response);
    if (response.status === 401) {
      response = await this.#sendPatiently(method, path, body, await this.#token({ forceRefresh: true }), options);
      if (response.status === 401) {
        this.#expired();
        throw new SessionExpiredError();
      }
    }
    if (!response.ok) {
      if (GATEWAY_DOWN.has(response.status) && !(await hasErrorBody(response))) throw new ServerUnreachableError();
      throw await toApiError(response);
    }
    let json: unknown;
    try {
      json = response.status === 204 ? null : await response.json();
    } catch (cause) {
      throw new UnexpectedResponseError(path, { cause });
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) throw new UnexpectedResponseError(path, { cause: parsed.error });
    return parsed.data;
  }

  /** A token from the source; its own SessionExpiredError (sign-in needed) is told to the listeners too. */
  async #token(options?: { forceRefresh?: boolean }): Promise<string> {
    try {
      return await this.#getToken(options);
    } catch (error) {
      if (error instanceof SessionExpiredError) this.#expired();
      throw error;
    }
  }

  #expired(): void {
    for (const listener of this.#expiredListeners) listener();
  }

  /**
   * Sends, and while the server answers "later" (429, or 503 with
   * Retry-After) waits as it asks plus jitter and sends again, within the
   * policy; returns the first other answer, or the last refusal.
   */
  async #sendPatiently(method: string, path: string, body: unknown, token: string, options?: ApiCallOptions): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      const response = await this.#send(method, path, body, token, options);
      if (!RETRY_LATER.has(response.status)) return response;
      const named = parseRetryAfter(response.headers.get('retry-after'), this.#now());
      // A 503 without Retry-After is a gateway or an outage, not a request to come back.
      if (response.status === 503 && (named === null || attempt >= MAX_UNAVAILABLE_RETRIES)) return response;
      const delay = retryAfterDelay(named, attempt, this.#retry, this.#random);
      if (delay === null) return response;
      await response.body?.cancel().catch(() => undefined);
      await this.#sleep(delay, options?.signal);
    }
  }

  async #send(method: string, path: string, body: unknown, token: string, options?: ApiCallOptions): Promise<Response> {
    const headers: Record<string, string> = {
      Accept: 'application/json',
      Authorization: `Bearer ${token}`,
      // Azure Static Web Apps overwrites Authorization (PLATFORM-NOTES).
      'X-Sealdrop-Token': token,
    };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    try {
      return await this.#fetch(`${this.#baseUrl}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        cache: 'no-store',
        credentials: 'omit',
        ...(options?.signal === undefined ? {} : { signal: options.signal }),
      });
    } catch (cause) {
      if (options?.signal?.aborted === true) throw cause;
      throw this.#online() ? new ServerUnreachableError({ cause }) : new OfflineError({ cause });
    }
  }
}

/**
 * True when a 401 asks for a fresh interactive sign-in (the token is fine,
 * but the action needs a recent one): no token refresh cures that, so it
 * is an ApiError with code `reauth_required`, not an expired session.
 */
async function isReauthRequired(response: Response): Promise<boolean> {
  try {
    return errorBody.safeParse(await response.clone().json()).data?.error === ERROR_CODES.reauthRequired;
  } catch {
    return false;
  }
}

/** True when an error answer carries our `{ error, message }` body (the endpoint itself answered). */
async function hasErrorBody(response: Response): Promise<boolean> {
  try {
    return errorBody.safeParse(await response.clone().json()).success;
  } catch {
    return false;
  }
}

async function toApiError(response: Response): Promise<ApiError> {
  let json: unknown;
  try {
    json = await response.json();
  } catch {
    json = undefined;
  }
  const parsed = errorBody.safeParse(json);
  if (parsed.success) return new ApiError(response.status, parsed.data.error, parsed.data.message);
  const message =
    response.status >= 500
      ? 'Sealdrop’s server had a problem. Try again in a moment.'
      : `Sealdrop’s server refused the request (HTTP ${response.status}).`;
  return new ApiError(response.status, `http_${response.status}`, message);
}
