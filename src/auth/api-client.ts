/**
 * The one client for the token endpoint (`/api/v1`). Every call carries the
 * access token and is validated against a schema; there is one 401 policy
 * for the whole app: get a fresh token once and retry, and if the server
 * still says 401, the session has expired ({@link SessionExpiredError}, and
 * the `SessionExpired` listeners hear about it).
 */
import { z } from 'zod';

/** The server answered with an error status (other than a final 401). */
export class ApiError extends Error {
  /** HTTP status, e.g. 404 or 413. */
  readonly status: number;
  /** The server's error code, e.g. `not_found`; `http_<status>` when it sent none. */
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

/** The sign-in is no longer accepted, even with a fresh token: sign in again. */
export class SessionExpiredError extends Error {
  constructor() {
    super('Your sign-in has expired. Sign in again to continue.');
    this.name = 'SessionExpiredError';
  }
}

/** The server could not be reached (offline, or the server is down). */
export class OfflineError extends Error {
  constructor(options?: ErrorOptions) {
    super('Sealdrop’s server cannot be reached. Check your connection and try again.', options);
    this.name = 'OfflineError';
  }
}

/** The server answered 2xx with a body that does not match what we expect. */
export class UnexpectedResponseError extends Error {
  constructor(path: string, options?: ErrorOptions) {
    super(`Sealdrop’s server sent an answer it should not have (${path}).`, options);
    this.name = 'UnexpectedResponseError';
  }
}

/** Supplies access tokens; `forceRefresh` asks for a new one instead of a cached one. */
export type TokenSource = (options?: { forceRefresh?: boolean }) => Promise<string>;

/** Options of one call. */
export interface ApiCallOptions {
  signal?: AbortSignal;
}

const ErrorBodySchema = z.object({ error: z.string().min(1), message: z.string().min(1) });

/**
 * Calls the token endpoint at `baseUrl` (e.g. `/api/v1`) with tokens from
 * `getToken`. Errors: {@link ApiError} for JSON error answers,
 * {@link SessionExpiredError} after a 401 that a fresh token did not cure,
 * {@link OfflineError} when the network fails, {@link UnexpectedResponseError}
 * when a success body fails its schema; an aborted call rejects with the
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

async function toApiError(response: Response): Promise<ApiError> {
  let json: unknown;
  try {
    json = await response.json();
  } catch {
    json = undefined;
  }
  const parsed = ErrorBodySchema.safeParse(json);
  if (parsed.success) return new ApiError(response.status, parsed.data.error, parsed.data.message);
  const message =
    response.status >= 500
      ? 'Sealdrop’s server had a problem. Try again in a moment.'
      : `Sealdrop’s server refused the request (HTTP ${response.status}).`;
  return new ApiError(response.status, `http_${response.status}`, message);
}
