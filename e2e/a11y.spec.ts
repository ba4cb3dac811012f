/**
 * Every screen and dialog, checked by axe-core (no violation of any impact)
 * at 1280 px and 360 px, in light and dark: signed out, key setup (with a
 * refused weak passphrase said in words), the recovery kit, "My files"
 * empty and with files (two of the same name told apart), the same-name
 * question, "Keys & account" (with a refusal shown), the key rotation dialog, "Activity", "Received"
 * (with a new request link), the public file-request page, preview, delete and
 * sign-out dialogs, and key restore after
 * "forget my keys on this device". A second test: sharing with a person
 * (the Send dialog, "Shared with me", Contacts, the key-change warning).
 * SEALDROP_SHOTS=<folder> also saves a screenshot of each.
 */
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { expectNoAxeViolations } from './support/axe.ts';
import { chooseFiles, uploaded } from './support/drive.ts';
import { signIn, uniqueUser } from './support/sign-in.ts';
import { seededUser } from './support/seed-user.ts';
import { stackContainer } from './support/blob-storage.ts';
import { exportPublicIdentity, generateIdentityKeys } from '../src/crypto/index.ts';
import { useWorkDir, writeFile } from './support/test-files.ts';

const PASSPHRASE = 'walrus cactus ledger umbrella';
const shots = process.env.SEALDROP_SHOTS === undefined ? undefined : join(process.env.SEALDROP_SHOTS, 'a11y');
const workDirOf = useWorkDir('a11y-e2e');

test('every screen and dialog passes axe in light and dark, wide and phone-sized', async ({ page }) => {
  // Each screen is scanned four times (two widths, two schemes); on two loaded cores that takes minutes (Received and the request page add two screens).
  test.setTimeout(600_000);
  // Lighthouse counts a CSP violation against best practices: none may happen, not even a refused probe.
  const violations: string[] = [];
  await page.exposeFunction('reportCspViolation', (text: string) => violations.push(text));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      void (window as unknown as { reportCspViolation: (t: string) => Promise<void> }).reportCspViolation(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
    });
  });
  await page.goto('/');
  await expect(page.getByRole('heading', { level: 1, name: 'Sign in to Sealdrop' })).toBeVisible();
  await expectNoAxeViolations(page, 'sign-in', shots);

  const user = uniqueUser('a11y');
  await signIn(page, user);
  await expect(page.getByRole('heading', { level: 1, name: 'Set up your keys' })).toBeVisible();
  // The developer-only identity card is gone from the user's screens.
  await expect(page.getByText('The server knows you as')).toHaveCount(0);
  await page.getByLabel('Recovery passphrase').fill('password');
  await page.getByLabel('Type the passphrase again').fill('password');
  await page.getByLabel('Type the passphrase again').press('Enter');
  await expect(page.getByRole('alert')).toContainText('This passphrase is too easy to guess');
  await expectNoAxeViolations(page, 'setup-refused', shots);

  await page.getByLabel('Recovery passphrase').fill(PASSPHRASE);
  await page.getByLabel('Type the passphrase again').fill(PASSPHRASE);
  await page.getByRole('button', { name: 'Create my keys' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Your keys are ready. Save your recovery kit.' })).toBeVisible({ timeout: 30_000 });
  await expectNoAxeViolations(page, 'kit', shots);
  await page.getByRole('button', { name: 'I saved my recovery kit' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'My files' })).toBeFocused();
  await expectNoAxeViolations(page, 'files-empty', shots);

  const dir = workDirOf();
  const first = writeFile(dir, 'report.txt', new TextEncoder().encode('first report\n'));
  const second = writeFile(join(dir, 'again'), 'report.txt', new TextEncoder().encode('second report, longer\n'));
  await chooseFiles(page, first);
  await uploaded(page, 'report.txt');
  await chooseFiles(page, second);
  const question = page.getByRole('dialog', { name: '“report.txt” is already in your drive' });
  await expect(question).toBeVisible();
  await expectNoAxeViolations(page, 'same-name', shots);
  await question.getByRole('button', { name: 'Keep both' }).click();
  await expect(page.getByRole('button', { name: 'Download report.txt (copy 2)', exact: true })).toBeVisible({ timeout: 60_000 });
  await expect(page.getByRole('button', { name: 'Download report.txt (copy 1)', exact: true })).toBeVisible();
  // Sizes in one unit system: 13 and 22 bytes, never "MB" for binary sizes.
  await expect(page.getByRole('main')).not.toContainText(/\d (KB|MB|GB)\b/);
  await expectNoAxeViolations(page, 'files', shots);

  const views = page.getByRole('navigation', { name: 'Sealdrop' });
  await views.getByRole('button', { name: 'Keys & account' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Keys & account' })).toBeFocused();
  await page.getByRole('button', { name: 'Change passphrase' }).click();
  await expect(page.getByRole('alert')).toHaveText('Type your current recovery passphrase.');
  await expectNoAxeViolations(page, 'account', shots);
  // The key rotation dialog, with its refusal shown; cancelled, nothing changes.
  await page.getByRole('button', { name: 'Rotate my keys…' }).click();
  const rotate = page.getByRole('dialog', { name: 'Rotate your keys?' });
  await rotate.getByRole('button', { name: 'Rotate my keys' }).click();
  await expect(rotate.getByRole('alert')).toHaveText('Type your recovery passphrase.');
  await expectNoAxeViolations(page, 'rotate-keys-dialog', shots);
  await rotate.getByRole('button', { name: 'Cancel' }).click();
  await expect(rotate).toBeHidden();
  await views.getByRole('button', { name: 'Activity' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Activity on this device' })).toBeFocused();
  await expect(page.getByRole('table').getByRole('row').filter({ hasText: 'Uploaded' }).first()).toBeVisible();
  await expectNoAxeViolations(page, 'activity', shots);
  await views.getByRole('button', { name: 'Received' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Received' })).toBeFocused();
  await page.getByRole('button', { name: 'Create request link' }).click();
  await expect(page.getByRole('img', { name: 'QR code of the request link' })).toBeVisible({ timeout: 30_000 });
  const requestLink = await page.getByTestId('request-link').inputValue();
  await expectNoAxeViolations(page, 'received', shots);
  await views.getByRole('button', { name: 'My files' }).click();

  await page.getByRole('button', { name: 'Preview report.txt (copy 1)', exact: true }).click();
  const preview = page.getByRole('dialog', { name: 'report.txt' });
  await expect(preview).toContainText('first report');
  await expectNoAxeViolations(page, 'preview', shots);
  await preview.getByRole('button', { name: 'Close' }).click();

  await page.getByRole('button', { name: 'Delete report.txt (copy 2)', exact: true }).click();
  await expect(page.getByRole('dialog', { name: 'Delete report.txt (copy 2)?' })).toBeVisible();
  await expectNoAxeViolations(page, 'delete', shots);
  await page.getByRole('dialog').getByRole('button', { name: 'Delete', exact: true }).click();
  await expect(page.getByRole('button', { name: 'Download report.txt', exact: true })).toBeVisible();

  // The public page of a file request, signed out in its own tab.
  const requestPage = await page.context().newPage();
  await requestPage.goto(requestLink);
  await expect(requestPage.getByRole('heading', { level: 1, name: 'Someone asks you for files' })).toBeVisible({ timeout: 30_000 });
  await expectNoAxeViolations(requestPage, 'request-page', shots);
  await requestPage.close();

  await page.getByRole('banner').getByRole('button', { name: 'Sign out' }).click();
  const signOut = page.getByRole('dialog', { name: 'Sign out of Sealdrop?' });
  await expect(signOut).toBeVisible();
  await expectNoAxeViolations(page, 'sign-out', shots);
  await signOut.getByLabel('Also forget my keys on this device').check();
  await signOut.getByRole('button', { name: 'Sign out', exact: true }).click();
  // One question only: the provider's page confirms by itself.
  await expect(page.getByRole('banner').getByRole('button', { name: 'Sign in' })).toBeVisible();

  await signIn(page, user);
  await expect(page.getByRole('heading', { level: 1, name: 'Restore your keys' })).toBeVisible();
  await expectNoAxeViolations(page, 'restore', shots);
  expect(violations).toEqual([]);
});

test('sharing with a person: the Send dialog, the key-change warning, "Shared with me" and Contacts pass axe', async ({ page, browser }) => {
  // Two seeded users and four screens scanned four times each, on a loaded 2-core machine.
  test.setTimeout(480_000);
  const name = 'a11y-shared.txt';
  const owner = await seededUser(page, 'a11y-owner', PASSPHRASE, [{ name, bytes: new TextEncoder().encode('shared for the scan\n') }]);
  const other = await browser.newContext();
  const otherPage = await other.newPage();
  const recipient = await seededUser(otherPage, 'a11y-recipient', PASSPHRASE);

  await page.getByRole('button', { name: `Send ${name} to a person`, exact: true }).click();
  const dialog = page.getByRole('dialog', { name: `Share ${name} with a person` });
  await dialog.getByLabel('Their e-mail address').fill(recipient.user.email);
  await dialog.getByRole('button', { name: 'Find' }).click();
  await expect(dialog.getByTestId('fingerprint-digits')).toBeVisible({ timeout: 20_000 });
  await dialog.getByRole('button', { name: `Share with ${recipient.user.email}` }).click();
  await expect(dialog.getByLabel('Link to send them')).toBeVisible({ timeout: 30_000 });
  await expectNoAxeViolations(page, 'share-person', shots);
  await page.keyboard.press('Escape');

  await otherPage.getByRole('button', { name: 'Shared with me' }).click();
  await expect(otherPage.getByRole('row', { name: new RegExp(name) })).toContainText(owner.user.email, { timeout: 30_000 });
  await expectNoAxeViolations(otherPage, 'shared-with-me', shots);
  await otherPage.getByRole('button', { name: 'Keys & account' }).click();
  await otherPage.getByRole('button', { name: `Mark verified: ${owner.user.email}` }).click();
  await expect(otherPage.getByLabel(`Digits ${owner.user.email}’s Sealdrop shows`)).toBeVisible();
  await expectNoAxeViolations(otherPage, 'contacts', shots);
  await other.close();

  // The warning: the recipient's published key replaced in storage without a signed rotation.
  const replaced = await exportPublicIdentity(await generateIdentityKeys());
  const container = await stackContainer(page.request);
  await container.getBlockBlobClient(`keys/${recipient.userId}/public`).upload(replaced, replaced.length);
  await page.getByRole('button', { name: `Send ${name} to a person`, exact: true }).click();
  await dialog.getByLabel('Their e-mail address').fill(recipient.user.email);
  await dialog.getByRole('button', { name: 'Find' }).click();
  await expect(dialog.getByTestId('contact-key-warning')).toBeVisible({ timeout: 20_000 });
  await expectNoAxeViolations(page, 'contact-warning', shots);
});
