/**
 * Deleting an account (issue 20 item 5) on the real local stack: a person
 * with a file and a link deletes their account from "Keys & account" by
 * typing their address; afterwards storage holds no blob of theirs (checked
 * with the SDK against Azurite), their link no longer opens, every other
 * blob is still there, this browser holds none of their keys or cached
 * lists, another device that still holds the keys says the account is
 * gone instead of publishing them again, and the same address signs up
 * afresh with new keys.
 */
import { expect, test } from '@playwright/test';
import type { ContainerClient } from '@azure/storage-blob';
import { listStoredBlobs, stackContainer } from './support/blob-storage.ts';
import { deviceState } from './support/device-state.ts';
import { chooseFiles, newUserWithKeys, uploaded } from './support/drive.ts';
import { restoreKeys, setUpKeys } from './support/keys.ts';
import { signIn } from './support/sign-in.ts';
import { useWorkDir, writeFile } from './support/test-files.ts';

const PASSPHRASE = 'granite pelican orchard sonnet';
const NEW_PASSPHRASE = 'velvet tundra beacon marigold';
const FILE_NAME = 'tax-return-2026.txt';
const workDir = useWorkDir('account-delete');

async function allNames(container: ContainerClient): Promise<string[]> {
  return (await listStoredBlobs(container)).map((b) => b.name);
}

test('delete the account: no blob of it is left, its link stops, others stay, this browser forgets it, another device does not bring it back, and the address signs up afresh', async ({ page, browser }) => {
  test.setTimeout(240_000);
  const container = await stackContainer(page.request);
  const { user, userId } = await newUserWithKeys(page, 'delete', PASSPHRASE);

  // A file and a link to it.
  await chooseFiles(page, writeFile(workDir(), FILE_NAME, new TextEncoder().encode('Owed: nothing. '.repeat(50))));
  await uploaded(page, FILE_NAME);
  await page.getByRole('button', { name: `Share ${FILE_NAME}`, exact: true }).click();
  const dialog = page.getByRole('dialog', { name: `Share ${FILE_NAME} by link` });
  await dialog.getByLabel('Expires after').selectOption({ label: '1 day' });
  await dialog.getByRole('button', { name: 'Create link' }).click();
  const linkField = dialog.getByLabel('Link', { exact: true });
  await expect(linkField).toHaveValue(/\/s\/[0-9a-f]{32}#/, { timeout: 30_000 });
  const shareId = /\/s\/([0-9a-f]{32})#/.exec(await linkField.inputValue())?.[1] ?? '';
  await page.keyboard.press('Escape');
  expect((await page.request.post(`/api/v1/shares/${shareId}/read`)).status()).toBe(200);

  // A second device of the same person, with the keys restored.
  const otherContext = await browser.newContext();
  const other = await otherContext.newPage();
  await signIn(other, user);
  await restoreKeys(other, PASSPHRASE);

  await page.getByRole('navigation', { name: 'Sealdrop' }).getByRole('button', { name: 'Keys & account' }).click();
  const oldFingerprint = await page.getByTestId('fingerprint-digits').textContent();

  const before = await allNames(container);
  const mine = before.filter((n) => n.includes(userId));
  expect(mine.some((n) => n.startsWith(`files/${userId}/`))).toBe(true);
  expect(mine.some((n) => n.startsWith(`keys/${userId}/recovery-`))).toBe(true);
  expect(mine.some((n) => n.startsWith(`index/${userId}/`))).toBe(true);
  expect(mine.some((n) => n.startsWith(`share-index/${userId}/`))).toBe(true);
  expect(before).toContain(`shares/${shareId}`);
  const directoryBefore = before.filter((n) => n.startsWith('directory/'));

  // Typing something else is refused in words.
  const section = page.getByRole('region', { name: 'Delete my account' });
  await section.getByLabel(/to confirm/).fill('someone-else@example.test');
  await section.getByRole('button', { name: 'Delete my account' }).click();
  await expect(section.getByRole('alert')).toContainText('Type it exactly to confirm');
  expect(await allNames(container)).toEqual(before);

  await section.getByLabel(/to confirm/).fill(user.email);
  await section.getByRole('button', { name: 'Delete my account' }).click();
  // Signed out at the end.
  await expect(page.getByRole('banner').getByRole('button', { name: 'Sign in' })).toBeVisible({ timeout: 60_000 });

  // Storage: nothing of the account under any prefix, its link record and its directory entry gone; every other blob still there.
  const after = await allNames(container);
  expect(after.filter((n) => n.includes(userId))).toEqual([]);
  expect(after).not.toContain(`shares/${shareId}`);
  expect(after.filter((n) => n.startsWith('directory/'))).toHaveLength(directoryBefore.length - 1);
  const others = before.filter((n) => !n.includes(userId) && n !== `shares/${shareId}` && !n.startsWith('directory/'));
  expect(after.filter((n) => !n.startsWith('directory/')).sort()).toEqual(others.sort());
  expect((await page.request.post(`/api/v1/shares/${shareId}/read`)).status()).toBe(404);

  // This browser: no keys of the account, no cached list.
  const device = await deviceState(page, userId);
  expect(device.hasKeys).toBe(false);
  expect(device.databases).not.toContain('sealdrop-list-cache');

  // The other device still holds the keys: on its next start it says the account is gone and publishes nothing.
  await other.reload();
  await expect(other.getByRole('alert').filter({ hasText: 'Your account has no keys in Sealdrop’s storage any more.' })).toBeVisible({ timeout: 30_000 });
  // Its listing starts an empty change log (known limit, CONTRACTS.md §2.3); no key, file or link comes back.
  const revived = (await allNames(container)).filter((n) => n.includes(userId));
  expect(revived.filter((n) => !/^index\/[0-9a-f]{32}\/log-000000$/.test(n))).toEqual([]);
  await otherContext.close();

  // The same address signs up afresh: new keys, an empty drive.
  await signIn(page, user);
  await setUpKeys(page, NEW_PASSPHRASE);
  await expect(page.getByRole('heading', { name: 'No files yet' })).toBeVisible();
  await page.getByRole('navigation', { name: 'Sealdrop' }).getByRole('button', { name: 'Keys & account' }).click();
  await expect(page.getByTestId('fingerprint-digits')).not.toHaveText(oldFingerprint ?? '');
  expect((await allNames(container)).some((n) => n.startsWith(`keys/${userId}/public`))).toBe(true);
});
