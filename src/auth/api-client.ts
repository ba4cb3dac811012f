/**
 * The one client for the token endpoint (`/api/v1`). Every call carries the
 * access token and is validated against a schema; there is one 401 policy
 * for the whole app: get a fresh token once and retry, and if the server
 * still says 401, the session has expired ({@link SessionExpiredError}, and
 * the `SessionExpired` listeners hear about it).
 */
import type { z } from 'zod';
import { ApiError, ERROR_CODES, errorBody, OfflineError, SessionExpiredError, UnexpectedResponseError } from '../contract/index.ts';

// The error classes are part of the wire contract; re-exported so callers keep one import.
export { ApiError, OfflineError, SessionExpiredError, UnexpectedResponseError };

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
 */
export class ApiClient {
  readonly #baseUrl: string;
  readonly #getToken: TokenSource;
  readonly #fetch: typeof fetch;
  readonly #expiredListeners = new Set<() => void>();
  readonly #restoredListeners = new Set<() => void>();

  constructor(baseUrl: string, getToken: TokenSource, fetchFn: typeof fetch = (input, init) => fetch(input, init)) {
    this.#baseUrl = baseUrl.replace(/\/+$/, '');
    this.#getToken = getToken;
    this.#fetch = fetchFn;
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
    let response = await this.#send(method, path, body, await this.#token(), options);
    if (response.status === 401 && (await isReauthRequired(response))) throw await toApiError(response);
    if (response.status === 401) {
      response = await this.#send(method, path, body, await this.#token({ forceRefresh: true }), options);
      if (response.status === 401) {
        this.#expired();
        throw new SessionExpiredError();
      }
    }
    if (!response.ok) throw await toApiError(response);
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
      throw new OfflineError({ cause });
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
