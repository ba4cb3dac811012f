/**
 * Steps the "My files" journeys share: a signed-in user with keys, uploads
 * through the file input, downloads through the service-worker stream.
 */
import { readFileSync } from 'node:fs';
import { expect, type BrowserContext, type Page } from '@playwright/test';
import { z } from 'zod';
import { setUpKeys } from './keys.ts';
import { signIn, uniqueUser, type TestUser } from './sign-in.ts';

/**
 * Hides the save picker so downloads use the service-worker stream: headless
 * Chromium cannot finish `showSaveFilePicker` (PLATFORM-NOTES).
 */
export async function useServiceWorkerDownloads(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    Object.defineProperty(window, 'showSaveFilePicker', { value: undefined, configurable: true });
  });
}

/**
 * Hides File System Access's open picker so "Choose files" uses the plain
 * file input, whose chooser Playwright can answer (`filechooser`); it
 * raises no event for `showOpenFilePicker` (microsoft/playwright#8850).
 * The picker's own path is tested in file-handles.spec with a stand-in.
 */
export async function useInputFilePicker(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    Object.defineProperty(window, 'showOpenFilePicker', { value: undefined, configurable: true });
  });
}

/**
 * Waits until the service worker controls the page (it claims clients on
 * activation). The first install's `clients.claim()` can race a navigation
 * (sign-in, reload) and leave the page uncontrolled although the worker is
 * active: then the page is reloaded once, as a person would.
 */
export async function serviceWorkerInControl(page: Page): Promise<void> {
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
  });
  const controlled = await page
    .waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: 2_000 })
    .then(() => true, () => false);
  if (!controlled) await page.reload();
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: 15_000 });
}

/** Signs in as a new user, sets up keys with `passphrase`, and returns the user and the id the server derived (`GET /me`). */
export async function newUserWithKeys(page: Page, label: string, passphrase: string): Promise<{ user: TestUser; userId: string }> {
  const user = uniqueUser(label);
  const me = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/me' && r.status() === 200);
  await signIn(page, user);
  const body: unknown = await (await me).json();
  const userId = z.object({ userId: z.string().regex(/^[0-9a-f]{32}$/) }).parse(body).userId;
  await setUpKeys(page, passphrase);
  return { user, userId };
}

/** Uploads through the hidden file input behind "Choose files". */
export async function chooseFiles(page: Page, paths: string | string[]): Promise<void> {
  await page.getByLabel('Choose files to upload').setInputFiles(paths);
}

/** Waits until the upload row of `label` says it is sealed and uploaded. */
export async function uploaded(page: Page, label: string, timeout = 90_000): Promise<void> {
  await expect(page.getByRole('progressbar', { name: `Upload of ${label}`, exact: true })).toHaveAttribute(
    'aria-valuetext',
    '100%, Sealed and uploaded',
    { timeout },
  );
}

/** Clicks "Download <name>" and returns the finished download's bytes (fails the test if the download fails). */
export async function download(page: Page, name: string): Promise<Buffer> {
  const [file] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: `Download ${name}`, exact: true }).click()]);
  expect(file.suggestedFilename()).toBe(name);
  expect(await file.failure()).toBeNull();
  return readFileSync(await file.path());
}
