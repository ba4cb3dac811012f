/** The outbox's sealing round trip: what comes back is the file, only for the owner's keys. */
import { beforeAll, describe, expect, it } from 'vitest';
import { generateIdentityKeys, newDriveKey, WrongKeyError, type IdentityKeys } from '../crypto/index.ts';
import { memoryOutbox } from './outbox.ts';
import type { OwnerKeys } from './owner-keys.ts';

let owner: OwnerKeys;
let stranger: IdentityKeys;

beforeAll(async () => {
  const keys = await generateIdentityKeys();
  owner = { ...keys, driveKey: (await newDriveKey(keys)).driveKey };
  stranger = await generateIdentityKeys();
}, 60_000);

describe('outbox', () => {
  it('gives back the very file (bytes, name, type, date, folder path) across segment boundaries, and forgets it', async () => {
    const outbox = memoryOutbox();
    const bytes = Uint8Array.from({ length: 256 * 1024 * 2 + 17 }, (_, i) => (i * 31) % 251);
    const file = new File([bytes], 'offline notes.txt', { type: 'text/plain', lastModified: 1_700_000_123_000 });
    await outbox.put('u-1', 'alice', file, owner, 'work/offline notes.txt');
    expect(await outbox.ids('alice')).toEqual(['u-1']);
    expect(await outbox.ids('bob')).toEqual([]);

    const opened = await outbox.open('u-1', owner);
    expect(opened?.relativePath).toBe('work/offline notes.txt');
    expect(opened?.file.name).toBe('offline notes.txt');
    expect(opened?.file.type).toBe('text/plain');
    expect(opened?.file.lastModified).toBe(1_700_000_123_000);
    expect(new Uint8Array(await (opened?.file ?? new Blob()).arrayBuffer())).toEqual(bytes);

    await outbox.delete('u-1');
    expect(await outbox.open('u-1', owner)).toBeNull();
  });

  it('keeps an empty file, and opens for nobody but the owner', async () => {
    const outbox = memoryOutbox();
    await outbox.put('u-2', 'alice', new File([], 'empty.bin', { lastModified: 5 }), owner);
    expect((await outbox.open('u-2', owner))?.file.size).toBe(0);
    await expect(outbox.open('u-2', stranger)).rejects.toBeInstanceOf(WrongKeyError);
  });
});
