/**
 * Waiting before an automatic retry: a pause that the browser's `online`
 * event ends early, and that stops at once when its signal aborts.
 */

/**
 * Resolves after `ms`, or at once when the browser's `online` event fires
 * (the connection came back: no reason to sit out the rest of a long
 * pause). While the browser says it is offline, only `online` ends the
 * wait. Rejects with an AbortError when `signal` aborts.
 */
export function pauseOrOnline(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(new DOMException('Cancelled', 'AbortError'));
  return new Promise((resolve, reject) => {
    const timer = navigator.onLine ? setTimeout(done, ms) : undefined;
    window.addEventListener('online', done, { once: true });
    signal.addEventListener('abort', stop, { once: true });
    function cleanUp(): void {
      clearTimeout(timer);
      window.removeEventListener('online', done);
      signal.removeEventListener('abort', stop);
    }
    function done(): void {
      cleanUp();
      resolve();
    }
    function stop(): void {
      cleanUp();
      reject(new DOMException('Cancelled', 'AbortError'));
    }
  });
}
