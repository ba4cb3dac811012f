import { describe, expect, it } from 'vitest';
import { mayCache, networkFirstConfig, primeConfig, RUNTIME_CONFIG_CACHE, RUNTIME_CONFIG_PATH } from './runtime-config.ts';

const ORIGIN = 'http://localhost:5173';

/** CacheStorage holding what it is given, in memory. */
function memoryCaches(): CacheStorage & { stored: Map<string, Map<string, Response>> } {
  const stored = new Map<string, Map<string, Response>>();
  const open = (name: string): Promise<Cache> => {
    const entries = stored.get(name) ?? new Map<string, Response>();
    stored.set(name, entries);
    const cache = {
      put: (key: RequestInfo | URL, response: Response) => {
        entries.set(String(key), response.clone());
        return Promise.resolve();
      },
      match: (key: RequestInfo | URL) => Promise.resolve(entries.get(String(key))?.clone()),
    };
    return Promise.resolve(cache as unknown as Cache);
  };
  return { stored, open } as unknown as CacheStorage & { stored: Map<string, Map<string, Response>> };
}

const settings = JSON.stringify({ apiBase: '/api/v1' });

describe('what the service worker may keep', () => {
  it('keeps only /config.json of its own origin: never the API, the provider, blob storage or downloads', () => {
    expect(mayCache(new URL(`${ORIGIN}/config.json`), ORIGIN)).toBe(true);
    for (const url of [
      `${ORIGIN}/api/v1/me`,
      `${ORIGIN}/api/v1/files?limit=100`,
      `${ORIGIN}/oidc/token`,
      `${ORIGIN}/__sealdrop/download/${'a'.repeat(32)}`,
      'http://127.0.0.1:10000/devstoreaccount1/files/u/f?sv=2025&sig=abc&comp=block',
      'https://sealdrop.blob.core.windows.net/files/u/f?sig=abc',
      'https://other.example/config.json',
      `${ORIGIN}/config.json.bak`,
    ]) {
      expect(mayCache(new URL(url), ORIGIN), url).toBe(false);
    }
  });
});

describe('the runtime settings, network first', () => {
  it('answers from the network and stores a 200; offline it answers the stored copy', async () => {
    const caches = memoryCaches();
    const online = await networkFirstConfig(new Request(`${ORIGIN}${RUNTIME_CONFIG_PATH}`), caches, () => Promise.resolve(new Response(settings, { status: 200 })));
    expect(await online.text()).toBe(settings);
    const offline = await networkFirstConfig(new Request(`${ORIGIN}${RUNTIME_CONFIG_PATH}`), caches, () => Promise.reject(new TypeError('Failed to fetch')));
    expect(await offline.text()).toBe(settings);
    expect([...(caches.stored.get(RUNTIME_CONFIG_CACHE)?.keys() ?? [])]).toEqual([RUNTIME_CONFIG_PATH]);
  });

  it('never stores an error answer, and fails as the network did when nothing is stored', async () => {
    const caches = memoryCaches();
    const broken = await networkFirstConfig(new Request(`${ORIGIN}${RUNTIME_CONFIG_PATH}`), caches, () => Promise.resolve(new Response('down', { status: 503 })));
    expect(broken.status).toBe(503);
    await expect(networkFirstConfig(new Request(`${ORIGIN}${RUNTIME_CONFIG_PATH}`), caches, () => Promise.reject(new TypeError('Failed to fetch')))).rejects.toThrow(
      new TypeError('Failed to fetch'),
    );
  });

  it('primes the copy at install, and an offline install is not an error', async () => {
    const caches = memoryCaches();
    await primeConfig(caches, () => Promise.reject(new TypeError('Failed to fetch')));
    expect(caches.stored.get(RUNTIME_CONFIG_CACHE)?.size ?? 0).toBe(0);
    await primeConfig(caches, () => Promise.resolve(new Response(settings, { status: 200 })));
    const copy = await (await caches.open(RUNTIME_CONFIG_CACHE)).match(RUNTIME_CONFIG_PATH);
    expect(await copy?.text()).toBe(settings);
  });
});
