/**
 * The activity log on the device (issue 20 item 6): after a sign-in, an
 * upload and a preview, "Activity" lists them with the file name; the CSV
 * export holds them (formula-looking names guarded); clearing empties it.
 * No request of the journey carries the file name, and localStorage never
 * holds it.
 */
import { readFileSync } from 'node:fs';
import { expect, test, type Request } from '@playwright/test';
import { chooseFiles, newUserWithKeys, uploaded } from './support/drive.ts';
import { useWorkDir, writeFile } from './support/test-files.ts';

const PASSPHRASE = 'harbour finch lantern cobalt';
// A name a spreadsheet would run as a formula if it were not guarded.
const FILE_NAME = '=SUM(1+1) quarterly-notes.txt';
const workDir = useWorkDir('activity');

test('an upload and a preview show in the activity log with the file name, export as CSV, clear; the name never leaves the browser', async ({ page }) => {
  test.setTimeout(180_000);
  const sent: string[] = [];
  page.context().on('request', (r: Request) => {
    sent.push(`${r.url()}\n${JSON.stringify(r.headers())}\n${r.postData() ?? ''}`);
  });

  await newUserWithKeys(page, 'activity', PASSPHRASE);
  await chooseFiles(page, writeFile(workDir(), FILE_NAME, new TextEncoder().encode('Minutes of the meeting.\n'.repeat(20))));
  await uploaded(page, FILE_NAME);
  await page.getByRole('button', { name: `Preview ${FILE_NAME}` }).click();
  await expect(page.getByRole('dialog', { name: FILE_NAME }).locator('pre')).toContainText('Minutes of the meeting.');
  await page.keyboard.press('Escape');

  await page.getByRole('navigation', { name: 'Sealdrop' }).getByRole('button', { name: 'Activity' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Activity on this device' })).toBeFocused();
  const table = page.getByRole('table');
  await expect(table.getByRole('row').filter({ hasText: 'Uploaded' })).toContainText(FILE_NAME);
  await expect(table.getByRole('row').filter({ hasText: 'Opened' })).toContainText(FILE_NAME);
  await expect(table.getByRole('row').filter({ hasText: 'Signed in' })).toHaveCount(1);
  // Newest first: the preview came after the upload.
  await expect(table.getByRole('row').nth(1)).toContainText('Opened');

  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export as CSV' }).click()]);
  expect(download.suggestedFilename()).toMatch(/^sealdrop-activity-\d{4}-\d{2}-\d{2}\.csv$/);
  const csv = readFileSync(await download.path(), 'utf8');
  const rows = csv.split('\r\n');
  expect(rows[0]).toBe('Time (UTC),Event,File,Detail');
  expect(rows.some((r) => /^\d{4}-\d{2}-\d{2}T[\d:.]+Z,Uploaded,'=SUM\(1\+1\) quarterly-notes\.txt,$/.test(r))).toBe(true);
  expect(rows.some((r) => /,Opened,'=SUM/.test(r))).toBe(true);
  expect(rows.some((r) => /,Signed in,,$/.test(r))).toBe(true);
  expect(rows.at(-1)).toBe('');

  // The name never left the browser, and is not in localStorage.
  expect(sent.filter((s) => s.includes('quarterly-notes'))).toEqual([]);
  expect(await page.evaluate(() => JSON.stringify({ ...localStorage }))).not.toContain('quarterly-notes');

  // It survives a reload (kept in IndexedDB), then clearing empties it.
  await page.reload();
  await page.getByRole('navigation', { name: 'Sealdrop' }).getByRole('button', { name: 'Activity' }).click({ timeout: 30_000 });
  await expect(page.getByRole('table').getByRole('row').filter({ hasText: 'Uploaded' })).toContainText(FILE_NAME);
  await page.getByRole('button', { name: 'Clear activity' }).click();
  await page.getByRole('dialog', { name: 'Clear the activity log?' }).getByRole('button', { name: 'Clear activity' }).click();
  await expect(page.getByText('Nothing recorded yet.')).toBeVisible();
});
