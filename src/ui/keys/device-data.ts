/**
 * What this device keeps of an account, and forgetting it. The keys live in
 * `keys`, the lists and unfinished uploads in `storage`, the last account in
 * `auth`: only the UI may join them.
 */
import { forgetLastAccount } from '../../auth/last-account.ts';
import { forgetKeysOnThisDevice } from '../../keys/account-keys.ts';
import { forgetContacts } from '../../keys/contacts.ts';
import { forgetListCache } from '../../storage/list-cache.ts';
import { forgetOutbox } from '../../storage/outbox.ts';
import { forgetUploadJournal, forgetUploads } from '../../storage/upload-journal.ts';
import { activityLogFor } from '../activity/activity.svelte.ts';

/**
 * "Forget my keys on this device" (on sign-out and on the keys page): the
 * account's private keys, every cached file list, the account's activity
 * log, the upload journal and the offline outbox (they name files and keep
 * sealed copies: a shared computer keeps none of them). Rejects when the
 * browser refuses.
 */
export async function forgetKeysAndLists(userId: string): Promise<void> {
  await forgetKeysOnThisDevice(userId);
  await forgetListCache();
  // Through the app's own instance, so it forgets its sealing key too.
  await activityLogFor(userId).clear();
  await forgetUploadJournal();
  await forgetOutbox();
  // Contacts are public data, but say whom this account shares with.
  await forgetContacts();
}

/**
 * After the account is deleted: its keys, the cached lists, its activity
 * log, its unfinished uploads (they name files) and the record of the last
 * account seen here. Rejects when the browser refuses one of them (the rest
 * are still tried first).
 */
export async function forgetAccountOnThisDevice(userId: string): Promise<void> {
  const results = await Promise.allSettled([forgetKeysAndLists(userId), forgetUploads(userId), forgetLastAccount(userId)]);
  const failed = results.find((r) => r.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
}
