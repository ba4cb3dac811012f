/**
 * Service-worker steps for the PWA journeys. The first install's
 * `clients.claim()` can race a sign-in navigation and leave the page
 * uncontrolled; {@link controlledBySw} waits for the worker and reloads
 * once when it still does not control the page.
 */
import { expect, type Page } from '@playwright/test';

/** Waits until the service worker is active and controls `page`, reloading once if needed. */
export async function controlledBySw(page: Page): Promise<void> {
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
  });
  const controlled = await page.evaluate(() => navigator.serviceWorker.controller !== null);
  if (!controlled) await page.reload();
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: 15_000 });
}

/** Waits until "My files" shows the list with a row for `name`. */
export async function listed(page: Page, name: string): Promise<void> {
  await expect(page.getByRole('table').getByRole('rowheader', { name: new RegExp(name) })).toBeVisible({ timeout: 30_000 });
}
