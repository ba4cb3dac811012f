/**
 * Waiting before an automatic retry: for the browser to be online again,
 * then for a back-off pause. Both stop at once when their signal aborts.
 */

/** Resolves after `ms`, or rejects with an AbortError when `signal` aborts. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(new DOMException('Cancelled', 'AbortError'));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      signal.removeEventListener('abort', stop);
      resolve();
    }
    function stop(): void {
      clearTimeout(timer);
      reject(new DOMException('Cancelled', 'AbortError'));
    }
    signal.addEventListener('abort', stop, { once: true });
  });
}

/** Resolves once the browser says it is online (at once if it already is). */
export function onlineAgain(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(new DOMException('Cancelled', 'AbortError'));
  if (navigator.onLine) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const back = (): void => {
      signal.removeEventListener('abort', stop);
      resolve();
    };
    const stop = (): void => {
      window.removeEventListener('online', back);
      reject(new DOMException('Cancelled', 'AbortError'));
    };
    window.addEventListener('online', back, { once: true });
    signal.addEventListener('abort', stop, { once: true });
  });
}

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
