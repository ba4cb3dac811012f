import { describe, expect, it } from 'vitest';
import { GrantKeeper, type Grant } from './grants.ts';
import { ProgressMeter } from './progress.ts';
import { backoffDelay, callStorage, DEFAULT_RETRY_POLICY, onStorageTrouble, randomUnit, type GrantSource } from './retry.ts';
import { isRetryable, StorageError } from './storage-error.ts';

const policy = { retries: 3, baseDelayMs: 1, maxDelayMs: 4 };

function grant(expiresInMs: number, now: number, tag: string): { payload: Grant; manifest: Grant } {
  const g = { url: `https://x/${tag}?sig=1`, expiresAt: new Date(now + expiresInMs).toISOString(), permissions: 'rcw' as const };
  return { payload: g, manifest: g };
}

describe('back-off', () => {
  it('doubles up to the cap, with jitter in the upper half', () => {
    const p = DEFAULT_RETRY_POLICY;
    expect(backoffDelay(0, p, () => 0)).toBe(p.baseDelayMs / 2);
    expect(backoffDelay(0, p, () => 0.999999)).toBeCloseTo(p.baseDelayMs, 0);
    expect(backoffDelay(3, p, () => 0)).toBe((p.baseDelayMs * 8) / 2);
    expect(backoffDelay(30, p, () => 0.5)).toBe(p.maxDelayMs * 0.75);
  });

  it('draws jitter from the CSPRNG in [0, 1)', () => {
    for (let i = 0; i < 100; i++) {
      const r = randomUnit();
      expect(r).toBeGreaterThanOrEqual(0);
      expect(r).toBeLessThan(1);
    }
  });
});

describe('callStorage', () => {
  const fixed = (g: string): GrantSource<string> & { renewals: number } => {
    let current = g;
    const source = {
      renewals: 0,
      current: () => Promise.resolve(current),
      renewAfterRefusal: () => {
        source.renewals++;
        current = `${g}-renewed-${source.renewals}`;
        return Promise.resolve(current);
      },
    };
    return source;
  };

  it('retries network errors and 5xx, then succeeds', async () => {
    const errors = [new StorageError('network'), new StorageError('server', { status: 503 })];
    const seen: number[] = [];
    const result = await callStorage(
      fixed('g'),
      () => {
        const next = errors.shift();
        return next === undefined ? Promise.resolve('ok') : Promise.reject(next);
      },
      { policy, onRetry: (_e, attempt) => seen.push(attempt) },
    );
    expect(result).toBe('ok');
    expect(seen).toEqual([0, 1]);
  });

  it('gives up after the retry limit with the last error', async () => {
    let calls = 0;
    await expect(
      callStorage(fixed('g'), () => (calls++, Promise.reject(new StorageError('network'))), { policy }),
    ).rejects.toMatchObject({ kind: 'network' });
    expect(calls).toBe(policy.retries + 1);
  });

  it('does not retry conflicts, quota or not-found', async () => {
    for (const kind of ['conflict', 'quota', 'not-found'] as const) {
      let calls = 0;
      await expect(callStorage(fixed('g'), () => (calls++, Promise.reject(new StorageError(kind))), { policy })).rejects.toMatchObject({ kind });
      expect(calls).toBe(1);
      expect(isRetryable(new StorageError(kind))).toBe(false);
    }
  });

  it('renews the grant once after a 403 and uses the new one', async () => {
    const source = fixed('g');
    const used: string[] = [];
    const result = await callStorage(source, (g) => {
      used.push(g);
      return g === 'g' ? Promise.reject(new StorageError('forbidden', { status: 403 })) : Promise.resolve(g);
    });
    expect(result).toBe('g-renewed-1');
    expect(used).toEqual(['g', 'g-renewed-1']);
    expect(source.renewals).toBe(1);
  });

  it('stops after one renewal if storage still refuses', async () => {
    const source = fixed('g');
    await expect(callStorage(source, () => Promise.reject(new StorageError('expired-grant', { status: 403 })), { policy })).rejects.toMatchObject({
      kind: 'expired-grant',
    });
    expect(source.renewals).toBe(1);
  });

  it('waits at least the pause storage named with Retry-After on a 429 or 503, plus jitter', async () => {
    const errors = [
      new StorageError('server', { status: 429, retryAfterMs: 4000 }),
      new StorageError('server', { status: 503, retryAfterMs: 2000 }),
    ];
    const pauses: number[] = [];
    const result = await callStorage(
      fixed('g'),
      () => {
        const next = errors.shift();
        return next === undefined ? Promise.resolve('ok') : Promise.reject(next);
      },
      { policy, random: () => 0.5, sleep: (ms) => (pauses.push(ms), Promise.resolve()) },
    );
    expect(result).toBe('ok');
    // 4 s + half of a 1 s spread; 2 s + half of a 1 s spread (the back-off here is a few ms).
    expect(pauses).toEqual([4500, 2500]);
  });

  it('does not sit out a Retry-After longer than a minute: the caller decides', async () => {
    const pauses: number[] = [];
    let calls = 0;
    await expect(
      callStorage(fixed('g'), () => (calls++, Promise.reject(new StorageError('server', { status: 503, retryAfterMs: 120_000 }))), {
        policy,
        sleep: (ms) => (pauses.push(ms), Promise.resolve()),
      }),
    ).rejects.toMatchObject({ kind: 'server', status: 503, retryAfterMs: 120_000 });
    expect(calls).toBe(1);
    expect(pauses).toEqual([]);
  });

  it('tells StorageTrouble listeners about requests that got no answer, not about other failures', async () => {
    const heard: string[] = [];
    const stop = onStorageTrouble((e) => heard.push(e.kind));
    const errors = [new StorageError('network'), new StorageError('server', { status: 500 })];
    await callStorage(fixed('g'), () => {
      const next = errors.shift();
      return next === undefined ? Promise.resolve('ok') : Promise.reject(next);
    }, { policy });
    stop();
    await callStorage(fixed('g'), () => Promise.reject(new StorageError('network')), { policy: { ...policy, retries: 0 } }).catch(() => undefined);
    expect(heard).toEqual(['network']);
  });

  it('stops waiting when cancelled', async () => {
    const stop = new AbortController();
    const slow = { retries: 3, baseDelayMs: 60_000, maxDelayMs: 60_000 };
    const pending = callStorage(fixed('g'), () => Promise.reject(new StorageError('network')), { policy: slow, signal: stop.signal });
    stop.abort(new DOMException('cancelled', 'AbortError'));
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('GrantKeeper', () => {
  it('renews ahead of expiry, once for concurrent callers', async () => {
    let now = 1_000_000;
    let renewals = 0;
    const keeper = new GrantKeeper(
      grant(10 * 60_000, now, 'first'),
      () => {
        renewals++;
        return Promise.resolve(grant(10 * 60_000, now, `renewed-${renewals}`));
      },
      () => now,
    );
    expect((await keeper.current()).payload.url).toContain('first');
    now += 8 * 60_000; // two minutes left: still fine
    expect((await keeper.current()).payload.url).toContain('first');
    now += 90_000; // 30 s left: inside the one-minute margin
    const [a, b] = await Promise.all([keeper.current(), keeper.current()]);
    expect(a.payload.url).toContain('renewed-1');
    expect(b).toBe(a);
    expect(renewals).toBe(1);
  });

  it('renews after a refusal only if nobody else already did', async () => {
    let renewals = 0;
    const keeper = new GrantKeeper(grant(600_000, Date.now(), 'first'), () => Promise.resolve(grant(600_000, Date.now(), `r${++renewals}`)));
    const first = await keeper.current();
    const second = await keeper.renewAfterRefusal(first);
    expect(await keeper.renewAfterRefusal(first)).toBe(second); // stale refusal: no second renewal
    expect(renewals).toBe(1);
  });

  it('does not loop on a clock that says the grant is already expired', async () => {
    let now = 0;
    let renewals = 0;
    const keeper = new GrantKeeper(grant(-5_000, now, 'a'), () => Promise.resolve(grant(-5_000, now, `r${++renewals}`)), () => now);
    await keeper.current();
    await keeper.current();
    expect(renewals).toBe(0);
    now += 10_000;
    await keeper.current();
    expect(renewals).toBe(1);
  });
});

describe('ProgressMeter', () => {
  it('reports bytes, speed and time left', () => {
    let now = 0;
    const meter = new ProgressMeter(1000, () => now);
    expect(meter.snapshot()).toMatchObject({ bytesDone: 0, totalBytes: 1000, secondsLeft: null });
    now = 1000;
    const p = meter.add(100);
    expect(p.bytesDone).toBe(100);
    expect(p.bytesPerSecond).toBeCloseTo(100);
    expect(p.secondsLeft).toBeCloseTo(9);
    now = 2000;
    expect(meter.add(900)).toMatchObject({ bytesDone: 1000, secondsLeft: 0 });
  });

  it('measures speed over the recent window only', () => {
    let now = 0;
    const meter = new ProgressMeter(1e9, () => now);
    for (let t = 1; t <= 20; t++) {
      now = t * 1000;
      meter.add(t <= 10 ? 1_000_000 : 100_000); // fast, then slow
    }
    expect(meter.snapshot().bytesPerSecond).toBeLessThan(200_000);
  });
});
