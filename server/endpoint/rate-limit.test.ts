import { describe, expect, it } from 'vitest';
import { tokenBucketLimiter } from './rate-limit.ts';

describe('token bucket limiter', () => {
  it('allows a burst up to the limit, then refuses with the wait until one token is back', () => {
    let t = 0;
    const limiter = tokenBucketLimiter({ perMinute: 60, now: () => t });
    for (let i = 0; i < 60; i++) expect(limiter.take('a').allowed).toBe(true);
    expect(limiter.take('a')).toEqual({ allowed: false, retryAfterSeconds: 1 });
    t += 500;
    expect(limiter.take('a').allowed).toBe(false);
    t += 500;
    expect(limiter.take('a').allowed).toBe(true);
    expect(limiter.take('b').allowed).toBe(true);
  });

  it('computes Retry-After from the refill rate', () => {
    let t = 0;
    const limiter = tokenBucketLimiter({ perMinute: 2, now: () => t });
    limiter.take('k');
    limiter.take('k');
    expect(limiter.take('k')).toEqual({ allowed: false, retryAfterSeconds: 30 });
    t += 29_000;
    expect(limiter.take('k')).toEqual({ allowed: false, retryAfterSeconds: 1 });
    t += 1_000;
    expect(limiter.take('k').allowed).toBe(true);
  });

  it('forgets refilled buckets so memory stays bounded, without forgiving active ones', () => {
    let t = 0;
    const limiter = tokenBucketLimiter({ perMinute: 1, now: () => t, maxKeys: 2 });
    expect(limiter.take('busy').allowed).toBe(true);
    t += 60_000;
    limiter.take('old');
    t += 60_000;
    expect(limiter.take('busy').allowed).toBe(true);
    // 'old' has refilled and gets swept; 'busy' just spent its token and stays.
    limiter.take('new');
    expect(limiter.take('busy').allowed).toBe(false);
  });
});
