/**
 * When a failed upload is tried again on its own, and after how long.
 *
 * Storage requests already retry inside one attempt (retry.ts); this is the
 * next level up: a whole upload that failed anyway (the network was gone
 * for minutes, storage or the endpoint answered 5xx or 429, or did not
 * answer) is queued again, resuming from the blocks already stored: a few
 * quick retries, then for as long as the outage lasts, at growing pauses.
 * A transient outage never ends an upload. Anything else (a tampered file,
 * a full store, a refusal, an expired session, a file that changed) waits
 * for the person.
 */
import { SealdropCryptoError } from '../crypto/errors.ts';
import { StorageError } from './storage-error.ts';
import { SourceChangedError } from './uploader.ts';
import { randomUnit } from './retry.ts';

/** How often and how patiently a failed upload is tried again on its own. */
export interface UploadRetryPolicy {
  /** Quick retries of one upload, at fixed growing pauses, before it is shown as waiting for storage. */
  retries: number;
  /** Pause before the first quick retry, doubled each time. */
  baseDelayMs: number;
  /** After the quick retries: the ceiling of the first pause while waiting for storage, doubled each time. */
  waitBaseDelayMs: number;
  /** The longest pause between two tries while waiting for storage (also its ceiling). */
  maxDelayMs: number;
}

/**
 * Four quick retries after 1, 2, 4 and 8 s; then, for as long as the
 * failure is transient, a try every 2.5–5, 5–10, 10–20 and then 15–30 s
 * (jittered), so an upload outlives an outage of any length and resumes
 * within half a minute of storage answering again.
 */
export const UPLOAD_RETRY_POLICY: UploadRetryPolicy = { retries: 4, baseDelayMs: 1000, waitBaseDelayMs: 5000, maxDelayMs: 30_000 };

/** When the next automatic try of an upload happens, and what the person is told meanwhile. */
export interface UploadRetry {
  /** Pause before the try. */
  delayMs: number;
  /** The quick retries are used up: the upload is waiting for storage (or the network) to answer again. */
  waitingForStorage: boolean;
}

/** Errors of the API client (src/contract) that mean "try later" (the endpoint unreachable, a garbled answer), known by name. */
const TRANSIENT_NAMES = new Set(['OfflineError', 'ServerUnreachableError', 'UnexpectedResponseError']);
/** Errors known by name that no waiting will fix: the session, a cancellation, a missing browser feature. */
const LASTING_NAMES = new Set(['SessionExpiredError', 'InteractionRequiredAuthError', 'AbortError', 'UnsupportedBrowserError']);
/** DOM failures that no waiting will fix (quota, missing feature, failed decryption). */
const LASTING_DOM_NAMES = new Set(['AbortError', 'QuotaExceededError', 'NotSupportedError', 'NotFoundError', 'InvalidStateError', 'OperationError']);

/**
 * Returns true when `error` may go away by itself: storage unreachable or
 * answering 5xx, 429 or nonsense, or missing blocks it had acknowledged;
 * the API client offline, rate-limited (429) or answering 5xx;
 * or a failure without a cause of its own while the browser is offline
 * (`online` is `navigator.onLine` unless given).
 */
export function isTransientFailure(error: unknown, online: boolean = browserOnline()): boolean {
  if (error instanceof StorageError) return isTransientStorageError(error);
  if (error instanceof SealdropCryptoError || error instanceof SourceChangedError) return false;
  if (!(error instanceof Error)) return !online;
  if (TRANSIENT_NAMES.has(error.name)) return true;
  if (LASTING_NAMES.has(error.name)) return false;
  if (error instanceof DOMException && LASTING_DOM_NAMES.has(error.name)) return false;
  const status: unknown = Reflect.get(error, 'status');
  if (typeof status === 'number' && Number.isInteger(status)) return status === 408 || status === 429 || status >= 500;
  // fetch() rejects with a bare TypeError when the network is down.
  return !online;
}

/**
 * Returns when to try an upload that failed with `error` again on its own,
 * after `retriesSoFar` automatic tries: a quick retry while the policy's
 * quick retries last, then a jittered, growing, capped pause while waiting
 * for storage, with no end. Returns null when the failure is lasting (it
 * waits for the person). `random` (default: the CSPRNG) picks the jitter.
 */
export function nextUploadRetry(
  error: unknown,
  retriesSoFar: number,
  policy: UploadRetryPolicy = UPLOAD_RETRY_POLICY,
  opts: { online?: boolean; random?: () => number } = {},
): UploadRetry | null {
  if (!isTransientFailure(error, opts.online)) return null;
  if (retriesSoFar < policy.retries) return { delayMs: policy.baseDelayMs * 2 ** retriesSoFar, waitingForStorage: false };
  // "Equal jitter": half the ceiling plus a random share of the other half, so
  // the uploads of many people that failed together do not all come back at once.
  const waited = Math.min(retriesSoFar - policy.retries, 30); // keeps 2 ** n finite
  const ceiling = Math.min(policy.maxDelayMs, policy.waitBaseDelayMs * 2 ** waited);
  const random = opts.random ?? randomUnit;
  return { delayMs: Math.round(ceiling / 2 + (ceiling / 2) * random()), waitingForStorage: true };
}

/**
 * Storage failures that waiting cures: no answer, 5xx, 408 or 429, an
 * answer that did not parse, and a commit that names blocks storage lost
 * (`InvalidBlockList`: an emulator or node restarted before persisting
 * them; the retry reads the block list back and sends them again). Any
 * other 4xx is a lasting refusal.
 */
function isTransientStorageError(error: StorageError): boolean {
  if (error.kind === 'network' || error.kind === 'server') return true;
  if (error.kind !== 'bad-response') return false;
  return error.status === undefined || error.status === 408 || error.status === 429 || error.storageCode === 'InvalidBlockList';
}

function browserOnline(): boolean {
  return typeof navigator === 'undefined' || navigator.onLine !== false;
}
