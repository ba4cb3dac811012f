/**
 * Former keys after a key rotation (issue 20 items 3 and 7), on the real
 * local stack with three parties:
 * - B receives a person share from A and a file through B's own request
 *   link, then rotates B's keys: both still open on this device, because
 *   the former encryption key is kept in the recovery copy (FORMAT §11.3);
 * - A, who pinned and verified B by sharing and comparing digits, sees
 *   "rotated by its owner" at the next share (not "changed, not
 *   explained"), accepts, the verified mark carried over, and shares again;
 * - a fresh browser restores B's keys and opens both files; there B drops
 *   the former keys, and both files are refused plainly.
 */
import { expect, test, type Page } from '@playwright/test';
import { expectNoAxeViolations } from './support/axe.ts';
import { download, serviceWorkerInControl, useServiceWorkerDownloads } from './support/drive.ts';
import { restoreKeys } from './support/keys.ts';
import { seededUser } from './support/seed-user.ts';
import { signIn } from './support/sign-in.ts';

const RECOVERY_A = 'orchid basalt meadow fiddle';
const RECOVERY_B = 'copper lagoon thistle anchor';
const SHARED = { name: 'shared-before-rotation.txt', bytes: new TextEncoder().encode('Shared by A before B rotated. '.repeat(20)) };
const SECOND = { name: 'shared-after-rotation.txt', bytes: new TextEncoder().encode('Shared by A after accepting the key. '.repeat(20)) };
const SENT = { name: 'sent-through-request.txt', mimeType: 'text/plain', buffer: Buffer.from('Dropped into B’s request link. '.repeat(20)) };

async function nav(page: Page, name: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Sealdrop' }).getByRole('button', { name, exact: true }).click();
}

async function sendDialog(page: Page, fileName: string, email: string) {
  await page.getByRole('button', { name: `Send ${fileName} to a person`, exact: true }).click();
  const dialog = page.getByRole('dialog', { name: `Share ${fileName} with a person` });
  await dialog.getByLabel('Their e-mail address').fill(email);
  await dialog.getByRole('button', { name: 'Find' }).click();
  return dialog;
}

/** Opens B's shared and received files on `page`, byte for byte. */
async function opensBoth(page: Page): Promise<void> {
  await nav(page, 'Shared with me');
  await expect(page.getByRole('row', { name: new RegExp(SHARED.name) })).toBeVisible({ timeout: 30_000 });
  expect(new Uint8Array(await download(page, SHARED.name))).toEqual(SHARED.bytes);
  await nav(page, 'Received');
  await expect(page.getByRole('list', { name: 'Files received' }).getByRole('listitem').filter({ hasText: SENT.name })).toBeVisible({ timeout: 30_000 });
  expect(new Uint8Array(await download(page, SENT.name))).toEqual(new Uint8Array(SENT.buffer));
}

test('former keys: shared and received files open after a rotation, here and restored elsewhere, until dropped; a contact sees the signed rotation', async ({
  page,
  browser,
}, testInfo) => {
  test.setTimeout(420_000);
  await useServiceWorkerDownloads(page.context());
  const a = await seededUser(page, 'former-sharer', RECOVERY_A, [SHARED, SECOND]);

  const bContext = await browser.newContext();
  await useServiceWorkerDownloads(bContext);
  const bPage = await bContext.newPage();
  const b = await seededUser(bPage, 'former-holder', RECOVERY_B);

  // A shares with B (B's key pinned on A's device), then compares B's digits: verified.
  let dialog = await sendDialog(page, SHARED.name, b.user.email);
  await dialog.getByRole('button', { name: `Share with ${b.user.email}` }).click();
  await expect(dialog.getByLabel('Link to send them')).toHaveValue(/received=/, { timeout: 30_000 });
  await page.keyboard.press('Escape');
  await nav(page, 'Keys & account');
  await page.getByRole('button', { name: `Mark verified: ${b.user.email}` }).click();
  await page.getByLabel(`Digits ${b.user.email}’s Sealdrop shows`).fill(b.fingerprint);
  await page.getByRole('button', { name: 'Check and mark verified' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'is marked verified' })).toBeVisible();

  // B asks for files; an anonymous browser sends one.
  await nav(bPage, 'Received');
  await bPage.getByRole('button', { name: 'Create request link' }).click();
  const field = bPage.getByTestId('request-link');
  await expect(field).toHaveValue(/\/r\/[0-9a-f]{32}#/, { timeout: 30_000 });
  const anon = await browser.newContext();
  const visitor = await anon.newPage();
  await visitor.goto(await field.inputValue());
  await visitor.getByLabel('Choose files').setInputFiles([SENT]);
  await visitor.getByRole('button', { name: 'Send 1 file' }).click();
  await expect(visitor.getByText('All 1 file was sealed and sent.')).toBeVisible({ timeout: 60_000 });
  await anon.close();

  // B rotates: the keys page no longer warns that such files stop opening.
  await nav(bPage, 'Keys & account');
  await expect(bPage.getByText('will not open after the rotation')).toHaveCount(0);
  await expect(bPage.getByRole('heading', { name: 'Former keys' })).toHaveCount(0);
  await bPage.getByRole('button', { name: 'Rotate my keys…' }).click();
  const rotate = bPage.getByRole('dialog', { name: 'Rotate your keys?' });
  await rotate.getByLabel('Recovery passphrase').fill(RECOVERY_B);
  await rotate.getByRole('button', { name: 'Rotate my keys' }).click();
  await expect(bPage.getByRole('status').filter({ hasText: 'Your keys are rotated' })).toBeVisible({ timeout: 120_000 });
  const newFingerprint = ((await bPage.getByTestId('fingerprint-digits').first().textContent()) ?? '').replace(/\s+/g, ' ').trim();
  expect(newFingerprint).not.toBe(b.fingerprint);
  const former = bPage.getByRole('region', { name: 'Former keys' });
  await expect(former).toContainText('keeps the key you had before you rotated your keys');
  await former.screenshot({ path: testInfo.outputPath('former-keys-kept.png') });

  // This device opens both, also after a reload.
  await bPage.reload();
  await serviceWorkerInControl(bPage);
  await opensBoth(bPage);

  // A's next share with B: "rotated by its owner", accepted, still verified (carried over), shared.
  await nav(page, 'My files');
  dialog = await sendDialog(page, SECOND.name, b.user.email);
  const warning = dialog.getByTestId('contact-key-warning');
  await expect(warning).toContainText('rotated by its owner', { timeout: 20_000 });
  await expect(warning).not.toContainText('changed, not explained');
  await expect(warning).toContainText(newFingerprint);
  await expect(warning).toContainText('the verified mark carries over');
  await dialog.screenshot({ path: testInfo.outputPath('contact-rotated-notice.png') });
  await dialog.getByRole('button', { name: `Accept the new key of ${b.user.email}` }).click();
  await expect(dialog.getByText('key verified (carried over: the former key you verified signed this one)')).toBeVisible();
  await dialog.getByRole('button', { name: `Share with ${b.user.email}` }).click();
  await expect(dialog.getByLabel('Link to send them')).toHaveValue(/received=/, { timeout: 30_000 });
  await page.keyboard.press('Escape');
  await nav(page, 'Keys & account');
  await expect(page.getByText('Verified mark carried over from their former key')).toBeVisible();
  await page.getByRole('region', { name: 'Contacts' }).screenshot({ path: testInfo.outputPath('contact-carried.png') });
  // B opens the file shared with the new key.
  await nav(bPage, 'Shared with me');
  await bPage.reload();
  await serviceWorkerInControl(bPage);
  await nav(bPage, 'Shared with me');
  expect(new Uint8Array(await download(bPage, SECOND.name))).toEqual(SECOND.bytes);

  // A fresh browser restores B's new keys, with the former one: both open.
  const fresh = await browser.newContext();
  await useServiceWorkerDownloads(fresh);
  const other = await fresh.newPage();
  await signIn(other, b.user);
  await restoreKeys(other, RECOVERY_B);
  await serviceWorkerInControl(other);
  await opensBoth(other);

  // There B drops the former keys (a fresh sign-in): both are refused plainly.
  await nav(other, 'Keys & account');
  const section = other.getByRole('region', { name: 'Former keys' });
  await section.getByRole('button', { name: 'Drop my former keys…' }).click();
  await section.getByLabel('Recovery passphrase').fill('not the passphrase');
  await section.getByRole('button', { name: 'Drop my former keys' }).click();
  await expect(section.getByRole('alert')).toHaveText('That passphrase does not unlock your keys. Check it and try again.', { timeout: 30_000 });
  await section.getByLabel('Recovery passphrase').fill(RECOVERY_B);
  await section.getByRole('button', { name: 'Drop my former keys' }).click();
  await expect(section.getByRole('status')).toContainText('no longer open', { timeout: 30_000 });
  await section.screenshot({ path: testInfo.outputPath('former-keys-dropped.png') });
  await expectNoAxeViolations(other, 'former-keys-dropped');
  await other.reload();
  await nav(other, 'Shared with me');
  await expect(other.getByRole('row', { name: new RegExp(SHARED.name) })).toHaveCount(0);
  await expect(other.getByRole('table')).toContainText('None of your keys can open this file.', { timeout: 30_000 });
  await nav(other, 'Received');
  await expect(other.getByRole('list', { name: 'Files received' })).toContainText('This file was not sealed to your key.', { timeout: 30_000 });
  await fresh.close();
  await bContext.close();
  expect(a.userId).not.toBe(b.userId);
});
