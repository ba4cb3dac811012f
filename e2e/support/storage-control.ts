/**
 * The end-to-end stack's test-only storage control: a tiny HTTP server on
 * 127.0.0.1 that kills Azurite and starts it again, so a spec can stage a
 * storage outage. Started only by e2e/support/serve.ts when
 * SEALDROP_E2E_CONTROL_PORT is set (playwright.config.ts sets it); nothing
 * in server/ or `npm start` starts it. Specs call it with {@link crashStorage}
 * and {@link reviveStorage}.
 */
import { createServer } from 'node:http';
import type { AzuriteHandle } from '../../server/local/azurite.ts';
import { E2E_CONTROL_PORT } from './ports.ts';

/** Listens on `127.0.0.1:port`; resolves once listening, with the way to close it. */
export function startStorageControl(port: number, faults: Pick<AzuriteHandle, 'crash' | 'revive'>): Promise<{ close(): Promise<void> }> {
  const actions = new Map([
    ['/storage/crash', () => faults.crash()],
    ['/storage/revive', () => faults.revive()],
  ]);
  const server = createServer((req, res) => {
    const action = req.method === 'POST' ? actions.get(req.url ?? '') : undefined;
    if (action === undefined) {
      res.writeHead(404).end();
      return;
    }
    action().then(
      () => res.writeHead(204).end(),
      (err: unknown) => res.writeHead(500, { 'Content-Type': 'text/plain' }).end(err instanceof Error ? err.message : 'failed'),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () =>
      resolve({ close: () => new Promise<void>((done) => server.close(() => done())) }),
    );
  });
}

async function call(path: string): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${E2E_CONTROL_PORT}${path}`, { method: 'POST' });
  if (res.status !== 204) throw new Error(`Storage control ${path} answered ${res.status}: ${await res.text()}`);
}

/** Kills the e2e stack's Azurite with SIGKILL and keeps it down until {@link reviveStorage}. */
export function crashStorage(): Promise<void> {
  return call('/storage/crash');
}

/** Starts the e2e stack's Azurite again (same port, same data folder); resolves once it answers. */
export function reviveStorage(): Promise<void> {
  return call('/storage/revive');
}
