/** The activity log in a real browser's IndexedDB: sealed at rest, newest first, one account apart from another, trimmed, cleared, tampering dropped. */
import { openDB } from 'idb';
import { describe, expect, it } from 'vitest';
import { forgetActivityLog, MAX_ACTIVITY_ENTRIES, openActivityLog } from './activity-log.ts';

const ANN = 'a'.repeat(32);
const BOB = 'b'.repeat(32);
const dbName = (): string => `activity-test-${crypto.randomUUID()}`;

describe('activity log (IndexedDB)', () => {
  it('keeps entries sealed under a non-extractable key, lists them newest first after reopening', async () => {
    const db = dbName();
    const log = openActivityLog(ANN, db);
    await log.add({ kind: 'upload', fileName: 'secret-merger.pdf', at: 1000 });
    await log.add({ kind: 'sign-in', at: 3000 });
    await log.add({ kind: 'share', fileName: 'notes.txt', detail: 'link', at: 2000 });
    const listed = await openActivityLog(ANN, db).list();
    expect(listed.map((e) => [e.at, e.kind, e.fileName, e.detail])).toEqual([
      [3000, 'sign-in', null, null],
      [2000, 'share', 'notes.txt', 'link'],
      [1000, 'upload', 'secret-merger.pdf', null],
    ]);

    const raw = await openDB(db);
    const key: unknown = await raw.get('keys', ANN);
    expect(key instanceof CryptoKey && !key.extractable).toBe(true);
    const records: { sealed: Uint8Array }[] = await raw.getAll('entries');
    expect(records).toHaveLength(3);
    for (const r of records) {
      const text = new TextDecoder('latin1').decode(r.sealed);
      expect(text.startsWith('SDCR')).toBe(true);
      expect(text).not.toContain('merger');
      expect(text).not.toContain('upload');
    }
    raw.close();
  });

  it('keeps accounts apart, drops a tampered entry, and clears one account only', async () => {
    const db = dbName();
    const ann = openActivityLog(ANN, db);
    const bob = openActivityLog(BOB, db);
    await ann.add({ kind: 'download', fileName: 'a.txt', at: 1 });
    await ann.add({ kind: 'open', fileName: 'b.txt', at: 2 });
    await bob.add({ kind: 'upload', fileName: 'bob.txt', at: 3 });
    expect((await bob.list()).map((e) => e.fileName)).toEqual(['bob.txt']);

    // Flip a byte of one of Ann's entries: it no longer opens and is dropped.
    const raw = await openDB(db);
    const records: { key: string; userId: string; at: number; sealed: Uint8Array }[] = await raw.getAll('entries');
    const victim = records.find((r) => r.userId === ANN && r.at === 1);
    if (victim === undefined) throw new Error('no entry to tamper with');
    const last = victim.sealed.length - 1;
    victim.sealed[last] = (victim.sealed[last] ?? 0) ^ 1;
    await raw.put('entries', victim);
    raw.close();
    expect((await openActivityLog(ANN, db).list()).map((e) => e.fileName)).toEqual(['b.txt']);

    await ann.clear();
    expect(await ann.list()).toEqual([]);
    expect((await bob.list()).map((e) => e.fileName)).toEqual(['bob.txt']);
    await forgetActivityLog(BOB, db);
    expect(await openActivityLog(BOB, db).list()).toEqual([]);
  });

  it('keeps at most MAX_ACTIVITY_ENTRIES per account, dropping the oldest', async () => {
    const db = dbName();
    const log = openActivityLog(ANN, db);
    // Seed up to the cap directly (sealing thousands through add would be slow), then add two through the log.
    await log.add({ kind: 'upload', fileName: 'first.txt', at: 1 });
    const raw = await openDB(db);
    const [template] = (await raw.getAll('entries')) as { key: string; userId: string; id: string; at: number; sealed: Uint8Array }[];
    if (template === undefined) throw new Error('no entry');
    const tx = raw.transaction('entries', 'readwrite');
    for (let i = 1; i < MAX_ACTIVITY_ENTRIES; i++) {
      void tx.store.put({ ...template, key: `${ANN}/filler-${i}`, id: `filler-${i}`, at: 10 + i });
    }
    await tx.done;
    raw.close();
    await log.add({ kind: 'open', fileName: 'newer.txt', at: 100_000 });
    await log.add({ kind: 'open', fileName: 'newest.txt', at: 100_001 });
    const check = await openDB(db);
    expect(await check.count('entries')).toBe(MAX_ACTIVITY_ENTRIES);
    const ats = ((await check.getAll('entries')) as { at: number }[]).map((r) => r.at);
    check.close();
    // The two oldest (first.txt at 1, filler at 11) went.
    expect(ats).not.toContain(1);
    expect(ats).not.toContain(11);
    expect(ats).toContain(100_001);
  });
});
