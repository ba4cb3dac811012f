/**
 * Samples the page's heap through CDP `Runtime.getHeapUsage` while an
 * operation runs. `backingStorageSize` counts ArrayBuffer backing stores,
 * which `performance.memory` leaves out; a pipeline that buffered the file
 * in Uint8Arrays would hide there, so the peak we report includes it.
 */
import type { CDPSession } from 'playwright';
import type { HeapPeak } from './results-schema.ts';

const INTERVAL_MS = 50;

async function usage(cdp: CDPSession): Promise<{ js: number; total: number }> {
  const u = await cdp.send('Runtime.getHeapUsage');
  return { js: u.usedSize, total: u.usedSize + u.backingStorageSize };
}

/**
 * Runs `op` while polling the heap every 50 ms; forces a GC first (through
 * CDP `HeapProfiler.collectGarbage`) so the baseline is clean. Returns what
 * `op` returned and the peaks; rethrows `op`'s error.
 */
export async function withHeapPeak<T>(cdp: CDPSession, op: () => Promise<T>): Promise<{ value: T; heap: HeapPeak }> {
  await cdp.send('HeapProfiler.collectGarbage');
  const base = await usage(cdp);
  let peakJs = base.js;
  let peakTotal = base.total;
  let samples = 1;
  let running = true;
  const poll = (async () => {
    while (running) {
      await new Promise((r) => setTimeout(r, INTERVAL_MS));
      const u = await usage(cdp).catch(() => null);
      if (u === null) continue;
      samples++;
      peakJs = Math.max(peakJs, u.js);
      peakTotal = Math.max(peakTotal, u.total);
    }
  })();
  try {
    const value = await op();
    return {
      value,
      heap: { jsHeapAndBuffersBytes: peakTotal, jsHeapBytes: peakJs, baselineBytes: base.total, samples },
    };
  } finally {
    running = false;
    await poll;
  }
}
