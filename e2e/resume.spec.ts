/**
 * Issue #4's two promises about interrupted work, on the real local stack
 * in headless Chromium:
 *
 * - a reload in the middle of an upload (the "crash"): the page lists the
 *   interrupted upload; a different file with the same name is refused in
 *   plain words; the same file chosen again finishes it, sending only the
 *   blocks storage lacks, and the download is byte-identical;
 * - a reload mid-upload, then a file with the same name, size and date but
 *   other bytes: the resume proves the bytes differ from what was sealed
 *   (block digests journaled before each Put Block), says so, and starts
 *   over under a new key and file id; nothing more is sent for the old one;
 * - an expired session (the API answers 401, the identity provider refuses
 *   the refresh token and has no session): a banner asks to sign in again
 *   without leaving the page on its own; "Sign in" opens the provider's page
 *   in a pop-up, and afterwards the running upload and the held ones all
 *   finish in the same page, with no reload; a pop-up closed or blocked is
 *   said plainly, keeps the uploads held, and the full-page sign-in remains.
 *
 * Block uploads are slowed with a route delay so there is a "middle" to
 * interrupt; nothing here asserts a timing.
 */
import { randomBytes } from 'node:crypto';
import { utimesSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, type BrowserContext, type Page, type Route } from '@playwright/test';
import { listStoredBlobs, stackContainer } from './support/blob-storage.ts';
import { gateBlocks, isPutBlock } from './support/block-gate.ts';
import { download, newUserWithKeys, serviceWorkerInControl, uploaded, useServiceWorkerDownloads } from './support/drive.ts';
import { sha256, useWorkDir, writeFile } from './support/test-files.ts';
import { signInOnProviderPage } from './support/sign-in.ts';

const PASSPHRASE = 'lantern otter quarry mosaic';
const MiB = 1024 * 1024;

const workDirOf = useWorkDir('resume-e2e');

/** Resolves once storage acknowledged the first Put Block. */
function firstBlockStored(page: Page): Promise<void> {
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

test('a reload mid-upload: the upload is offered for resume, a different file is refused, the same file finishes with only the missing blocks', async ({
  page,
  context,
  request,
}, testInfo) => {
  test.setTimeout(240_000);
  const name = 'field-recording.bin';
  const original = randomBytes(28 * MiB + 4321);
  const path = writeFile(join(workDirOf(), 'crash'), name, original);
  const impostor = writeFile(join(workDirOf(), 'impostor'), name, randomBytes(3 * MiB));

  await useServiceWorkerDownloads(context);
  await newUserWithKeys(page, 'resume', PASSPHRASE);
  await serviceWorkerInControl(page);

  const gate = await gateBlocks(page);
  const stored = firstBlockStored(page);
  await page.getByLabel('Choose files to upload').setInputFiles(path);
  await stored;
  await page.reload(); // the crash: one block stored, the others held back
  await gate.open();

  const putBlocksAfter: string[] = [];
  page.on('request', (r) => {
    if (isPutBlock(r)) putBlocksAfter.push(r.url());
  });

  const notice = page.getByText(new RegExp(`Upload of ${name} was interrupted at \\d+%\\.`));
  await expect(notice).toBeVisible({ timeout: 20_000 });
  const percent = Number(/at (\d+)%/.exec((await notice.textContent()) ?? '')?.[1]);
  expect(percent).toBeGreaterThan(0);
  expect(percent).toBeLessThan(100);
  // The server lists the same upload as unfinished: it is not shown a second time.
  await expect(page.getByRole('rowheader', { name: /An unfinished upload/ })).toHaveCount(0);
  await page.screenshot({ path: testInfo.outputPath('interrupted.png'), fullPage: true });

  // Same name, other content: refused in plain words, nothing sent.
  const input = page.getByLabel(`File to resume the upload of ${name}`);
  await input.setInputFiles(impostor);
  await expect(page.getByRole('alert').filter({ hasText: 'is not the same file as the interrupted upload' })).toBeVisible();
  await page.screenshot({ path: testInfo.outputPath('not-the-same-file.png'), fullPage: true });
  await expect(page.getByRole('progressbar')).toHaveCount(0);
  expect(putBlocksAfter).toHaveLength(0);

  // The same file: only the missing blocks go up.
  await input.setInputFiles(path);
  await uploaded(page, name);
  await expect(notice).toHaveCount(0);

  const container = await stackContainer(request);
  const payloads = (await listStoredBlobs(container)).filter((b) => b.name.endsWith('/payload'));
  const committed = (
    await Promise.all(payloads.map((b) => container.getBlockBlobClient(b.name).getBlockList('committed')))
  ).map((list) => list.committedBlocks?.length ?? 0);
  const ours = Math.max(...committed);
  expect(ours).toBeGreaterThanOrEqual(7);
  expect(putBlocksAfter.length).toBeGreaterThan(0);
  expect(putBlocksAfter.length).toBeLessThan(ours);
  testInfo.annotations.push({ type: 'blocks', description: `${putBlocksAfter.length} of ${ours} blocks sent after the reload (at ${percent}%)` });

  await page.reload();
  await serviceWorkerInControl(page);
  expect(sha256(await download(page, name))).toBe(sha256(original));
});

test('a reload mid-upload, then the same name, size and date with other bytes: the upload starts over and the download is the new file', async ({
  page,
  context,
}, testInfo) => {
  test.setTimeout(240_000);
  const name = 'site-survey.bin';
  const original = randomBytes(20 * MiB + 1234);
  const edited = randomBytes(original.length);
  const path = writeFile(join(workDirOf(), 'changed-before'), name, original);
  const editedPath = writeFile(join(workDirOf(), 'changed-after'), name, edited);
  // The same last-modified date on both: name, size and date cannot tell them apart.
  const when = new Date('2026-06-01T12:00:00Z');
  utimesSync(path, when, when);
  utimesSync(editedPath, when, when);

  await useServiceWorkerDownloads(context);
  await newUserWithKeys(page, 'changed', PASSPHRASE);
  await serviceWorkerInControl(page);

  const gate = await gateBlocks(page);
  let firstBlockUrl = '';
  page.on('request', (r) => {
    if (isPutBlock(r) && firstBlockUrl === '') firstBlockUrl = r.url();
  });
  const stored = firstBlockStored(page);
  await page.getByLabel('Choose files to upload').setInputFiles(path);
  await stored;
  await page.reload();
  await gate.open();
  const oldPayload = new URL(firstBlockUrl).pathname;
  expect(oldPayload).toMatch(/\/[0-9a-f]{32}\/payload$/);

  const putBlocksAfter: string[] = [];
  page.on('request', (r) => {
    if (isPutBlock(r)) putBlocksAfter.push(new URL(r.url()).pathname);
  });
  await expect(page.getByText(new RegExp(`Upload of ${name} was interrupted at \\d+%\\.`))).toBeVisible({ timeout: 20_000 });

  await page.getByLabel(`File to resume the upload of ${name}`).setInputFiles(editedPath);
  await expect(page.getByRole('status').filter({ hasText: 'This file changed since the upload was interrupted; it is being uploaded again from the start.' })).toBeVisible({
    timeout: 60_000,
  });
  await page.screenshot({ path: testInfo.outputPath('changed-file-restarts.png'), fullPage: true });
  await uploaded(page, name);

  // Every block went to the new upload; not one more to the old file id (whose key sealed other bytes).
  expect(putBlocksAfter.length).toBeGreaterThan(0);
  expect(putBlocksAfter.filter((p) => p === oldPayload)).toEqual([]);

  await page.reload();
  await serviceWorkerInControl(page);
  expect(sha256(await download(page, name))).toBe(sha256(edited));
});

/** The session ends: the API refuses the token, the provider refuses the refresh token and has no sign-in session. Returns the undo. */
async function expireSession(page: Page, context: BrowserContext): Promise<() => Promise<void>> {
  const refuseApi = (route: Route): Promise<void> =>
    route.fulfill({ status: 401, contentType: 'application/json', body: JSON.stringify({ error: 'unauthenticated', message: 'Sign in again.' }) });
  const refuseRefresh = (route: Route): Promise<void> =>
    route.fulfill({ status: 400, contentType: 'application/json', body: JSON.stringify({ error: 'invalid_grant', error_description: 'grant request is invalid' }) });
  await page.route('**/api/v1/**', refuseApi);
  await page.route('**/oidc/token', refuseRefresh);
  // The provider's cookies only; MSAL's own cookie stays.
  await context.clearCookies({ name: /^_(session|interaction)/ });
  return async () => {
    await page.unroute('**/api/v1/**', refuseApi);
    await page.unroute('**/oidc/token', refuseRefresh);
  };
}

const EXPIRED = 'Your session has expired. Sign in again to continue — your uploads are kept.';
const HELD = 'Waiting for you to sign in again';
const POPUP_CLOSED =
  'The sign-in window was closed or blocked. Allow pop-ups for this site, or sign in with a full page — your uploads will be offered again afterwards.';

function uploadRow(page: Page, label: string): import('@playwright/test').Locator {
  return page.getByRole('progressbar', { name: `Upload of ${label}`, exact: true });
}

test('an expired session: "Sign in" opens a pop-up, and the running and held uploads all finish in the same page', async ({ page, context }, testInfo) => {
  test.setTimeout(240_000);
  const name = 'board-minutes.bin';
  const original = randomBytes(32 * MiB + 99);
  const path = writeFile(join(workDirOf(), 'session'), name, original);
  const lateBytes = randomBytes(1000);
  const late = writeFile(join(workDirOf(), 'session'), 'late-addition.txt', lateBytes);
  const laterBytes = randomBytes(3 * MiB + 5);
  const later = writeFile(join(workDirOf(), 'session'), 'later-still.bin', laterBytes);

  await useServiceWorkerDownloads(context);
  const user = (await newUserWithKeys(page, 'expiry', PASSPHRASE)).user;
  await serviceWorkerInControl(page);
  // Every navigation of the app's tab from here on; signing in again must cause none.
  const navigations: string[] = [];
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) navigations.push(frame.url());
  });

  // The upload is still running when "Sign in" is clicked: later blocks wait.
  const gate = await gateBlocks(page);
  const stored = firstBlockStored(page);
  await page.getByLabel('Choose files to upload').setInputFiles(path);
  await stored;

  const restore = await expireSession(page, context);
  // Starts at once (two files at a time), cannot get its grant: held.
  await page.getByLabel('Choose files to upload').setInputFiles(late);
  const banner = page.getByRole('alert').filter({ hasText: EXPIRED });
  await expect(banner).toBeVisible({ timeout: 30_000 });
  // Added while held: stays queued.
  await page.getByLabel('Choose files to upload').setInputFiles(later);
  await expect(uploadRow(page, name)).toHaveAttribute('aria-valuetext', /Sealing and uploading/);
  await expect(uploadRow(page, 'late-addition.txt')).toHaveAttribute('aria-valuetext', new RegExp(HELD));
  await expect(uploadRow(page, 'later-still.bin')).toHaveAttribute('aria-valuetext', new RegExp(HELD));
  await page.screenshot({ path: testInfo.outputPath('session-expired.png'), fullPage: true });

  await restore();
  const [popup] = await Promise.all([page.waitForEvent('popup'), banner.getByRole('button', { name: 'Sign in', exact: true }).click()]);
  await expect(banner.getByText('Finish signing in in the window that opened.')).toBeVisible();
  await page.screenshot({ path: testInfo.outputPath('waiting-for-popup.png'), fullPage: true });
  await signInOnProviderPage(popup, user);
  // The redirect bridge hands the answer to the app and closes the pop-up.
  await popup.waitForEvent('close', { timeout: 20_000 });
  await expect(banner).toHaveCount(0);
  await gate.open();

  await uploaded(page, name);
  await uploaded(page, 'late-addition.txt');
  await uploaded(page, 'later-still.bin');
  expect(navigations).toEqual([]);
  await expect(page.getByTestId('account-name')).toHaveText(user.name);
  await page.screenshot({ path: testInfo.outputPath('signed-in-again.png'), fullPage: true });

  expect(sha256(await download(page, name))).toBe(sha256(original));
  expect(sha256(await download(page, 'late-addition.txt'))).toBe(sha256(lateBytes));
  expect(sha256(await download(page, 'later-still.bin'))).toBe(sha256(laterBytes));
});

test('a closed or blocked sign-in pop-up is said plainly, the uploads stay held, and the full-page sign-in offers the held file again', async ({ page, context }, testInfo) => {
  test.setTimeout(180_000);
  await useServiceWorkerDownloads(context);
  const heldBytes = randomBytes(2000);
  const held = writeFile(join(workDirOf(), 'closed'), 'held-notes.txt', heldBytes);

  const user = (await newUserWithKeys(page, 'popup-closed', PASSPHRASE)).user;
  const restore = await expireSession(page, context);
  await page.getByLabel('Choose files to upload').setInputFiles(held);
  const banner = page.getByRole('alert').filter({ hasText: EXPIRED });
  await expect(banner).toBeVisible({ timeout: 30_000 });
  // The API keeps refusing this session until the full-page sign-in below:
  // MSAL still holds an access token the real endpoint would accept, so an
  // unblocked API would let any later check (focus returning from the
  // closed pop-up) revive the session and finish the held upload.

  // Closed by the person before signing in.
  const [popup] = await Promise.all([page.waitForEvent('popup'), banner.getByRole('button', { name: 'Sign in', exact: true }).click()]);
  await popup.waitForURL(/\/oidc\/interaction\//);
  await expect(popup.getByRole('heading', { name: 'Sign in', exact: true })).toBeVisible();
  await popup.screenshot({ path: testInfo.outputPath('popup.png') });
  await popup.close();
  await expect(banner.getByText(POPUP_CLOSED, { exact: true })).toBeVisible({ timeout: 10_000 });
  await expect(uploadRow(page, 'held-notes.txt')).toHaveAttribute('aria-valuetext', new RegExp(HELD));
  await expect(page.getByTestId('account-name')).toHaveText(user.name);
  await page.screenshot({ path: testInfo.outputPath('popup-closed.png'), fullPage: true });

  // Blocked: the browser opens no window at all.
  await page.evaluate(() => {
    window.open = () => null;
  });
  await banner.getByRole('button', { name: 'Try the sign-in window again' }).click();
  await expect(banner.getByText(POPUP_CLOSED, { exact: true })).toBeVisible({ timeout: 10_000 });
  await expect(uploadRow(page, 'held-notes.txt')).toHaveAttribute('aria-valuetext', new RegExp(HELD));

  // The fallback: MSAL is not left "in progress" by the closed pop-up.
  await restore();
  await banner.getByRole('button', { name: 'Sign in with a full page' }).click();
  await signInOnProviderPage(page, user);
  await expect(page.getByTestId('account-name')).toHaveText(user.name);
  await expect(page.getByRole('alert').filter({ hasText: EXPIRED })).toHaveCount(0);

  // The held file had not started: it was journaled when queued, so the full-page sign-in did not lose it.
  const offered = page.getByRole('region', { name: 'Interrupted uploads' }).getByRole('listitem').filter({ hasText: 'held-notes.txt' });
  await expect(offered).toContainText('held-notes.txt was queued and had not started uploading.');
  await offered.getByLabel('File to resume the upload of held-notes.txt').setInputFiles(held);
  await uploaded(page, 'held-notes.txt');
  await expect(page.getByRole('heading', { name: 'Interrupted uploads' })).toHaveCount(0);
  await serviceWorkerInControl(page);
  expect(sha256(await download(page, 'held-notes.txt'))).toBe(sha256(heldBytes));
});
