/** Failures the API answers with, as `{ "error": code, "message": plain words }`. */

/** A failure with its HTTP status, stable code and a message safe to show a user. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  /** Extra response headers (Retry-After, Allow, WWW-Authenticate). */
  readonly headers: Record<string, string>;
  constructor(status: number, code: string, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

/** 400: a malformed id, body or query. */
export function badRequest(code: string, message: string): ApiError {
  return new ApiError(400, code, message);
}

/** 404 with a generic message. */
export function notFound(message = 'There is nothing here.'): ApiError {
  return new ApiError(404, 'not_found', message);
}

/** The generic body of every 5xx: never the cause. */
export const INTERNAL_ERROR = new ApiError(500, 'internal', 'Something went wrong on our side. Please try again later.');

/** 503: storage or the sign-in service could not be reached. */
export const UNAVAILABLE_ERROR = new ApiError(503, 'unavailable', 'The service is temporarily unavailable. Please try again in a moment.', {
  'retry-after': '5',
});
