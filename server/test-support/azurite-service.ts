/**
 * Test-only launchers for Azurite configurations the local stack never
 * uses: the blob service over HTTPS with OAuth (`--oauth basic`, the only
 * way Azurite hands out user delegation keys) and the table service (the
 * shared rate limiter's store). In memory, on a free loopback port, no
 * telemetry; stopped by the caller (and killed if the test process exits).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A running Azurite service. */
export interface AzuriteService {
  /** e.g. `https://127.0.0.1:43123/devstoreaccount1` */
  endpoint: string;
  port: number;
  stop(): Promise<void>;
}

const bin = (name: string): string => fileURLToPath(new URL(`../../node_modules/.bin/${name}`, import.meta.url));
/** The blob service prints `successfully listens on http(s)://host:port`, the table service `successfully started on host:port`. */
const LISTENING = /successfully (?:listens on (https?):\/\/|started on ())[^:\s]+:(\d+)/;

/** A port that was free a moment ago on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Starts `azurite-blob` or `azurite-table` with `extraArgs` and resolves
 * once it listens; rejects with its last output line if it exits or stays
 * silent for 30 s.
 */
export async function startAzuriteService(service: 'blob' | 'table', extraArgs: string[] = []): Promise<AzuriteService> {
  // The table service does not print the port it got for port 0: pick a free one first.
  const port = service === 'table' ? await freePort() : 0;
  const args = [bin(`azurite-${service}`), `--${service}Host`, '127.0.0.1', `--${service}Port`, String(port), '--inMemoryPersistence', '--disableTelemetry', '--skipApiVersionCheck', ...extraArgs];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    process.removeListener('exit', killOnExit);
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };
  return await new Promise<AzuriteService>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => void stop().then(() => reject(new Error(`azurite-${service} did not listen within 30 s: ${output.slice(-300)}`))), 30_000);
    const onData = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-4000);
      const match = LISTENING.exec(output);
      if (match === null || match[3] === undefined) return;
      clearTimeout(timer);
      child.stdout?.removeListener('data', onData);
      child.stdout?.resume();
      child.stderr?.resume();
      const listening = Number(match[3]);
      const scheme = match[1] ?? (extraArgs.includes('--cert') ? 'https' : 'http');
      resolve({ endpoint: `${scheme}://127.0.0.1:${listening}/devstoreaccount1`, port: listening, stop });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`azurite-${service} exited early (${signal ?? `code ${code ?? '?'}`}): ${output.slice(-300)}`));
    });
  });
}

/** A self-signed certificate for 127.0.0.1, made now with `openssl` (PEM strings and their files). */
export interface TestCertificate {
  cert: string;
  certFile: string;
  keyFile: string;
  /** Removes the files. */
  remove(): Promise<void>;
}

/** Makes a one-day P-256 certificate for `127.0.0.1` and `localhost`; throws if `openssl` is missing or fails. */
export async function makeTestCertificate(): Promise<TestCertificate> {
  const dir = await mkdtemp(join(tmpdir(), 'sealdrop-cert-'));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  const run = spawnSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
    { encoding: 'utf8' },
  );
  if (run.status !== 0) throw new Error(`openssl could not make a test certificate: ${run.error?.message ?? run.stderr.trim().split('\n').at(-1) ?? 'no output'}`);
  return { cert: await readFile(certFile, 'utf8'), certFile, keyFile, remove: () => rm(dir, { recursive: true, force: true }) };
}
