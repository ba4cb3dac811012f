/**
 * The "My files" journeys on the real local stack (Azurite, the
 * identity provider, the token endpoint, the built app and its service
 * worker), in headless Chromium:
 *
 * - upload several files (a multi-block one, an empty one, a folder), see
 *   their decrypted names, download each and compare SHA-256, preview,
 *   filter, delete; restore the keys in a fresh browser and open the same
 *   file; nothing in storage names a file;
 * - flip one ciphertext byte in Azurite → the download refuses with the
 *   tamper message and is not left looking complete;
 * - a key holder re-seals other bytes of the same size under the file's
 *   own content key (every segment authenticates) → the payload digest
 *   refuses it at the end, and the download fails;
 * - cut the network mid-upload → it resumes and the result is identical.
 *
 * Downloads go through the service-worker stream: headless Chromium cannot
 * complete the File System Access save picker (PLATFORM-NOTES), so each
 * context hides it before the app loads.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { expect, test, type Download } from '@playwright/test';
import { encryptSegment, openManifest, restoreIdentity, rsaIdentity, segmentCount } from '../src/crypto/index.ts';
import { listStoredBlobs, stackContainer } from './support/blob-storage.ts';
import { restoreKeys } from './support/keys.ts';
import { gateBlocks, isPutBlock } from './support/block-gate.ts';
import { chooseFiles, download, newUserWithKeys, serviceWorkerInControl, uploaded, useServiceWorkerDownloads } from './support/drive.ts';
import { sha256, useWorkDir, writeFile } from './support/test-files.ts';
import { signIn } from './support/sign-in.ts';

const PASSPHRASE = 'walrus cactus ledger umbrella';
const MiB = 1024 * 1024;

const workDirOf = useWorkDir('drive-e2e');

test('upload files and a folder, list, download, preview, filter, delete, restore elsewhere; storage never names a file', async ({
  page,
  browser,
  context,
  request,
}) => {
  test.setTimeout(240_000);
  const dir = join(workDirOf(), 'journey');
  const big = randomBytes(9 * MiB + 12_345); // one Put Blob (up to 16 MiB), many 256 KiB segments
  const notesText = `Quarterly notes ${randomBytes(6).toString('hex')}\nsecond line\n`;
  const files = {
    big: { name: 'holiday-video-draft.bin', bytes: big },
    empty: { name: 'empty-placeholder.txt', bytes: new Uint8Array() },
    notes: { name: 'confidential-notes.txt', bytes: new TextEncoder().encode(notesText) },
    photo: { name: 'beach-photo.bin', bytes: randomBytes(300_000) },
    plan: { name: 'itinerary-plan.txt', bytes: randomBytes(70_000) },
  };
  const bigPath = writeFile(dir, files.big.name, files.big.bytes);
  const emptyPath = writeFile(dir, files.empty.name, files.empty.bytes);
  const notesPath = writeFile(dir, files.notes.name, files.notes.bytes);
  const folder = join(dir, 'summer-trip');
  writeFile(folder, files.photo.name, files.photo.bytes);
  writeFile(join(folder, 'day-two'), files.plan.name, files.plan.bytes);

  await useServiceWorkerDownloads(context);
  const { user, userId } = await newUserWithKeys(page, 'drive', PASSPHRASE);
  await expect(page.getByRole('heading', { name: 'No files yet' })).toBeVisible();

  await chooseFiles(page, [bigPath, emptyPath, notesPath]);
  await page.getByLabel('Choose a folder to upload').setInputFiles(folder);
  for (const label of [files.big.name, files.empty.name, files.notes.name, `summer-trip/${files.photo.name}`, `summer-trip/day-two/${files.plan.name}`]) {
    await uploaded(page, label);
  }

  // A reload lists what the server holds, decrypted in this browser.
  await page.reload();
  await serviceWorkerInControl(page);
  const table = page.getByRole('table');
  for (const name of [files.big.name, files.empty.name, files.notes.name]) {
    await expect(table.getByRole('rowheader', { name: new RegExp(name) })).toBeVisible();
  }
  await expect(table.getByRole('button', { name: 'Open folder summer-trip' })).toBeVisible();
  await expect(table.getByText(files.photo.name)).toHaveCount(0);

  // Every file comes back byte for byte.
  for (const file of [files.big, files.empty, files.notes]) {
    expect(sha256(await download(page, file.name))).toBe(sha256(file.bytes));
  }

  // Folders open, with a breadcrumb back.
  await table.getByRole('button', { name: 'Open folder summer-trip' }).click();
  expect(sha256(await download(page, files.photo.name))).toBe(sha256(files.photo.bytes));
  await page.getByRole('table').getByRole('button', { name: 'Open folder day-two' }).click();
  await expect(page.getByRole('navigation', { name: 'Folder' })).toContainText('day-two');
  expect(sha256(await download(page, files.plan.name))).toBe(sha256(files.plan.bytes));
  await page.getByRole('navigation', { name: 'Folder' }).getByRole('button', { name: 'My files' }).click();

  // Filter searches decrypted names across folders.
  await page.getByRole('searchbox', { name: 'Filter by name' }).fill('PLAN');
  await expect(page.getByRole('table').getByRole('rowheader')).toHaveCount(1);
  await expect(page.getByRole('table')).toContainText(files.plan.name);
  await page.getByRole('searchbox', { name: 'Filter by name' }).fill('');

  // Sort by size, largest first.
  await page.getByRole('button', { name: 'Size' }).click();
  await expect(page.getByRole('columnheader', { name: /Size/ })).toHaveAttribute('aria-sort', 'descending');
  await expect(page.getByRole('table').getByRole('rowheader').nth(1)).toContainText(files.big.name);

  // In-page preview of a text file.
  await page.getByRole('button', { name: `Preview ${files.notes.name}` }).click();
  const preview = page.getByRole('dialog', { name: files.notes.name });
  await expect(preview.locator('pre')).toHaveText(notesText);
  await page.keyboard.press('Escape');
  await expect(preview).toBeHidden();

  // Storage holds nothing that names a file: not in blob names, metadata, tags or content headers.
  const container = await stackContainer(request);
  const stored = await listStoredBlobs(container);
  // Per file: payload, manifest, the server's record of the declared sizes and its mark that the
  // change log lists the file (both empty blobs).
  const fileBlobs = stored.filter((b) => b.name.startsWith(`files/${userId}/`) && !/\/(declared-\d+-\d+|logged)$/.test(b.name));
  expect(fileBlobs.length).toBe(2 * 5);
  expect(stored.filter((b) => /^files\/[0-9a-f]{32}\/[0-9a-f]{32}\/declared-\d+-\d+$/.test(b.name) && b.name.startsWith(`files/${userId}/`)).length).toBe(5);
  expect(stored.filter((b) => /^files\/[0-9a-f]{32}\/[0-9a-f]{32}\/logged$/.test(b.name) && b.name.startsWith(`files/${userId}/`)).length).toBe(5);
  const everything = JSON.stringify(stored);
  for (const name of [...Object.values(files).map((f) => f.name), 'summer-trip', 'day-two', 'confidential', 'holiday']) {
    expect(everything).not.toContain(name);
  }
  // Nor do the sealed bytes themselves carry a name in the clear.
  for (const blob of fileBlobs.filter((b) => b.name.endsWith('/manifest'))) {
    const bytes = await container.getBlobClient(blob.name).downloadToBuffer();
    for (const file of Object.values(files)) expect(bytes.includes(Buffer.from(file.name))).toBe(false);
  }

  // Delete asks first; Cancel keeps the file, Delete removes payload and manifest.
  const deleteNotes = page.getByRole('button', { name: `Delete ${files.notes.name}` });
  await deleteNotes.click();
  const confirm = page.getByRole('dialog', { name: `Delete ${files.notes.name}?` });
  await expect(confirm).toBeVisible();
  await confirm.getByRole('button', { name: 'Cancel' }).click();
  await expect(confirm).toBeHidden();
  await expect(deleteNotes).toBeVisible();
  await deleteNotes.click();
  await confirm.getByRole('button', { name: 'Delete' }).click();
  await expect(deleteNotes).toHaveCount(0);
  // Payload, manifest, declaration and change-log mark of each of the four files left; nothing of the deleted one.
  expect(await listStoredBlobs(container, `files/${userId}/`)).toHaveLength(4 * 4);
  await page.reload();
  await expect(page.getByRole('table')).toContainText(files.big.name);
  await expect(page.getByRole('table')).not.toContainText(files.notes.name);

  // A second device: restore the keys with the passphrase and open the same file.
  const fresh = await browser.newContext();
  try {
    await useServiceWorkerDownloads(fresh);
    const other = await fresh.newPage();
    await signIn(other, user);
    await restoreKeys(other, PASSPHRASE);
    await serviceWorkerInControl(other);
    await expect(other.getByRole('table')).toContainText(files.big.name);
    expect(sha256(await download(other, files.big.name))).toBe(sha256(files.big.bytes));
  } finally {
    await fresh.close();
  }
});

test('a flipped ciphertext byte: the download refuses with the tamper message and never completes', async ({ page, context, request }) => {
  test.setTimeout(120_000);
  const name = 'tamper-target.bin';
  const original = randomBytes(3 * MiB);
  const path = writeFile(join(workDirOf(), 'tamper'), name, original);

  await useServiceWorkerDownloads(context);
  const { userId } = await newUserWithKeys(page, 'tamper', PASSPHRASE);
  await serviceWorkerInControl(page);
  await chooseFiles(page, [path]);
  await uploaded(page, name);

  // Flip one byte near the end of the payload (in its last segment), so
  // most of the file streams before authentication fails.
  const container = await stackContainer(request);
  const payloads = (await listStoredBlobs(container, `files/${userId}/`)).filter((b) => b.name.endsWith('/payload'));
  expect(payloads).toHaveLength(1);
  const payloadName = payloads[0]?.name ?? '';
  const blob = container.getBlockBlobClient(payloadName);
  const sealed = await blob.downloadToBuffer();
  const at = sealed.length - 100;
  sealed[at] = (sealed[at] ?? 0) ^ 0x01;
  await blob.uploadData(sealed);

  const downloads: Download[] = [];
  page.on('download', (d) => downloads.push(d));
  await page.getByRole('button', { name: `Download ${name}`, exact: true }).click();
  await expect(page.getByRole('alert')).toContainText('This file is damaged or has been tampered with.');
  await expect(page.getByRole('table')).toContainText('Download failed');
  // If the browser started saving, the download ended in failure: no complete-looking file.
  for (const d of downloads) expect(await d.failure()).not.toBeNull();

  // A damaged manifest in storage: the list still shows what the owner
  // signed when the file was completed (the change log's copy, verified),
  // and opening the file reads the stored one and refuses it.
  const manifest = container.getBlockBlobClient(payloadName.replace(/\/payload$/, '/manifest'));
  const manifestBytes = await manifest.downloadToBuffer();
  const mid = Math.floor(manifestBytes.length / 2);
  manifestBytes[mid] = (manifestBytes[mid] ?? 0) ^ 0x80;
  await manifest.uploadData(manifestBytes);
  await page.reload();
  await page.getByRole('button', { name: `Download ${name}`, exact: true }).click();
  await expect(page.getByRole('alert')).toContainText('This file is damaged or has been tampered with.');
  await expect(page.getByRole('table')).toContainText('Download failed');
});

test('a payload re-sealed by a key holder: every segment opens, yet the download fails with the tamper message', async ({ page, context, request }) => {
  test.setTimeout(120_000);
  const name = 'resealed-target.bin';
  const original = randomBytes(2 * MiB + 4097);
  const path = writeFile(join(workDirOf(), 'reseal'), name, original);

  await useServiceWorkerDownloads(context);
  const { userId } = await newUserWithKeys(page, 'reseal', PASSPHRASE);
  await serviceWorkerInControl(page);
  await chooseFiles(page, [path]);
  await uploaded(page, name);

  // The key holder: the owner's keys from their recovery copy, so the file's content key.
  const container = await stackContainer(request);
  // Its name is keyed by a server secret; the test reads the container directly, as a storage admin could.
  const recoveryBlobs = (await listStoredBlobs(container, `keys/${userId}/recovery-`)).map((b) => b.name);
  expect(recoveryBlobs).toHaveLength(1);
  const recovery = await container.getBlockBlobClient(recoveryBlobs[0] ?? '').downloadToBuffer();
  const keys = await restoreIdentity(new Uint8Array(recovery), PASSPHRASE);
  const payloads = (await listStoredBlobs(container, `files/${userId}/`)).filter((b) => b.name.endsWith('/payload'));
  expect(payloads).toHaveLength(1);
  const payloadName = payloads[0]?.name ?? '';
  const fileId = payloadName.split('/').at(-2) ?? '';
  const manifest = await container.getBlockBlobClient(payloadName.replace(/\/payload$/, '/manifest')).downloadToBuffer();
  const { contentKey, segmentSize } = await openManifest(new Uint8Array(manifest), [rsaIdentity(keys.encrypt.privateKey)], { fileId });
  // Other bytes of the same size (one byte changed at the start), sealed under the right key and nonces.
  const forged = Uint8Array.from(original);
  forged[0] = (forged[0] ?? 0) ^ 0xff;
  const count = segmentCount(forged.length, segmentSize);
  const segments: Uint8Array[] = [];
  for (let i = 0; i < count; i++) segments.push(await encryptSegment(contentKey, i, i === count - 1, forged.subarray(i * segmentSize, (i + 1) * segmentSize)));
  await container.getBlockBlobClient(payloadName).uploadData(Buffer.concat(segments));

  const downloads: Download[] = [];
  page.on('download', (d) => downloads.push(d));
  await page.getByRole('button', { name: `Download ${name}`, exact: true }).click();
  await expect(page.getByRole('alert')).toContainText('This file is damaged or has been tampered with.');
  await expect(page.getByRole('table')).toContainText('Download failed');
  for (const d of downloads) expect(await d.failure()).not.toBeNull();
});

test('the network drops mid-upload: the upload resumes and the file is byte-identical', async ({ page, context }) => {
  test.setTimeout(180_000);
  const name = 'resumed-upload.bin';
  const original = randomBytes(24 * MiB + 777);
  const path = writeFile(join(workDirOf(), 'offline'), name, original);

  await useServiceWorkerDownloads(context);
  await newUserWithKeys(page, 'offline', PASSPHRASE);
  await serviceWorkerInControl(page);

  // One block is stored, then the network drops: the held blocks fail as a
  // lost connection would, and every retry meets an offline browser.
  const gate = await gateBlocks(page);
  const firstBlock = new Promise<void>((resolve) => {
    page.on('response', (response) => {
      if (isPutBlock(response.request()) && response.status() === 201) resolve();
    });
  });
  await chooseFiles(page, [path]);
  await firstBlock;
  await context.setOffline(true);
  await gate.open({ drop: true });
  const bar = page.getByRole('progressbar', { name: `Upload of ${name}`, exact: true });
  await page.waitForTimeout(3_000);
  expect(Number(await bar.getAttribute('aria-valuenow'))).toBeLessThan(100);
  await context.setOffline(false);
  await uploaded(page, name, 120_000);

  expect(sha256(await download(page, name))).toBe(sha256(original));
});

test('files dropped on the drop zone or pasted on the page are sealed and listed', async ({ page }) => {
  await newUserWithKeys(page, 'drop', PASSPHRASE);
  const zone = page.getByRole('region', { name: 'Add files' });
  await expect(zone).toBeVisible();

  // A synthetic drop and a synthetic paste carry real File objects, as the browser's own would.
  await zone.evaluate((element) => {
    const data = new DataTransfer();
    data.items.add(new File(['dropped bytes'], 'dropped-note.txt', { type: 'text/plain' }));
    element.dispatchEvent(new DragEvent('dragover', { dataTransfer: data, bubbles: true, cancelable: true }));
    element.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
  });
  await uploaded(page, 'dropped-note.txt');
  await page.evaluate(() => {
    const data = new DataTransfer();
    data.items.add(new File(['pasted bytes'], 'pasted-screenshot.png', { type: 'image/png' }));
    document.body.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
  });
  await uploaded(page, 'pasted-screenshot.png');
  await expect(page.getByRole('table')).toContainText('dropped-note.txt');
  await expect(page.getByRole('table')).toContainText('pasted-screenshot.png');

  // Text pasted into the filter box stays text: nothing is uploaded.
  await page.getByRole('searchbox', { name: 'Filter by name' }).focus();
  await page.evaluate(() => {
    const data = new DataTransfer();
    data.setData('text/plain', 'dropped');
    document.activeElement?.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
  });
  await expect(page.getByRole('progressbar')).toHaveCount(2);
});
