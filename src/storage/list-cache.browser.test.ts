/** The IndexedDB listing cache in a real browser: sealed at rest, non-extractable key, tampered records dropped. */
import { openDB } from 'idb';
import { describe, expect, it } from 'vitest';
import { openListCache, SNAPSHOT_AFTER_CHANGES, type CachedFile } from './list-cache.ts';

const USER = 'a'.repeat(32);

function cached(n: number, name: string): CachedFile {
  const fileId = n.toString(16).padStart(32, '0');
  return { etag: `"${n}"`, file: { status: 'ok', fileId, createdAt: '2026-01-01T00:00:00.000Z', payloadBytes: 3, metadata: { name, type: 'text/plain', size: 3, lastModified: 1 }, sealedBy: '1234' } };
}

describe('listing cache (IndexedDB)', () => {
  it('keeps records sealed under a non-extractable key, survives reopening, and removes', async () => {
    const db = `list-cache-test-${crypto.randomUUID()}`;
    await openListCache(USER, db).put([cached(1, 'secret-holiday.jpg'), cached(2, 'b.txt')]);
    const reopened = openListCache(USER, db);
    const loaded = await reopened.load();
    const first = loaded.get(cached(1, '').file.fileId)?.file;
    expect(first?.status === 'ok' ? first.metadata.name : null).toBe('secret-holiday.jpg');
    expect(loaded.get(cached(2, '').file.fileId)?.etag).toBe('"2"');

    const raw = await openDB(db);
    const key: unknown = await raw.get('keys', USER);
    expect(key instanceof CryptoKey && !key.extractable).toBe(true);
    const records: { sealed: Uint8Array }[] = await raw.getAll('entries');
    const text = new TextDecoder('latin1').decode(records[0]?.sealed);
    expect(text.startsWith('SDCR')).toBe(true);
    expect(records.some((r) => new TextDecoder('latin1').decode(r.sealed).includes('holiday'))).toBe(false);
    raw.close();

    await reopened.remove([cached(1, '').file.fileId]);
    expect([...(await reopened.load()).keys()]).toEqual([cached(2, '').file.fileId]);
  });

  it('drops a tampered record or one moved to another file, and hides one user from another', async () => {
    const db = `list-cache-test-${crypto.randomUUID()}`;
    const cache = openListCache(USER, db);
    await cache.put([cached(1, 'one'), cached(2, 'two'), cached(3, 'three')]);
    const raw = await openDB(db);
    const one = await raw.get('entries', `${USER}/${cached(1, '').file.fileId}`);
    const sealed = (one as { sealed: Uint8Array }).sealed.slice();
    sealed[sealed.length - 1] = (sealed[sealed.length - 1] ?? 0) ^ 1;
    await raw.put('entries', { ...(one as object), sealed });
    // Record 3's bytes copied into record 2's slot: AAD names the record, so it does not open.
    const three = (await raw.get('entries', `${USER}/${cached(3, '').file.fileId}`)) as { sealed: Uint8Array };
    const two = (await raw.get('entries', `${USER}/${cached(2, '').file.fileId}`)) as object;
    await raw.put('entries', { ...two, sealed: three.sealed });
    raw.close();

    const loaded = await openListCache(USER, db).load();
    expect([...loaded.keys()]).toEqual([cached(3, '').file.fileId]);
    expect(await openListCache('b'.repeat(32), db).load()).toEqual(new Map());
  });

  it('keeps the change-log position beside the records, and forgets it when a record is lost', async () => {
    const db = `list-cache-test-${crypto.randomUUID()}`;
    const cache = openListCache(USER, db);
    expect(await cache.loadState()).toBeNull();
    await cache.put([cached(1, 'one'), cached(2, 'two')]);
    const state = { position: `${'f'.repeat(16)}.0.240`, reconciledAt: 1, unfinished: [] };
    await cache.saveState(state);
    expect(await openListCache(USER, db).loadState()).toEqual(state);
    expect(await openListCache('b'.repeat(32), db).loadState()).toBeNull();

    const raw = await openDB(db);
    const one = (await raw.get('entries', `${USER}/${cached(1, '').file.fileId}`)) as { sealed: Uint8Array };
    const sealed = one.sealed.slice();
    sealed[10] = (sealed[10] ?? 0) ^ 1;
    await raw.put('entries', { ...one, sealed });
    raw.close();
    const reopened = openListCache(USER, db);
    expect([...(await reopened.load()).keys()]).toEqual([cached(2, '').file.fileId]);
    // The position spoke for record 1 too: without it, the next listing reads the log from its start.
    expect(await reopened.loadState()).toBeNull();
  });

  it('keeps a large list as one sealed snapshot, drops it (and the position) when it is tampered with', async () => {
    const db = `list-cache-test-${crypto.randomUUID()}`;
    const cache = openListCache(USER, db);
    const many = Array.from({ length: SNAPSHOT_AFTER_CHANGES + 50 }, (_, i) => cached(i + 1, `file-${i + 1}.txt`));
    await cache.put(many);
    await cache.saveState({ position: `${'f'.repeat(16)}.0.9`, reconciledAt: 1, unfinished: [] });
    const raw = await openDB(db);
    // One snapshot record, no per-file record, and no name in the clear.
    expect(await raw.getAll('entries')).toEqual([]);
    const snapshot = (await raw.get('snapshots', USER)) as { sealed: Uint8Array };
    expect(new TextDecoder('latin1').decode(snapshot.sealed.subarray(0, 4))).toBe('SDCR');
    expect(new TextDecoder('latin1').decode(snapshot.sealed).includes('file-1.txt')).toBe(false);
    const loaded = await openListCache(USER, db).load();
    expect(loaded.size).toBe(many.length);
    const some = loaded.get(cached(77, '').file.fileId)?.file;
    expect(some?.status === 'ok' ? some.metadata.name : null).toBe('file-77.txt');

    const sealed = snapshot.sealed.slice();
    sealed[20] = (sealed[20] ?? 0) ^ 1;
    await raw.put('snapshots', { sealed }, USER);
    raw.close();
    const reopened = openListCache(USER, db);
    expect((await reopened.load()).size).toBe(0);
    expect(await reopened.loadState()).toBeNull();
  });

  it('adds and removes a few files as change records over the snapshot, and folds them into the next snapshot', async () => {
    const db = `list-cache-test-${crypto.randomUUID()}`;
    const cache = openListCache(USER, db);
    await cache.put(Array.from({ length: SNAPSHOT_AFTER_CHANGES }, (_, i) => cached(i + 1, `file-${i + 1}.txt`)));
    await cache.put([cached(1000, 'added.txt'), cached(5, 'renamed.txt')]);
    await cache.remove([cached(7, '').file.fileId]);
    const raw = await openDB(db);
    expect((await raw.getAll('entries')).length).toBe(3);
    const loaded = await openListCache(USER, db).load();
    expect(loaded.size).toBe(SNAPSHOT_AFTER_CHANGES);
    expect(loaded.has(cached(7, '').file.fileId)).toBe(false);
    const renamed = loaded.get(cached(5, '').file.fileId)?.file;
    expect(renamed?.status === 'ok' ? renamed.metadata.name : null).toBe('renamed.txt');
    // Enough changes: a new snapshot, and the change records it merged are gone.
    await cache.put(Array.from({ length: SNAPSHOT_AFTER_CHANGES }, (_, i) => cached(5000 + i, `more-${i}.txt`)));
    expect(await raw.getAll('entries')).toEqual([]);
    raw.close();
    expect((await openListCache(USER, db).load()).size).toBe(2 * SNAPSHOT_AFTER_CHANGES);
  });

  it('never loses another tab’s change when it writes a new snapshot', async () => {
    const db = `list-cache-test-${crypto.randomUUID()}`;
    const tabA = openListCache(USER, db);
    await tabA.put([cached(1, 'one.txt')]);
    await tabA.load();
    // Tab B, meanwhile, lists file 1 changed (a new manifest, so a new ETag) and file 2 added.
    const tabB = openListCache(USER, db);
    await tabB.put([{ ...cached(1, 'one-renamed.txt'), etag: '"1-b"' }, cached(2, 'two.txt')]);
    // Tab A writes a snapshot from what it knew: B's records stay.
    await tabA.put(Array.from({ length: SNAPSHOT_AFTER_CHANGES }, (_, i) => cached(100 + i, `a-${i}.txt`)));
    const loaded = await openListCache(USER, db).load();
    const one = loaded.get(cached(1, '').file.fileId)?.file;
    expect(one?.status === 'ok' ? one.metadata.name : null).toBe('one-renamed.txt');
    expect(loaded.has(cached(2, '').file.fileId)).toBe(true);
    expect(loaded.size).toBe(SNAPSHOT_AFTER_CHANGES + 2);
  });
});
