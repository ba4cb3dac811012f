/**
 * The shared rate limiter against Azurite's table service: two limiter
 * instances (two endpoint instances) share one bucket per key, concurrent
 * takes never hand out more than the bucket holds, and a table that cannot
 * be reached lets requests through.
 */
import { AzureNamedKeyCredential, TableClient } from '@azure/data-tables';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AZURITE_ACCOUNT_KEY, AZURITE_ACCOUNT_NAME } from '../local/azurite.ts';
import { rateLimiters } from './api/from-config.ts';
import { loadConfig } from './config.ts';
import { tableRateLimiter } from './rate-limit-table.ts';
import { startAzuriteService, type AzuriteService } from '../test-support/azurite-service.ts';

let azurite: AzuriteService;
let table: TableClient;

beforeAll(async () => {
  azurite = await startAzuriteService('table');
  table = new TableClient(azurite.endpoint, 'ratelimits', new AzureNamedKeyCredential(AZURITE_ACCOUNT_NAME, AZURITE_ACCOUNT_KEY), { allowInsecureConnection: true });
  await table.createTable();
});

afterAll(async () => {
  await azurite?.stop();
});

describe('table rate limiter', () => {
  it('shares one bucket per key between instances: a burst up to the limit, then 429 with the wait, then a refill', async () => {
    let t = Date.UTC(2026, 0, 1);
    const a = tableRateLimiter({ table, perMinute: 10, name: 'user', now: () => t });
    const b = tableRateLimiter({ table, perMinute: 10, name: 'user', now: () => t });
    for (let i = 0; i < 10; i++) expect((await (i % 2 === 0 ? a : b).take('user:alice')).allowed, `take ${i}`).toBe(true);
    expect(await a.take('user:alice')).toEqual({ allowed: false, retryAfterSeconds: 6 });
    expect(await b.take('user:alice')).toEqual({ allowed: false, retryAfterSeconds: 6 });
    // Another key, and the same key under another limiter name, have their own buckets.
    expect((await a.take('user:bob')).allowed).toBe(true);
    expect((await tableRateLimiter({ table, perMinute: 10, name: 'ip', now: () => t }).take('user:alice')).allowed).toBe(true);
    t += 6_000;
    expect((await b.take('user:alice')).allowed).toBe(true);
    expect((await a.take('user:alice')).allowed).toBe(false);
  });

  it('never hands out more than the bucket holds to concurrent takes from several instances', async () => {
    const t = Date.UTC(2026, 0, 2);
    const instances = [0, 1, 2].map(() => tableRateLimiter({ table, perMinute: 8, name: 'ip', now: () => t, maxAttempts: 100 }));
    const decisions = await Promise.all(Array.from({ length: 20 }, (_, i) => instances[i % 3]?.take('ip:203.0.113.9')));
    expect(decisions.filter((d) => d?.allowed === true)).toHaveLength(8);
    expect(decisions.filter((d) => d?.allowed === false)).toHaveLength(12);
  });

  it('stores no key in the clear', async () => {
    await tableRateLimiter({ table, perMinute: 5, name: 'user', now: () => Date.now() }).take('user:carol@example.com');
    const rows: string[] = [];
    for await (const entity of table.listEntities()) rows.push(`${entity.partitionKey}|${entity.rowKey ?? ''}`);
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.join('\n')).not.toMatch(/alice|bob|carol|203\.0\.113/);
    expect(rows.every((r) => /^[0-9a-f]{2}\|(user|ip)-[0-9a-f]{64}$/.test(r))).toBe(true);
  });

  it('lets requests through when the table cannot be reached, and says so once a minute', async () => {
    const lines: string[] = [];
    const missing = new TableClient(azurite.endpoint, 'nosuchtable', new AzureNamedKeyCredential(AZURITE_ACCOUNT_NAME, AZURITE_ACCOUNT_KEY), { allowInsecureConnection: true });
    const limiter = tableRateLimiter({ table: missing, perMinute: 1, name: 'user', log: (l) => lines.push(l) });
    expect(await limiter.take('user:dave')).toEqual({ allowed: true });
    expect(await limiter.take('user:dave')).toEqual({ allowed: true });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^Rate limiter \(user\): the table could not be reached \(404\); requests are let through until it can\.$/);
  });

  it('is what configuration selects: SEALDROP_RATE_LIMIT_STORE=table shares the limit between two endpoint instances', async () => {
    const config = loadConfig({
      SEALDROP_BLOB_ENDPOINT: 'http://127.0.0.1:1/devstoreaccount1',
      SEALDROP_STORAGE_ACCOUNT: AZURITE_ACCOUNT_NAME,
      SEALDROP_STORAGE_KEY: AZURITE_ACCOUNT_KEY,
      SEALDROP_OIDC_ISSUER: 'http://localhost:1/oidc',
      SEALDROP_DIRECTORY_KEY: Buffer.alloc(32, 3).toString('base64'),
      SEALDROP_RATE_USER_PER_MINUTE: '2',
      SEALDROP_RATE_LIMIT_STORE: 'table',
      SEALDROP_RATE_LIMIT_TABLE_ENDPOINT: azurite.endpoint,
      SEALDROP_RATE_LIMIT_TABLE: 'ratelimits',
    });
    const [first, second] = [rateLimiters(config), rateLimiters(config)];
    expect((await first.userLimiter.take('user:erin')).allowed).toBe(true);
    expect((await second.userLimiter.take('user:erin')).allowed).toBe(true);
    expect((await first.userLimiter.take('user:erin')).allowed).toBe(false);
    expect((await second.userLimiter.take('user:erin')).allowed).toBe(false);
  });
});
