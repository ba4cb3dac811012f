/**
 * The key journey on the local stack: first sign-in → key setup with
 * a recovery passphrase → recovery kit offered (a real download) → ready;
 * then a fresh browser (no IndexedDB), same account → restore page → a
 * wrong passphrase says so and changes nothing → the right one → ready.
 */
import { readFile } from 'node:fs/promises';
import { expect, test, type Page } from '@playwright/test';
import { signIn, uniqueUser } from './support/sign-in.ts';

const PASSPHRASE = 'glacier tuba nostril pamphlet';

/** Returns how the keys stored in this browser's IndexedDB look, read with the raw IndexedDB API. */
async function storedKeys(page: Page): Promise<{ count: number; extractable: boolean[] }> {
  return page.evaluate(
    () =>
      new Promise<{ count: number; extractable: boolean[] }>((resolve, reject) => {
        const open = indexedDB.open('sealdrop-keys');
        open.onerror = () => reject(new Error('cannot open sealdrop-keys'));
        open.onsuccess = () => {
          const db = open.result;
          if (!db.objectStoreNames.contains('identities')) {
            db.close();
            resolve({ count: 0, extractable: [] });
            return;
          }
          const all = db.transaction('identities').objectStore('identities').getAll();
          all.onerror = () => reject(new Error('cannot read identities'));
          all.onsuccess = () => {
            const records: unknown[] = all.result;
            const extractable = records.flatMap((r) => {
              if (typeof r !== 'object' || r === null) return [];
              const pick = (k: string): unknown => Reflect.get(Reflect.get(r, k) ?? {}, 'privateKey');
              return [pick('encrypt'), pick('sign')].map((key) => key instanceof CryptoKey && key.extractable);
            });
            db.close();
            resolve({ count: records.length, extractable });
          };
        };
      }),
  );
}

test('set up keys on first sign-in, then restore them in a fresh browser', async ({ page, browser }) => {
  test.setTimeout(120_000);
  const user = uniqueUser('keys');

  // First device: setup.
  await signIn(page, user);
  await expect(page.getByRole('heading', { name: 'Set up your keys' })).toBeVisible();
  const create = page.getByRole('button', { name: 'Create my keys' });
  // A weak or mismatched passphrase is refused in words (not by a silent grey button), and nothing is made.
  await page.getByLabel('Recovery passphrase').fill('password1234');
  await expect(page.getByText('Strength: Very weak')).toBeVisible();
  await create.click();
  await expect(page.getByRole('alert').filter({ hasText: 'This passphrase is too easy to guess' })).toBeVisible();
  await page.getByLabel('Recovery passphrase').fill(PASSPHRASE);
  await page.getByLabel('Type the passphrase again').fill(`${PASSPHRASE}x`);
  await expect(page.getByText('The two passphrases are not the same.')).toBeVisible();
  await create.click();
  await expect(page.getByRole('alert').filter({ hasText: 'The two passphrases are not the same.' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Set up your keys' })).toBeVisible();
  await page.getByLabel('Type the passphrase again').fill(PASSPHRASE);
  await create.click();

  await expect(page.getByRole('heading', { name: /Save your recovery kit/ })).toBeVisible({ timeout: 30_000 });
  const fingerprint = (await page.locator('.digits').innerText()).replace(/\s+/g, ' ').trim();
  expect(fingerprint).toMatch(/^\d{5}( \d{5}){7}$/);
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Download recovery kit' }).click(),
  ]);
  expect(download.suggestedFilename()).toBe('sealdrop-recovery-kit.txt');
  const kitPath = await download.path();
  const kit = await readFile(kitPath, 'utf8');
  expect(kit).toContain(user.email);
  expect(kit).toContain(fingerprint);
  expect(kit).toContain('-----BEGIN SEALDROP RECOVERY KIT-----');
  expect(kit).not.toContain(PASSPHRASE);

  await page.getByRole('button', { name: 'I saved my recovery kit' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'My files' })).toBeAttached({ timeout: 15_000 });
  const first = await storedKeys(page);
  expect(first.count).toBe(1);
  expect(first.extractable).toEqual([false, false]);

  // A second device: a fresh browser context has no IndexedDB.
  const fresh = await browser.newContext();
  try {
    const other = await fresh.newPage();
    await signIn(other, user);
    await expect(other.getByRole('heading', { name: 'Restore your keys' })).toBeVisible();
    const input = other.getByLabel('Recovery passphrase');
    await input.fill('glacier tuba nostril pamphlets');
    await other.getByRole('button', { name: 'Restore my keys' }).click();
    await expect(other.getByText('That passphrase does not unlock your keys. Check it and try again.')).toBeVisible({
      timeout: 30_000,
    });
    await expect(input).toBeFocused();
    await expect(input).toHaveAttribute('aria-invalid', 'true');
    expect((await storedKeys(other)).count).toBe(0);

    await input.fill(PASSPHRASE);
    await other.getByRole('button', { name: 'Restore my keys' }).click();
    await expect(other.getByRole('heading', { level: 1, name: 'My files' })).toBeAttached({ timeout: 30_000 });
    const restored = await storedKeys(other);
    expect(restored.count).toBe(1);
    expect(restored.extractable).toEqual([false, false]);

    // After a reload the keys come from IndexedDB: no restore page again.
    await other.reload();
    await expect(other.getByRole('heading', { level: 1, name: 'My files' })).toBeAttached({ timeout: 30_000 });
    await expect(other.getByRole('heading', { name: 'Restore your keys' })).toHaveCount(0);
  } finally {
    await fresh.close();
  }
});
