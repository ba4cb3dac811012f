/**
 * Page side of the service worker: registration with workbox-window, the
 * "new version ready" hook, and fetching files shared to Sealdrop.
 */
import { Workbox } from 'workbox-window';
import { workerToPageSchema, type SkipWaitingMessage, type TakeSharedFilesMessage } from './messages.ts';

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
    // A page left open for days still learns of a new version.
    window.addEventListener('online', () => void registration.update().catch(() => undefined));
    return registration;
  } catch {
    return null;
  }
}

/** How long the worker may take to hand over shared files. */
const SHARE_REPLY_MS = 5_000;

/**
 * Asks the service worker for the files shared to Sealdrop through the
 * system share sheet (the manifest's share target). Resolves to [] when
 * there are none, no worker controls the page, or it does not answer.
 */
export async function takeSharedFiles(): Promise<File[]> {
  if (!('serviceWorker' in navigator)) return [];
  const registration = await navigator.serviceWorker.ready;
  const worker = navigator.serviceWorker.controller ?? registration.active;
  if (worker === null) return [];
  const channel = new MessageChannel();
  const reply = new Promise<File[]>((resolve) => {
    const timer = setTimeout(() => resolve([]), SHARE_REPLY_MS);
    channel.port1.onmessage = (event: MessageEvent<unknown>) => {
      clearTimeout(timer);
      channel.port1.close();
      const parsed = workerToPageSchema.safeParse(event.data);
      resolve(parsed.success && parsed.data.type === 'shared-files' ? parsed.data.files : []);
    };
  });
  const message: TakeSharedFilesMessage = { type: 'take-shared-files' };
  worker.postMessage(message, [channel.port2]);
  return reply;
}
