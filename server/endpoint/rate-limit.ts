/**
 * In-memory token buckets, one per key (a user id or an IP address). Each
 * process keeps its own buckets: with several instances the effective limit
 * is per instance, which is enough to blunt bursts and scripted abuse. The
 * shared limiter over Azure Table Storage (rate-limit-table.ts) implements
 * the same interface; configuration picks one (SEALDROP_RATE_LIMIT_STORE).
 */

/** The outcome of one {@link RateLimiter.take}. */
export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/**
 * Takes one token from a key's bucket. The in-memory limiter answers at
 * once; a shared one (rate-limit-table.ts) answers after a round trip to
 * its store, so callers await either.
 */
export interface RateLimiter {
  take(key: string): RateDecision | Promise<RateDecision>;
}

/** The in-memory limiter: answers at once. */
export interface MemoryRateLimiter extends RateLimiter {
  take(key: string): RateDecision;
}

/**
 * A limiter allowing `perMinute` requests per key per minute on average, with
 * bursts of up to `perMinute`. Buckets that have refilled completely are
 * forgotten (swept once more than `maxKeys` are held), so memory stays bounded
 * by the number of recently active keys.
 */
export function tokenBucketLimiter(opts: { perMinute: number; now?: () => number; maxKeys?: number }): MemoryRateLimiter {
  const now = opts.now ?? (() => Date.now());
  const capacity = opts.perMinute;
  const perMs = opts.perMinute / 60_000;
  const maxKeys = opts.maxKeys ?? 10_000;
  const buckets = new Map<string, { tokens: number; at: number }>();

  const refill = (b: { tokens: number; at: number }, t: number): void => {
    b.tokens = Math.min(capacity, b.tokens + (t - b.at) * perMs);
    b.at = t;
  };

  const sweep = (t: number): void => {
    for (const [key, b] of buckets) {
      refill(b, t);
      if (b.tokens >= capacity) buckets.delete(key);
    }
  };

  return {
    take(key) {
      const t = now();
      let b = buckets.get(key);
      if (b === undefined) {
        if (buckets.size >= maxKeys) sweep(t);
        b = { tokens: capacity, at: t };
        buckets.set(key, b);
      } else {
        refill(b, t);
      }
      if (b.tokens >= 1) {
        b.tokens -= 1;
        return { allowed: true };
      }
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - b.tokens) / perMs / 1000)) };
    },
  };
}
