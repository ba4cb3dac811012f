/**
 * Honest progress (issue 18): on a throttled connection (CDP network
 * conditions, 512 KiB/s up), the upload's progress bar moves with the
 * bytes actually sent, before the first request of payload bytes (here the
 * file's one Put Blob) has been stored;
 * and when nothing moves, the row stops showing a speed and a time left and
 * says it is waiting for the network.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { gateBlocks, isPutBlock } from './support/block-gate.ts';
import { chooseFiles, newUserWithKeys, uploaded } from './support/drive.ts';
import { useWorkDir, writeFile } from './support/test-files.ts';

const workDirOf = useWorkDir('progress-e2e');

test('progress moves during a throttled upload before the first block completes', async ({ page }) => {
  test.setTimeout(120_000);
  const name = 'slow-link.bin';
  const path = writeFile(join(workDirOf(), 'progress'), name, randomBytes(6 * 1024 * 1024));
  await newUserWithKeys(page, 'progress', 'copper willow mango basin');

  // Any request that stores payload bytes: a Put Block, or the one Put Blob of a file up to 16 MiB (this one).
  let blocksStored = 0;
  page.on('requestfinished', (request) => {
    if (isPutBlock(request) || (request.method() === 'PUT' && new URL(request.url()).pathname.endsWith('/payload'))) blocksStored += 1;
  });
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 20, downloadThroughput: 50 * 1024 * 1024, uploadThroughput: 512 * 1024 });

  await chooseFiles(page, path);
  const bar = page.getByRole('progressbar', { name: `Upload of ${name}`, exact: true });
  // Some per cent, well short of the whole (one 6 MiB Put Blob): the bar moves while the request's bytes go out.
  await expect(bar).toHaveAttribute('aria-valuenow', /^([1-9]|[1-5]\d)$/, { timeout: 30_000 });
  expect(blocksStored).toBe(0);
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
});

test('when nothing moves, speed and time left give way to "waiting for the network"; they come back when bytes move again', async ({ page }) => {
  test.setTimeout(120_000);
  const name = 'quiet-link.bin';
  // Above 16 MiB (WHOLE_BLOB_MAX_BYTES), so there are Put Blocks to hold back after the first.
  const path = writeFile(join(workDirOf(), 'stall'), name, randomBytes(17 * 1024 * 1024));
  await newUserWithKeys(page, 'stall', 'copper willow mango basin');

  // The connection goes quiet without failing: Put Blocks after the first are held unanswered.
  const gate = await gateBlocks(page, 1);
  await chooseFiles(page, path);
  const bar = page.getByRole('progressbar', { name: `Upload of ${name}`, exact: true });
  const row = page.getByRole('listitem').filter({ has: bar });
  await expect(row).toHaveAttribute('data-stalled', 'true', { timeout: 30_000 });
  await expect(row).toContainText('· waiting for the network');
  await expect(row).toContainText('Sealing and uploading, waiting for the network');
  await expect(row).not.toContainText(/left|estimating/);

  await gate.open();
  await uploaded(page, name);
  await expect(row).toHaveAttribute('data-stalled', 'false');
  await expect(row).not.toContainText('waiting for the network');
});
