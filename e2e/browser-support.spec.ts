import { expect, test } from '@playwright/test';

test('a browser without IndexedDB is told plainly, before anything starts', async ({ page }) => {
  await page.addInitScript(() => {
    Object.defineProperty(window, 'indexedDB', { value: undefined, configurable: true });
  });
  await page.goto('/');
  const alert = page.getByRole('alert');
  await expect(alert).toContainText('This browser cannot run Sealdrop.');
  await expect(alert).toContainText('IndexedDB storage');
  await expect(page.getByRole('button', { name: /sign in/i })).toHaveCount(0);
});
