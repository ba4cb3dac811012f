/**
 * Key steps through the keys engineer's pages, as a person would: first-run
 * setup with a recovery passphrase (and past the recovery kit step), or
 * restore on a fresh browser. Both wait until "My files" is there.
 */
import { expect, type Page } from '@playwright/test';

/** Sets up keys on first sign-in with `passphrase`; resolves once "My files" shows. */
export async function setUpKeys(page: Page, passphrase: string): Promise<void> {
  await expect(page.getByRole('heading', { name: 'Set up your keys' })).toBeVisible();
  await page.getByLabel('Recovery passphrase').fill(passphrase);
  await page.getByLabel('Type the passphrase again').fill(passphrase);
  await page.getByRole('button', { name: 'Create my keys' }).click();
  await page.getByRole('button', { name: 'I saved my recovery kit' }).click({ timeout: 30_000 });
  await expect(page.getByRole('heading', { level: 1, name: 'My files' })).toBeAttached({ timeout: 15_000 });
}

/** Restores keys on a browser that has none, with `passphrase`; resolves once "My files" shows. */
export async function restoreKeys(page: Page, passphrase: string): Promise<void> {
  await expect(page.getByRole('heading', { name: 'Restore your keys' })).toBeVisible();
  await page.getByLabel('Recovery passphrase').fill(passphrase);
  await page.getByRole('button', { name: 'Restore my keys' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'My files' })).toBeAttached({ timeout: 30_000 });
}
