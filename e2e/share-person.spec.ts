/**
 * Sharing with a person (issue 17, Deliver 2, 3, 6 and 9), on the real local
 * stack with two browser contexts: A (keys and a file seeded through the
 * API) finds B by e-mail, sees B's fingerprint, shares and gets a link;
 * B opens the link, sees who sealed the file (not verified, then verified
 * after typing A's digits on the Keys page) and saves byte-identical bytes;
 * A revokes and B is told plainly; B's published key replaced in storage
 * without a signed rotation makes A's dialog show "changed, not explained"
 * and refuse to share. Every request of both browsers is recorded: none
 * holds the file key, a recovery passphrase, the file's name or its text.
 */
import { expect, test, type BrowserContext, type Page, type Request } from '@playwright/test';
import { exportPublicIdentity, fingerprint, generateIdentityKeys, rsaIdentity } from '../src/crypto/index.ts';
import { parseManifest, unwrapFileKey } from '../src/crypto/manifest.ts';
import { stackContainer } from './support/blob-storage.ts';
import { download, useServiceWorkerDownloads } from './support/drive.ts';
import { seededUser } from './support/seed-user.ts';

const RECOVERY_A = 'granite lantern orchard pepper';
const RECOVERY_B = 'velvet harbor compass tulip';
const FILE_NAME = 'board-minutes-confidential.txt';
const FILE_TEXT = 'Minutes: the board approved the acquisition of Northwind. '.repeat(30);
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

async function openSendDialog(page: Page) {
  await page.getByRole('button', { name: `Send ${FILE_NAME} to a person`, exact: true }).click();
  const dialog = page.getByRole('dialog', { name: `Share ${FILE_NAME} with a person` });
  await expect(dialog).toBeVisible();
  return dialog;
}

test('A shares with B, B opens it and sees who sealed it; A revokes; a key replaced without a signed rotation warns A; no secret in any request', async ({
  page,
  browser,
}, testInfo) => {
  test.setTimeout(300_000);
  const traffic: Recorded[] = [];
  record(page.context(), traffic);
  await useServiceWorkerDownloads(page.context());

  const a = await seededUser(page, 'sharer', RECOVERY_A, [{ name: FILE_NAME, bytes: FILE_BYTES }]);
  const fileId = a.fileIds[0] ?? '';
  await expect(page.getByRole('button', { name: `Send ${FILE_NAME} to a person`, exact: true })).toBeVisible({ timeout: 30_000 });

  const bContext = await browser.newContext();
  await useServiceWorkerDownloads(bContext);
  record(bContext, traffic);
  const bPage = await bContext.newPage();
  const b = await seededUser(bPage, 'recipient', RECOVERY_B);

  // A finds B, sees B's fingerprint (digits and QR), and shares.
  let dialog = await openSendDialog(page);
  await dialog.getByLabel('Their e-mail address').fill(b.user.email.toUpperCase());
  await dialog.getByRole('button', { name: 'Find' }).click();
  await expect(dialog.getByTestId('fingerprint-digits')).toHaveText(b.fingerprint, { timeout: 20_000 });
  await expect(dialog.getByRole('img', { name: 'QR code of this fingerprint' })).toBeVisible();
  await expect(dialog.getByText('key not verified yet')).toBeVisible();
  await dialog.getByRole('button', { name: `Share with ${b.user.email}` }).click();
  const linkField = dialog.getByLabel('Link to send them');
  await expect(linkField).toHaveValue(/\/\?received=[0-9a-f]{32}$/, { timeout: 30_000 });
  const link = await linkField.inputValue();
  await expect(dialog.getByRole('listitem')).toHaveCount(1);
  await expect(dialog.getByText('It cannot take back a copy they already downloaded')).toBeVisible();
  await dialog.screenshot({ path: testInfo.outputPath('person-share-dialog.png') });
  await page.keyboard.press('Escape');
  await expect(page.getByRole('dialog')).toHaveCount(0);

  // B opens the link: "Shared with me", A as sender, not verified yet; the bytes are A's.
  await bPage.goto(link);
  await expect(bPage.getByRole('heading', { level: 1, name: 'Shared with me' })).toBeVisible();
  await expect(bPage.getByRole('status').filter({ hasText: 'The link you opened' })).toContainText(FILE_NAME, { timeout: 30_000 });
  const row = bPage.getByRole('row', { name: new RegExp(FILE_NAME) });
  await expect(row).toContainText(a.user.email);
  await expect(row).toContainText('not verified');
  expect(new Uint8Array(await download(bPage, FILE_NAME))).toEqual(FILE_BYTES);
  await bPage.screenshot({ path: testInfo.outputPath('shared-with-me.png'), fullPage: true });

  // B compares A's digits (typed on the Keys page): A is verified from then on.
  await bPage.getByRole('button', { name: 'Keys & account' }).click();
  await bPage.getByRole('button', { name: `Mark verified: ${a.user.email}` }).click();
  await bPage.getByLabel(`Digits ${a.user.email}’s Sealdrop shows`).fill('12345 67890');
  await bPage.getByRole('button', { name: 'Check and mark verified' }).click();
  await expect(bPage.getByRole('alert')).toContainText('These digits do not match');
  await bPage.getByLabel(`Digits ${a.user.email}’s Sealdrop shows`).fill(a.fingerprint);
  await bPage.getByRole('button', { name: 'Check and mark verified' }).click();
  await expect(bPage.getByRole('status').filter({ hasText: 'is marked verified' })).toBeVisible();
  await bPage.getByRole('button', { name: 'Shared with me' }).click();
  await expect(bPage.getByRole('row', { name: new RegExp(FILE_NAME) })).toContainText(/\bverified\b/);
  await expect(bPage.getByRole('row', { name: new RegExp(FILE_NAME) })).not.toContainText('not verified');

  // The file key, recovered here with A's own key from the stored manifest, to look for it in the traffic.
  const container = await stackContainer(page.request);
  const manifestBytes = new Uint8Array(await container.getBlobClient(`files/${a.userId}/${fileId}/manifest`).downloadToBuffer());
  const m = parseManifest(manifestBytes);
  const fileKey = await unwrapFileKey(m.stanzas, [rsaIdentity(a.keys.encrypt.privateKey)], m.headerBytes);
  // B's envelope is in the manifest: B's own key opens it too.
  expect(await unwrapFileKey(m.stanzas, [rsaIdentity(b.keys.encrypt.privateKey)], m.headerBytes)).toEqual(fileKey);

  // A revokes; B's next download and the link fail plainly.
  dialog = await openSendDialog(page);
  await dialog.getByRole('button', { name: `Revoke access of ${b.user.email}` }).click();
  await expect(dialog.getByText('Nobody yet.')).toBeVisible({ timeout: 30_000 });
  await page.keyboard.press('Escape');
  await bPage.getByRole('button', { name: `Download ${FILE_NAME}`, exact: true }).click();
  await expect(bPage.getByRole('alert').filter({ hasText: 'no longer shared with you' })).toBeVisible({ timeout: 30_000 });
  await bPage.goto(link);
  await expect(bPage.getByRole('alert').filter({ hasText: 'The file this link names is no longer shared with you' })).toBeVisible({ timeout: 30_000 });
  // The manifest no longer holds B's envelope.
  const after = parseManifest(new Uint8Array(await container.getBlobClient(`files/${a.userId}/${fileId}/manifest`).downloadToBuffer()));
  await expect(unwrapFileKey(after.stanzas, [rsaIdentity(b.keys.encrypt.privateKey)], after.headerBytes)).rejects.toThrow('None of your keys can open this file.');

  // B's published key replaced in storage, with no rotation signed by B's old key: A is warned and cannot share.
  const replaced = await exportPublicIdentity(await generateIdentityKeys());
  await container.getBlockBlobClient(`keys/${b.userId}/public`).upload(replaced, replaced.length, { blobHTTPHeaders: { blobContentType: 'application/octet-stream' } });
  dialog = await openSendDialog(page);
  await dialog.getByLabel('Their e-mail address').fill(b.user.email);
  await dialog.getByRole('button', { name: 'Find' }).click();
  const warning = dialog.getByTestId('contact-key-warning');
  await expect(warning).toContainText('changed, not explained', { timeout: 20_000 });
  await expect(warning).toContainText(b.fingerprint);
  await expect(warning).toContainText(await fingerprint(replaced));
  await expect(dialog.getByRole('button', { name: `Share with ${b.user.email}` })).toHaveCount(0);
  await dialog.screenshot({ path: testInfo.outputPath('contact-warning.png') });
  await page.keyboard.press('Escape');

  // Nothing secret in any request of the journey, by either browser.
  const secrets: Record<string, string[]> = {
    'the file key': [Buffer.from(fileKey).toString('hex'), Buffer.from(fileKey).toString('base64'), Buffer.from(fileKey).toString('base64url')],
    'a recovery passphrase': [RECOVERY_A, RECOVERY_B, encodeURIComponent(RECOVERY_A), encodeURIComponent(RECOVERY_B)],
    'the file name': [FILE_NAME, encodeURIComponent(FILE_NAME)],
    'the plaintext': [FILE_TEXT.slice(0, 40)],
  };
  expect(traffic.some((r) => /\/api\/v1\/people-shares\/[0-9a-f]{32}\/read$/.test(new URL(r.url).pathname))).toBe(true);
  expect(traffic.some((r) => new URL(r.url).pathname === `/api/v1/files/${fileId}/people`)).toBe(true);
  const leaks = traffic.flatMap((r) =>
    Object.entries(secrets).flatMap(([what, values]) =>
      values.filter((v) => v.length >= 8 && (r.url.includes(v) || r.headers.includes(v) || r.body.includes(v))).map(() => `${what} in ${new URL(r.url).pathname}`),
    ),
  );
  expect(leaks).toEqual([]);
  await bContext.close();
});
