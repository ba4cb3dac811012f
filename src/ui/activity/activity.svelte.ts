/**
 * The app's one way to note what the person did (src/storage/activity-log.ts
 * keeps it, sealed, on this device only). Features call
 * {@link recordActivity}; it never throws and never waits, and does nothing
 * before the account is known or without IndexedDB.
 */
import { openActivityLog, type ActivityLog, type NewActivity } from '../../storage/activity-log.ts';
import { signedInAccount } from '../auth/signed-in-account.svelte.ts';

let current: { userId: string; log: ActivityLog } | null = null;

/** The activity log of `userId` on this device (one instance per account, so its sealing key is cached once). */
export function activityLogFor(userId: string): ActivityLog {
  if (current?.userId !== userId) current = { userId, log: openActivityLog(userId) };
  return current.log;
}

/** Records one event for the signed-in account; fire and forget. */
export function recordActivity(entry: NewActivity): void {
  const userId = signedInAccount.userId;
  if (userId === null || typeof indexedDB === 'undefined') return;
  // A log that cannot be written must never stop what the person is doing.
  void activityLogFor(userId)
    .add(entry)
    .catch(() => undefined);
}
