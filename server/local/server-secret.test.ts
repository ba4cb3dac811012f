import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadOrCreateServerSecret, SERVER_SECRET_FILE, ServerSecretFileError } from './server-secret.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sealdrop-secret-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('loadOrCreateServerSecret', () => {
  it('makes 32 random bytes once, owner-only, and returns the same secret on every later start', async () => {
    const data = join(dir, 'data');
    const first = await loadOrCreateServerSecret(data);
    expect(Buffer.from(first, 'base64').byteLength).toBe(32);
    expect((await stat(join(data, SERVER_SECRET_FILE))).mode & 0o777).toBe(0o600);
    expect(await loadOrCreateServerSecret(data)).toBe(first);
    // Another data folder, another secret.
    expect(await loadOrCreateServerSecret(join(dir, 'other'))).not.toBe(first);
    expect((await readFile(join(data, SERVER_SECRET_FILE), 'utf8')).trim()).toBe(first);
  });

  it('refuses a damaged or too short secret file instead of replacing it', async () => {
    for (const content of ['not base64 !', Buffer.alloc(16, 7).toString('base64'), '']) {
      await writeFile(join(dir, SERVER_SECRET_FILE), content);
      await expect(loadOrCreateServerSecret(dir)).rejects.toBeInstanceOf(ServerSecretFileError);
      expect(await readFile(join(dir, SERVER_SECRET_FILE), 'utf8')).toBe(content);
    }
  });
});
