/**
 * Error codes the server sends in `{ "error": code, "message": words }` and
 * the client's error classes for every way a call can fail.
 */

/** Codes a caller may act on (others are plain failures to show). */
export const ERROR_CODES = {
  /** 401: the action needs a sign-in made within the last few minutes. */
  reauthRequired: 'reauth_required',
  /** 409: the recovery copy already exists (it is written once; replace it by proof). */
  recoveryExists: 'recovery_exists',
  /** 409: a public identity is already published (it is written once; rotate it by proof). */
  publicKeyExists: 'public_key_exists',
  /** 409: the account's drive-key copy already exists (it is written once). */
  driveKeyExists: 'drive_key_exists',
  /** 409: the action needs the account's public key published first. */
  publicKeyMissing: 'public_key_missing',
  /** 412: the ETag sent is not the current one (someone changed it meanwhile). */
  stale: 'stale_etag',
  /** 404 */
  notFound: 'not_found',
  /** 410: the change-log position is not one the server knows (the log was rebuilt): list in full instead. */
  logPositionUnknown: 'log_position_unknown',
  /** 409: the upload has no manifest yet, so it cannot be completed. */
  uploadIncomplete: 'upload_incomplete',
} as const;

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

/** The server could not be reached because the browser is offline (see {@link ServerUnreachableError} for the server being down). */
export class OfflineError extends Error {
  constructor(options?: ErrorOptions) {
    super('Sealdrop’s server cannot be reached. Check your connection and try again.', options);
    this.name = 'OfflineError';
  }
}

/**
 * The token endpoint did not answer (no connection, or a gateway saying it
 * is down) while the browser is online: the server is not answering, not
 * the person's network. A kind of {@link OfflineError} (both mean "try
 * again later"); tell them apart with `instanceof` before OfflineError.
 */
export class ServerUnreachableError extends OfflineError {
  /**
   * 503, as if the endpoint had said "Service Unavailable": code that sorts
   * failures by status (e.g. the upload retry policy) treats it as temporary.
   */
  readonly status = 503;
  constructor(options?: ErrorOptions) {
    super(options);
    this.name = 'ServerUnreachableError';
    this.message = 'Sealdrop’s server is not answering. Try again in a moment.';
  }
}

/** The server answered 2xx with a body that does not match what we expect. */
export class UnexpectedResponseError extends Error {
  constructor(path: string, options?: ErrorOptions) {
    super(`Sealdrop’s server sent an answer it should not have (${path}).`, options);
    this.name = 'UnexpectedResponseError';
  }
}
