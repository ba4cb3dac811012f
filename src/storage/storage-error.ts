/**
 * The one error type of the storage transport: every failure of a blob
 * request, classified into a `kind` the UI can turn into plain words.
 *
 * Messages never carry a SAS token: any URL mentioned is stripped of its
 * query string first (see `redactUrl`).
 */

/** What went wrong, as far as the user is concerned. */
export type StorageErrorKind =
  /** The SAS grant has expired or no longer authenticates; renewing it may help. */
  | 'expired-grant'
  /** Storage refused the request for another reason (wrong permission, wrong blob). */
  | 'forbidden'
  /** The blob does not exist (deleted, never committed). */
  | 'not-found'
  /** The blob already exists and we never overwrite (409 BlobAlreadyExists). */
  | 'conflict'
  /** The storage account or the user's allowance is full. */
  | 'quota'
  /** The request never got an answer: offline, connection dropped, CORS refused. */
  | 'network'
  /** Storage answered with a 5xx, or 429 (busy): `retryAfterMs` holds the pause it asked for, if any. */
  | 'server'
  /** The file is larger than this path can handle. */
  | 'too-large'
  /** The answer did not have the shape we asked for (wrong length, bad XML). */
  | 'bad-response'
  /** The browser lacks a feature this path needs. */
  | 'unsupported';

const MESSAGES: Record<StorageErrorKind, string> = {
  'expired-grant': 'Your permission to reach storage has expired. Sign in again if this keeps happening.',
  forbidden: 'Storage refused the request.',
  'not-found': 'The file is no longer in storage.',
  conflict: 'A file with this name already exists in storage; it was not overwritten.',
  quota: 'Storage is full. Delete some files and try again.',
  network: 'Storage could not be reached. Check your connection and try again.',
  server: 'Storage had a temporary problem. Try again in a moment.',
  'too-large': 'The file is too large for this browser without the service worker.',
  'bad-response': 'Storage answered in an unexpected way.',
  unsupported: 'This browser lacks a feature Sealdrop needs for this.',
};

/** A failed storage request, with a plain-words message and no secrets. */
export class StorageError extends Error {
  /** What went wrong; the UI maps it to a message or a retry button. */
  readonly kind: StorageErrorKind;
  /** HTTP status when storage answered, otherwise undefined. */
  readonly status: number | undefined;
  /** Azure's `x-ms-error-code` when storage sent one (e.g. `BlobAlreadyExists`). */
  readonly storageCode: string | undefined;
  /** The pause storage asked for with `Retry-After` (on a 429 or 503), in ms; undefined when it named none. */
  readonly retryAfterMs: number | undefined;

  constructor(kind: StorageErrorKind, opts: { message?: string; status?: number; storageCode?: string; retryAfterMs?: number } = {}) {
    super(opts.message ?? MESSAGES[kind]);
    this.name = 'StorageError';
    this.kind = kind;
    this.status = opts.status;
    this.storageCode = opts.storageCode;
    this.retryAfterMs = opts.retryAfterMs;
  }
}

/** Returns true for failures worth retrying after a pause: network errors and 5xx. */
export function isRetryable(error: unknown): boolean {
  return error instanceof StorageError && (error.kind === 'network' || error.kind === 'server');
}

/** Returns `url` without its query string and fragment, so a SAS token never reaches a message or a log. */
export function redactUrl(url: string): string {
  const cut = url.search(/[?#]/);
  return cut === -1 ? url : url.slice(0, cut);
}
