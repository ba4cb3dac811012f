import { describe, expect, it } from 'vitest';
import { startAzurite } from './azurite.ts';

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
});

