/**
 * Page side of the service worker: registration with workbox-window and
 * the "new version ready" hook.
 */
import { Workbox } from 'workbox-window';
import type { SkipWaitingMessage } from './messages.ts';

/** Options of registerServiceWorker. */
export interface RegisterOptions {
  /** Called when a new version is installed and waiting; call `apply` to switch to it (the page reloads). */
  onUpdateReady?: (apply: () => void) => void;
}

/**
 * Registers `/sw.js` (scope `/`) and resolves once a worker is active.
 * Returns null where service workers are unavailable (insecure context, old
 * browser) or in the dev server, which builds no worker. Never throws: a
 * failed registration also returns null (downloads then use the in-memory
 * fallback and the app does not work offline).
 */
export async function registerServiceWorker(opts: RegisterOptions = {}): Promise<ServiceWorkerRegistration | null> {
  if (import.meta.env.DEV || !('serviceWorker' in navigator)) return null;
  const wb = new Workbox('/sw.js', { scope: '/' });
  wb.addEventListener('waiting', () => {
    opts.onUpdateReady?.(() => {
      wb.addEventListener('controlling', () => window.location.reload());
      const message: SkipWaitingMessage = { type: 'skip-waiting' };
      // messageSW waits for a reply that skip-waiting never sends; the reload follows 'controlling'.
      void wb.messageSW(message);
    });
  });
  try {
    const registration = await wb.register();
    if (registration === undefined) return null;
    await navigator.serviceWorker.ready;
    return registration;
  } catch {
    return null;
  }
}
