/**
 * Signs in through the real local identity provider page, as a person would:
 * the app's "Sign in" button, the provider's Name and E-mail fields, back to
 * the app; or the same fields in the sign-in pop-up. Other specs reuse it.
 */
import { expect, type Page } from '@playwright/test';

/** Who signs in. Any name and e-mail work on the local provider. */
export interface TestUser {
  name: string;
  email: string;
}

/**
 * Opens the app (unless it is already open), signs in as `user` and waits
 * until the app shows who is signed in. Throws (fails the test) if any step
 * does not appear within the expect timeout.
 */
export async function signIn(page: Page, user: TestUser): Promise<void> {
  if (!page.url().startsWith('http://localhost')) await page.goto('/');
  await page.getByRole('banner').getByRole('button', { name: 'Sign in' }).click();
  await signInOnProviderPage(page, user);
  await expect(page.getByTestId('account-name')).toHaveText(user.name);
}

/**
 * Fills in and submits the local provider's sign-in page shown in `page`:
 * the app's own tab after a redirect, or the sign-in pop-up. Waits for the
 * page to get there; resolves once the form is submitted. Throws (fails the
 * test) if the page does not appear within the expect timeout.
 */
export async function signInOnProviderPage(page: Page, user: TestUser): Promise<void> {
  await page.waitForURL(/\/oidc\/interaction\//);
  await expect(page.getByRole('heading', { name: 'Sign in', exact: true })).toBeVisible();
  await page.getByLabel('Name').fill(user.name);
  await page.getByLabel('E-mail').fill(user.email);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** A user with a unique e-mail, so specs never share an account by accident. */
export function uniqueUser(label = 'user'): TestUser {
  const id = crypto.randomUUID().slice(0, 8);
  return { name: `Test ${label} ${id}`, email: `${label}-${id}@example.test` };
}
