/**
 * "A new version is ready" (issue 18): a new build's service worker waits;
 * workbox-window offers the reload, and while an upload runs the reload
 * waits for it to finish (the page is not reloaded before), then happens by
 * itself. A new build is simulated by changing the bytes of dist/sw.js (what
 * a rebuild does), restored afterwards.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { gateBlocks } from './support/block-gate.ts';
import { chooseFiles, newUserWithKeys } from './support/drive.ts';
import { controlledBySw, listed } from './support/service-worker.ts';
import { useWorkDir, writeFile } from './support/test-files.ts';

const workDirOf = useWorkDir('update-e2e');
const SW_FILE = join(import.meta.dirname, '..', 'dist', 'sw.js');
/** The build's compressed copies of sw.js (server/local/precompress.ts), served to browsers that accept them. */
const SW_COPIES = [
  { file: `${SW_FILE}.br`, compress: (bytes: Buffer) => brotliCompressSync(bytes) },
  { file: `${SW_FILE}.gz`, compress: (bytes: Buffer) => gzipSync(bytes) },
].filter((copy) => existsSync(copy.file));

test('the update prompt appears after a new build and waits for a running upload before it reloads', async ({ page }) => {
  test.setTimeout(180_000);
  const name = 'upload-during-update.bin';
  // Above 16 MiB (WHOLE_BLOB_MAX_BYTES): a smaller file goes up as one Put Blob, with no Put Block to hold back.
  const path = writeFile(join(workDirOf(), 'update'), name, randomBytes(17 * 1024 * 1024));
  await newUserWithKeys(page, 'update', 'quartz meadow lantern otter');
  await controlledBySw(page);

  const gate = await gateBlocks(page, 1);
  await chooseFiles(page, path);
  const row = page.getByRole('progressbar', { name: `Upload of ${name}`, exact: true });
  await expect(row).toHaveAttribute('aria-valuetext', /Uploading|Sealing|%/);
  // A marker that a reload would wipe.
  await page.evaluate(() => Object.assign(window, { sealdropNotReloaded: true }));

  const original = readFileSync(SW_FILE);
  const originalCopies = SW_COPIES.map((copy) => readFileSync(copy.file));
  try {
    // A rebuild changes sw.js and its compressed copies alike.
    const rebuilt = Buffer.concat([original, Buffer.from(`\n// build ${randomBytes(8).toString('hex')}\n`)]);
    writeFileSync(SW_FILE, rebuilt);
    for (const copy of SW_COPIES) writeFileSync(copy.file, copy.compress(rebuilt));
    await page.evaluate(async () => {
      await (await navigator.serviceWorker.getRegistration())?.update();
    });
    const prompt = page.getByTestId('update-prompt');
    await expect(prompt).toContainText('A new version of Sealdrop is ready.', { timeout: 30_000 });
    await prompt.getByRole('button', { name: 'Reload when uploads finish' }).click();
    await expect(prompt).toContainText('The new version loads as soon as your uploads finish.');
    expect(await page.evaluate(() => 'sealdropNotReloaded' in window)).toBe(true);

    const reloaded = page.waitForEvent('framenavigated', { timeout: 90_000 });
    await gate.open();
    await reloaded;
    await listed(page, name);
    await expect(page.getByTestId('update-prompt')).toHaveCount(0);
  } finally {
    writeFileSync(SW_FILE, original);
    SW_COPIES.forEach((copy, i) => writeFileSync(copy.file, originalCopies[i] ?? Buffer.alloc(0)));
  }
});
