/**
 * The upload journal's promises of issue 18, on the real local stack in
 * headless Chromium:
 *
 * - every upload, however small, is journaled before its first byte: a file
 *   whose grant request never answered (nothing sealed, nothing sent) is
 *   offered again after a reload, and choosing it uploads it; so is one
 *   whose grant was answered but whose one Put Blob (up to 16 MiB) never
 *   reached storage (the server then knows no upload under its id, and the
 *   resume starts it afresh);
 * - another tab's live upload is not "interrupted" (Web Locks): a second
 *   tab lists the upload a reload really interrupted, not the one running
 *   in the first tab; once that tab is closed, it is offered too.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { expect, test, type Page, type Route } from '@playwright/test';
import { gateBlocks, isPutBlock } from './support/block-gate.ts';
import { chooseFiles, download, newUserWithKeys, serviceWorkerInControl, uploaded, useServiceWorkerDownloads } from './support/drive.ts';
import { sha256, useWorkDir, writeFile } from './support/test-files.ts';

const PASSPHRASE = 'copper meadow violin tundra';
const MiB = 1024 * 1024;
const workDirOf = useWorkDir('journal-e2e');

/** The "Interrupted uploads" entry of `name`. */
function offered(page: Page, name: string): import('@playwright/test').Locator {
  return page.getByRole('region', { name: 'Interrupted uploads' }).getByRole('listitem').filter({ hasText: name });
}

/** Resolves once storage acknowledged a Put Block of this page. */
function blockStored(page: Page): Promise<void> {
  return new Promise((resolve) => {
    const listener = (response: import('@playwright/test').Response): void => {
      if (isPutBlock(response.request()) && response.status() === 201) {
        page.off('response', listener);
        resolve();
      }
    };
    page.on('response', listener);
  });
}

test('a small file whose upload had not got its grant yet is journaled, offered after a reload, and uploads when chosen again', async ({ page, context }) => {
  test.setTimeout(120_000);
  const bytes = randomBytes(1234);
  const path = writeFile(join(workDirOf(), 'small'), 'tiny-note.txt', bytes);
  await useServiceWorkerDownloads(context);
  await newUserWithKeys(page, 'journal-small', PASSPHRASE);
  await serviceWorkerInControl(page);

  // The grant request is held unanswered: the reload comes before anything is sealed or sent.
  const held: Route[] = [];
  let asked: () => void = () => undefined;
  const grantAsked = new Promise<void>((resolve) => (asked = resolve));
  await page.route('**/api/v1/uploads', (route) => {
    if (route.request().method() !== 'POST') return route.fallback();
    held.push(route);
    asked();
    return undefined;
  });
  await chooseFiles(page, path);
  await grantAsked;
  // The route stays until the old page is gone: removing the last route turns
  // interception off (CDP Fetch.disable), which lets a held request go on, so
  // the grant would be answered and the upload started during the reload.
  await page.reload();
  for (const route of held) await route.abort().catch(() => undefined);
  await page.unrouteAll({ behavior: 'ignoreErrors' });

  // After the reload the list appears once the drive is listed and the old page's Web Lock is let go: slow on a busy machine.
  await expect(offered(page, 'tiny-note.txt')).toContainText('tiny-note.txt was queued and had not started uploading.', { timeout: 30_000 });
  await expect(offered(page, 'tiny-note.txt').getByRole('button', { name: 'Discard the interrupted upload of tiny-note.txt' })).toBeVisible();
  // Dropping or choosing the same file takes up the journaled entry (no second one).
  await chooseFiles(page, path);
  await uploaded(page, 'tiny-note.txt');
  await expect(page.getByRole('heading', { name: 'Interrupted uploads' })).toHaveCount(0);
  expect(sha256(await download(page, 'tiny-note.txt'))).toBe(sha256(bytes));

  // Nothing is left in the journal: a reload offers nothing.
  await page.reload();
  await expect(page.getByRole('button', { name: 'Download tiny-note.txt', exact: true })).toBeVisible({ timeout: 30_000 });
  await expect(page.getByRole('heading', { name: 'Interrupted uploads' })).toHaveCount(0);
});

test('a small file whose one Put Blob never reached storage is offered after a reload and uploads afresh when chosen again', async ({ page, context }) => {
  test.setTimeout(120_000);
  const bytes = randomBytes(2345);
  const path = writeFile(join(workDirOf(), 'unstored'), 'never-stored.txt', bytes);
  await useServiceWorkerDownloads(context);
  await newUserWithKeys(page, 'journal-unstored', PASSPHRASE);
  await serviceWorkerInControl(page);

  // Storage's Put Blob (a PUT to the storage origin with no `comp`) is held: the grant is answered, the
  // upload journaled as started, and the reload comes before its first byte is stored.
  const app = new URL(page.url()).origin;
  const held: Route[] = [];
  let asked: () => void = () => undefined;
  const putAsked = new Promise<void>((resolve) => (asked = resolve));
  await page.route(
    (url) => url.origin !== app && !url.searchParams.has('comp'),
    (route) => {
      if (route.request().method() !== 'PUT') return route.fallback();
      held.push(route);
      asked();
      return undefined;
    },
  );
  await chooseFiles(page, path);
  await putAsked;
  // The route stays until the old page is gone (removing it would let the held request go on).
  await page.reload();
  for (const route of held) await route.abort().catch(() => undefined);
  await page.unrouteAll({ behavior: 'ignoreErrors' });

  await expect(offered(page, 'never-stored.txt')).toContainText('Upload of never-stored.txt was interrupted at 0%.', { timeout: 30_000 });
  await chooseFiles(page, path);
  await uploaded(page, 'never-stored.txt');
  await expect(page.getByRole('heading', { name: 'Interrupted uploads' })).toHaveCount(0);
  expect(sha256(await download(page, 'never-stored.txt'))).toBe(sha256(bytes));
  await page.reload();
  await expect(page.getByRole('button', { name: 'Download never-stored.txt', exact: true })).toBeVisible({ timeout: 30_000 });
  await expect(page.getByRole('heading', { name: 'Interrupted uploads' })).toHaveCount(0);
});

test('another tab’s live upload is not shown as interrupted; once that tab is closed it is', async ({ page, context }) => {
  test.setTimeout(180_000);
  const dir = join(workDirOf(), 'tabs');
  // Above 16 MiB (WHOLE_BLOB_MAX_BYTES): smaller files go up as one Put Blob, with no Put Block to hold back.
  const crashed = writeFile(dir, 'crashed-upload.bin', randomBytes(17 * MiB + 17));
  const live = writeFile(dir, 'live-upload.bin', randomBytes(17 * MiB + 33));
  await newUserWithKeys(page, 'journal-tabs', PASSPHRASE);

  // An upload a reload really interrupted (its tab's lock went with the reload).
  const first = await gateBlocks(page);
  const firstStored = blockStored(page);
  await chooseFiles(page, crashed);
  await firstStored;
  await page.reload();
  await first.open({ drop: true });
  await expect(offered(page, 'crashed-upload.bin')).toContainText(/Upload of crashed-upload\.bin was interrupted at \d+%\./, { timeout: 20_000 });

  // Then a live one in this tab, held after its first block.
  const second = await gateBlocks(page);
  const secondStored = blockStored(page);
  await chooseFiles(page, live);
  await secondStored;
  await expect(page.getByRole('progressbar', { name: 'Upload of live-upload.bin', exact: true })).toHaveAttribute('aria-valuetext', /Sealing and uploading/);

  // A second tab of the same person: the crashed one is offered, the live one is not.
  const other = await context.newPage();
  await other.goto('/');
  await expect(offered(other, 'crashed-upload.bin')).toContainText(/was interrupted at \d+%\./, { timeout: 30_000 });
  await expect(other.getByRole('region', { name: 'Interrupted uploads' }).getByRole('listitem')).toHaveCount(1);
  await expect(offered(other, 'live-upload.bin')).toHaveCount(0);

  // The first tab goes away mid-upload: now it is interrupted for the second tab too.
  await page.close();
  await second.open({ drop: true }).catch(() => undefined);
  await other.reload();
  await expect(offered(other, 'live-upload.bin')).toContainText(/Upload of live-upload\.bin was interrupted at \d+%\./, { timeout: 30_000 });
  await expect(offered(other, 'crashed-upload.bin')).toHaveCount(1);
});

test('signing out with "forget my keys on this device" also removes unfinished uploads: the journal and the sealed copies', async ({ page, context }) => {
  test.setTimeout(120_000);
  const path = writeFile(join(workDirOf(), 'forget'), 'left-behind.txt', randomBytes(3000));
  await newUserWithKeys(page, 'journal-forget', PASSPHRASE);
  // Offline: journaled and sealed into the outbox, waiting.
  await context.setOffline(true);
  await chooseFiles(page, path);
  const row = page.getByRole('listitem').filter({ has: page.getByRole('progressbar', { name: 'Upload of left-behind.txt', exact: true }) });
  await expect(row.getByRole('status')).toHaveText('Sealed on this device. It uploads by itself when the connection is back, even after a reload.');
  const databases = (): Promise<string[]> => page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name ?? '').sort());
  expect(await databases()).toEqual(expect.arrayContaining(['sealdrop-outbox', 'sealdrop-uploads']));
  await context.setOffline(false);
  // Signing out needs the provider: hold the upload back so it is still unfinished then.
  await page.route('**/api/v1/uploads', (route) => (route.request().method() === 'POST' ? route.abort('internetdisconnected') : route.fallback()));

  await page.getByRole('banner').getByRole('button', { name: 'Sign out' }).click();
  const dialog = page.getByRole('dialog', { name: 'Sign out of Sealdrop?' });
  await expect(dialog).toContainText('uploads not finished here are removed from this browser');
  await dialog.getByLabel('Also forget my keys on this device').check();
  await dialog.getByRole('button', { name: 'Sign out', exact: true }).click();
  await expect(page.getByRole('banner').getByRole('button', { name: 'Sign in' })).toBeVisible();
  await expect.poll(databases).not.toContain('sealdrop-outbox');
  await expect.poll(databases).not.toContain('sealdrop-uploads');
});
