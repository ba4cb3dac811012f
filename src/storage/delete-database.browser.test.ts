/**
 * deleteDatabase in Chromium: the database is gone afterwards; a database
 * another connection holds open (another tab) counts as done, and the
 * browser deletes it once that connection lets go.
 */
import { openDB } from 'idb';
import { describe, expect, it } from 'vitest';
import { deleteDatabase } from './delete-database.ts';

async function names(): Promise<string[]> {
  return (await indexedDB.databases()).map((d) => d.name ?? '');
}

describe('deleteDatabase', () => {
  it('deletes a database, and resolves when another connection holds it open (deleted once it lets go)', async () => {
    const free = `delete-test-${crypto.randomUUID()}`;
    (await openDB(free, 1, { upgrade: (db) => void db.createObjectStore('s') })).close();
    expect(await names()).toContain(free);
    await deleteDatabase(free, 'refused');
    expect(await names()).not.toContain(free);

    const held = `delete-test-${crypto.randomUUID()}`;
    // A connection that does not let go when asked (no versionchange handler): the deletion is blocked.
    const other = await openDB(held, 1, { upgrade: (db) => void db.createObjectStore('s') });
    await deleteDatabase(held, 'refused');
    other.close();
    await expect.poll(names).not.toContain(held);
  });
});
