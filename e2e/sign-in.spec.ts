/**
 * The sign-in journey on the stack `npm start` runs: sign in through
 * the real provider page (MSAL 5 against the local oidc-provider, no
 * certificate), the app shows who is signed in, an API call with the access
 * token succeeds, the page is a secure context, the session survives a
 * reload, sign-out works, and no request leaves localhost.
 *
 * MSAL's use of http endpoints from `authorityMetadata` is observed
 * behaviour, not a promise (PLATFORM-NOTES): this test is what fails loudly
 * if an MSAL upgrade changes it.
 */
import { createHash } from 'node:crypto';
import { expect, test } from '@playwright/test';
import { E2E_BASE_URL } from './support/ports.ts';
import { signIn, uniqueUser } from './support/sign-in.ts';

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1']);

/** The user id the token endpoint must derive (docs/CONTRACTS.md §1), computed independently. */
function expectedUserId(email: string): string {
  const issuer = `${E2E_BASE_URL}oidc`;
  const sub = createHash('sha256').update(email.toLowerCase(), 'utf8').digest('hex');
  return createHash('sha256').update(`oidc|${issuer}|${sub}`, 'utf8').digest().subarray(0, 16).toString('hex');
}

test('sign in through the real provider page, call the API, stay on localhost, sign out', async ({ page, context }) => {
  const urls: string[] = [];
  // Context-level: covers every page, popup and service worker of the test.
  context.on('request', (request) => urls.push(request.url()));
  // A CSP violation or a script error anywhere in the journey fails it.
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && /Content.Security.Policy|Refused to/i.test(msg.text())) problems.push(msg.text());
  });
  const user = uniqueUser('signin');

  await page.goto('/');
  expect(await page.evaluate(() => window.isSecureContext)).toBe(true);
  await expect(page.getByRole('banner').getByRole('button', { name: 'Sign in' })).toBeVisible();

  const meResponse = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/me');
  await signIn(page, user);
  await expect(page.getByTestId('account-email')).toHaveText(user.email);

  // The app called the token endpoint with the access token, and the server
  // recognised the user the provider signed in.
  const me = await meResponse;
  expect(me.status()).toBe(200);
  expect(me.request().headers()['authorization']).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
  expect(await me.json()).toEqual({ userId: expectedUserId(user.email), email: user.email, name: user.name });
  expect(await page.evaluate(() => window.isSecureContext)).toBe(true);
  // The sign-in came back through the bridge: no code or state left in the app's URL.
  expect(new URL(page.url()).search + new URL(page.url()).hash).toBe('');

  // A reload keeps the session (MSAL's cache) and the API still answers.
  const meAgain = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/me');
  await page.reload();
  await expect(page.getByTestId('account-name')).toHaveText(user.name);
  expect((await meAgain).status()).toBe(200);

  // Sign out: Sealdrop asks once; the provider's page then confirms by itself.
  await page.getByRole('banner').getByRole('button', { name: 'Sign out' }).click();
  const question = page.getByRole('dialog', { name: 'Sign out of Sealdrop?' });
  await question.getByRole('button', { name: 'Sign out', exact: true }).click();
  await expect(page.getByRole('banner').getByRole('button', { name: 'Sign in' })).toBeVisible();
  await expect(page.getByTestId('account-name')).toHaveCount(0);
  await page.reload();
  await expect(page.getByRole('banner').getByRole('button', { name: 'Sign in' })).toBeVisible();

  expect(problems).toEqual([]);

  // Every request stayed on this machine.
  expect(urls.length).toBeGreaterThan(0);
  const offHost = urls.filter((url) => {
    const { protocol, hostname } = new URL(url);
    if (protocol === 'data:' || protocol === 'blob:') return false;
    return !(protocol === 'http:' && LOOPBACK_HOSTS.has(hostname));
  });
  expect(offHost).toEqual([]);
});

test('the provider page rejects an invalid e-mail and can be cancelled', async ({ page }) => {
  await page.goto('/');
  await page.getByRole('banner').getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/oidc\/interaction\//);
  await expect(page.getByRole('note')).toContainText('Local stand-in for Microsoft Entra ID');
  await page.getByLabel('Name').fill('Ada');
  // A value the browser's own type=email check accepts but ours does not.
  await page.getByLabel('E-mail').fill('ada@localhost');
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page.getByRole('alert')).toContainText('e-mail');
  await expect(page.getByLabel('Name')).toHaveValue('Ada');

  await page.getByRole('button', { name: 'Cancel and go back' }).click();
  await expect(page.getByRole('banner').getByRole('button', { name: 'Sign in' })).toBeVisible();
  await expect(page.getByRole('main').getByRole('alert')).toHaveText('Sign-in was cancelled.');
});

test('security headers on the app, the bridge page, the API and the provider', async ({ request }) => {
  const app = await request.get('/');
  const appCsp = app.headers()['content-security-policy'] ?? '';
  expect(appCsp).toContain("script-src 'self' 'wasm-unsafe-eval'");
  expect(appCsp).not.toContain('unsafe-inline');
  expect(appCsp).toContain("frame-ancestors 'none'");
  expect(app.headers()['referrer-policy']).toBe('no-referrer');
  expect(app.headers()['x-content-type-options']).toBe('nosniff');
  expect(app.headers()['cross-origin-opener-policy']).toBe('same-origin-allow-popups');
  expect(app.headers()['strict-transport-security']).toBeUndefined();

  const bridge = await request.get('/redirect.html');
  expect(bridge.headers()['cross-origin-opener-policy']).toBeUndefined();
  expect(bridge.headers()['content-security-policy']).toContain("script-src 'self'");

  const api = await request.get('/api/v1/health');
  expect(await api.json()).toEqual({ status: 'ok', storage: 'ok', identity: 'ok' });
  expect(api.headers()['content-security-policy']).toContain("default-src 'none'");
  expect(api.headers()['referrer-policy']).toBe('no-referrer');

  const discovery = await request.get('/oidc/.well-known/openid-configuration');
  expect((await discovery.json()).issuer).toBe(`${E2E_BASE_URL}oidc`);
  const providerCsp = discovery.headers()['content-security-policy'] ?? '';
  expect(providerCsp).toContain("form-action 'self'");
  expect(providerCsp).not.toContain('unsafe-inline');
  expect(discovery.headers()['x-content-type-options']).toBe('nosniff');
});
