/**
 * The installable, offline app (issue 18): on the real local stack with the
 * built app and its service worker, in headless Chromium.
 *
 * - Offline after one visit: the app opens (shell and /config.json from the
 *   worker), says it is offline, shows the files as last seen (the sealed
 *   list cache); a file added offline waits; back online it uploads by
 *   itself and downloads byte-identical. Nothing from /api or blob storage
 *   sits in a cache.
 * - The share target: a multipart POST to /share-target (what the system
 *   share sheet sends) ends as a sealed, uploaded file.
 * - `beforeunload` asks while an upload runs.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { gateBlocks } from './support/block-gate.ts';
import { chooseFiles, download, newUserWithKeys, uploaded, useServiceWorkerDownloads } from './support/drive.ts';
import { controlledBySw, listed } from './support/service-worker.ts';
import { useWorkDir, writeFile } from './support/test-files.ts';

const PASSPHRASE = 'harbour lantern pebble orchard';
const workDirOf = useWorkDir('offline-e2e');

test('opens offline with the last-seen files, queues a file added offline, uploads it when back online', async ({ page, context }) => {
  test.setTimeout(180_000);
  const dir = join(workDirOf(), 'offline');
  const before = { name: 'seen-before.txt', bytes: randomBytes(40_000) };
  const later = { name: 'added-offline.bin', bytes: randomBytes(700_000) };
  const beforePath = writeFile(dir, before.name, before.bytes);
  const laterPath = writeFile(dir, later.name, later.bytes);

  await useServiceWorkerDownloads(context);
  await newUserWithKeys(page, 'offline', PASSPHRASE);
  await controlledBySw(page);
  await chooseFiles(page, beforePath);
  await uploaded(page, before.name);
  // A listing from the server fills the device's sealed cache.
  await page.reload();
  await listed(page, before.name);

  await context.setOffline(true);
  await page.reload();
  // Chromium's offline emulation can leave navigator.onLine true after a reload: either wording is right.
  await expect(page.getByTestId('connection-banner')).toContainText(/You are offline\.|Sealdrop cannot reach its server\./);
  await expect(page.getByTestId('offline-copy')).toBeVisible();
  await listed(page, before.name);
  await expect(page.getByText('could not reach its server')).toHaveCount(0);

  await chooseFiles(page, laterPath);
  const row = page.getByRole('progressbar', { name: `Upload of ${later.name}`, exact: true });
  await expect(row).toHaveAttribute('aria-valuetext', /Waiting for (the connection|storage)/);

  await context.setOffline(false);
  await expect(page.getByTestId('connection-banner').getByText('Back online.')).toBeVisible();
  await uploaded(page, later.name);
  await expect(page.getByTestId('offline-copy')).toHaveCount(0);
  expect(Buffer.compare(await download(page, later.name), later.bytes)).toBe(0);

  // The worker's caches hold the precached shell and /config.json, never an API answer or blob data.
  const cached = await page.evaluate(async () => {
    const urls: string[] = [];
    for (const name of await caches.keys()) {
      for (const request of await (await caches.open(name)).keys()) urls.push(new URL(request.url).pathname + new URL(request.url).search);
    }
    return urls;
  });
  expect(cached).toContain('/config.json');
  expect(cached.some((u) => u.startsWith('/index.html'))).toBe(true);
  expect(cached.filter((u) => u.startsWith('/api/') || u.startsWith('/oidc') || /[?&](sig|comp)=/.test(u))).toEqual([]);
});

test('a file added offline is sealed at rest (no plaintext in IndexedDB), survives a reload while offline, and uploads by itself when back', async ({
  page,
  context,
}) => {
  test.setTimeout(180_000);
  const marker = `offline-plaintext-${randomBytes(6).toString('hex')}`;
  const file = { name: 'written-offline.txt', bytes: Buffer.from(marker.repeat(20_000)) };
  const path = writeFile(join(workDirOf(), 'sealed'), file.name, file.bytes);

  await useServiceWorkerDownloads(context);
  await newUserWithKeys(page, 'outbox', PASSPHRASE);
  await controlledBySw(page);
  await context.setOffline(true);
  await expect(page.getByTestId('connection-banner')).toContainText('You are offline.');

  await chooseFiles(page, path);
  const bar = page.getByRole('progressbar', { name: `Upload of ${file.name}`, exact: true });
  const row = page.getByRole('listitem').filter({ has: bar });
  await expect(row.getByRole('status')).toHaveText('Sealed on this device. It uploads by itself when the connection is back, even after a reload.');

  // What is at rest: a sealed payload and a draft, neither holding the plaintext nor the name.
  const atRest = await page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open('sealdrop-outbox');
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    const records = await new Promise<{ payload: Blob; draft: Uint8Array }[]>((resolve, reject) => {
      const get = db.transaction('sealed').objectStore('sealed').getAll();
      get.onsuccess = () => resolve(get.result as { payload: Blob; draft: Uint8Array }[]);
      get.onerror = () => reject(get.error);
    });
    db.close();
    const latin1 = new TextDecoder('latin1');
    return Promise.all(records.map(async (r) => ({ size: r.payload.size, text: latin1.decode(await r.payload.arrayBuffer()) + latin1.decode(r.draft) })));
  });
  expect(atRest).toHaveLength(1);
  expect(atRest[0]?.size).toBeGreaterThan(file.bytes.length);
  expect(atRest[0]?.text).not.toContain(marker);
  expect(atRest[0]?.text).not.toContain(file.name);

  // A reload while still offline: nobody picks the file again, it is back in the upload list by itself.
  await page.reload();
  await expect(row.getByRole('status')).toHaveText('Sealed on this device. It uploads by itself when the connection is back, even after a reload.', {
    timeout: 30_000,
  });
  await expect(page.getByRole('heading', { name: 'Interrupted uploads' })).toHaveCount(0);

  await context.setOffline(false);
  await uploaded(page, file.name);
  expect(Buffer.compare(await download(page, file.name), file.bytes)).toBe(0);
  // Uploaded: the sealed copy is gone from the device.
  await expect
    .poll(() =>
      page.evaluate(
        () =>
          new Promise<number>((resolve, reject) => {
            const open = indexedDB.open('sealdrop-outbox');
            open.onsuccess = () => {
              const count = open.result.transaction('sealed').objectStore('sealed').count();
              count.onsuccess = () => resolve(count.result);
              count.onerror = () => reject(count.error);
            };
            open.onerror = () => reject(open.error);
          }),
      ),
    )
    .toBe(0);
});

test('a file shared to Sealdrop (POST share target) is sealed and uploaded', async ({ page, context }) => {
  test.setTimeout(120_000);
  const shared = { name: 'shared-from-phone.txt', text: `shared ${randomBytes(8).toString('hex')}` };
  await useServiceWorkerDownloads(context);
  await newUserWithKeys(page, 'share', PASSPHRASE);
  await controlledBySw(page);

  // What the system share sheet does: a multipart POST navigation to the manifest's action.
  await page.evaluate(({ name, text }) => {
    const form = document.createElement('form');
    form.method = 'POST';
    form.action = '/share-target';
    form.enctype = 'multipart/form-data';
    const input = document.createElement('input');
    input.type = 'file';
    input.name = 'file';
    const files = new DataTransfer();
    files.items.add(new File([text], name, { type: 'text/plain' }));
    input.files = files.files;
    form.append(input);
    document.body.append(form);
    form.submit();
  }, shared);
  await page.waitForURL((url) => url.pathname === '/' && url.search === '');
  await uploaded(page, shared.name);
  expect((await download(page, shared.name)).toString('utf8')).toBe(shared.text);
});

test('leaving the page while an upload runs asks first (beforeunload)', async ({ page }) => {
  test.setTimeout(120_000);
  const dir = join(workDirOf(), 'unload');
  // Above 16 MiB (WHOLE_BLOB_MAX_BYTES), so there are Put Blocks to hold back after the first.
  const path = writeFile(dir, 'long-upload.bin', randomBytes(17 * 1024 * 1024));
  await newUserWithKeys(page, 'unload', PASSPHRASE);
  const gate = await gateBlocks(page, 1);
  await chooseFiles(page, path);
  await expect(page.getByRole('progressbar', { name: 'Upload of long-upload.bin', exact: true })).toHaveAttribute('aria-valuetext', /Sealing|Uploading|%/);

  const asked = page.waitForEvent('dialog');
  await page.close({ runBeforeUnload: true });
  const dialog = await asked;
  expect(dialog.type()).toBe('beforeunload');
  await dialog.dismiss();
  await gate.open({ drop: true });
});
