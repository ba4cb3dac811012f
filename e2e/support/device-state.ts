/**
 * What this origin keeps in the browser's IndexedDB, read from the page:
 * the databases there, and whether the key store holds an account's keys.
 */
import type { Page } from '@playwright/test';

/** Names in the IndexedDB databases of this origin, and whether the key store still holds `userId`. */
export async function deviceState(page: Page, userId: string): Promise<{ databases: string[]; hasKeys: boolean }> {
  return page.evaluate(async (id) => {
    const databases = (await indexedDB.databases()).map((d) => d.name ?? '');
    if (!databases.includes('sealdrop-keys')) return { databases, hasKeys: false };
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const r = indexedDB.open('sealdrop-keys');
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error ?? new Error('open failed'));
    });
    try {
      if (!db.objectStoreNames.contains('identities')) return { databases, hasKeys: false };
      const count = await new Promise<number>((resolve, reject) => {
        const r = db.transaction('identities').objectStore('identities').count(id);
        r.onsuccess = () => resolve(r.result);
        r.onerror = () => reject(r.error ?? new Error('count failed'));
      });
      return { databases, hasKeys: count > 0 };
    } finally {
      db.close();
    }
  }, userId);
}
