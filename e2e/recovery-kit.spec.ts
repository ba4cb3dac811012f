/**
 * "Download the recovery kit again" from "Keys & account" (issue 20 item
 * 1): the passphrase checks the copy in storage first (a wrong one makes no
 * kit); the kit downloaded then restores the same keys in a fresh browser.
 */
import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { newUserWithKeys } from './support/drive.ts';
import { signIn } from './support/sign-in.ts';

const PASSPHRASE = 'saffron glacier piano thimble';

test('download the recovery kit again from the keys page; it restores the same keys in a fresh browser', async ({ page, browser }) => {
  test.setTimeout(180_000);
  const { user, userId } = await newUserWithKeys(page, 'kit', PASSPHRASE);
  await page.getByRole('navigation', { name: 'Sealdrop' }).getByRole('button', { name: 'Keys & account' }).click();
  const fingerprint = ((await page.getByTestId('fingerprint-digits').textContent()) ?? '').replace(/\s+/g, ' ').trim();
  const section = page.getByRole('region', { name: 'Recovery kit' });

  await section.getByLabel('Recovery passphrase', { exact: true }).fill('wrong wrong wrong wrong');
  await section.getByRole('button', { name: 'Make my recovery kit' }).click();
  await expect(section.getByRole('alert')).toHaveText('That passphrase does not unlock your keys. Check it and try again.', { timeout: 30_000 });
  await expect(section.getByRole('link', { name: 'Download recovery kit' })).toHaveCount(0);

  await section.getByLabel('Recovery passphrase', { exact: true }).fill(PASSPHRASE);
  await section.getByRole('button', { name: 'Make my recovery kit' }).click();
  await expect(section.getByRole('status')).toHaveText('Your recovery kit is ready and opens with your passphrase.', { timeout: 30_000 });
  const [download] = await Promise.all([page.waitForEvent('download'), section.getByRole('link', { name: 'Download recovery kit' }).click()]);
  expect(download.suggestedFilename()).toBe('sealdrop-recovery-kit.txt');
  const kitPath = await download.path();
  const kit = readFileSync(kitPath, 'utf8');
  expect(kit).toContain(`User ID:          ${userId}`);
  expect(kit).toContain(`Account:          ${user.email}`);
  expect(kit).toContain('-----BEGIN SEALDROP RECOVERY KIT-----');
  expect(kit).not.toContain(PASSPHRASE);

  // A fresh browser restores from the kit file.
  const fresh = await browser.newContext();
  const other = await fresh.newPage();
  await signIn(other, user);
  await expect(other.getByRole('heading', { name: 'Restore your keys' })).toBeVisible();
  await other.getByText('Restore from a recovery kit file instead').click();
  await other.getByLabel('Recovery kit file').setInputFiles(kitPath);
  await other.getByLabel('Recovery passphrase').fill(PASSPHRASE);
  await other.getByRole('button', { name: 'Restore my keys' }).click();
  await expect(other.getByRole('heading', { level: 1, name: 'My files' })).toBeAttached({ timeout: 30_000 });
  await other.getByRole('navigation', { name: 'Sealdrop' }).getByRole('button', { name: 'Keys & account' }).click();
  await expect(other.getByTestId('fingerprint-digits')).toHaveText(fingerprint);
  await fresh.close();
});
