import { describe, expect, it } from 'vitest';
import { cryptoRandomUnit, DEFAULT_RETRY_AFTER_POLICY, parseRetryAfter, retryAfterDelay, type RetryAfterPolicy } from './retry-after.ts';

const policy: RetryAfterPolicy = { retries: 3, baseDelayMs: 1000, maxDelayMs: 60_000, jitter: 0.25 };

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-12-01T00:00:00Z');
  it('reads delta-seconds and HTTP dates, never negative', () => {
    expect(parseRetryAfter('7', now)).toBe(7000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Tue, 01 Dec 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Mon, 30 Nov 2026 23:59:00 GMT', now)).toBe(0);
  });
  it('returns null when absent or unreadable', () => {
    expect(parseRetryAfter(null, now)).toBeNull();
    expect(parseRetryAfter(undefined, now)).toBeNull();
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter('-3', now)).toBeNull();
  });
});

describe('retryAfterDelay (the backoff policy)', () => {
  it('honours a named pause, adding up to a quarter more (at least 1 s of spread)', () => {
    expect(retryAfterDelay(8000, 0, policy, () => 0)).toBe(8000);
    expect(retryAfterDelay(8000, 0, policy, () => 0.999)).toBeCloseTo(9998, 0);
    expect(retryAfterDelay(1000, 0, policy, () => 0.5)).toBe(1500);
    expect(retryAfterDelay(0, 0, policy, () => 0.5)).toBe(500);
  });
  it('never waits less than the server named, whatever the random source says', () => {
    for (const r of [0, 0.1, 0.5, 0.9, 0.999999]) expect(retryAfterDelay(12_000, 1, policy, () => r)).toBeGreaterThanOrEqual(12_000);
  });
  it('without a named pause, backs off exponentially with equal jitter, capped', () => {
    expect([0, 1, 2].map((a) => retryAfterDelay(null, a, policy, () => 0))).toEqual([500, 1000, 2000]);
    expect([0, 1, 2].map((a) => retryAfterDelay(null, a, policy, () => 1))).toEqual([1000, 2000, 4000]);
    const capped: RetryAfterPolicy = { ...policy, retries: 20, maxDelayMs: 5000 };
    expect(retryAfterDelay(null, 10, capped, () => 1)).toBe(5000);
  });
  it('gives up when the retries are used or the server asks for longer than the longest pause', () => {
    expect(retryAfterDelay(1000, 3, policy, () => 0)).toBeNull();
    expect(retryAfterDelay(null, 3, policy, () => 0)).toBeNull();
    expect(retryAfterDelay(60_001, 0, policy, () => 0)).toBeNull();
  });
  it('spreads clients refused together (default random source is the CSPRNG)', () => {
    const delays = new Set(Array.from({ length: 20 }, () => retryAfterDelay(5000, 0)));
    expect(delays.size).toBeGreaterThan(1);
    for (const d of delays) expect(d).toBeGreaterThanOrEqual(5000);
    const u = cryptoRandomUnit();
    expect(u).toBeGreaterThanOrEqual(0);
    expect(u).toBeLessThan(1);
    expect(DEFAULT_RETRY_AFTER_POLICY.retries).toBeGreaterThan(0);
  });
});
