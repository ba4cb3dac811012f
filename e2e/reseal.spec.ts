/**
 * Re-seal with a new key (issue 17, Deliver 6), on the real local stack with
 * three browser contexts: A (seeded through the API) shares a file by link
 * and with B, then re-seals it from the Share dialog. The link is refused
 * as withdrawn, B is told the file is no longer shared, A's list shows the
 * file once under its name and it downloads byte-identical; the stored
 * manifest's key is new and no longer opens for B. Every request is
 * recorded: none holds the old or the new file key, the link secret, a
 * recovery passphrase, the file's name or its text.
 */
import { expect, test, type BrowserContext, type Page, type Request } from '@playwright/test';
import { rsaIdentity } from '../src/crypto/index.ts';
import { parseManifest, unwrapFileKey } from '../src/crypto/manifest.ts';
import { stackContainer } from './support/blob-storage.ts';
import { download, useServiceWorkerDownloads } from './support/drive.ts';
import { seededUser } from './support/seed-user.ts';

const RECOVERY_A = 'saffron glacier beacon willow';
const RECOVERY_B = 'meadow tinsel quarry falcon';
const FILE_NAME = 'whistleblower-report-draft.txt';
const FILE_TEXT = 'Draft: the audit found the ledger altered on three dates. '.repeat(40);
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

async function linkDialog(page: Page) {
  await page.getByRole('button', { name: `Share ${FILE_NAME}`, exact: true }).click();
  const dialog = page.getByRole('dialog', { name: `Share ${FILE_NAME} by link` });
  await expect(dialog).toBeVisible();
  return dialog;
}

/** The ids of A's stored manifests (one per complete file). */
async function manifestNames(page: Page, userId: string): Promise<string[]> {
  const container = await stackContainer(page.request);
  const names: string[] = [];
  for await (const b of container.listBlobsFlat({ prefix: `files/${userId}/` })) if (b.name.endsWith('/manifest')) names.push(b.name);
  return names;
}

test('A shares by link and with B, re-seals: the link and B are refused plainly, the file opens byte-identical under a new key; no key in any request', async ({
  page,
  browser,
}, testInfo) => {
  test.setTimeout(300_000);
  const traffic: Recorded[] = [];
  record(page.context(), traffic);
  await useServiceWorkerDownloads(page.context());

  const a = await seededUser(page, 'resealer', RECOVERY_A, [{ name: FILE_NAME, bytes: FILE_BYTES }]);
  const oldId = a.fileIds[0] ?? '';
  await expect(page.getByRole('button', { name: `Share ${FILE_NAME}`, exact: true })).toBeVisible({ timeout: 30_000 });

  const bContext = await browser.newContext();
  record(bContext, traffic);
  const bPage = await bContext.newPage();
  const b = await seededUser(bPage, 'reseal-recipient', RECOVERY_B);

  // A shares by link...
  let dialog = await linkDialog(page);
  await dialog.getByRole('button', { name: 'Create link' }).click();
  const linkField = dialog.getByLabel('Link', { exact: true });
  await expect(linkField).toHaveValue(/\/s\/[0-9a-f]{32}#v=1&k=/, { timeout: 30_000 });
  const link = await linkField.inputValue();
  await page.keyboard.press('Escape');
  await expect(page.getByRole('dialog')).toHaveCount(0);

  // ... and with B.
  await page.getByRole('button', { name: `Send ${FILE_NAME} to a person`, exact: true }).click();
  const person = page.getByRole('dialog', { name: `Share ${FILE_NAME} with a person` });
  await person.getByLabel('Their e-mail address').fill(b.user.email);
  await person.getByRole('button', { name: 'Find' }).click();
  await person.getByRole('button', { name: `Share with ${b.user.email}` }).click({ timeout: 20_000 });
  const received = person.getByLabel('Link to send them');
  await expect(received).toHaveValue(/\/\?received=[0-9a-f]{32}$/, { timeout: 30_000 });
  const receivedLink = await received.inputValue();
  await page.keyboard.press('Escape');

  // Both work before: B opens the file, an anonymous visitor opens the link.
  await bPage.goto(receivedLink);
  await expect(bPage.getByRole('status').filter({ hasText: 'The link you opened' })).toContainText(FILE_NAME, { timeout: 30_000 });
  const anon = await browser.newContext();
  record(anon, traffic);
  const visitor = await anon.newPage();
  await visitor.goto(link);
  await expect(visitor.getByRole('heading', { name: FILE_NAME })).toBeVisible({ timeout: 20_000 });

  // The old file key, from the stored manifest with A's key, to look for it in the traffic.
  const container = await stackContainer(page.request);
  const oldManifest = parseManifest(new Uint8Array(await container.getBlobClient(`files/${a.userId}/${oldId}/manifest`).downloadToBuffer()));
  const oldKey = await unwrapFileKey(oldManifest.stanzas, [rsaIdentity(a.keys.encrypt.privateKey)], oldManifest.headerBytes);

  // A re-seals from the Share dialog: explanation, confirmation, progress, outcome.
  dialog = await linkDialog(page);
  const section = dialog.getByRole('region', { name: 'Re-seal with a new key' });
  await expect(section).toContainText('whoever opened it could have kept its key');
  await expect(section).toContainText('It cannot take back a copy someone already downloaded.');
  await section.getByRole('button', { name: 'Re-seal with a new key…' }).click();
  await expect(section.getByRole('button', { name: 'Cancel' })).toBeFocused();
  await section.scrollIntoViewIfNeeded();
  await dialog.screenshot({ path: testInfo.outputPath('reseal-confirm.png') });
  await section.getByRole('button', { name: 'Re-seal now' }).click();
  await expect(section.getByRole('status').filter({ hasText: 'Re-sealed under a new key.' })).toContainText('2 links and people lost access', { timeout: 60_000 });
  await dialog.screenshot({ path: testInfo.outputPath('reseal-done.png') });
  await expect(dialog.getByText('No links yet.')).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(page.getByRole('dialog')).toHaveCount(0);

  // A's list: the file once, under its name; it downloads byte-identical.
  await expect(page.getByRole('button', { name: `Download ${FILE_NAME}`, exact: true })).toHaveCount(1, { timeout: 30_000 });
  expect(new Uint8Array(await download(page, FILE_NAME))).toEqual(FILE_BYTES);
  const manifests = await manifestNames(page, a.userId);
  expect(manifests).toHaveLength(1);
  const newId = manifests[0]?.split('/')[2] ?? '';
  expect(newId).not.toBe(oldId);
  const newManifest = parseManifest(new Uint8Array(await container.getBlobClient(`files/${a.userId}/${newId}/manifest`).downloadToBuffer()));
  const newKey = await unwrapFileKey(newManifest.stanzas, [rsaIdentity(a.keys.encrypt.privateKey)], newManifest.headerBytes);
  expect(Buffer.from(newKey).equals(Buffer.from(oldKey))).toBe(false);
  await expect(unwrapFileKey(newManifest.stanzas, [rsaIdentity(b.keys.encrypt.privateKey)], newManifest.headerBytes)).rejects.toThrow('None of your keys can open this file.');

  // The link and B are refused, in plain words.
  await visitor.goto('about:blank');
  await visitor.goto(link);
  await expect(visitor.getByRole('heading', { name: 'The owner has withdrawn this link.' })).toBeVisible({ timeout: 20_000 });
  await bPage.goto(receivedLink);
  await expect(bPage.getByRole('alert').filter({ hasText: 'The file this link names is no longer shared with you' })).toBeVisible({ timeout: 30_000 });

  // Nothing secret in any request, by any of the three browsers.
  const fragment = new URL(link).hash.slice(1);
  const keyForms = (k: Uint8Array): string[] => [Buffer.from(k).toString('hex'), Buffer.from(k).toString('base64'), Buffer.from(k).toString('base64url')];
  const secrets: Record<string, string[]> = {
    'the old file key': keyForms(oldKey),
    'the new file key': keyForms(newKey),
    'the link secret': [fragment, new URLSearchParams(fragment).get('k') ?? ''],
    'a recovery passphrase': [RECOVERY_A, RECOVERY_B, encodeURIComponent(RECOVERY_A), encodeURIComponent(RECOVERY_B)],
    'the file name': [FILE_NAME, encodeURIComponent(FILE_NAME)],
    'the plaintext': [FILE_TEXT.slice(0, 40)],
  };
  expect(traffic.some((r) => new URL(r.url).pathname === '/api/v1/uploads' && r.body.includes(`"replaces":"${oldId}"`))).toBe(true);
  const leaks = traffic.flatMap((r) =>
    Object.entries(secrets).flatMap(([what, values]) =>
      values.filter((v) => v.length >= 8 && (r.url.includes(v) || r.headers.includes(v) || r.body.includes(v))).map(() => `${what} in ${new URL(r.url).pathname}`),
    ),
  );
  expect(leaks).toEqual([]);
  await Promise.all([anon.close(), bContext.close()]);
});
