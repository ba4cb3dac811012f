/** The IndexedDB upload journal in a real browser (records survive reopening the database). */
import { openDB } from 'idb';
import { describe, expect, it } from 'vitest';
import { openUploadJournal, type QueuedRecord, type UploadRecord } from './upload-journal.ts';

const DIGEST = new Uint8Array(32).fill(7);

function record(fileId: string, userId: string, createdAt: number): UploadRecord {
  return {
    version: 2,
    fileId,
    userId,
    draft: new Uint8Array([1, 2, 3]),
    source: { name: 'a.bin', size: 10, lastModified: 5, relativePath: 'dir/a.bin' },
    segmentSize: 1024,
    segmentsPerBlock: 4,
    blockDigests: [null, DIGEST],
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
    expect(mine[0]?.draft).toEqual(new Uint8Array([1, 2, 3]));
    expect(mine[0]?.blockDigests).toEqual([null, DIGEST]);
    await reopened.delete('a'.repeat(32));
    expect((await reopened.list('alice')).map((r) => r.fileId)).toEqual(['b'.repeat(32)]);
    expect(await reopened.list('carol')).toEqual([]);
  });

  it('refuses to store a record that does not match the schema', async () => {
    const journal = openUploadJournal(`journal-test-${crypto.randomUUID()}`);
    await expect(journal.put({ ...record('not-hex', 'alice', 1) })).rejects.toThrow();
  });

  it('drops a version 1 record (a finished manifest, no block digests) when listing: it cannot be resumed safely', async () => {
    const name = `journal-test-${crypto.randomUUID()}`;
    const journal = openUploadJournal(name);
    await journal.put(record('a'.repeat(32), 'alice', 1));
    const { version: _v, draft: _d, blockDigests: _b, ...rest } = record('b'.repeat(32), 'alice', 2);
    const db = await openDB(name, 2);
    await db.put('uploads', { ...rest, version: 1, manifest: new Uint8Array([9]) });
    expect((await db.getAll('uploads')).length).toBe(2);
    expect((await journal.list('alice')).map((r) => r.fileId)).toEqual(['a'.repeat(32)]);
    expect((await db.getAll('uploads')).map((r: { fileId: string }) => r.fileId)).toEqual(['a'.repeat(32)]);
    db.close();
  });

  it('keeps queued files in their own store; a started record replaces its queued one in one put; a version 1 database is upgraded', async () => {
    const name = `journal-test-${crypto.randomUUID()}`;
    const old = await openDB(name, 1, { upgrade: (db) => db.createObjectStore('uploads', { keyPath: 'fileId' }).createIndex('by-user', 'userId') });
    await old.put('uploads', record('a'.repeat(32), 'alice', 1));
    old.close();

    const journal = openUploadJournal(name);
    const queued = (uploadId: string, createdAt: number): QueuedRecord => ({
      version: 1,
      uploadId,
      userId: 'alice',
      source: { name: `${uploadId}.bin`, size: 3, lastModified: 4 },
      createdAt,
    });
    await journal.putQueued(queued('q2', 2));
    await journal.putQueued(queued('q1', 1));
    expect((await journal.list('alice')).map((r) => r.fileId)).toEqual(['a'.repeat(32)]);
    expect((await openUploadJournal(name).listQueued('alice')).map((q) => q.uploadId)).toEqual(['q1', 'q2']);

    await journal.put({ ...record('b'.repeat(32), 'alice', 3), uploadId: 'q1' });
    expect((await journal.listQueued('alice')).map((q) => q.uploadId)).toEqual(['q2']);
    expect((await journal.list('alice')).find((r) => r.fileId === 'b'.repeat(32))?.uploadId).toBe('q1');
    await journal.deleteQueued('q2');
    expect(await journal.listQueued('alice')).toEqual([]);
  });
});
