import { describe, expect, it } from 'vitest';
import { createHealthCheck, jwksProbe, type Probe } from './health.ts';

/** A probe answering as told, counting its calls. */
function probe(answer: 'ok' | 'fail' | 'hang'): Probe & { calls: number } {
  const p = Object.assign(
    (signal: AbortSignal): Promise<void> => {
      p.calls += 1;
      void signal;
      if (answer === 'ok') return Promise.resolve();
      if (answer === 'fail') return Promise.reject(new Error('ECONNREFUSED'));
      return new Promise<void>(() => undefined);
    },
    { calls: 0 },
  );
  return p;
}

describe('health check', () => {
  it('reports storage and identity separately', async () => {
    expect(await createHealthCheck({ storage: probe('ok'), identity: probe('ok') })()).toEqual({ status: 'ok', storage: 'ok', identity: 'ok' });
    expect(await createHealthCheck({ storage: probe('fail'), identity: probe('ok') })()).toEqual({ status: 'degraded', storage: 'down', identity: 'ok' });
    expect(await createHealthCheck({ storage: probe('ok'), identity: probe('fail') })()).toEqual({ status: 'degraded', storage: 'ok', identity: 'down' });
  });

  it('counts a probe that does not answer before the timeout as down', async () => {
    const timeout = new AbortController();
    let asked = 0;
    const check = createHealthCheck({
      storage: probe('hang'),
      identity: probe('ok'),
      timeoutMs: 1234,
      timeoutSignal: (ms) => {
        asked = ms;
        return timeout.signal;
      },
    });
    const report = check();
    // Let the answering probe settle (one macrotask, no clock), then time out the other.
    await new Promise((resolve) => setImmediate(resolve));
    timeout.abort();
    expect(await report).toEqual({ status: 'degraded', storage: 'down', identity: 'ok' });
    expect(asked).toBe(1234);
  });

  it('reuses a report for the cache lifetime, then probes again', async () => {
    let t = 0;
    const storage = probe('ok');
    const identity = probe('ok');
    const check = createHealthCheck({ storage, identity, cacheMs: 5000, now: () => t });
    await Promise.all([check(), check()]);
    t = 4999;
    await check();
    expect([storage.calls, identity.calls]).toEqual([1, 1]);
    t = 5000;
    await check();
    expect([storage.calls, identity.calls]).toEqual([2, 2]);
  });

  it('probes the JWKS address, or the discovery document when there is none, and needs a 2xx', async () => {
    const asked: string[] = [];
    const fetchFn = (status: number): typeof fetch =>
      (input) => {
        asked.push(String(input));
        return Promise.resolve(new Response('{}', { status }));
      };
    const signal = new AbortController().signal;
    await jwksProbe('https://login.example/t/v2.0', 'https://keys.example/jwks', fetchFn(200))(signal);
    await jwksProbe('https://login.example/t/v2.0/', null, fetchFn(200))(signal);
    expect(asked).toEqual(['https://keys.example/jwks', 'https://login.example/t/v2.0/.well-known/openid-configuration']);
    await expect(jwksProbe('https://login.example', null, fetchFn(503))(signal)).rejects.toThrow('503');
  });
});
