/**
 * What this device keeps of an account, and forgetting it. The keys live in
 * `keys`, the lists and unfinished uploads in `storage`, the last account in
 * `auth`: only the UI may join them.
 */
import { forgetLastAccount } from '../../auth/last-account.ts';
import { forgetKeysOnThisDevice } from '../../keys/account-keys.ts';
import { forgetListCache } from '../../storage/list-cache.ts';
import { forgetUploads } from '../../storage/upload-journal.ts';

/**
 * "Forget my keys on this device": the account's private keys and every
 * cached file list (they name files). Rejects when the browser refuses.
 */
export async function forgetKeysAndLists(userId: string): Promise<void> {
  await forgetKeysOnThisDevice(userId);
  await forgetListCache();
}

/**
 * After the account is deleted: its keys, the cached lists, its unfinished
 * uploads (they name files), its activity log and the record of the last
 * account seen here. Rejects when the browser refuses one of them (the rest
 * are still tried first).
 */
export async function forgetAccountOnThisDevice(userId: string): Promise<void> {
  const results = await Promise.allSettled([forgetKeysAndLists(userId), forgetUploads(userId), forgetLastAccount(userId)]);
  const failed = results.find((r) => r.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
}
