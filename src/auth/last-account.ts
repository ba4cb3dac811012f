/**
 * Who the server last said the signed-in person is (`GET /me`: user id,
 * e-mail, name), remembered on this device so the app can open offline:
 * with it, the keys unlocked on this device and the sealed list cache are
 * found without asking the server. Not secret (no key, no file name), but
 * personal: it is kept in IndexedDB (`sealdrop-last-account`) and replaced
 * at every online start; clearing site data clears it.
 */
import { openDB } from 'idb';
import { meResponse } from '../contract/index.ts';
import type { Me } from './auth-setup.ts';

const DB_NAME = 'sealdrop-last-account';
const STORE = 'me';
const KEY = 'last';

function open(dbName: string) {
  return openDB(dbName, 1, {
    upgrade(database) {
      database.createObjectStore(STORE);
    },
  });
}

/** Remembers `me` as the last person seen online on this device. */
export async function rememberAccount(me: Me, dbName: string = DB_NAME): Promise<void> {
  const database = await open(dbName);
  try {
    await database.put(STORE, me, KEY);
  } finally {
    database.close();
  }
}

/** The last person seen online on this device, or null (never seen, or a record that does not parse). */
export async function lastAccount(dbName: string = DB_NAME): Promise<Me | null> {
  const database = await open(dbName);
  try {
    const parsed = meResponse.safeParse(await database.get(STORE, KEY));
    return parsed.success ? parsed.data : null;
  } finally {
    database.close();
  }
}

/** Forgets the last account seen on this device when it is `userId` (account deletion); another account's record stays. */
export async function forgetLastAccount(userId: string, dbName: string = DB_NAME): Promise<void> {
  const database = await open(dbName);
  try {
    const parsed = meResponse.safeParse(await database.get(STORE, KEY));
    if (!parsed.success || parsed.data.userId === userId) await database.delete(STORE, KEY);
  } finally {
    database.close();
  }
}
