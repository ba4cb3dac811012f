/**
 * Retry with exponential back-off and jitter for storage requests, joined
 * with grant renewal: network errors, 429 and 5xx are retried after a pause
 * (never shorter than a `Retry-After` storage named); a refused grant (403)
 * is renewed once and the request tried again.
 */
import { abortableSleep, cryptoRandomUnit, DEFAULT_RETRY_AFTER_POLICY, retryAfterDelay } from '../contract/index.ts';
import { isRetryable, StorageError } from './storage-error.ts';

/** How often and how patiently to retry. */
export interface RetryPolicy {
  /** Retries after the first attempt (so `retries + 1` attempts in all). */
  retries: number;
  /** Delay before the first retry, doubled each time. */
  baseDelayMs: number;
  /** Upper bound for one delay. */
  maxDelayMs: number;
}

/** Six retries, 0.5 s doubling up to 15 s: about a minute of patience before a network error reaches the user. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { retries: 6, baseDelayMs: 500, maxDelayMs: 15_000 };

/** A uniform number in [0, 1) from the CSPRNG (the contract's; the linter forbids Math.random). */
export const randomUnit: () => number = cryptoRandomUnit;

/**
 * Returns the pause before retry number `attempt` (0-based): "equal jitter",
 * half of min(max, base × 2^attempt) plus a random share of the other half,
 * so clients that failed together do not retry together.
 */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number = randomUnit): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return ceiling / 2 + (ceiling / 2) * random();
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts (the contract's). */
export const sleep: (ms: number, signal?: AbortSignal) => Promise<void> = abortableSleep;

/**
 * Returns the pause before retry `attempt` after `error`: the back-off, or
 * the pause storage named with `Retry-After` plus jitter when that is
 * longer; null when storage asked for more than a minute.
 */
export function pauseAfter(error: StorageError, attempt: number, policy: RetryPolicy, random: () => number = randomUnit): number | null {
  const backoff = backoffDelay(attempt, policy, random);
  if (error.retryAfterMs === undefined) return backoff;
  const named = retryAfterDelay(error.retryAfterMs, 0, DEFAULT_RETRY_AFTER_POLICY, random);
  return named === null ? null : Math.max(backoff, named);
}

const troubleListeners = new Set<(error: StorageError) => void>();

/**
 * Registers a `StorageTrouble` listener, told each time a storage request
 * gets no answer (a network error) while being retried, so the page can
 * find out which part is down and say so. Returns the unregister function.
 */
export function onStorageTrouble(listener: (error: StorageError) => void): () => void {
  troubleListeners.add(listener);
  return () => troubleListeners.delete(listener);
}

/** Something that hands out the current grants and renews them after a refusal (see GrantKeeper). */
export interface GrantSource<G> {
  current(): Promise<G>;
  renewAfterRefusal(failed: G): Promise<G>;
}

/** Options of `callStorage`. */
export interface CallStorageOptions {
  policy?: RetryPolicy | undefined;
  signal?: AbortSignal | undefined;
  /** Told before each pause; for logs and tests. */
  onRetry?: ((error: StorageError, attempt: number, delayMs: number) => void) | undefined;
  /** Injectable for tests. */
  random?: () => number;
  /** Waits `ms` or rejects with the signal's reason; injectable for tests (default {@link sleep}). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/**
 * Runs `op` with the current grants. Network errors and 5xx are retried
 * with back-off up to the policy's limit; a 403 (expired or refused SAS) is
 * answered by renewing the grants once per call and trying again. Returns
 * what `op` returns; throws its last error, what renewal throws, or the
 * signal's reason when aborted.
 */
export async function callStorage<G, T>(
  grants: GrantSource<G>,
  op: (grants: G) => Promise<T>,
  opts: CallStorageOptions = {},
): Promise<T> {
  const policy = opts.policy ?? DEFAULT_RETRY_POLICY;
  let renewed = false;
  for (let attempt = 0; ; attempt++) {
    opts.signal?.throwIfAborted();
    const used = await grants.current();
    try {
      return await op(used);
    } catch (error) {
      if (opts.signal?.aborted === true) throw opts.signal.reason;
      if (error instanceof StorageError && (error.kind === 'expired-grant' || error.kind === 'forbidden') && !renewed) {
        renewed = true;
        await grants.renewAfterRefusal(used);
        continue;
      }
      if (error instanceof StorageError && error.kind === 'network') for (const listener of troubleListeners) listener(error);
      if (!isRetryable(error) || attempt >= policy.retries || !(error instanceof StorageError)) throw error;
      const delay = pauseAfter(error, attempt, policy, opts.random);
      // Storage asked for a longer pause than we wait here: let the caller's own patience decide.
      if (delay === null) throw error;
      opts.onRetry?.(error, attempt, delay);
      await (opts.sleep ?? sleep)(delay, opts.signal);
    }
  }
}
