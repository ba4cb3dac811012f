/**
 * On demand only: writes the web manifest's screenshots (public/screenshots/)
 * and review images of the PWA screens (offline banner and device copy, a
 * file waiting offline, the install hint) to SEALDROP_SCREENSHOTS_DIR.
 *
 *   SEALDROP_SCREENSHOTS_DIR=/tmp/shots E2E_PORT=18300 npx playwright test e2e/pwa-screenshots.spec.ts
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { chooseFiles, newUserWithKeys, uploaded } from './support/drive.ts';
import { controlledBySw, listed } from './support/service-worker.ts';
import { useWorkDir, writeFile } from './support/test-files.ts';

const OUT = process.env['SEALDROP_SCREENSHOTS_DIR'];
const workDirOf = useWorkDir('pwa-screenshots');

test('manifest screenshots and PWA review images', async ({ page, context }) => {
  test.skip(OUT === undefined, 'Writes images into the repository; run on demand with SEALDROP_SCREENSHOTS_DIR set.');
  test.setTimeout(180_000);
  const out = OUT ?? '';
  mkdirSync(out, { recursive: true });
  const manifestDir = join(import.meta.dirname, '..', 'public', 'screenshots');
  mkdirSync(manifestDir, { recursive: true });
  const dir = join(workDirOf(), 'shots');
  const names = ['Quarterly report.pdf', 'Holiday photos.zip', 'Tax return 2026.pdf', 'Notes.txt'];
  const paths = names.map((n) => writeFile(dir, n, randomBytes(20_000 + n.length * 3000)));
  const later = writeFile(dir, 'Scanned contract.pdf', randomBytes(300_000));

  await page.setViewportSize({ width: 1280, height: 800 });
  await newUserWithKeys(page, 'screens', 'meadow copper violin harbour');
  await controlledBySw(page);
  await chooseFiles(page, paths);
  for (const n of names) await uploaded(page, n);
  await page.reload();
  await listed(page, names[0] ?? '');
  await page.screenshot({ path: join(manifestDir, 'wide.png') });
  await page.getByText('Install', { exact: true }).click();
  await page.screenshot({ path: join(out, 'install-hint-1280.png') });
  await page.setViewportSize({ width: 360, height: 740 });
  await page.reload();
  await listed(page, names[0] ?? '');
  await page.screenshot({ path: join(manifestDir, 'narrow.png') });

  await context.setOffline(true);
  await page.reload();
  await expect(page.getByTestId('offline-copy')).toBeVisible();
  await page.screenshot({ path: join(out, 'offline-360.png'), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 800 });
  await chooseFiles(page, later);
  await expect(page.getByRole('progressbar', { name: 'Upload of Scanned contract.pdf', exact: true })).toHaveAttribute('aria-valuetext', /Waiting/);
  await page.screenshot({ path: join(out, 'offline-waiting-1280.png'), fullPage: true });
  await context.setOffline(false);
  await expect(page.getByText('Back online.')).toBeVisible({ timeout: 30_000 });
  await page.screenshot({ path: join(out, 'back-online-1280.png'), fullPage: true });
  await page.emulateMedia({ colorScheme: 'dark' });
  await context.setOffline(true);
  await page.reload();
  await expect(page.getByTestId('offline-copy')).toBeVisible();
  await page.screenshot({ path: join(out, 'offline-dark-1280.png'), fullPage: true });
  await context.setOffline(false);
});
