/**
 * Measures AES-256-GCM sealing throughput per segment size, in Node and in
 * headless Chromium, to choose DEFAULT_SEGMENT_SIZE (results in
 * docs/FORMAT.md §5.4). A tool, not part of the app or the tests:
 *
 *   npx tsx bench/segment-size.ts
 */
import { chromium } from '@playwright/test';
import { chromiumArgs, chromiumPath } from '../tests/chromium.ts';

const SIZES = [64 * 1024, 256 * 1024, 1024 * 1024, 4 * 1024 * 1024];
const TOTAL = 64 * 1024 * 1024;
const ROUNDS = 5;

/** Returns MiB/s per segment size (median of rounds) plus a one-call baseline; runs anywhere WebCrypto does. */
async function measure(sizes: number[], total: number, rounds: number): Promise<Record<string, number>> {
  const data = new Uint8Array(total);
  for (let i = 0; i < total; i += 65536) crypto.getRandomValues(data.subarray(i, i + 65536));
  const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt']);
  const mibps = (ms: number): number => Math.round((total / 1048576 / ms) * 1000);
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  const result: Record<string, number> = {};
  const oneCall: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t = performance.now();
    await crypto.subtle.encrypt({ name: 'AES-GCM', iv: new Uint8Array(12) }, key, data);
    oneCall.push(mibps(performance.now() - t));
  }
  result['whole buffer, one call'] = median(oneCall);
  for (const size of sizes) {
    const runs: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const t = performance.now();
      for (let off = 0, i = 0; off < total; off += size, i++) {
        const iv = new Uint8Array(12);
        new DataView(iv.buffer).setUint32(7, i);
        // Sequential, as the seal stream does it.
        await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, data.subarray(off, off + size));
      }
      runs.push(mibps(performance.now() - t));
    }
    result[`${size / 1024} KiB segments`] = median(runs);
  }
  return result;
}

const node = await measure(SIZES, TOTAL, ROUNDS);
const browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
const page = await browser.newPage();
// WebCrypto needs a secure context; http://localhost is one. Playwright answers
// the request itself, so no server is started.
await page.route('http://localhost/', (route) => route.fulfill({ contentType: 'text/html', body: '<!doctype html>' }));
await page.goto('http://localhost/');
// tsx compiles with esbuild's keepNames, which wraps inner functions in __name().
await page.evaluate('globalThis.__name = (f) => f');
const inChromium = await page.evaluate(
  `(${measure.toString()})(${JSON.stringify(SIZES)}, ${TOTAL}, ${ROUNDS})`,
);
await browser.close();
console.log(JSON.stringify({ totalMiB: TOTAL / 1048576, rounds: ROUNDS, node, chromium: inChromium }, null, 2));
