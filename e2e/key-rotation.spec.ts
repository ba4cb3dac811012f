/**
 * Rotating the identity keys (issue 20 item 3) on "Keys & account":
 * - upload files, rotate: every earlier file still opens on this device;
 *   storage holds every manifest signed by the new key;
 * - the device that held the former keys is told the keys were changed by
 *   their owner and restores the new ones with the passphrase; a fresh
 *   browser restores the new keys and opens every file;
 * - a reload in the middle of re-sealing the files goes on where it stopped.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { signingKeyFingerprint } from '../src/crypto/index.ts';
import { parseManifest } from '../src/crypto/manifest.ts';
import { listStoredBlobs, stackContainer } from './support/blob-storage.ts';
import { chooseFiles, download, newUserWithKeys, serviceWorkerInControl, uploaded, useServiceWorkerDownloads } from './support/drive.ts';
import { restoreKeys } from './support/keys.ts';
import { signIn } from './support/sign-in.ts';
import { sha256, useWorkDir, writeFile } from './support/test-files.ts';

const PASSPHRASE = 'walrus cactus ledger umbrella';
const workDirOf = useWorkDir('rotation-e2e');

async function openKeysPage(page: Page): Promise<void> {
  await page.getByRole('navigation', { name: 'Sealdrop' }).getByRole('button', { name: 'Keys & account' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Keys & account' })).toBeFocused();
}

async function fingerprintOf(page: Page): Promise<string> {
  return ((await page.getByTestId('fingerprint-digits').textContent()) ?? '').replace(/\s+/g, ' ').trim();
}

async function startRotation(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Rotate my keys…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Rotate your keys?' });
  await dialog.getByLabel('Recovery passphrase').fill('not the passphrase at all');
  await dialog.getByRole('button', { name: 'Rotate my keys' }).click();
  await expect(dialog.getByRole('alert')).toHaveText('That passphrase does not unlock your keys. Check it and try again.', { timeout: 30_000 });
  await dialog.getByLabel('Recovery passphrase').fill(PASSPHRASE);
  await dialog.getByRole('button', { name: 'Rotate my keys' }).click();
  await expect(dialog).toBeHidden({ timeout: 60_000 });
}

const finished = (page: Page) => page.getByRole('status').filter({ hasText: 'Your keys are rotated' });

function files(dir: string) {
  const list = [
    { name: 'rotation-plan.txt', bytes: new TextEncoder().encode(`plan ${randomBytes(8).toString('hex')}\n`) },
    { name: 'rotation-photo.bin', bytes: randomBytes(200_000) },
    { name: 'rotation-notes.bin', bytes: randomBytes(5_000) },
  ];
  return list.map((f) => ({ ...f, path: writeFile(dir, f.name, f.bytes) }));
}

test('rotate keys: every earlier file still opens on this device, and storage holds every manifest signed by the new key', async ({ page, context, request }) => {
  test.setTimeout(300_000);
  const made = files(join(workDirOf(), 'journey'));
  await useServiceWorkerDownloads(context);
  const { userId } = await newUserWithKeys(page, 'rotate', PASSPHRASE);
  await chooseFiles(page, made.map((f) => f.path));
  for (const f of made) await uploaded(page, f.name);

  await openKeysPage(page);
  const before = await fingerprintOf(page);
  await startRotation(page);
  await expect(finished(page)).toBeVisible({ timeout: 120_000 });
  const after = await fingerprintOf(page);
  expect(after).toMatch(/^\d{5}( \d{5}){7}$/);
  expect(after).not.toBe(before);

  // Storage: every manifest is signed by the new key now.
  const container = await stackContainer(request);
  const manifests = (await listStoredBlobs(container, `files/${userId}/`)).filter((b) => b.name.endsWith('/manifest'));
  expect(manifests).toHaveLength(made.length);
  for (const blob of manifests) {
    const parsed = parseManifest(await container.getBlobClient(blob.name).downloadToBuffer());
    const key = await crypto.subtle.importKey('spki', parsed.signerSpki, { name: 'ECDSA', namedCurve: 'P-256' }, true, ['verify']);
    expect(await signingKeyFingerprint(key)).toBe(after);
  }

  // This device: a reload lists every file, and each opens.
  await page.reload();
  await serviceWorkerInControl(page);
  for (const f of made) expect(sha256(await download(page, f.name))).toBe(sha256(f.bytes));

});

test('after a rotation, the device with the former keys is led to restore the new ones, and a fresh browser opens every file', async ({
  page,
  browser,
  context,
}) => {
  test.setTimeout(300_000);
  const made = files(join(workDirOf(), 'devices'));
  await useServiceWorkerDownloads(context);
  const { user } = await newUserWithKeys(page, 'rotate-devices', PASSPHRASE);
  await chooseFiles(page, made.map((f) => f.path));
  for (const f of made) await uploaded(page, f.name);

  // A second device that holds the former keys.
  const second = await browser.newContext();
  await useServiceWorkerDownloads(second);
  const old = await second.newPage();
  await signIn(old, user);
  await restoreKeys(old, PASSPHRASE);
  await expect(old.getByRole('table')).toContainText(made[0]?.name ?? '');

  await openKeysPage(page);
  await startRotation(page);
  await expect(finished(page)).toBeVisible({ timeout: 120_000 });
  const after = await fingerprintOf(page);

  // The device with the former keys learns at its next start, and restores the new keys.
  await old.reload();
  await expect(old.getByRole('alert').filter({ hasText: 'Your keys were changed on another device.' })).toBeVisible({ timeout: 30_000 });
  await old.getByRole('button', { name: 'Restore the new keys with your passphrase' }).click();
  await restoreKeys(old, PASSPHRASE);
  await serviceWorkerInControl(old);
  for (const f of made) expect(sha256(await download(old, f.name))).toBe(sha256(f.bytes));
  await openKeysPage(old);
  expect(await fingerprintOf(old)).toBe(after);
  await second.close();

  // A fresh browser restores the new keys and opens every file.
  const fresh = await browser.newContext();
  try {
    await useServiceWorkerDownloads(fresh);
    const other = await fresh.newPage();
    await signIn(other, user);
    await restoreKeys(other, PASSPHRASE);
    await serviceWorkerInControl(other);
    for (const f of made) expect(sha256(await download(other, f.name))).toBe(sha256(f.bytes));
  } finally {
    await fresh.close();
  }
});

test('a reload in the middle of re-sealing the files goes on where it stopped', async ({ page, context }) => {
  test.setTimeout(300_000);
  const made = files(join(workDirOf(), 'resume'));
  await useServiceWorkerDownloads(context);
  await newUserWithKeys(page, 'rotate-resume', PASSPHRASE);
  await chooseFiles(page, made.map((f) => f.path));
  for (const f of made) await uploaded(page, f.name);

  // The first manifest goes through; the second is held, as a connection lost mid-way would.
  let written = 0;
  let held = false;
  await page.route('**/api/v1/files/*/manifest/rotate', async (route) => {
    if (written < 1) {
      written++;
      await route.continue();
      return;
    }
    held = true;
    // Never answered: the reload below abandons it.
  });
  await openKeysPage(page);
  await startRotation(page);
  await expect(page.getByRole('status').filter({ hasText: 'Re-sealing your files for them: 1 of 3' })).toBeVisible({ timeout: 120_000 });
  await expect.poll(() => held, { timeout: 30_000 }).toBe(true);

  await page.unroute('**/api/v1/files/*/manifest/rotate');
  await page.reload();
  await serviceWorkerInControl(page);
  await openKeysPage(page);
  await expect(finished(page)).toBeVisible({ timeout: 120_000 });
  await page.getByRole('navigation', { name: 'Sealdrop' }).getByRole('button', { name: 'My files' }).click();
  for (const f of made) expect(sha256(await download(page, f.name))).toBe(sha256(f.bytes));
});
