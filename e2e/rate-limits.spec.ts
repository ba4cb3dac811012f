/**
 * Fair rate limits on the real local stack (issue 16): one user's flood
 * leaves other users behind the same address, and /health, untouched; a
 * 429 on a grant is waited out by the app (Retry-After) and the upload
 * finishes on its own.
 *
 * This spec starts its own stack with low limits (12 requests a minute per
 * user, 20 per address; a test-only option `npm start` never sets) so it
 * floods quickly without slowing the shared e2e stack. Nothing here asserts
 * a timing: the grant request is held until the user's bucket is drained.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, request as playwrightRequest, test, type APIRequestContext, type Browser, type Page } from '@playwright/test';
import { startLocalStack, type LocalStack } from '../server/local/local-stack.ts';
import { chooseFiles, newUserWithKeys, uploaded } from './support/drive.ts';
import { signIn, uniqueUser } from './support/sign-in.ts';
import { useWorkDir, writeFile } from './support/test-files.ts';

const PER_USER = 12;
const PER_IP = 20;
const PASSPHRASE = 'harbour violet crane lattice';

test.describe.configure({ mode: 'serial', timeout: 120_000 });
const workDirOf = useWorkDir('rate-limits-e2e');

let stack: LocalStack;
let dataDir: string;
let api: APIRequestContext;

test.beforeAll(async () => {
  test.setTimeout(90_000);
  dataDir = await mkdtemp(join(tmpdir(), 'sealdrop-rate-e2e-'));
  stack = await startLocalStack({ port: 0, azuritePort: 0, inMemory: true, dataDir, rateLimit: { perUserPerMinute: PER_USER, perIpPerMinute: PER_IP } });
  api = await playwrightRequest.newContext({ baseURL: stack.url });
});

test.afterAll(async () => {
  await api.dispose();
  await stack.stop();
  await rm(dataDir, { recursive: true, force: true });
});

/** Opens the limited stack in a new page, signs in (with keys when asked) and returns the page and its access token. */
async function signedIn(browser: Browser, label: string, withKeys: boolean): Promise<{ page: Page; token: string }> {
  const page = await (await browser.newContext()).newPage();
  const tokenSeen = page.waitForRequest((r) => new URL(r.url()).pathname.startsWith('/api/v1/') && r.headers().authorization !== undefined);
  await page.goto(stack.url);
  if (withKeys) await newUserWithKeys(page, label, PASSPHRASE);
  else await signIn(page, uniqueUser(label));
  const token = (await tokenSeen).headers().authorization?.replace(/^Bearer /, '') ?? '';
  expect(token).not.toBe('');
  return { page, token };
}

/** GET /me with `token` (none: unauthenticated). */
function me(token?: string) {
  return api.get('/api/v1/me', token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });
}

/** Sends GET /me with `token` until the server answers 429; returns that answer. */
async function drain(token: string) {
  for (let i = 0; i < 4 * PER_USER; i++) {
    const res = await me(token);
    if (res.status() === 429) return res;
  }
  throw new Error('the per-user limit never refused');
}

test('one user floods, and another user’s requests and /health still succeed', async ({ browser }) => {
  const flooder = await signedIn(browser, 'flooder', false);
  const neighbour = await signedIn(browser, 'neighbour', false);

  // Twice the address's whole allowance, all from 127.0.0.1, all signed in.
  const statuses: number[] = [];
  let refusal: Awaited<ReturnType<typeof me>> | undefined;
  for (let i = 0; i < 2 * PER_IP; i++) {
    const res = await me(flooder.token);
    statuses.push(res.status());
    if (res.status() === 429) refusal = res;
  }
  expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(PER_USER);
  expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(2 * PER_IP - PER_USER);
  expect(refusal?.headers()['retry-after']).toMatch(/^[1-9]\d*$/);
  expect(await refusal?.json()).toEqual({ error: 'rate_limited', message: 'Too many requests. Please wait a moment.' });

  // The same address, another user: not refused. And health answers, in full.
  expect((await me(neighbour.token)).status()).toBe(200);
  const health = await api.get('/api/v1/health');
  expect(health.status()).toBe(200);
  expect(await health.json()).toEqual({ status: 'ok', storage: 'ok', identity: 'ok' });
  // The neighbour's page still works too.
  await neighbour.page.reload();
  await expect(neighbour.page.getByTestId('account-name')).toBeVisible();
  // Unauthenticated requests from this address were not charged for the flood.
  expect((await me()).status()).toBe(401);
});

test('a 429 on a grant is retried after Retry-After and the upload finishes by itself', async ({ browser }) => {
  const { page, token } = await signedIn(browser, 'patient', true);
  // Every answer to this page's API calls, in order: the upload grant calls, and the others (listing, keys, polling),
  // which draw on the same per-user bucket.
  const answers: { upload: boolean; status: number; retryAfter: string | undefined }[] = [];
  page.on('response', (r) => {
    const path = new URL(r.url()).pathname;
    if (!path.startsWith('/api/v1/')) return;
    answers.push({ upload: path === '/api/v1/uploads' && r.request().method() === 'POST', status: r.status(), retryAfter: r.headers()['retry-after'] });
  });
  // Hold the first upload grant request until this user's bucket is empty, so it meets a 429 however slow the machine.
  let held = false;
  await page.route('**/api/v1/uploads', async (route) => {
    if (!held && route.request().method() === 'POST') {
      held = true;
      const refused = await drain(token);
      expect(refused.headers()['retry-after']).toMatch(/^[1-9]\d*$/);
    }
    await route.continue();
  });

  const path = writeFile(workDirOf(), 'limited.bin', randomBytes(64 * 1024));
  await chooseFiles(page, path);
  await uploaded(page, 'limited.bin');

  // The grant call was refused, then waited out until it succeeded; no clock is needed to tell the app waited.
  // The bucket refills one request per 5 s and Retry-After names when it has one again, so a retry sent no
  // sooner succeeds, unless another of this page's own calls took that request first. So every refusal
  // after the first needs one of the page's other calls answered after the first refusal; a client that
  // retried early, or ignored Retry-After, would pile up refusals beyond that.
  const uploads = answers.filter((a) => a.upload);
  expect(uploads.map((a) => a.status).join(',')).toMatch(/^(429,)+201$/);
  expect(uploads[0]?.retryAfter).toMatch(/^[1-9]\d*$/);
  const firstRefusal = answers.findIndex((a) => a.upload && a.status === 429);
  const othersServed = answers.slice(firstRefusal).filter((a) => !a.upload && a.status < 400).length;
  const laterRefusals = uploads.filter((a) => a.status === 429).length - 1;
  console.log(`grant answers ${uploads.map((a) => a.status).join(',')}; the page's other calls served after the first refusal: ${othersServed}`);
  expect(laterRefusals).toBeLessThanOrEqual(othersServed);
  await expect(page.getByRole('alert')).toHaveCount(0);
});

test('when only storage fails, the page says "Storage is not answering", not "You are offline"', async ({ browser }) => {
  const { page } = await signedIn(browser, 'stranded', true);
  // Storage refuses every connection from this page; our own origin (and /health) still answer.
  await page.route(`${new URL(stack.blobEndpoint).origin}/**`, (route) => route.abort('connectionrefused'));
  const path = writeFile(workDirOf(), 'stranded.bin', randomBytes(16 * 1024));
  await chooseFiles(page, path);
  const notice = page.getByRole('alert').filter({ hasText: 'Storage is not answering.' });
  await expect(notice).toBeVisible({ timeout: 30_000 });
  await expect(page.getByText('You are offline.')).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Check again' })).toBeVisible();
});
