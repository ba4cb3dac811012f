/**
 * Keys on this device (issue 20 item 4): "Forget my keys on this device"
 * on the keys page clears the keys and cached lists and leads to restore;
 * a device whose keys are missing or damaged is led to restore, never to
 * set up new keys over the account's own, and restoring brings the same
 * keys back.
 */
import { expect, test } from '@playwright/test';
import { deviceState } from './support/device-state.ts';
import { newUserWithKeys } from './support/drive.ts';

const PASSPHRASE = 'granite pelican orchard sonnet';

test('forget my keys on this device from the keys page: the app asks to restore them, and restoring brings the same keys back', async ({ page }) => {
  test.setTimeout(180_000);
  const { userId } = await newUserWithKeys(page, 'forget', PASSPHRASE);
  await page.getByRole('navigation', { name: 'Sealdrop' }).getByRole('button', { name: 'Keys & account' }).click();
  const fingerprint = await page.getByTestId('fingerprint-digits').textContent();

  await page.getByRole('button', { name: 'Forget my keys on this device' }).click();
  const question = page.getByRole('dialog', { name: 'Forget your keys on this device?' });
  await question.getByRole('button', { name: 'Cancel' }).click();
  expect((await deviceState(page, userId)).hasKeys).toBe(true);

  await page.getByRole('button', { name: 'Forget my keys on this device' }).click();
  await question.getByRole('button', { name: 'Forget my keys' }).click();
  await expect(page.getByRole('heading', { name: 'Restore your keys' })).toBeVisible({ timeout: 30_000 });
  const device = await deviceState(page, userId);
  expect(device.hasKeys).toBe(false);
  expect(device.databases).not.toContain('sealdrop-list-cache');

  // Never "set up" over the old keys: a reload still leads to restore.
  await page.reload();
  await expect(page.getByRole('heading', { name: 'Restore your keys' })).toBeVisible({ timeout: 30_000 });
  await page.getByLabel('Recovery passphrase').fill(PASSPHRASE);
  await page.getByRole('button', { name: 'Restore my keys' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'My files' })).toBeAttached({ timeout: 30_000 });
  await page.getByRole('navigation', { name: 'Sealdrop' }).getByRole('button', { name: 'Keys & account' }).click();
  await expect(page.getByTestId('fingerprint-digits')).toHaveText(fingerprint ?? '');
});

test('keys damaged in this browser: the app leads to restore (never to setup), and restoring replaces the damaged record', async ({ page }) => {
  test.setTimeout(180_000);
  const { userId } = await newUserWithKeys(page, 'damaged', PASSPHRASE);
  await page.getByRole('navigation', { name: 'Sealdrop' }).getByRole('button', { name: 'Keys & account' }).click();
  const fingerprint = await page.getByTestId('fingerprint-digits').textContent();

  // Damage the stored record: its private keys are replaced by junk.
  await page.evaluate(async (id) => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const r = indexedDB.open('sealdrop-keys');
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error ?? new Error('open failed'));
    });
    await new Promise<void>((resolve, reject) => {
      const tx = db.transaction('identities', 'readwrite');
      tx.objectStore('identities').put({ userId: id, encrypt: { privateKey: 'junk', publicKey: 'junk' }, sign: {}, publicIdentity: new Uint8Array(), fingerprint: '', createdAt: 0 });
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error ?? new Error('put failed'));
    });
    db.close();
  }, userId);
  await page.reload();
  await expect(page.getByRole('heading', { name: 'Restore your keys' })).toBeVisible({ timeout: 30_000 });
  await expect(page.getByRole('heading', { name: 'Set up your keys' })).toHaveCount(0);

  await page.getByLabel('Recovery passphrase').fill(PASSPHRASE);
  await page.getByRole('button', { name: 'Restore my keys' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'My files' })).toBeAttached({ timeout: 30_000 });
  expect((await deviceState(page, userId)).hasKeys).toBe(true);
  await page.getByRole('navigation', { name: 'Sealdrop' }).getByRole('button', { name: 'Keys & account' }).click();
  await expect(page.getByTestId('fingerprint-digits')).toHaveText(fingerprint ?? '');
});
