/**
 * When a failed upload is tried again on its own, and after how long.
 *
 * Storage requests already retry inside one attempt (retry.ts); this is the
 * next level up: a whole upload that failed anyway (the network was gone
 * for minutes, the service answered 5xx or 429) is queued again a few times
 * once the browser is back online, resuming from the blocks already stored.
 * Anything else (a tampered file, a full store, an expired session, a file
 * that changed) waits for the person.
 */
import { SealdropCryptoError } from '../crypto/errors.ts';
import { StorageError } from './storage-error.ts';
import { SourceChangedError } from './uploader.ts';

/** How often and how patiently a failed upload is retried on its own. */
export interface UploadRetryPolicy {
  /** Automatic retries of one upload before it is shown as failed. */
  retries: number;
  /** Pause before the first retry (after the browser is online), doubled each time. */
  baseDelayMs: number;
}

/** Four retries after 1, 2, 4 and 8 s of being online. */
export const UPLOAD_RETRY_POLICY: UploadRetryPolicy = { retries: 4, baseDelayMs: 1000 };

/** Errors of the API client (src/auth) that mean "try later", known by name: storage does not import auth. */
const TRANSIENT_NAMES = new Set(['OfflineError', 'UnexpectedResponseError']);
/** Errors known by name that no waiting will fix: the session, a cancellation, a missing browser feature. */
const LASTING_NAMES = new Set(['SessionExpiredError', 'InteractionRequiredAuthError', 'AbortError', 'UnsupportedBrowserError']);
/** DOM failures that no waiting will fix (quota, missing feature, failed decryption). */
const LASTING_DOM_NAMES = new Set(['AbortError', 'QuotaExceededError', 'NotSupportedError', 'NotFoundError', 'InvalidStateError', 'OperationError']);

/**
 * Returns true when `error` may go away by itself: storage unreachable or
 * answering 5xx or nonsense, the API client offline or rate-limited (429),
 * or a failure without a cause of its own while the browser is offline
 * (`online` is `navigator.onLine` unless given).
 */
export function isTransientFailure(error: unknown, online: boolean = browserOnline()): boolean {
  if (error instanceof StorageError) return error.kind === 'network' || error.kind === 'server' || error.kind === 'bad-response';
  if (error instanceof SealdropCryptoError || error instanceof SourceChangedError) return false;
  if (!(error instanceof Error)) return !online;
  if (TRANSIENT_NAMES.has(error.name)) return true;
  if (LASTING_NAMES.has(error.name)) return false;
  if (error instanceof DOMException && LASTING_DOM_NAMES.has(error.name)) return false;
  const status: unknown = Reflect.get(error, 'status');
  if (typeof status === 'number' && Number.isInteger(status)) return status === 429 || status >= 500;
  // fetch() rejects with a bare TypeError when the network is down.
  return !online;
}

/**
 * Returns the pause before automatic retry number `retriesSoFar + 1` of an
 * upload that failed with `error`, or null when it should not be retried
 * (a lasting failure, or the policy's retries are used up).
 */
export function nextUploadRetry(error: unknown, retriesSoFar: number, policy: UploadRetryPolicy = UPLOAD_RETRY_POLICY, online?: boolean): number | null {
  if (retriesSoFar >= policy.retries || !isTransientFailure(error, online)) return null;
  return policy.baseDelayMs * 2 ** retriesSoFar;
}

function browserOnline(): boolean {
  return typeof navigator === 'undefined' || navigator.onLine !== false;
}
