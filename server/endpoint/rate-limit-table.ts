/**
 * A rate limiter shared by every instance of the endpoint: the same token
 * buckets as the in-memory limiter (rate-limit.ts), kept as one entity per
 * key in an Azure Storage table and updated with optimistic concurrency
 * (ETag, If-Match), so instances scaled out by Azure Functions share one
 * limit per user and per address.
 *
 * Each decision costs one read and one write to the table (about 10 ms in
 * the same region). Keys are hashed (SHA-256) before they become row keys,
 * so the table holds no user id or IP address in the clear. When the table
 * cannot be reached the limiter lets the request through and says so on the
 * log, once a minute: a storage hiccup must not lock every user out.
 */
import { createHash } from 'node:crypto';
import { RestError, type TableClient } from '@azure/data-tables';
import type { RateDecision, RateLimiter } from './rate-limit.ts';

/** One bucket as stored. */
interface BucketEntity {
  partitionKey: string;
  rowKey: string;
  tokens: number;
  /** When `tokens` was last computed (ms since the epoch). */
  at: number;
}

/** Options of {@link tableRateLimiter}. */
export interface TableRateLimiterOptions {
  /** The table (created beforehand: by the Bicep template in Azure, by the test against Azurite). */
  table: TableClient;
  perMinute: number;
  /** Separates the user and address limiters sharing one table, e.g. `user`, `ip`. */
  name: string;
  now?: () => number;
  /** Attempts when another instance changed the same bucket meanwhile; default 5. */
  maxAttempts?: number;
  /** Receives one line when the table fails (at most once a minute); default stderr. */
  log?: (line: string) => void;
}

function isStatus(err: unknown, status: number): boolean {
  return err instanceof RestError && err.statusCode === status;
}

/**
 * Returns a limiter over `opts.table` allowing `perMinute` requests per key
 * per minute with bursts of `perMinute`, like the in-memory one. `take`
 * never rejects: a table failure, or a bucket that stays contended for
 * every attempt, lets the request through (see the module comment).
 */
export function tableRateLimiter(opts: TableRateLimiterOptions): RateLimiter {
  const now = opts.now ?? (() => Date.now());
  const capacity = opts.perMinute;
  const perMs = opts.perMinute / 60_000;
  const maxAttempts = opts.maxAttempts ?? 5;
  const log = opts.log ?? ((line: string) => void process.stderr.write(`${line}\n`));
  let lastLogged = -Infinity;
  const warn = (line: string): void => {
    const t = now();
    if (t - lastLogged < 60_000) return;
    lastLogged = t;
    log(line);
  };

  const decide = (tokens: number): { decision: RateDecision; tokens: number } =>
    tokens >= 1
      ? { decision: { allowed: true }, tokens: tokens - 1 }
      : { decision: { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - tokens) / perMs / 1000)) }, tokens };

  const attempt = async (partitionKey: string, rowKey: string): Promise<RateDecision | null> => {
    const t = now();
    let stored: (BucketEntity & { etag: string }) | null = null;
    try {
      stored = await opts.table.getEntity<BucketEntity>(partitionKey, rowKey);
    } catch (err) {
      if (!isStatus(err, 404)) throw err;
    }
    if (stored === null) {
      const { decision, tokens } = decide(capacity);
      try {
        await opts.table.createEntity<BucketEntity>({ partitionKey, rowKey, tokens, at: t });
        return decision;
      } catch (err) {
        if (isStatus(err, 409)) return null; // another instance created it first
        throw err;
      }
    }
    const refilled = Math.min(capacity, stored.tokens + Math.max(0, t - stored.at) * perMs);
    const { decision, tokens } = decide(refilled);
    if (!decision.allowed) return decision; // nothing taken, nothing to write
    try {
      await opts.table.updateEntity<BucketEntity>({ partitionKey, rowKey, tokens, at: Math.max(t, stored.at) }, 'Replace', { etag: stored.etag });
      return decision;
    } catch (err) {
      if (isStatus(err, 412)) return null; // changed meanwhile: read again
      throw err;
    }
  };

  return {
    async take(key) {
      const hash = createHash('sha256').update(key).digest('hex');
      // Spread buckets over partitions; the row key names the limiter and the key.
      const partitionKey = hash.slice(0, 2);
      const rowKey = `${opts.name}-${hash}`;
      try {
        for (let i = 0; i < maxAttempts; i++) {
          const decision = await attempt(partitionKey, rowKey);
          if (decision !== null) return decision;
        }
        warn(`Rate limiter (${opts.name}): a bucket stayed contended for ${maxAttempts} attempts; the request was let through.`);
      } catch (err) {
        const reason = err instanceof RestError ? `${err.statusCode ?? err.code ?? 'no status'}` : err instanceof Error ? err.name : 'unknown';
        warn(`Rate limiter (${opts.name}): the table could not be reached (${reason}); requests are let through until it can.`);
      }
      return { allowed: true };
    },
  };
}
