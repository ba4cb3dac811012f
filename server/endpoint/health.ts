/**
 * What `GET /health` reports: whether the endpoint can reach storage and the
 * identity provider's signing keys, each checked on its own with a short
 * timeout, the answer cached for a few seconds so a busy health check never
 * becomes load on either.
 */
import type { HealthReport } from '../../src/contract/index.ts';

/** One reachability check: resolves when the part answered, rejects (or is aborted by `signal`) when not. */
export type Probe = (signal: AbortSignal) => Promise<void>;

/** Returns the current health report; never rejects. */
export type HealthCheck = () => Promise<HealthReport>;

/** Options of {@link createHealthCheck}. */
export interface HealthCheckOptions {
  storage: Probe;
  identity: Probe;
  /** How long one probe may take before it counts as down; default 2 s. */
  timeoutMs?: number;
  /** How long a report is reused; default 5 s. */
  cacheMs?: number;
  /** Injectable clock (ms) for tests. */
  now?: () => number;
  /** Injectable timeout signal for tests; default `AbortSignal.timeout`. */
  timeoutSignal?: (ms: number) => AbortSignal;
}

/** The probes' default timeout and cache lifetime. */
export const HEALTH_TIMEOUT_MS = 2_000;
export const HEALTH_CACHE_MS = 5_000;

async function reach(probe: Probe, signal: AbortSignal): Promise<'ok' | 'down'> {
  // A probe that ignores the signal still counts as down once the signal fires.
  const aborted = new Promise<'down'>((resolve) => {
    if (signal.aborted) resolve('down');
    else signal.addEventListener('abort', () => resolve('down'), { once: true });
  });
  const answered = probe(signal).then(
    () => 'ok' as const,
    () => 'down' as const,
  );
  return Promise.race([answered, aborted]);
}

/**
 * Returns a health check running `storage` and `identity` side by side.
 * Concurrent callers share one round of probes; a report is reused for
 * `cacheMs`.
 */
export function createHealthCheck(opts: HealthCheckOptions): HealthCheck {
  const now = opts.now ?? (() => Date.now());
  const timeoutMs = opts.timeoutMs ?? HEALTH_TIMEOUT_MS;
  const cacheMs = opts.cacheMs ?? HEALTH_CACHE_MS;
  const timeoutSignal = opts.timeoutSignal ?? ((ms: number) => AbortSignal.timeout(ms));
  let cached: { at: number; report: Promise<HealthReport> } | null = null;

  const probeAll = async (): Promise<HealthReport> => {
    const signal = timeoutSignal(timeoutMs);
    const [storage, identity] = await Promise.all([reach(opts.storage, signal), reach(opts.identity, signal)]);
    return { status: storage === 'ok' && identity === 'ok' ? 'ok' : 'degraded', storage, identity };
  };

  return () => {
    const t = now();
    if (cached === null || t - cached.at >= cacheMs) cached = { at: t, report: probeAll() };
    return cached.report;
  };
}

/**
 * A probe of the issuer's signing keys (JWKS): GETs `jwksUri` or, when null,
 * the issuer's discovery document (what the token verifier needs first).
 * Any 2xx counts as reachable.
 */
export function jwksProbe(issuer: string, jwksUri: string | null, fetchImpl: typeof fetch = fetch): Probe {
  const url = jwksUri ?? `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  return async (signal) => {
    const res = await fetchImpl(url, { signal, headers: { accept: 'application/json' } });
    await res.body?.cancel().catch(() => undefined);
    if (!res.ok) throw new Error(`identity provider answered ${res.status}`);
  };
}
