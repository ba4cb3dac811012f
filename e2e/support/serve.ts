/**
 * Starts the local stack for the end-to-end tests: blobs in memory, the
 * provider's keys in a fresh temporary folder, the app from `dist/` (built
 * beforehand by `npm test`). Playwright's webServer runs this and stops it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalStack } from '../../server/local-stack.ts';
import { E2E_PORT } from './ports.ts';

const dataDir = await mkdtemp(join(tmpdir(), 'sealdrop-e2e-'));
const stack = await startLocalStack({ port: E2E_PORT, azuritePort: 0, inMemory: true, dataDir });
process.stdout.write(`e2e stack at ${stack.url} (blobs at ${stack.blobEndpoint})\n`);

const shutdown = (): void => {
  void stack
    .stop()
    .then(() => rm(dataDir, { recursive: true, force: true }))
    .finally(() => process.exit(0));
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
