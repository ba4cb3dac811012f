/**
 * Starts the local stack for the end-to-end tests: blobs on disk in a fresh
 * temporary folder (so a killed Azurite comes back with its data, as in
 * `npm start`), the provider's keys there too, the app from `dist/` (built
 * beforehand by `npm test`). Playwright's webServer runs this and stops it.
 *
 * With SEALDROP_E2E_CONTROL_PORT set (only playwright.config.ts sets it), a
 * test-only control listens on that loopback port: `POST /storage/crash`
 * kills Azurite (SIGKILL) and keeps it down, `POST /storage/revive` starts
 * it again (see storage-control.ts). `npm start` never has it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalStack } from '../../server/local/local-stack.ts';
import { E2E_PORT } from './ports.ts';
import { startStorageControl } from './storage-control.ts';

const dataDir = await mkdtemp(join(tmpdir(), 'sealdrop-e2e-'));
const stack = await startLocalStack({ port: E2E_PORT, azuritePort: 0, dataDir });
process.stdout.write(`e2e stack at ${stack.url} (blobs at ${stack.blobEndpoint})\n`);
const controlPort = process.env.SEALDROP_E2E_CONTROL_PORT;
const control = controlPort === undefined ? null : await startStorageControl(Number(controlPort), stack.storageFaults);

const shutdown = (): void => {
  void Promise.all([stack.stop(), control?.close()])
    .then(() => rm(dataDir, { recursive: true, force: true }))
    .finally(() => process.exit(0));
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
