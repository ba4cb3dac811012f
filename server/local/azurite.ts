/**
 * Starts and prepares the Azurite blob emulator for the local stack, the
 * end-to-end stack, the server tests and the bench.
 *
 * Azurite has no programmatic API (see PLATFORM-NOTES), so we spawn its
 * `azurite-blob` binary on a free internal port and read the port it
 * prints. Nobody talks to that port: the storage port everyone uses is a
 * filtering proxy in front of it (storage-proxy.ts), which refuses every
 * copy request (Azurite would copy another user's blob for anyone holding
 * a write grant) and every foreign `Host`. If Azurite dies, it is started
 * again behind the same proxy port, on the same `--location` (its data is
 * kept: blobs, blocks and the container; Azurite saves its metadata every
 * 5 s, so what changed in the last seconds before a SIGKILL may be lost,
 * uncommitted blocks included), and one plain line says so on stderr.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { startStorageProxy, StoragePortInUseError, type StorageProxy } from './storage-proxy.ts';

/** Azurite's well-known development account (public, documented by Microsoft). */
export const AZURITE_ACCOUNT_NAME = 'devstoreaccount1';
/** The well-known development account key; never a real secret. */
export const AZURITE_ACCOUNT_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/** A running Azurite blob service behind its filtering proxy. */
export interface AzuriteHandle {
  /** The proxy's endpoint, e.g. `http://127.0.0.1:10000/devstoreaccount1`: the one to use. */
  blobEndpoint: string;
  accountName: string;
  accountKey: string;
  /** The proxy's port. */
  port: number;
  /**
   * Azurite's own endpoint, without the proxy's copy and Host checks. Only
   * for tests that prove the hole the proxy closes and for the bench's
   * "direct" comparison; never hand it to a browser.
   */
  unfilteredBlobEndpoint: string;
  /** The emulator's current process id (changes when it is restarted). */
  readonly pid: number | undefined;
  /**
   * Runs `prepare` after each automatic restart of the emulator (an
   * in-memory emulator comes back empty, without container or CORS rules).
   */
  onRestart(prepare: () => Promise<void>): void;
  /**
   * For fault tests only: kills the emulator with SIGKILL, as a crash
   * would, and keeps it down (no automatic restart) until {@link revive}.
   * The proxy stays up and answers 502 meanwhile.
   */
  crash(): Promise<void>;
  /** Starts the emulator again after {@link crash}; resolves once it listens and the restart hooks ran. Does nothing if it runs. */
  revive(): Promise<void>;
  /** Stops the proxy and the process; resolves once both are down (SIGKILL after 5 s). */
  stop(): Promise<void>;
}

const azuriteBin = fileURLToPath(new URL('../../node_modules/.bin/azurite-blob', import.meta.url));
const LISTENING = /successfully listens on https?:\/\/[^:\s]+:(\d+)/;
const START_TIMEOUT_MS = 30_000;
/** More unexpected exits than this within {@link RESTART_WINDOW_MS} and we stop restarting. */
const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 60_000;

/** One spawned emulator process. */
interface EmulatorProcess {
  port: number;
  child: ChildProcess;
  /** Resolves when the process has exited, for whatever reason, with how (`SIGKILL`, `code 1`). */
  exited: Promise<string>;
  stop(): Promise<void>;
}

/**
 * Spawns `azurite-blob` on 127.0.0.1 with a free port and resolves once it
 * listens. Rejects with a one-line plain error if the process fails to
 * start, exits early or does not listen within 30 s.
 */
function spawnEmulator(storage: string[]): Promise<EmulatorProcess> {
  const args = [
    azuriteBin,
    '--blobHost',
    '127.0.0.1',
    '--blobPort',
    '0',
    // The SDK may send an x-ms-version newer than Azurite knows (PLATFORM-NOTES).
    '--skipApiVersionCheck',
    // Telemetry is on by default and tries the network.
    '--disableTelemetry',
    // No access log: it would flood the launcher's console.
    '--silent',
    ...storage,
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });

  // Never leave an orphaned emulator behind if our own process exits.
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  let hasExited = false;
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => {
      hasExited = true;
      process.removeListener('exit', killOnExit);
      resolve(signal ?? `code ${code ?? 'unknown'}`);
    });
  });

  const stop = async (): Promise<void> => {
    if (hasExited) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };

  return new Promise<EmulatorProcess>((resolve, reject) => {
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
      resolve({ port: Number(match[1]), child, exited, stop });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('error', (err) => fail(err.message));
    child.once('exit', (code, signal) => fail(`it exited early (${signal ?? `code ${code ?? 'unknown'}`}): ${lastLine(output)}`));
  });
}

/**
 * Starts Azurite behind its filtering proxy (storage-proxy.ts) and resolves
 * once both listen. The proxy takes `port` on 127.0.0.1 (0 or undefined =
 * any free port); Azurite itself listens on a free internal port. Give
 * either `location` (data kept in that folder) or `inMemory: true`. If
 * Azurite exits on its own, it is started again behind the same port (at
 * most 5 times a minute; the `onRestart` callbacks then run). Rejects with a
 * one-line plain error if the port is taken ("Azurite did not start: port N
 * on 127.0.0.1 is already in use."), or if Azurite does not start.
 */
export async function startAzurite(opts: {
  port?: number;
  location?: string;
  inMemory?: boolean;
  /** Where supervision says what happened, one line each (default: stderr). */
  log?: (line: string) => void;
}): Promise<AzuriteHandle> {
  const log = opts.log ?? ((line: string) => void process.stderr.write(`${line}\n`));
  const kept = opts.location !== undefined ? `its data kept in ${opts.location}` : 'in memory, so its blobs are gone';
  if ((opts.location === undefined) === (opts.inMemory !== true)) {
    throw new Error('startAzurite needs exactly one of "location" or "inMemory: true".');
  }
  const storage = opts.location !== undefined ? ['--location', opts.location] : ['--inMemoryPersistence'];

  // The public port first: it is the one that can be taken.
  let proxy: StorageProxy;
  try {
    proxy = await startStorageProxy({ port: opts.port ?? 0, upstreamPort: 0 });
  } catch (err) {
    if (err instanceof StoragePortInUseError) throw new Error(`Azurite did not start: ${err.message}`, { cause: err });
    throw err;
  }
  let emulator: EmulatorProcess;
  try {
    emulator = await spawnEmulator(storage);
  } catch (err) {
    await proxy.stop();
    throw err;
  }
  proxy.setUpstreamPort(emulator.port);

  let stopping = false;
  /** Set by crash(): the emulator stays down until revive(). */
  let crashed = false;
  const restartHooks: (() => Promise<void>)[] = [];
  const recentRestarts: number[] = [];
  /** Spawns a new emulator behind the proxy and runs the restart hooks; false if stopped meanwhile. */
  const replace = async (): Promise<boolean> => {
    const next = await spawnEmulator(storage);
    if (stopping) {
      await next.stop();
      return false;
    }
    emulator = next;
    proxy.setUpstreamPort(next.port);
    supervise(next);
    for (const hook of restartHooks) await hook();
    return true;
  };
  const supervise = (current: EmulatorProcess): void => {
    void current.exited.then(async (how) => {
      if (stopping || crashed) return;
      const now = Date.now();
      while (recentRestarts.length > 0 && now - (recentRestarts[0] ?? now) > RESTART_WINDOW_MS) recentRestarts.shift();
      if (recentRestarts.length >= MAX_RESTARTS) {
        log(`Azurite exited unexpectedly (${how}) and keeps exiting (${MAX_RESTARTS} times within a minute); not restarting it again.`);
        return;
      }
      recentRestarts.push(now);
      try {
        if (await replace()) log(`Azurite exited unexpectedly (${how}); restarted it on the same port, ${kept}.`);
      } catch (err) {
        log(`Azurite exited unexpectedly (${how}) and did not start again: ${err instanceof Error ? err.message : 'no reason given'}`);
      }
    });
  };
  supervise(emulator);

  return {
    blobEndpoint: `http://127.0.0.1:${proxy.port}/${AZURITE_ACCOUNT_NAME}`,
    accountName: AZURITE_ACCOUNT_NAME,
    accountKey: AZURITE_ACCOUNT_KEY,
    port: proxy.port,
    get unfilteredBlobEndpoint() {
      return `http://127.0.0.1:${emulator.port}/${AZURITE_ACCOUNT_NAME}`;
    },
    get pid() {
      return emulator.child.pid;
    },
    onRestart(prepare) {
      restartHooks.push(prepare);
    },
    async crash() {
      if (crashed || stopping) return;
      crashed = true;
      const down = emulator.exited;
      emulator.child.kill('SIGKILL');
      log(`Azurite killed on purpose (fault test); it stays down until revived.`);
      await down;
    },
    async revive() {
      if (!crashed || stopping) return;
      crashed = false;
      if (await replace()) log(`Azurite revived on the same port, ${kept}.`);
    },
    async stop() {
      stopping = true;
      await Promise.all([proxy.stop(), emulator.stop()]);
    },
  };
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
