/**
 * Changing the recovery passphrase on "Keys & account", then restoring in a
 * fresh browser context: the old passphrase no longer opens the keys, the
 * new one does, and it is the same identity (same fingerprint).
 */
import { expect, test } from '@playwright/test';
import { newUserWithKeys } from './support/drive.ts';
import { restoreKeys } from './support/keys.ts';
import { signIn } from './support/sign-in.ts';

const OLD = 'walrus cactus ledger umbrella';
const NEW = 'quartz meadow lantern oyster';

test('change the recovery passphrase; a fresh browser restores with the new one and not the old one', async ({ page, browser }) => {
  test.setTimeout(240_000);
  const { user } = await newUserWithKeys(page, 'passphrase', OLD);

  await page.getByRole('navigation', { name: 'Sealdrop' }).getByRole('button', { name: 'Keys & account' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Keys & account' })).toBeFocused();
  const fingerprint = ((await page.getByTestId('fingerprint-digits').textContent()) ?? '').replace(/\s+/g, ' ').trim();
  expect(fingerprint).toMatch(/^\d{5}( \d{5}){7}$/);

  // A wrong current passphrase is refused in words and changes nothing.
  await page.getByLabel('Current recovery passphrase').fill('not the passphrase at all');
  await page.getByLabel('New recovery passphrase').fill(NEW);
  await page.getByLabel('Type the new passphrase again').fill(NEW);
  await page.getByRole('button', { name: 'Change passphrase' }).click();
  await expect(page.getByRole('alert')).toHaveText('That passphrase does not unlock your keys. Check it and try again.', { timeout: 30_000 });

  await page.getByLabel('Current recovery passphrase').fill(OLD);
  await page.getByRole('button', { name: 'Change passphrase' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Your recovery passphrase is changed.' })).toBeVisible({ timeout: 60_000 });

  // A fresh browser: the old passphrase fails, the new one restores the same keys.
  const fresh = await browser.newContext();
  const other = await fresh.newPage();
  await signIn(other, user);
  await expect(other.getByRole('heading', { name: 'Restore your keys' })).toBeVisible();
  await other.getByLabel('Recovery passphrase').fill(OLD);
  await other.getByRole('button', { name: 'Restore my keys' }).click();
  await expect(other.locator('#restore-status')).toHaveText('That passphrase does not unlock your keys. Check it and try again.', { timeout: 30_000 });
  await restoreKeys(other, NEW);
  await other.getByRole('navigation', { name: 'Sealdrop' }).getByRole('button', { name: 'Keys & account' }).click();
  await expect(other.getByTestId('fingerprint-digits')).toHaveText(fingerprint);
  await fresh.close();
});
