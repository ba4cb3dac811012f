/**
 * Link shares for people without an account (issue 17, Deliver 4), on the
 * real local stack: the owner (seeded through the API) creates a link with
 * a passphrase in the Share dialog; an anonymous browser context opens it,
 * is refused a wrong passphrase, and saves byte-identical bytes; links that
 * expired, were used up or revoked, and a damaged link, each fail with
 * their own message. Every request of the journey (URL, headers, body) is
 * recorded: none holds a link secret, a passphrase, the file key or the
 * file's name.
 */
import { readFileSync } from 'node:fs';
import { expect, test, type BrowserContext, type Page, type Request } from '@playwright/test';
import { fromHex } from '../src/crypto/bytes.ts';
import { linkPassphraseIdentity } from '../src/crypto/link-passphrase.ts';
import { parseManifest, unwrapFileKey } from '../src/crypto/manifest.ts';
import { parseShareLink } from '../src/sharing/link-text.ts';
import { stackContainer } from './support/blob-storage.ts';
import { useServiceWorkerDownloads } from './support/drive.ts';
import { restoreKeys } from './support/keys.ts';
import { E2E_BASE_URL } from './support/ports.ts';
import { seedFiles, seedKeys, seedUserId } from './support/seed-drive.ts';
import { signIn, uniqueUser } from './support/sign-in.ts';

const RECOVERY = 'orchard copper whistle meadow';
const LINK_PASSPHRASE = 'blue heron at dawn 42';
const WRONG_PASSPHRASE = 'grey heron at dusk 17';
const FILE_NAME = 'quarterly-merger-plan.txt';
const FILE_TEXT = 'Confidential: the merger closes on the 14th. '.repeat(40);
const FILE_BYTES = new TextEncoder().encode(FILE_TEXT);

interface Recorded {
  url: string;
  headers: string;
  body: string;
}

function record(context: BrowserContext, into: Recorded[]): void {
  context.on('request', (r: Request) => {
    into.push({ url: r.url(), headers: JSON.stringify(r.headers()), body: r.postData() ?? '' });
  });
}

async function createLink(page: Page, opts: { passphrase?: string; limit?: string }): Promise<string> {
  await page.getByRole('button', { name: `Share ${FILE_NAME}`, exact: true }).click();
  const dialog = page.getByRole('dialog', { name: `Share ${FILE_NAME} by link` });
  await expect(dialog).toBeVisible();
  if (opts.passphrase !== undefined) await dialog.getByLabel('Passphrase (optional)').fill(opts.passphrase);
  await dialog.getByLabel('Expires after').selectOption({ label: '1 day' });
  if (opts.limit !== undefined) await dialog.getByLabel('Download limit (optional)').fill(opts.limit);
  await dialog.getByRole('button', { name: 'Create link' }).click();
  const field = dialog.getByLabel('Link', { exact: true });
  await expect(field).toHaveValue(/\/s\/[0-9a-f]{32}#v=1&k=/, { timeout: 30_000 });
  const link = await field.inputValue();
  await expect(dialog.getByRole('img', { name: 'QR code of the link' })).toBeVisible();
  return link;
}

async function closeDialog(page: Page): Promise<void> {
  await page.keyboard.press('Escape');
  await expect(page.getByRole('dialog')).toHaveCount(0);
  // Focus returns to the button that opened the dialog.
  await expect(page.getByRole('button', { name: `Share ${FILE_NAME}`, exact: true })).toBeFocused();
}

test('an anonymous browser opens a passphrase link; expired, used-up, revoked and damaged links fail plainly; no secret in any request', async ({
  page,
  browser,
}, testInfo) => {
  test.setTimeout(240_000);
  const traffic: Recorded[] = [];
  record(page.context(), traffic);

  // The owner: keys and one file seeded through the API, then restored in the browser.
  const me = page.waitForRequest((r) => new URL(r.url()).pathname === '/api/v1/me');
  await signIn(page, uniqueUser('link-owner'));
  const token = (await me).headers()['x-sealdrop-token'] ?? '';
  await expect(page.getByRole('heading', { name: 'Set up your keys' })).toBeVisible();
  const api = { baseUrl: E2E_BASE_URL, token };
  const keys = await seedKeys(api, RECOVERY);
  const [fileId] = await seedFiles(api, keys, [{ name: FILE_NAME, bytes: FILE_BYTES }]);
  await page.reload();
  await restoreKeys(page, RECOVERY);
  await expect(page.getByRole('button', { name: `Share ${FILE_NAME}`, exact: true })).toBeVisible({ timeout: 30_000 });

  // 1. A link with a passphrase.
  const link = await createLink(page, { passphrase: LINK_PASSPHRASE });
  await page.getByRole('dialog').screenshot({ path: testInfo.outputPath('share-dialog.png') });
  await closeDialog(page);
  const parsed = parseShareLink(link);
  expect(parsed.passphrase).toBe(true);

  // The file key, recovered here from the stored manifest with the link's secret and passphrase, to look for it in the traffic.
  const container = await stackContainer(page.request);
  const ownerId = await seedUserId(api);
  const manifestBytes = new Uint8Array(await container.getBlobClient(`files/${ownerId}/${fileId}/manifest`).downloadToBuffer());
  const m = parseManifest(manifestBytes);
  const fileKey = await unwrapFileKey(m.stanzas, [linkPassphraseIdentity(parsed.secret, LINK_PASSPHRASE)], m.headerBytes);

  const anon = await browser.newContext();
  await useServiceWorkerDownloads(anon);
  record(anon, traffic);
  const visitor = await anon.newPage();
  // Scripts the public page itself loads (the service worker's precache is not the page's).
  const pageScripts: string[] = [];
  visitor.on('request', (r) => {
    if (r.resourceType() === 'script') pageScripts.push(r.url());
  });
  await visitor.goto(link);
  await expect(visitor.getByRole('heading', { name: 'This file is protected by a passphrase' })).toBeVisible();
  await visitor.getByLabel('Passphrase').fill(WRONG_PASSPHRASE);
  await visitor.getByRole('button', { name: 'Open' }).click();
  await expect(visitor.getByRole('alert')).toHaveText('That passphrase is not right. Check it and try again.', { timeout: 20_000 });
  await visitor.getByLabel('Passphrase').fill(LINK_PASSPHRASE);
  await visitor.getByRole('button', { name: 'Open' }).click();
  await expect(visitor.getByRole('heading', { name: FILE_NAME })).toBeVisible({ timeout: 20_000 });
  await expect(visitor.getByText('Sealed by')).toBeVisible();
  await visitor.screenshot({ path: testInfo.outputPath('share-page.png'), fullPage: true });
  const [download] = await Promise.all([visitor.waitForEvent('download'), visitor.getByRole('button', { name: 'Download' }).click()]);
  expect(download.suggestedFilename()).toBe(FILE_NAME);
  expect(await download.failure()).toBeNull();
  expect(new Uint8Array(readFileSync(await download.path()))).toEqual(FILE_BYTES);
  await expect(visitor.getByText('Saved. The file was checked and decrypted in this browser.')).toBeVisible();

  // 2. Used up: a link for one download, opened twice.
  const once = await createLink(page, { limit: '1' });
  await closeDialog(page);
  await visitor.goto(once);
  await expect(visitor.getByRole('heading', { name: FILE_NAME })).toBeVisible({ timeout: 20_000 });
  await visitor.goto('about:blank');
  await visitor.goto(once);
  await expect(visitor.getByRole('heading', { name: 'This link has been used as many times as its owner allowed. Ask for a new one.' })).toBeVisible();

  // 3. Revoked by the owner (the newest link in the list).
  const revoked = await createLink(page, {});
  const dialog = page.getByRole('dialog');
  await expect(dialog.getByRole('listitem')).toHaveCount(3);
  await dialog.getByRole('button', { name: /^Revoke link created/ }).last().click();
  await expect(dialog.getByRole('listitem').last()).toContainText('revoked');
  await expect(dialog.getByText('It cannot take back a copy someone already downloaded, or a file key their browser has already seen')).toBeVisible();
  await closeDialog(page);
  await visitor.goto(revoked);
  await expect(visitor.getByRole('heading', { name: 'The owner has withdrawn this link.' })).toBeVisible();

  // 4. Expired: the record's expiry moved into the past in storage (the stack's clock cannot be moved).
  const expired = await createLink(page, {});
  await closeDialog(page);
  const recordBlob = container.getBlockBlobClient(`shares/${parseShareLink(expired).shareId}`);
  const json = JSON.parse((await recordBlob.downloadToBuffer()).toString('utf8')) as Record<string, unknown>;
  const past = JSON.stringify({ ...json, expiresAt: new Date(Date.now() - 60_000).toISOString() });
  await recordBlob.upload(past, Buffer.byteLength(past), { blobHTTPHeaders: { blobContentType: 'application/json' } });
  await visitor.goto(expired);
  await expect(visitor.getByRole('heading', { name: 'This link has expired. Ask the person who sent it for a new one.' })).toBeVisible();

  // 5. A damaged link (the secret cut short).
  await visitor.goto(link.slice(0, link.indexOf('&k=') + 20));
  await expect(visitor.getByRole('heading', { name: 'This link cannot be used.' })).toBeVisible();
  await expect(visitor.getByRole('alert')).toHaveText('This link is incomplete: part of it was cut off when it was copied.');

  // Nothing secret in any request of the whole journey, by either browser.
  const secrets: Record<string, string[]> = {
    'a link secret': [link, once, revoked, expired].map((l) => new URL(l).hash.slice(1)).flatMap((h) => [h, new URLSearchParams(h).get('k') ?? '']),
    'a passphrase': [LINK_PASSPHRASE, WRONG_PASSPHRASE, encodeURIComponent(LINK_PASSPHRASE)],
    'the file key': [Buffer.from(fileKey).toString('hex'), Buffer.from(fileKey).toString('base64'), Buffer.from(fileKey).toString('base64url')],
    'the file name': [FILE_NAME, encodeURIComponent(FILE_NAME)],
    'the plaintext': [FILE_TEXT.slice(0, 40)],
  };
  expect(traffic.length).toBeGreaterThan(10);
  expect(traffic.some((r) => r.url.includes(`/api/v1/shares/${parsed.shareId}/read`))).toBe(true);
  const leaks = traffic.flatMap((r) =>
    Object.entries(secrets).flatMap(([what, values]) =>
      values.filter((v) => v.length >= 8 && (r.url.includes(v) || r.headers.includes(v) || r.body.includes(v))).map(() => `${what} in ${new URL(r.url).pathname}`),
    ),
  );
  expect(leaks).toEqual([]);
  // The public page never loads the sign-in code (MSAL).
  expect(pageScripts.length).toBeGreaterThan(0);
  for (const url of new Set(pageScripts)) {
    expect(await (await page.request.get(url)).text(), `${new URL(url).pathname} is MSAL`).not.toContain('PublicClientApplication');
  }
  expect(fromHex(Buffer.from(fileKey).toString('hex'))).toHaveLength(32);
  await anon.close();
});
