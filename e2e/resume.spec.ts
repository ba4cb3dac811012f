/**
 * Issue #4's two promises about interrupted work, on the real local stack
 * in headless Chromium:
 *
 * - a reload in the middle of an upload (the "crash"): the page lists the
 *   interrupted upload; a different file with the same name is refused in
 *   plain words; the same file chosen again finishes it, sending only the
 *   blocks storage lacks, and the download is byte-identical;
 * - an expired session (the API answers 401, the identity provider refuses
 *   the refresh token and has no session): a banner asks to sign in again
 *   without leaving the page on its own; after the sign-in redirect, the
 *   upload it interrupted is offered for resume and finishes.
 *
 * Block uploads are slowed with a route delay so there is a "middle" to
 * interrupt; nothing here asserts a timing.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type BrowserContext, type Page, type Request, type Route } from '@playwright/test';
import { listStoredBlobs, stackContainer } from './support/blob-storage.ts';
import { setUpKeys } from './support/keys.ts';
import { signIn, uniqueUser, type TestUser } from './support/sign-in.ts';

const PASSPHRASE = 'lantern otter quarry mosaic';
const MiB = 1024 * 1024;
/** Put Block (not Put Block List) requests to storage. */
const PUT_BLOCK = /[?&]comp=block(&|$)/;

let workDir = '';
test.beforeAll(() => {
  workDir = mkdtempSync(join(tmpdir(), 'sealdrop-resume-e2e-'));
});
test.afterAll(() => {
  rmSync(workDir, { recursive: true, force: true });
});

function writeFile(dir: string, name: string, bytes: Uint8Array): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function isPutBlock(request: Request): boolean {
  return request.method() === 'PUT' && PUT_BLOCK.test(request.url());
}

/** Hides the save picker so downloads use the service-worker stream (headless Chromium cannot finish the picker). */
async function useServiceWorkerDownloads(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    Object.defineProperty(window, 'showSaveFilePicker', { value: undefined, configurable: true });
  });
}

async function serviceWorkerInControl(page: Page): Promise<void> {
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: 15_000 });
}

/** Delays every Put Block so an upload is still running when the test interrupts it. Returns the routes' remover. */
async function slowBlocks(page: Page, delayMs: number): Promise<() => Promise<void>> {
  const handler = async (route: Route): Promise<void> => {
    if (!isPutBlock(route.request())) return route.fallback();
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    // The page may have navigated away meanwhile (that is the point).
    await route.continue().catch(() => undefined);
  };
  await page.route(PUT_BLOCK, handler);
  return () => page.unroute(PUT_BLOCK, handler);
}

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

async function uploaded(page: Page, label: string, timeout = 90_000): Promise<void> {
  await expect(page.getByRole('progressbar', { name: `Upload of ${label}`, exact: true })).toHaveAttribute(
    'aria-valuetext',
    '100%, Sealed and uploaded',
    { timeout },
  );
}

async function download(page: Page, name: string): Promise<Buffer> {
  const [file] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: `Download ${name}`, exact: true }).click()]);
  expect(await file.failure()).toBeNull();
  return readFileSync(await file.path());
}

async function newUserWithKeys(page: Page, label: string): Promise<TestUser> {
  const user = uniqueUser(label);
  await signIn(page, user);
  await setUpKeys(page, PASSPHRASE);
  return user;
}

test('a reload mid-upload: the upload is offered for resume, a different file is refused, the same file finishes with only the missing blocks', async ({
  page,
  context,
  request,
}, testInfo) => {
  test.setTimeout(240_000);
  const name = 'field-recording.bin';
  const original = randomBytes(28 * MiB + 4321);
  const path = writeFile(join(workDir, 'crash'), name, original);
  const impostor = writeFile(join(workDir, 'impostor'), name, randomBytes(3 * MiB));

  await useServiceWorkerDownloads(context);
  await newUserWithKeys(page, 'resume');
  await serviceWorkerInControl(page);

  const stopSlowing = await slowBlocks(page, 1_500);
  const stored = firstBlockStored(page);
  await page.getByLabel('Choose files to upload').setInputFiles(path);
  await stored;
  await page.reload(); // the crash
  await stopSlowing();

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

test('an expired session asks before signing in again, and the interrupted upload is offered afterwards', async ({ page, context }, testInfo) => {
  test.setTimeout(240_000);
  const name = 'board-minutes.bin';
  const original = randomBytes(32 * MiB + 99);
  const path = writeFile(join(workDir, 'session'), name, original);
  const late = writeFile(join(workDir, 'session'), 'late-addition.txt', randomBytes(1000));

  await useServiceWorkerDownloads(context);
  const user = await newUserWithKeys(page, 'expiry');
  await serviceWorkerInControl(page);

  // Slow enough that the upload is still running when "Sign in" is clicked.
  const stopSlowing = await slowBlocks(page, 4_000);
  const stored = firstBlockStored(page);
  await page.getByLabel('Choose files to upload').setInputFiles(path);
  await stored;

  // The session ends: the API refuses the token, the provider refuses the
  // refresh token and no longer has a sign-in session (its cookies only;
  // MSAL's own cookie stays).
  const refuseApi = (route: Route): Promise<void> =>
    route.fulfill({ status: 401, contentType: 'application/json', body: JSON.stringify({ error: 'unauthenticated', message: 'Sign in again.' }) });
  const refuseRefresh = (route: Route): Promise<void> =>
    route.fulfill({ status: 400, contentType: 'application/json', body: JSON.stringify({ error: 'invalid_grant', error_description: 'grant request is invalid' }) });
  await page.route('**/api/v1/**', refuseApi);
  await page.route('**/oidc/token', refuseRefresh);
  await context.clearCookies({ name: /^_(session|interaction)/ });

  const urlBefore = page.url();
  await page.getByLabel('Choose files to upload').setInputFiles(late);
  const banner = page.getByRole('alert').filter({ hasText: 'Your session has expired. Sign in again to continue — your uploads are kept.' });
  await expect(banner).toBeVisible({ timeout: 30_000 });
  // Nothing navigated on its own: the upload that was running is still on the page.
  expect(page.url()).toBe(urlBefore);
  await expect(page.getByRole('progressbar', { name: `Upload of ${name}`, exact: true })).toBeVisible();
  // The file that never got a start is not in the journal: the row says it must be added again.
  await expect(page.getByRole('progressbar', { name: 'Upload of late-addition.txt', exact: true })).toHaveAttribute(
    'aria-valuetext',
    /Not started: add it again after you sign in/,
  );
  await page.screenshot({ path: testInfo.outputPath('session-expired.png'), fullPage: true });

  await page.unroute('**/api/v1/**', refuseApi);
  await page.unroute('**/oidc/token', refuseRefresh);
  await banner.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/oidc\/interaction\//);
  await stopSlowing();
  await page.getByLabel('Name').fill(user.name);
  await page.getByLabel('E-mail').fill(user.email);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('account-name')).toHaveText(user.name);

  const notice = page.getByText(new RegExp(`Upload of ${name} was interrupted`));
  await expect(notice).toBeVisible({ timeout: 30_000 });
  await expect(banner).toHaveCount(0);
  await page.getByLabel(`File to resume the upload of ${name}`).setInputFiles(path);
  await uploaded(page, name);
  await serviceWorkerInControl(page);
  expect(sha256(await download(page, name))).toBe(sha256(original));
});
