/**
 * `npm start`: builds the app if it is missing or older than its sources,
 * starts the local stack (Azurite, the identity provider, the token endpoint
 * and the app on http://localhost:<port>) and prints one line saying where
 * to go. Ctrl-C stops everything.
 *
 * Settings (environment variables): SEALDROP_PORT (default 8080),
 * SEALDROP_AZURITE_PORT (default 10000), SEALDROP_DATA_DIR (default
 * `.sealdrop/` in the project).
 *
 * Every failure a person can meet ends in one plain line and exit code 1.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');

/** A failure to report in one line, without a stack trace. */
class StartError extends Error {}

function portFromEnv(name: string, fallback: number): number {
  const raw = process.env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port < 1 || port > 65535) {
    throw new StartError(`${name} must be a port number from 1 to 65535 (it is "${raw.slice(0, 20)}").`);
  }
  return port;
}

/** The newest modification time of any file under `path` (a file or folder). */
async function newestMtime(path: string): Promise<number> {
  const info = await stat(path).catch(() => undefined);
  if (info === undefined) return 0;
  if (!info.isDirectory()) return info.mtimeMs;
  let newest = 0;
  for (const entry of await readdir(path)) {
    newest = Math.max(newest, await newestMtime(join(path, entry)));
  }
  return newest;
}

async function buildIfNeeded(): Promise<void> {
  const built = await stat(resolve(root, 'dist/index.html')).catch(() => undefined);
  const sources = ['src', 'public', 'index.html', 'redirect.html', 'vite.config.ts', 'package.json'];
  const newestSource = Math.max(...(await Promise.all(sources.map((s) => newestMtime(resolve(root, s))))));
  if (built !== undefined && built.mtimeMs >= newestSource) return;

  const vite = resolve(root, 'node_modules/vite/bin/vite.js');
  if (!existsSync(vite)) throw new StartError('Vite is missing: run "npm install" first.');
  process.stdout.write(built === undefined ? 'Building the app (first start)…\n' : 'Sources changed: rebuilding the app…\n');
  const output: string[] = [];
  const code = await new Promise<number | null>((done) => {
    const child = spawn(process.execPath, [vite, 'build', '--logLevel', 'warn'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
    child.once('error', () => done(-1));
    child.once('exit', (exitCode) => done(exitCode));
  });
  if (code !== 0) {
    // The build's own messages are the explanation here.
    process.stderr.write(output.join(''));
    throw new StartError('The app did not build (see the messages above); fix the error and run npm start again.');
  }
}

/** Names the missing package when a dependency is not installed. */
function missingDependency(err: unknown): string | undefined {
  if (!(err instanceof Error) || !('code' in err) || err.code !== 'ERR_MODULE_NOT_FOUND') return undefined;
  const name = /Cannot find (?:package|module) '([^']+)'/.exec(err.message)?.[1];
  return name ?? 'a dependency';
}

async function main(): Promise<void> {
  const port = portFromEnv('SEALDROP_PORT', 8080);
  const azuritePort = portFromEnv('SEALDROP_AZURITE_PORT', 10000);
  const dataDir = process.env.SEALDROP_DATA_DIR?.trim();

  await buildIfNeeded();

  // oidc-provider warns on import that Node 20 is not its preferred runtime;
  // it works here (PLATFORM-NOTES), so keep the console to our one line.
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && args[0].includes('oidc-provider WARNING: Unsupported runtime')) return;
    warn(...args);
  };
  let stackModule: typeof import('./local-stack.ts');
  try {
    stackModule = await import('./local-stack.ts');
  } catch (err) {
    const missing = missingDependency(err);
    if (missing !== undefined) throw new StartError(`${missing} is not installed: run "npm install" first.`);
    throw err;
  } finally {
    console.warn = warn;
  }

  let stack;
  try {
    stack = await stackModule.startLocalStack({
      port,
      azuritePort,
      ...(dataDir === undefined || dataDir === '' ? {} : { dataDir: resolve(dataDir) }),
    });
  } catch (err) {
    if (err instanceof stackModule.PortInUseError) throw new StartError(err.message);
    throw err;
  }

  process.stdout.write(
    `Sealdrop is running at ${stack.url} — sign in with any name and e-mail (local stand-in for Entra ID). Ctrl-C to stop.\n`,
  );

  let stopping = false;
  const shutdown = (): void => {
    if (stopping) {
      // A second Ctrl-C: do not wait any longer.
      process.exit(130);
    }
    stopping = true;
    process.stdout.write('Stopping Sealdrop…\n');
    stack.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

main().catch((err: unknown) => {
  const message =
    err instanceof StartError
      ? err.message
      : `Sealdrop could not start: ${err instanceof Error ? err.message.split('\n')[0] : 'unknown error'}`;
  process.stderr.write(`${message}\n`);
  process.exit(1);
});
