/**
 * How a client answers "come back later": the endpoint sends every 429 (and
 * its 503s) with `Retry-After` in seconds, and storage may send it with a
 * 429 or 503. Shared by the API client (src/auth) and the storage transport
 * (src/storage) so both wait the same polite, jittered way.
 */

/** How long and how often a client waits for a server that asked it to. */
export interface RetryAfterPolicy {
  /** Retries after the first attempt (so `retries + 1` attempts in all). */
  retries: number;
  /** Pause before the first retry when the answer names none, doubled each time. */
  baseDelayMs: number;
  /** The longest single pause; a server asking for longer is not waited for. */
  maxDelayMs: number;
  /** Extra random share added to a server-named pause (0.25 = up to a quarter more). */
  jitter: number;
}

/**
 * Eight retries; a named pause honoured up to 60 s plus up to a quarter more
 * at random; 1 s doubling when none is named. With the endpoint's per-user
 * limit refilling every half second, a listing that outruns it waits and
 * goes on instead of failing.
 */
export const DEFAULT_RETRY_AFTER_POLICY: RetryAfterPolicy = { retries: 8, baseDelayMs: 1000, maxDelayMs: 60_000, jitter: 0.25 };

/** Returns a uniform number in [0, 1) from the CSPRNG (never Math.random: the linter forbids it). */
export function cryptoRandomUnit(): number {
  const word = new Uint32Array(1);
  crypto.getRandomValues(word);
  return (word[0] ?? 0) / 2 ** 32;
}

/**
 * Parses a `Retry-After` value into milliseconds: delta-seconds (`"3"`) or
 * an HTTP date (relative to `nowMs`). Returns null when the header is
 * absent or unreadable; never negative.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | null {
  if (value === null || value === undefined) return null;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // IMF-fixdate, e.g. "Tue, 01 Dec 2026 00:00:30 GMT" (Date.parse alone would take "-3" as a year).
  if (!/^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(text)) return null;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - nowMs);
}

/**
 * Returns the pause before retry number `attempt` (0-based), or null when
 * the policy says give up (retries used, or the server asks for longer than
 * `maxDelayMs`). With a named pause: that pause plus a random share of up
 * to `jitter` of it (at least 1 s spread), so clients refused together do
 * not come back together. Without one: "equal jitter" back-off, half of
 * min(max, base × 2^attempt) plus a random share of the other half.
 */
export function retryAfterDelay(
  retryAfterMs: number | null,
  attempt: number,
  policy: RetryAfterPolicy = DEFAULT_RETRY_AFTER_POLICY,
  random: () => number = cryptoRandomUnit,
): number | null {
  if (attempt >= policy.retries) return null;
  if (retryAfterMs !== null) {
    if (retryAfterMs > policy.maxDelayMs) return null;
    const spread = Math.max(1000, retryAfterMs * policy.jitter);
    return Math.min(policy.maxDelayMs + spread, retryAfterMs + spread * random());
  }
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return ceiling / 2 + (ceiling / 2) * random();
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
