/**
 * Listing at scale (issue 16) on the real local stack: a drive seeded
 * through the token endpoint (keys and 300 files made in the test process
 * with the app's crypto core, not through the UI) lists completely after
 * restoring the keys in the browser, from the change log (which the server
 * seeds from one walk: these 300 uploads never called the complete route,
 * as a drive older than the log), with no read grant per file; a reload
 * lists from the device cache; files added later (completed, as the app
 * does) cost one change-log call and only their own manifests.
 */
import { expect, test, type Request } from '@playwright/test';
import { restoreKeys } from './support/keys.ts';
import { numberedFiles, seedFiles, seedKeys } from './support/seed-drive.ts';
import { signIn, uniqueUser } from './support/sign-in.ts';
import { E2E_BASE_URL } from './support/ports.ts';

const PASSPHRASE = 'harbour lantern pebble quilt';
const COUNT = 300;

test('a 300-file drive seeded through the API lists completely', async ({ page }) => {
  test.setTimeout(600_000);
  const me = page.waitForRequest((r) => new URL(r.url()).pathname === '/api/v1/me');
  await signIn(page, uniqueUser('scale'));
  const token = (await me).headers()['x-sealdrop-token'];
  expect(token, 'the app sends its access token').toBeTruthy();
  await expect(page.getByRole('heading', { name: 'Set up your keys' })).toBeVisible();

  const api = { baseUrl: E2E_BASE_URL, token: token ?? '' };
  const keys = await seedKeys(api, PASSPHRASE);
  const files = numberedFiles(COUNT, 'scale');
  await seedFiles(api, keys, files, { parallel: 4, complete: false });
  // Seeding spent this user's (and this IP's) request budget: 300 upload
  // grants against 120 a minute. Let the buckets refill a little so the
  // app's start (a handful of calls) is not refused; the listing itself is
  // one call for 300 files.
  await page.waitForTimeout(15_000);

  const apiCalls: string[] = [];
  const onRequest = (r: Request): void => {
    const path = new URL(r.url()).pathname;
    if (path.startsWith('/api/v1/files')) apiCalls.push(`${r.method()} ${path}`);
  };
  page.on('request', onRequest);
  await page.reload();
  await restoreKeys(page, PASSPHRASE);

  // Every manifest opens with an RSA unwrap: on 2 cores shared with other jobs that can take minutes.
  await expect(page.getByRole('status').filter({ hasText: `${COUNT} files in your drive` })).toBeVisible({ timeout: 240_000 });
  const shown = new Set(await page.getByRole('table').getByRole('rowheader').locator('.title').allInnerTexts());
  expect(files.filter((f) => !shown.has(f.name)).map((f) => f.name)).toEqual([]);
  // 300 events are one page of the log, and no per-file read grant.
  expect(apiCalls.filter((c) => c.startsWith('POST'))).toEqual([]);
  expect(apiCalls.filter((c) => c === 'GET /api/v1/files/changes')).toEqual(['GET /api/v1/files/changes']);

  // A reload lists from the device cache: every name again, without fetching a manifest.
  let manifestGets = 0;
  page.on('request', (r) => {
    if (r.method() === 'GET' && new URL(r.url()).pathname.endsWith('/manifest')) manifestGets++;
  });
  await page.reload();
  await expect(page.getByRole('status').filter({ hasText: `${COUNT} files in your drive` })).toBeVisible({ timeout: 60_000 });
  expect(manifestGets).toBe(0);

  // Three files added elsewhere (through the API, completed as the app does): a warm reload
  // asks the log once, and their manifests come inside the log's events: no storage read.
  const added = numberedFiles(3, 'later');
  await seedFiles(api, keys, added, { parallel: 3 });
  apiCalls.length = 0;
  manifestGets = 0;
  await page.reload();
  await expect(page.getByRole('status').filter({ hasText: `${COUNT + 3} files in your drive` })).toBeVisible({ timeout: 60_000 });
  expect(manifestGets).toBe(0);
  expect(apiCalls.filter((c) => c === 'GET /api/v1/files/changes')).toEqual(['GET /api/v1/files/changes']);
  const names = new Set(await page.getByRole('table').getByRole('rowheader').locator('.title').allInnerTexts());
  expect(added.filter((f) => !names.has(f.name))).toEqual([]);
});
