/**
 * `npm run bench -- --drive N` (issue 16): seeds a drive of N small files
 * through the token endpoint (keys and manifests sealed here with the app's
 * crypto core), then measures, in Chromium on the real app, a cold listing
 * (empty device cache) and a warm one (cache present, 10 files added):
 * API calls, blob GETs, wall time and peak heap. Figures are reported,
 * never asserted.
 *
 * The stack is the local one (Azurite, the identity provider, the token
 * endpoint) started for the run, with the per-user and per-IP rate limits
 * raised so seeding N uploads (two API calls each: the upload grant and the
 * complete call that puts the file in the change log) does not take N/60
 * minutes; listing itself fits the normal limits (the change log: one call
 * per 1000 events cold, one call for a few changes warm).
 */
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { chromium, type Page, type Request } from 'playwright';
import { startLocalStack } from '../server/local/local-stack.ts';
import { chromiumArgs, chromiumPath } from '../tests/chromium.ts';
import { numberedFiles, seedFiles, seedKeys, type SeedStats } from '../e2e/support/seed-drive.ts';
import { buildApp } from './builds.ts';
import { withHeapPeak } from './heap-sampler.ts';
import { driveReportSchema, type DriveListing, type DriveReport } from './results-schema.ts';

const PASSPHRASE = 'bench drive lantern pebble';
const WARM_ADDED = 10;

function log(line: string): void {
  process.stdout.write(`[bench:drive] ${line}\n`);
}

/** Options of the drive bench. */
export interface DriveBenchOptions {
  files: number;
  outPath: string;
  distDir: string | undefined;
  keep: boolean;
  /** Seed files with a drive-key envelope beside the RSA one (the app's way); false: RSA only, as before drive keys. */
  driveKey: boolean;
}

async function signInAndRestore(page: Page, origin: string, restore: boolean): Promise<string> {
  await page.goto(origin);
  const me = page.waitForRequest((r) => new URL(r.url()).pathname === '/api/v1/me', { timeout: 60_000 });
  await page.getByRole('banner').getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/oidc\/interaction\//);
  await page.getByLabel('Name').fill('Bench Drive');
  await page.getByLabel('E-mail').fill('bench-drive@example.test');
  await page.getByRole('button', { name: 'Sign in' }).click();
  const token = (await me).headers()['x-sealdrop-token'] ?? '';
  if (restore) {
    await page.getByRole('heading', { name: 'Restore your keys' }).waitFor({ timeout: 60_000 });
    await page.getByLabel('Recovery passphrase').fill(PASSPHRASE);
    await page.getByRole('button', { name: 'Restore my keys' }).click();
  }
  return token;
}

/**
 * Reloads `page` (or, with `open`, opens the app at that address in `page`, a
 * fresh tab) and waits for "N files in your drive", counting requests and
 * sampling the heap.
 */
async function measureListing(page: Page, files: number, open?: string): Promise<DriveListing> {
  const api: string[] = [];
  let blobGets = 0;
  const onRequest = (r: Request): void => {
    const url = new URL(r.url());
    if (url.pathname.startsWith('/api/v1/')) api.push(`${r.method()} ${url.pathname}`);
    else if (r.method() === 'GET' && url.pathname.endsWith('/manifest')) blobGets++;
  };
  page.on('request', onRequest);
  const cdp = await page.context().newCDPSession(page);
  const started = performance.now();
  // Say where the page is every 15 s: a stuck listing shows itself in the log.
  const status = page.getByRole('status').filter({ hasText: /files? (so far|in your drive)/ });
  const ticker = setInterval(() => {
    void Promise.all([status.innerText({ timeout: 1000 }).catch(() => '(no file count)'), page.getByRole('alert').allInnerTexts().catch(() => [])]).then(([text, alerts]) =>
      log(`  … ${Math.round((performance.now() - started) / 1000)} s: ${text}${alerts.length > 0 ? ` | alert: ${alerts.join(' / ')}` : ''}`),
    );
  }, 15_000);
  const { heap } = await withHeapPeak(cdp, async () => {
    if (open === undefined) await page.reload();
    else await page.goto(open);
    await page
      .getByRole('status')
      .filter({ hasText: `${files} files in your drive` })
      .waitFor({ timeout: 20 * 60_000 });
  }).finally(() => clearInterval(ticker));
  const wallMs = performance.now() - started;
  page.off('request', onRequest);
  // Where the time went, from the page's own marks (ms since the reload's navigation began),
  // and how long before that navigation began after the bench asked for the reload.
  const { marks, pageNow } = await page.evaluate(() => ({
    marks: performance
      .getEntriesByType('mark')
      .filter((m) => m.name.startsWith('sealdrop:'))
      .map((m) => `${m.name.slice('sealdrop:'.length)} ${Math.round(m.startTime)}`),
    pageNow: performance.now(),
  }));
  const askedToNavigation = performance.now() - started - pageNow;
  marks.unshift(`${open === undefined ? 'reload' : 'opening'} asked ${Math.round(-askedToNavigation)}`);
  log(`  marks (ms after navigation): ${marks.join(', ')}`);
  await cdp.detach();
  return {
    files,
    // Change-log pages, walk pages (an empty log) and any read-grant call.
    apiCalls: api.filter((c) => c.startsWith('GET /api/v1/files') || /^POST \/api\/v1\/files\/[0-9a-f]+\/read$/.test(c)).length,
    apiCallsTotal: api.length,
    blobGets,
    wallMs: Math.round(wallMs),
    peakHeapBytes: heap.jsHeapAndBuffersBytes,
  };
}

/** Runs the drive bench; returns 0 (figures are reported, not judged, apart from the listing being complete). */
export async function runDriveBench(opts: DriveBenchOptions): Promise<number> {
  // Seeding only: one upload grant per file would take N/120 minutes under the default limits.
  process.env.SEALDROP_RATE_USER_PER_MINUTE = String(10_000_000);
  process.env.SEALDROP_RATE_IP_PER_MINUTE = String(10_000_000);
  const tempDir = await mkdtemp(join(tmpdir(), 'sealdrop-bench-drive-'));
  const cleanups: (() => Promise<void>)[] = [];
  try {
    const distDir = opts.distDir ?? join(tempDir, 'app');
    if (opts.distDir === undefined) {
      log('building the app');
      await buildApp(distDir);
    }
    const stack = await startLocalStack({ port: 0, azuritePort: 0, inMemory: true, dataDir: join(tempDir, 'data'), distDir });
    cleanups.push(() => stack.stop());
    const origin = stack.url.endsWith('/') ? stack.url : `${stack.url}/`;
    log(`stack at ${origin}`);

    const context = await chromium.launchPersistentContext(join(tempDir, 'profile'), {
      executablePath: chromiumPath,
      args: chromiumArgs,
      headless: true,
    });
    cleanups.push(() => context.close());
    const page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (error) => log(`page error: ${error.message}`));

    const token = await signInAndRestore(page, origin, false);
    await page.getByRole('heading', { name: 'Set up your keys' }).waitFor({ timeout: 60_000 });
    // A fresh token when the first expires: reload the page and take the one the app sends to /me.
    const refresh = async (): Promise<string> => {
      const me = page.waitForRequest((r) => new URL(r.url()).pathname === '/api/v1/me', { timeout: 60_000 });
      await page.reload();
      const fresh = (await me).headers()['x-sealdrop-token'] ?? '';
      log('  access token renewed');
      return fresh;
    };
    const seedApi = { baseUrl: origin, token, refresh };
    const stats: SeedStats = { apiCalls: 0, throttled: 0 };
    const seeded = await seedKeys(seedApi, PASSPHRASE, stats);
    const keys = opts.driveKey ? seeded : { encrypt: seeded.encrypt, sign: seeded.sign };
    log(`seeding ${opts.files} files through the API (${opts.driveKey ? 'drive-key and RSA envelopes' : 'RSA envelope only'})`);
    const seedStart = performance.now();
    await seedFiles(seedApi, keys, numberedFiles(opts.files, 'drive'), {
      parallel: 8,
      stats,
      onFile: (n) => {
        if (n % 1000 === 0) log(`  ${n} seeded (${Math.round((performance.now() - seedStart) / 1000)} s)`);
      },
    });
    const seed = { files: opts.files, apiCalls: stats.apiCalls, throttled: stats.throttled, wallMs: Math.round(performance.now() - seedStart) };
    log(`seeded in ${(seed.wallMs / 1000).toFixed(1)} s`);

    // Restore the keys in the browser (this first listing warms nothing we measure: the cache is cleared next).
    await page.reload();
    await page.getByRole('heading', { name: 'Restore your keys' }).waitFor({ timeout: 60_000 });
    await page.getByLabel('Recovery passphrase').fill(PASSPHRASE);
    await page.getByRole('button', { name: 'Restore my keys' }).click();
    // The file count shows only once the keys are restored and saved on this device.
    await page.getByRole('status').filter({ hasText: /files? (so far|in your drive)/ }).waitFor({ timeout: 5 * 60_000 });
    await page.evaluate(() => new Promise<void>((resolve, reject) => {
      const req = indexedDB.deleteDatabase('sealdrop-list-cache');
      req.onsuccess = () => resolve();
      req.onerror = () => reject(new Error('could not clear the listing cache'));
      req.onblocked = () => resolve();
    }));

    log('cold listing (empty cache)');
    const cold = await measureListing(page, opts.files);
    log(`  ${JSON.stringify(cold)}`);
    await seedFiles(seedApi, keys, numberedFiles(WARM_ADDED, 'drive-added'), { parallel: 4 });
    log(`warm listing (cache present, ${WARM_ADDED} files added)`);
    const warm = await measureListing(page, opts.files + WARM_ADDED);
    log(`  ${JSON.stringify(warm)}`);
    // A person opening the app in a new tab or window pays no old page's unload, which the reload above
    // does (10,000 rows torn down): time that too, with the old tab closed first.
    await seedFiles(seedApi, keys, numberedFiles(WARM_ADDED, 'drive-added-again'), { parallel: 4 });
    log(`warm listing in a new tab (cache present, ${WARM_ADDED} more files added)`);
    const tab = await context.newPage();
    tab.on('pageerror', (error) => log(`page error: ${error.message}`));
    await page.close();
    const warmNewTab = await measureListing(tab, opts.files + 2 * WARM_ADDED, origin);
    log(`  ${JSON.stringify(warmNewTab)}`);

    const perFile = (l: DriveListing): number => l.apiCalls / l.files;
    const report: DriveReport = driveReportSchema.parse({
      schemaVersion: 1,
      mode: 'drive',
      date: new Date().toISOString(),
      driveFiles: opts.files,
      seed,
      cold,
      warm,
      warmNewTab,
      targets: [
        { name: 'cold listing', target: '≤ 30 s', value: `${(cold.wallMs / 1000).toFixed(1)} s`, met: cold.wallMs <= 30_000 },
        { name: 'warm listing (reload)', target: '≤ 2 s', value: `${(warm.wallMs / 1000).toFixed(2)} s`, met: warm.wallMs <= 2_000 },
        { name: 'warm listing (new tab)', target: '≤ 2 s', value: `${(warmNewTab.wallMs / 1000).toFixed(2)} s`, met: warmNewTab.wallMs <= 2_000 },
        { name: 'API calls (cold)', target: '≤ 1 per 200 files', value: `${cold.apiCalls} for ${cold.files}`, met: perFile(cold) <= 1 / 200 },
        { name: 'API calls (warm)', target: '≤ 1 per 200 files', value: `${warm.apiCalls} for ${warm.files}`, met: perFile(warm) <= 1 / 200 },
      ],
      machine: { cores: cpus().length, platform: process.platform, node: process.version },
    });
    await mkdir(dirname(opts.outPath), { recursive: true });
    await writeFile(opts.outPath, `${JSON.stringify(report, null, 2)}\n`);
    for (const t of report.targets) log(`${t.met ? 'met ' : 'MISS'} ${t.name}: ${t.value} (target ${t.target})`);
    log(`report: ${opts.outPath}`);
    return 0;
  } finally {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    if (!opts.keep) await rm(tempDir, { recursive: true, force: true });
  }
}
