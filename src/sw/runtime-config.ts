/**
 * The app's runtime settings (`/config.json`) for offline starts: fetched
 * from the network first (a changed deployment wins at once), kept in a
 * cache of their own, and answered from that cache only when the network
 * gives no answer. Nothing else the app fetches at run time is kept: API
 * answers, SAS URLs and blob data never pass through a cache
 * ({@link mayCache} is the one rule, and it is tested).
 */
/// <reference lib="webworker" />

/** Path of the runtime settings on the app's origin. */
export const RUNTIME_CONFIG_PATH = '/config.json';
/** Cache holding the last good copy of the runtime settings (nothing else). */
export const RUNTIME_CONFIG_CACHE = 'sealdrop-runtime-config-v1';

/**
 * Whether the worker may keep a copy of a GET to `url` for offline use:
 * only the runtime settings on our own origin. Everything else (the API,
 * the sign-in provider, blob storage on any origin, downloads) is never
 * cached by the worker; the precached app shell is Workbox's, from the build.
 */
export function mayCache(url: URL, origin: string): boolean {
  return url.origin === origin && url.pathname === RUNTIME_CONFIG_PATH;
}

/**
 * Answers `request` for the runtime settings: the network's answer (stored
 * when it is a 200), else the stored copy, else the network's failure.
 */
export async function networkFirstConfig(request: Request, cacheStorage: CacheStorage, fetchFn: typeof fetch = fetch): Promise<Response> {
  try {
    const response = await fetchFn(request);
    if (response.ok && response.status === 200) {
      const cache = await cacheStorage.open(RUNTIME_CONFIG_CACHE);
      await cache.put(RUNTIME_CONFIG_PATH, response.clone());
    }
    return response;
  } catch (error) {
    const cache = await cacheStorage.open(RUNTIME_CONFIG_CACHE);
    const stored = await cache.match(RUNTIME_CONFIG_PATH);
    if (stored !== undefined) return stored;
    throw error;
  }
}

/** Fetches and stores the settings once (at install), so the first offline start already has them. Never throws. */
export async function primeConfig(cacheStorage: CacheStorage, fetchFn: typeof fetch = fetch): Promise<void> {
  try {
    const response = await fetchFn(RUNTIME_CONFIG_PATH, { cache: 'no-cache', credentials: 'same-origin' });
    if (response.status === 200) await (await cacheStorage.open(RUNTIME_CONFIG_CACHE)).put(RUNTIME_CONFIG_PATH, response);
  } catch {
    // Offline at install: the page's own fetch of the settings stores them later.
  }
}
