/**
 * Starts and prepares the Azurite blob emulator for the local stack and the
 * server tests.
 *
 * Azurite has no programmatic API (see PLATFORM-NOTES), so we spawn its
 * `azurite-blob` binary and read the port it prints.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';

/** Azurite's well-known development account (public, documented by Microsoft). */
export const AZURITE_ACCOUNT_NAME = 'devstoreaccount1';
/** The well-known development account key; never a real secret. */
export const AZURITE_ACCOUNT_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/** A running Azurite blob service started as a child process. */
export interface AzuriteHandle {
  /** e.g. `http://127.0.0.1:10000/devstoreaccount1` */
  blobEndpoint: string;
  accountName: string;
  accountKey: string;
  port: number;
  /** Stops the process; resolves once it has exited (SIGKILL after 5 s). */
  stop(): Promise<void>;
}

const azuriteBin = fileURLToPath(new URL('../node_modules/.bin/azurite-blob', import.meta.url));
const LISTENING = /successfully listens on https?:\/\/[^:\s]+:(\d+)/;
const START_TIMEOUT_MS = 30_000;

/**
 * Spawns `azurite-blob` on 127.0.0.1 and resolves once it listens.
 *
 * `port` 0 or undefined picks a free port. Give either `location` (data kept
 * in that folder) or `inMemory: true`. Rejects with a one-line plain error if
 * the process fails to start, exits early (for example because the port is
 * taken) or does not listen within 30 s.
 */
export function startAzurite(opts: { port?: number; location?: string; inMemory?: boolean }): Promise<AzuriteHandle> {
  if ((opts.location === undefined) === (opts.inMemory !== true)) {
    return Promise.reject(new Error('startAzurite needs exactly one of "location" or "inMemory: true".'));
  }
  const args = [
    azuriteBin,
    '--blobHost',
    '127.0.0.1',
    '--blobPort',
    String(opts.port ?? 0),
    // The SDK may send an x-ms-version newer than Azurite knows (PLATFORM-NOTES).
    '--skipApiVersionCheck',
    // Telemetry is on by default and tries the network.
    '--disableTelemetry',
    // No access log: it would flood the launcher's console.
    '--silent',
    ...(opts.location !== undefined ? ['--location', opts.location] : ['--inMemoryPersistence']),
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });

  // Never leave an orphaned emulator behind if our own process exits.
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  let exited = false;
  const exitedPromise = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      process.removeListener('exit', killOnExit);
      resolve();
    });
  });

  const stop = async (): Promise<void> => {
    if (exited) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exitedPromise;
    clearTimeout(timer);
  };

  return new Promise<AzuriteHandle>((resolve, reject) => {
    let output = '';
    let settled = false;
    const fail = (why: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void stop().then(() => reject(new Error(`Azurite did not start: ${why}`)));
    };
    const timer = setTimeout(() => fail(`it did not listen within ${START_TIMEOUT_MS / 1000} s.`), START_TIMEOUT_MS);

    const onData = (chunk: Buffer): void => {
      if (settled) return;
      // Keep only the tail: enough to find the port or explain a failure.
      output = (output + chunk.toString('utf8')).slice(-4000);
      const match = LISTENING.exec(output);
      if (match?.[1] === undefined) return;
      settled = true;
      clearTimeout(timer);
      const port = Number(match[1]);
      resolve({
        blobEndpoint: `http://127.0.0.1:${port}/${AZURITE_ACCOUNT_NAME}`,
        accountName: AZURITE_ACCOUNT_NAME,
        accountKey: AZURITE_ACCOUNT_KEY,
        port,
        stop,
      });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', (err) => fail(err.message));
    child.once('exit', (code, signal) => {
      if (output.includes('EADDRINUSE')) {
        fail(`port ${opts.port ?? 0} on 127.0.0.1 is already in use.`);
      } else {
        fail(`it exited early (${signal ?? `code ${code ?? 'unknown'}`}): ${lastLine(output)}`);
      }
    });
  });
}

function lastLine(text: string): string {
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
  return lines.at(-1) ?? 'no output';
}

/**
 * Creates `container` if it is missing and sets the account's CORS rules to
 * allow the given origins (GET, PUT, DELETE, HEAD, OPTIONS; any request
 * header; every response header exposed). Replaces any earlier CORS rules.
 * Throws the storage SDK's error if the service cannot be reached.
 */
export async function prepareStorage(opts: {
  blobEndpoint: string;
  accountName: string;
  accountKey: string;
  container: string;
  corsOrigins: string[];
}): Promise<void> {
  const service = new BlobServiceClient(
    opts.blobEndpoint,
    new StorageSharedKeyCredential(opts.accountName, opts.accountKey),
  );
  await service.getContainerClient(opts.container).createIfNotExists();
  await service.setProperties({
    cors:
      opts.corsOrigins.length === 0
        ? []
        : [
            {
              allowedOrigins: opts.corsOrigins.join(','),
              allowedMethods: 'GET,PUT,DELETE,HEAD,OPTIONS',
              allowedHeaders: '*',
              exposedHeaders: '*',
              maxAgeInSeconds: 3600,
            },
          ],
  });
}
