/**
 * `npm run lighthouse`: Lighthouse 12 (npm `lighthouse`) against the real
 * local stack in the system Chromium, on the signed-out page and on "My
 * files" signed in (the same browser profile, so Lighthouse's tab shares
 * the session). Also asks Chromium itself whether the app is installable
 * (`Page.getInstallabilityErrors`, CDP): Lighthouse 12 has no PWA category.
 *
 * The preset is Lighthouse's default, simulated mobile (Moto G Power,
 * slow 4G, 4× CPU slowdown: the baseline), or `--desktop`. The
 * machine's load average is recorded beside the scores (they swing with it).
 *
 * Prints a table and writes bench/results/lighthouse.json. Exits 1 when
 * accessibility or best practices score below 1, or the app is not
 * installable; performance is reported, never judged here (it swings with
 * the machine's load; `npm run bench` measures speed side by side).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import lighthouse, { desktopConfig } from 'lighthouse';
import { chromium } from '@playwright/test';
import { setUpKeys } from '../e2e/support/keys.ts';
import { signIn, uniqueUser } from '../e2e/support/sign-in.ts';
import { startLocalStack } from '../server/local/local-stack.ts';
import { chromiumArgs, chromiumPath } from '../tests/chromium.ts';

const CATEGORIES = ['performance', 'accessibility', 'best-practices', 'seo'] as const;
const JUDGED = ['accessibility', 'best-practices'] as const;
/** Categories whose lost points are listed (SEO too: it is reported in the README). */
const EXPLAINED = ['accessibility', 'best-practices', 'seo'] as const;

async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once('error', fail);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address !== null ? done(address.port) : fail(new Error('no port'))));
    });
  });
}

const PRESET: 'mobile' | 'desktop' = process.argv.includes('--desktop') ? 'desktop' : 'mobile';

type Scores = Record<(typeof CATEGORIES)[number], number | null> & {
  failing: string[];
  /** First and largest contentful paint, ms (simulated for the preset). */
  fcpMs: number | null;
  lcpMs: number | null;
  /** The machine's 1-minute load average when the audit ended. */
  loadAverage: number;
};

async function audit(url: string, port: number): Promise<Scores> {
  const result = await lighthouse(
    url,
    { port, output: 'json', logLevel: 'error', onlyCategories: [...CATEGORIES], disableStorageReset: true },
    PRESET === 'desktop' ? desktopConfig : undefined,
  );
  if (result === undefined) throw new Error(`Lighthouse returned nothing for ${url}`);
  const { categories, audits } = result.lhr;
  const score = (id: string): number | null => categories[id]?.score ?? null;
  // The audits that cost points in the judged categories, so a failure says what to fix.
  const failing = EXPLAINED.flatMap((id) =>
    (categories[id]?.auditRefs ?? [])
      .filter((ref) => ref.weight > 0 && (audits[ref.id]?.score ?? 1) < 1)
      .map((ref) => `${id}: ${ref.id} (${audits[ref.id]?.title ?? ''}) ${JSON.stringify(audits[ref.id]?.details ?? {}).slice(0, 600)}`),
  );
  const ms = (id: string): number | null => audits[id]?.numericValue ?? null;
  return {
    performance: score('performance'),
    accessibility: score('accessibility'),
    'best-practices': score('best-practices'),
    seo: score('seo'),
    failing,
    fcpMs: ms('first-contentful-paint'),
    lcpMs: ms('largest-contentful-paint'),
    loadAverage: loadavg()[0] ?? Number.NaN,
  };
}

const dataDir = await mkdtemp(join(tmpdir(), 'sealdrop-lighthouse-'));
const profile = join(dataDir, 'profile');
const stack = await startLocalStack({ port: await freePort(), azuritePort: 0, dataDir: join(dataDir, 'stack'), inMemory: true });
const cdpPort = await freePort();
const context = await chromium.launchPersistentContext(profile, {
  ...(chromiumPath === undefined ? {} : { executablePath: chromiumPath }),
  headless: true,
  args: [...chromiumArgs, `--remote-debugging-port=${cdpPort}`],
  baseURL: stack.url,
});
let failed: boolean;
try {
  const page = context.pages()[0] ?? (await context.newPage());
  await page.goto(stack.url);
  const signedOut = await audit(stack.url, cdpPort);

  const cdp = await context.newCDPSession(page);
  await page.reload();
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: 30_000 }).catch(() => undefined);
  const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
  const installErrors = installabilityErrors.map((e) => e.errorId);

  await signIn(page, uniqueUser('lighthouse'));
  await setUpKeys(page, 'walrus cactus ledger umbrella');
  const signedIn = await audit(stack.url, cdpPort);

  const rows = { 'signed out': signedOut, 'My files (signed in)': signedIn };
  process.stdout.write(`\nLighthouse 12 (${PRESET} preset), ${stack.url}\n`);
  process.stdout.write(`${'screen'.padEnd(24)}${CATEGORIES.map((c) => c.padEnd(16)).join('')}${'FCP ms'.padEnd(10)}${'LCP ms'.padEnd(10)}load avg\n`);
  for (const [name, s] of Object.entries(rows)) {
    process.stdout.write(
      `${name.padEnd(24)}${CATEGORIES.map((c) => String(s[c] ?? '—').padEnd(16)).join('')}` +
        `${String(s.fcpMs === null ? '—' : Math.round(s.fcpMs)).padEnd(10)}${String(s.lcpMs === null ? '—' : Math.round(s.lcpMs)).padEnd(10)}${s.loadAverage.toFixed(2)}\n`,
    );
    for (const line of s.failing) process.stdout.write(`  costs points: ${line}\n`);
  }
  process.stdout.write(`installable (Page.getInstallabilityErrors): ${installErrors.length === 0 ? 'yes, no errors' : installErrors.join(', ')}\n`);
  const out = resolve(import.meta.dirname, 'results', 'lighthouse.json');
  await mkdir(resolve(out, '..'), { recursive: true });
  await writeFile(out, `${JSON.stringify({ when: new Date().toISOString(), preset: PRESET, rows, installErrors }, null, 2)}\n`);
  process.stdout.write(`written ${out}\n`);
  failed = Object.values(rows).some((s) => JUDGED.some((c) => s[c] !== 1)) || installErrors.length > 0;
} finally {
  await context.close();
  await stack.stop();
  await rm(dataDir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
