/**
 * A signed-in user whose keys (and files) were seeded through the API, the
 * keys then restored in the page with the recovery passphrase, as the
 * sharing specs need for each party.
 */
import { expect, type Page } from '@playwright/test';
import { exportPublicIdentity, fingerprint } from '../../src/crypto/index.ts';
import { E2E_BASE_URL } from './ports.ts';
import { seedFiles, seedKeys, seedUserId, type SeedKeys } from './seed-drive.ts';
import { signIn, uniqueUser, type TestUser } from './sign-in.ts';

/** What a seeded user is: who, their keys, the files seeded, their id and fingerprint. */
export interface SeededUser {
  user: TestUser;
  keys: SeedKeys;
  fileIds: string[];
  userId: string;
  fingerprint: string;
}

/** Signs a new user in on `page`, seeds keys under `recovery` and `files`, restores the keys there; resolves once "My files" is shown. */
export async function seededUser(page: Page, label: string, recovery: string, files: { name: string; bytes: Uint8Array }[] = []): Promise<SeededUser> {
  const user = uniqueUser(label);
  const me = page.waitForRequest((r) => new URL(r.url()).pathname === '/api/v1/me');
  await signIn(page, user);
  const token = (await me).headers()['x-sealdrop-token'] ?? '';
  await expect(page.getByRole('heading', { name: 'Set up your keys' })).toBeVisible();
  const api = { baseUrl: E2E_BASE_URL, token };
  const keys = await seedKeys(api, recovery);
  const fileIds = await seedFiles(api, keys, files);
  await page.reload();
  await expect(page.getByRole('heading', { name: 'Restore your keys' })).toBeVisible();
  await page.getByLabel('Recovery passphrase').fill(recovery);
  await page.getByRole('button', { name: 'Restore my keys' }).click();
  // Level 1: with files listed, the list's own "My files" heading (h2) is there too.
  await expect(page.getByRole('heading', { level: 1, name: 'My files' })).toBeAttached({ timeout: 30_000 });
  return { user, keys, fileIds, userId: await seedUserId(api), fingerprint: await fingerprint(await exportPublicIdentity(keys)) };
}
