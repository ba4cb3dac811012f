/**
 * How every test runner and the benchmark launch Chromium here.
 *
 * Playwright cannot download its own browser on this machine, so we prefer
 * Debian's Chromium (or the one named by SEALDROP_CHROMIUM) and fall back to
 * Playwright's bundled browser on machines that have it (executablePath
 * undefined).
 */
import { existsSync } from 'node:fs';

const candidates = [process.env.SEALDROP_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'];

/** Path of a system Chromium, or undefined to let Playwright use its own. */
export const chromiumPath: string | undefined = candidates.find(
  (p): p is string => typeof p === 'string' && p !== '' && existsSync(p),
);

/** Flags that keep headless Chromium off the (closed) network and working as root. */
export const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];
