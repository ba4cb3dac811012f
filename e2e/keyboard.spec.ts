/**
 * The keyboard-only journey: key setup, upload, preview, download, delete and
 * sign-out, pressing only keys, and checking after each step where focus
 * went (`document.activeElement`): never lost to <body>.
 */
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { uploaded, useInputFilePicker, useServiceWorkerDownloads } from './support/drive.ts';
import { focusedName, tabTo } from './support/keyboard.ts';
import { signInOnProviderPage, uniqueUser } from './support/sign-in.ts';
import { useWorkDir, writeFile } from './support/test-files.ts';

const PASSPHRASE = 'walrus cactus ledger umbrella';
const workDirOf = useWorkDir('keyboard-e2e');

test('set up, upload, preview, download, delete and sign out with the keyboard alone; focus is never lost', async ({ page, context }) => {
  test.setTimeout(240_000);
  await useServiceWorkerDownloads(context);
  // The file input's chooser, which Playwright can answer as a person would (the File System Access picker it cannot).
  await useInputFilePicker(context);
  const text = 'Typed with a keyboard only.\n';
  const path = writeFile(join(workDirOf(), 'kb'), 'keyboard-notes.txt', new TextEncoder().encode(text));

  await page.goto('/');
  // The skip link comes first and lands on the main content.
  await page.keyboard.press('Tab');
  expect(await focusedName(page)).toBe('Skip to content');
  await page.keyboard.press('Enter');
  await expect(page.locator('main')).toBeFocused();

  await tabTo(page, 'Sign in', { backwards: true });
  await page.keyboard.press('Enter');
  await signInOnProviderPage(page, uniqueUser('keyboard'));

  await expect(page.getByRole('heading', { level: 1, name: 'Set up your keys' })).toBeVisible();
  await tabTo(page, 'Recovery passphrase');
  await page.keyboard.type(PASSPHRASE);
  await page.keyboard.press('Tab');
  // Enter with the confirmation empty: refused in words, focus stays where it was.
  await page.keyboard.press('Enter');
  await expect(page.getByRole('alert')).toHaveText('Type the passphrase again to confirm it.');
  expect(await focusedName(page)).toBe('Type the passphrase again');
  await page.keyboard.type(PASSPHRASE);
  await page.keyboard.press('Enter');

  const kitTitle = page.getByRole('heading', { level: 1, name: 'Your keys are ready. Save your recovery kit.' });
  await expect(kitTitle).toBeFocused({ timeout: 30_000 });
  await tabTo(page, 'I saved my recovery kit');
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { level: 1, name: 'My files' })).toBeFocused({ timeout: 15_000 });

  // Upload: "Choose files" opens the system picker (answered by the test, as a person would pick the file).
  await tabTo(page, 'Choose files');
  const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.keyboard.press('Enter')]);
  await chooser.setFiles(path);
  await uploaded(page, 'keyboard-notes.txt');
  expect(await focusedName(page)).toBe('Choose files');

  // Preview opens a dialog with focus inside; Escape closes it and focus returns to Preview.
  await tabTo(page, 'Preview keyboard-notes.txt');
  await page.keyboard.press('Enter');
  const preview = page.getByRole('dialog', { name: 'keyboard-notes.txt' });
  await expect(preview).toContainText('Typed with a keyboard only.');
  expect(await page.evaluate(() => document.activeElement?.closest('dialog') !== null)).toBe(true);
  await page.keyboard.press('Escape');
  await expect(preview).toBeHidden();
  expect(await focusedName(page)).toBe('Preview keyboard-notes.txt');

  // Download with Enter.
  await page.keyboard.press('Tab');
  expect(await focusedName(page)).toBe('Download keyboard-notes.txt');
  const [download] = await Promise.all([page.waitForEvent('download'), page.keyboard.press('Enter')]);
  expect(await download.failure()).toBeNull();
  expect(download.suggestedFilename()).toBe('keyboard-notes.txt');

  // Share comes next: its dialog takes focus, Escape closes it and gives focus back.
  await page.keyboard.press('Tab');
  expect(await focusedName(page)).toBe('Share keyboard-notes.txt');
  await page.keyboard.press('Enter');
  const share = page.getByRole('dialog', { name: 'Share keyboard-notes.txt by link' });
  await expect(share).toBeVisible();
  expect(await page.evaluate(() => document.activeElement?.closest('dialog') !== null)).toBe(true);
  await page.keyboard.press('Escape');
  await expect(share).toBeHidden();
  expect(await focusedName(page)).toBe('Share keyboard-notes.txt');

  // Send to a person comes next: the same, its dialog takes focus and Escape gives it back.
  await page.keyboard.press('Tab');
  expect(await focusedName(page)).toBe('Send keyboard-notes.txt to a person');
  await page.keyboard.press('Enter');
  const send = page.getByRole('dialog', { name: 'Share keyboard-notes.txt with a person' });
  await expect(send).toBeVisible();
  expect(await page.evaluate(() => document.activeElement?.closest('dialog') !== null)).toBe(true);
  await page.keyboard.press('Escape');
  await expect(send).toBeHidden();
  expect(await focusedName(page)).toBe('Send keyboard-notes.txt to a person');

  // Delete: the dialog starts on Cancel (nothing lost to a stray Enter); after deleting, focus is on the list.
  await page.keyboard.press('Tab');
  expect(await focusedName(page)).toBe('Delete keyboard-notes.txt');
  await page.keyboard.press('Enter');
  await expect(page.getByRole('dialog', { name: 'Delete keyboard-notes.txt?' })).toBeVisible();
  expect(await focusedName(page)).toBe('Cancel');
  await page.keyboard.press('Tab');
  expect(await focusedName(page)).toBe('Delete');
  await page.keyboard.press('Enter');
  await expect(page.getByRole('button', { name: 'Download keyboard-notes.txt' })).toHaveCount(0);
  await expect(page.getByRole('heading', { name: 'My files', level: 2 })).toBeFocused();

  // Sign out: one question, answered by keyboard; Escape first shows it cancels and gives focus back.
  await tabTo(page, 'Sign out', { backwards: true });
  await page.keyboard.press('Enter');
  const signOut = page.getByRole('dialog', { name: 'Sign out of Sealdrop?' });
  await expect(signOut).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(signOut).toBeHidden();
  expect(await focusedName(page)).toBe('Sign out');
  await page.keyboard.press('Enter');
  await expect(signOut).toBeVisible();
  await tabTo(page, 'Sign out', { limit: 5 });
  await page.keyboard.press('Enter');
  await expect(page.getByRole('banner').getByRole('button', { name: 'Sign in' })).toBeVisible();
});
