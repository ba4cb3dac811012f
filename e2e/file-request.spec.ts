/**
 * File requests ("send me files", issue 17 Deliver 5), on the real local
 * stack: the owner (keys seeded through the API) creates a request link in
 * the Received tab; an anonymous browser context opens it, sees who asks
 * (fingerprint digits and QR code), and sends two files, one with a stated
 * name; the owner finds both under Received, byte-identical, the name
 * marked unverified. A revoked request, an expired one, a damaged link and
 * a link whose fingerprint is not the owner's each refuse plainly. Every
 * request of the journey (URL, headers, body) is recorded: none holds the
 * link's fragment, a file key, a file name, the sender's name or content.
 */
import { expect, test, type BrowserContext, type Page, type Request } from '@playwright/test';
import { rsaIdentity } from '../src/crypto/index.ts';
import { parseManifest, unwrapFileKey } from '../src/crypto/manifest.ts';
import { parseRequestLink } from '../src/sharing/request-text.ts';
import { stackContainer } from './support/blob-storage.ts';
import { download, serviceWorkerInControl, useServiceWorkerDownloads } from './support/drive.ts';
import { restoreKeys } from './support/keys.ts';
import { E2E_BASE_URL } from './support/ports.ts';
import { seedKeys, seedUserId } from './support/seed-drive.ts';
import { signIn, uniqueUser } from './support/sign-in.ts';

const RECOVERY = 'lantern walnut harbour mist';
const LABEL = 'Audit papers for Q3';
const SENDER = 'Dana Whitfield';
const FILES = [
  { name: 'signed-lease-agreement.txt', mimeType: 'text/plain', text: 'Lease signed by both parties on the 3rd. '.repeat(30) },
  { name: 'bank-statement-october.csv', mimeType: 'text/csv', text: 'date,amount\n2026-10-01,1200.50\n'.repeat(50) },
];

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

async function createRequest(page: Page, label: string | null): Promise<string> {
  if (label !== null) await page.getByLabel('Label (optional, shown to senders)').fill(label);
  await page.getByLabel('Open for').selectOption({ label: '7 days' });
  await page.getByLabel('Up to').selectOption({ label: '100 MiB' });
  const field = page.getByTestId('request-link');
  // The field keeps the previous link until the new one is made: wait for a different one.
  const before = (await field.count()) === 0 ? '' : await field.inputValue();
  await page.getByRole('button', { name: 'Create request link' }).click();
  await expect(field).toHaveValue(/\/r\/[0-9a-f]{32}#v=1&f=[0-9]{40}/, { timeout: 30_000 });
  await expect(field).not.toHaveValue(before, { timeout: 30_000 });
  await expect(page.getByRole('img', { name: 'QR code of the request link' })).toBeVisible();
  return field.inputValue();
}

async function openReceived(page: Page): Promise<void> {
  // Leaving and coming back re-reads the requests and the files.
  await page.getByRole('button', { name: 'Activity', exact: true }).click();
  await page.getByRole('button', { name: 'Received', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Received', level: 1 })).toBeVisible();
}

test('an anonymous browser fills a file request; the owner opens both files, the name unverified; revoked, expired, damaged and foreign links refuse; no secret in any request', async ({
  page,
  browser,
}, testInfo) => {
  test.setTimeout(240_000);
  const traffic: Recorded[] = [];
  record(page.context(), traffic);
  await useServiceWorkerDownloads(page.context());

  // The owner: keys seeded through the API, then restored in the browser.
  const me = page.waitForRequest((r) => new URL(r.url()).pathname === '/api/v1/me');
  await signIn(page, uniqueUser('request-owner'));
  const token = (await me).headers()['x-sealdrop-token'] ?? '';
  await expect(page.getByRole('heading', { name: 'Set up your keys' })).toBeVisible();
  const api = { baseUrl: E2E_BASE_URL, token };
  const keys = await seedKeys(api, RECOVERY);
  await page.reload();
  await restoreKeys(page, RECOVERY);
  await expect(page.getByRole('button', { name: 'Received', exact: true })).toBeVisible({ timeout: 30_000 });
  await page.getByRole('button', { name: 'Received', exact: true }).click();

  // 1. A request with a label.
  const link = await createRequest(page, LABEL);
  const parsed = parseRequestLink(link);
  expect(parsed.label).toBe(LABEL);
  await expect(page.getByRole('list', { name: 'Your requests' }).getByRole('listitem')).toHaveCount(1);

  // 2. An anonymous browser sends two files: the first with a stated name, the second without.
  const anon = await browser.newContext();
  record(anon, traffic);
  const visitor = await anon.newPage();
  const pageScripts: string[] = [];
  visitor.on('request', (r) => {
    if (r.resourceType() === 'script') pageScripts.push(r.url());
  });
  await visitor.goto(link);
  await expect(visitor.getByRole('heading', { name: 'Someone asks you for files' })).toBeVisible({ timeout: 20_000 });
  await expect(visitor.getByText(`“${LABEL}”`)).toBeVisible();
  await expect(visitor.getByTestId('fingerprint-digits')).toHaveText(`${parsed.fingerprint} `);
  await expect(visitor.getByRole('img', { name: 'QR code of this fingerprint' })).toBeVisible();
  const [first, second] = FILES.map((f) => ({ name: f.name, mimeType: f.mimeType, buffer: Buffer.from(f.text) }));
  if (first === undefined || second === undefined) throw new Error('two files expected');
  await visitor.getByLabel('Your name (optional)').fill(SENDER);
  await visitor.getByLabel('Choose files').setInputFiles([first]);
  await visitor.screenshot({ path: testInfo.outputPath('request-page.png'), fullPage: true });
  await visitor.getByRole('button', { name: 'Send 1 file' }).click();
  await expect(visitor.getByText('All 1 file was sealed and sent.')).toBeVisible({ timeout: 60_000 });
  await visitor.getByLabel('Your name (optional)').fill('');
  await visitor.getByLabel('Choose files').setInputFiles([second]);
  await visitor.getByRole('button', { name: 'Send 1 file' }).click();
  await expect(visitor.getByText('All 2 files were sealed and sent.')).toBeVisible({ timeout: 60_000 });
  await visitor.screenshot({ path: testInfo.outputPath('request-page-sent.png'), fullPage: true });

  // 3. The owner finds both, opens them byte-identical, and sees the stated name marked unverified.
  await openReceived(page);
  const received = page.getByRole('list', { name: 'Files received' });
  await expect(received.getByRole('listitem')).toHaveCount(2, { timeout: 30_000 });
  const firstRow = received.getByRole('listitem').filter({ hasText: first.name });
  await expect(firstRow).toContainText(`From “${SENDER}” unverified`);
  await expect(received.getByRole('listitem').filter({ hasText: second.name })).toContainText('The sender gave no name unverified');
  await expect(page.getByRole('list', { name: 'Your requests' })).toContainText('2 files');
  await page.screenshot({ path: testInfo.outputPath('received-tab.png'), fullPage: true });
  await serviceWorkerInControl(page);
  await page.getByRole('button', { name: 'Received', exact: true }).click();
  expect(new Uint8Array(await download(page, first.name))).toEqual(new Uint8Array(first.buffer));
  expect(new Uint8Array(await download(page, second.name))).toEqual(new Uint8Array(second.buffer));
  await page.getByRole('button', { name: `Preview ${first.name}` }).click();
  await expect(page.getByRole('dialog', { name: first.name })).toContainText('Lease signed by both parties');
  await page.keyboard.press('Escape');

  // The file keys, recovered here from the stored manifests with the owner's key, to look for them in the traffic.
  const container = await stackContainer(page.request);
  const ownerId = await seedUserId(api);
  const fileKeys: Uint8Array[] = [];
  for await (const blob of container.listBlobsFlat({ prefix: `received/${ownerId}/` })) {
    if (!blob.name.endsWith('/manifest')) continue;
    const m = parseManifest(new Uint8Array(await container.getBlobClient(blob.name).downloadToBuffer()));
    fileKeys.push(await unwrapFileKey(m.stanzas, [rsaIdentity(keys.encrypt.privateKey)], m.headerBytes));
  }
  expect(fileKeys).toHaveLength(2);

  // 4. Deleting one received file.
  await page.getByRole('button', { name: `Delete ${second.name}` }).click();
  await page.getByRole('dialog', { name: 'Delete this file?' }).getByRole('button', { name: 'Delete' }).click();
  await expect(received.getByRole('listitem')).toHaveCount(1);

  // 5. Revoked by the owner: the sender is told plainly.
  const revoked = await createRequest(page, null);
  const requests = page.getByRole('list', { name: 'Your requests' });
  await expect(requests.getByRole('listitem')).toHaveCount(2);
  await requests.getByRole('listitem').first().getByRole('button', { name: /^Revoke request created/ }).click();
  await expect(requests.getByRole('listitem').first()).toContainText('revoked');
  await expect(page.getByText('Files already received stay here until you delete them')).toBeVisible();
  await visitor.goto(revoked);
  await expect(visitor.getByRole('heading', { name: 'The person who asked for files has closed this request.' })).toBeVisible({ timeout: 20_000 });

  // 6. Expired: the record's expiry moved into the past in storage (the stack's clock cannot be moved).
  const expired = await createRequest(page, null);
  const recordBlob = container.getBlockBlobClient(`requests/${parseRequestLink(expired).requestId}`);
  const json = JSON.parse((await recordBlob.downloadToBuffer()).toString('utf8')) as Record<string, unknown>;
  const past = JSON.stringify({ ...json, expiresAt: new Date(Date.now() - 60_000).toISOString() });
  await recordBlob.upload(past, Buffer.byteLength(past), { blobHTTPHeaders: { blobContentType: 'application/json' } });
  await visitor.goto(expired);
  await expect(visitor.getByRole('heading', { name: 'This file request has expired. Ask the person who sent it for a new one.' })).toBeVisible({ timeout: 20_000 });

  // 7. A damaged link (the fingerprint cut short).
  await visitor.goto(link.slice(0, link.indexOf('&f=') + 20));
  await expect(visitor.getByRole('heading', { name: 'This link cannot be used.' })).toBeVisible();
  await expect(visitor.getByRole('alert')).toHaveText('This link is incomplete: part of it was cut off when it was copied.');

  // 8. A link whose fingerprint is not the owner's: nothing is offered for sealing.
  const foreign = link.replace(/&f=[0-9]{40}/, `&f=${'1'.repeat(40)}`);
  await visitor.goto(foreign);
  await expect(visitor.getByRole('heading', { name: 'This request cannot be trusted.' })).toBeVisible({ timeout: 20_000 });
  await expect(visitor.getByLabel('Choose files')).toHaveCount(0);

  // Nothing secret in any request of the whole journey, by either browser.
  const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
  const secrets: Record<string, string[]> = {
    'a link fragment': [link, revoked, expired].map((l) => new URL(l).hash.slice(1)).flatMap((h) => [h, ...h.split('&').map((p) => p.slice(2))]),
    'the label': [LABEL, encodeURIComponent(LABEL)],
    'a file key': fileKeys.flatMap((k) => [hex(k), Buffer.from(k).toString('base64'), Buffer.from(k).toString('base64url')]),
    'a file name': FILES.flatMap((f) => [f.name, encodeURIComponent(f.name)]),
    'the sender name': [SENDER, encodeURIComponent(SENDER)],
    'the plaintext': FILES.map((f) => f.text.slice(0, 40)),
  };
  expect(traffic.some((r) => r.url.includes(`/api/v1/requests/${parsed.requestId}/uploads`))).toBe(true);
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
  await anon.close();
});
