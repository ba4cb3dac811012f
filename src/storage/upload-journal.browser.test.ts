/** The IndexedDB upload journal in a real browser (records survive reopening the database). */
import { describe, expect, it } from 'vitest';
import { openUploadJournal, type UploadRecord } from './upload-journal.ts';

function record(fileId: string, userId: string, createdAt: number): UploadRecord {
  return {
    version: 1,
    fileId,
    userId,
    manifest: new Uint8Array([1, 2, 3]),
    source: { name: 'a.bin', size: 10, lastModified: 5, relativePath: 'dir/a.bin' },
    segmentSize: 1024,
    segmentsPerBlock: 4,
    createdAt,
  };
}

describe('upload journal (IndexedDB)', () => {
  it('stores, lists per user oldest first, survives reopening and deletes', async () => {
    const name = `journal-test-${crypto.randomUUID()}`;
    const journal = openUploadJournal(name);
    await journal.put(record('b'.repeat(32), 'alice', 2));
    await journal.put(record('a'.repeat(32), 'alice', 1));
    await journal.put(record('c'.repeat(32), 'bob', 3));
    const reopened = openUploadJournal(name);
    const mine = await reopened.list('alice');
    expect(mine.map((r) => r.fileId)).toEqual(['a'.repeat(32), 'b'.repeat(32)]);
    expect(mine[0]?.manifest).toEqual(new Uint8Array([1, 2, 3]));
    await reopened.delete('a'.repeat(32));
    expect((await reopened.list('alice')).map((r) => r.fileId)).toEqual(['b'.repeat(32)]);
    expect(await reopened.list('carol')).toEqual([]);
  });

  it('refuses to store a record that does not match the schema', async () => {
    const journal = openUploadJournal(`journal-test-${crypto.randomUUID()}`);
    await expect(journal.put({ ...record('not-hex', 'alice', 1) })).rejects.toThrow();
  });
});
