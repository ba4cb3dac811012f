import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { describe, expect, it } from 'vitest';
import { startAzurite } from './azurite.ts';

/** Resolves once `check` answers true (polled every 50 ms); rejects after `ms`. */
async function until(check: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('startAzurite', () => {
  it('starts on a free port, refuses a taken port with a one-line error, and stops', async () => {
    const azurite = await startAzurite({ inMemory: true, port: 0 });
    try {
      expect(azurite.blobEndpoint).toBe(`http://127.0.0.1:${azurite.port}/devstoreaccount1`);
      const res = await fetch(`http://127.0.0.1:${azurite.port}/devstoreaccount1?comp=list`);
      expect(res.status).toBe(403); // reachable; anonymous listing is refused
      await expect(startAzurite({ inMemory: true, port: azurite.port })).rejects.toThrow(/^Azurite did not start: port \d+ on 127\.0\.0\.1 is already in use\.$/);
    } finally {
      await azurite.stop();
    }
    await expect(fetch(`http://127.0.0.1:${azurite.port}/`)).rejects.toThrow();
  });

  it('needs exactly one of location or inMemory', async () => {
    await expect(startAzurite({})).rejects.toThrow(/exactly one/);
    await expect(startAzurite({ inMemory: true, location: '/tmp/x' })).rejects.toThrow(/exactly one/);
  });

  it('starts Azurite again behind the same port when it dies, and runs the restart hooks', async () => {
    const azurite = await startAzurite({ inMemory: true, port: 0 });
    try {
      const first = azurite.pid;
      const restarted = new Promise<void>((done) => azurite.onRestart(async () => done()));
      if (first === undefined) throw new Error('no emulator process');
      process.kill(first, 'SIGKILL');
      await restarted;
      expect(azurite.pid).not.toBe(first);
      // Same public port, a live emulator behind it (anonymous listing is refused by Azurite, not 502 from the proxy).
      const res = await fetch(`http://127.0.0.1:${azurite.port}/devstoreaccount1?comp=list`);
      expect(res.status).toBe(403);
      expect(res.headers.get('x-ms-error-code')).toBe('AuthorizationFailure');
    } finally {
      await azurite.stop();
    }
    // Two emulator starts (about 5 s each when idle, 25 s seen on a loaded 2-core machine).
  }, 90_000);

  it('keeps the data of a killed Azurite on its --location, says so in one plain line, and holds a deliberate crash down until revived', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sealdrop-azurite-'));
    const lines: string[] = [];
    const azurite = await startAzurite({ location: dir, port: 0, log: (line) => lines.push(line) });
    try {
      const service = new BlobServiceClient(azurite.blobEndpoint, new StorageSharedKeyCredential(azurite.accountName, azurite.accountKey));
      const container = service.getContainerClient('kept');
      await container.create();
      const bytes = Buffer.from('seven years of photos');
      await container.getBlockBlobClient('a.bin').upload(bytes, bytes.length);
      // Azurite saves its metadata every 5 s; a crash loses only what changed since.
      await until(async () => (await readFile(join(dir, '__azurite_db_blob__.json'), 'utf8').catch(() => '')).includes('a.bin'));
      const readBack = async (): Promise<Buffer> => container.getBlockBlobClient('a.bin').downloadToBuffer();

      const first = azurite.pid;
      if (first === undefined) throw new Error('no emulator process');
      process.kill(first, 'SIGKILL');
      await until(() => lines.length === 1);
      expect(lines).toEqual([`Azurite exited unexpectedly (SIGKILL); restarted it on the same port, its data kept in ${dir}.`]);
      expect(azurite.pid).not.toBe(first);
      expect(await readBack()).toEqual(bytes);

      await azurite.crash();
      const down = await fetch(`${azurite.blobEndpoint}/kept/a.bin`);
      expect(down.status).toBe(502);
      expect(down.headers.get('x-ms-error-code')).toBe('StorageUnavailable');
      await azurite.revive();
      expect(await readBack()).toEqual(bytes);
      expect(lines.slice(1)).toEqual([
        'Azurite killed on purpose (fault test); it stays down until revived.',
        `Azurite revived on the same port, its data kept in ${dir}.`,
      ]);
    } finally {
      await azurite.stop();
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
