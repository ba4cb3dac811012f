/**
 * Web Locks for live uploads: a tab holds a lock named per upload (its
 * queue id) from the moment a file is queued until it is finished,
 * cancelled or removed, so another tab can tell "live elsewhere" from
 * "interrupted" (a closed or crashed tab's locks are released by the
 * browser). Where Web Locks are missing, nothing is held and every journal
 * record counts as interrupted, as before.
 */
import { uploadLockName } from './upload-journal.ts';

/** The part of `navigator.locks` this module uses (tests pass fakes). */
export interface LockManagerLike {
  request(name: string, options: { mode: 'exclusive' | 'shared'; signal?: AbortSignal }, callback: () => Promise<void>): Promise<unknown>;
  query(): Promise<{ held?: { name?: string }[] | undefined }>;
}

function browserLocks(): LockManagerLike | null {
  return typeof navigator !== 'undefined' && 'locks' in navigator ? navigator.locks : null;
}

/**
 * Takes the lock of upload `uploadId` and keeps it until the returned
 * function is called. Resolves once the lock is held (at once where Web
 * Locks are missing). If another tab holds it (it resumed the same
 * upload), waits for it.
 */
export async function holdUploadLock(uploadId: string, locks: LockManagerLike | null = browserLocks()): Promise<() => void> {
  if (locks === null) return () => undefined;
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => (release = resolve));
  await new Promise<void>((held, failed) => {
    locks.request(uploadLockName(uploadId), { mode: 'exclusive' }, () => {
      held();
      return released;
    }).catch(failed);
  });
  return release;
}

/** Returns the upload ids whose lock some tab of this origin holds now (empty where Web Locks are missing). */
export async function liveUploadIds(locks: LockManagerLike | null = browserLocks()): Promise<Set<string>> {
  const live = new Set<string>();
  if (locks === null) return live;
  const prefix = uploadLockName('');
  for (const lock of (await locks.query()).held ?? []) {
    if (lock.name?.startsWith(prefix) === true) live.add(lock.name.slice(prefix.length));
  }
  return live;
}

/**
 * Resolves once no tab holds the lock of any of `uploadIds` any more (a
 * shared request is granted only then, and let go at once), e.g. a tab
 * that was reloaded or closed a moment ago. Never resolves for an empty
 * list or where Web Locks are missing; rejects when `signal` aborts.
 */
export function whenAnyReleased(uploadIds: readonly string[], signal?: AbortSignal, locks: LockManagerLike | null = browserLocks()): Promise<void> {
  if (locks === null || uploadIds.length === 0) return new Promise<void>(() => undefined);
  return Promise.race(
    uploadIds.map((id) =>
      locks
        .request(uploadLockName(id), { mode: 'shared', ...(signal === undefined ? {} : { signal }) }, () => Promise.resolve())
        .then(() => undefined),
    ),
  );
}

