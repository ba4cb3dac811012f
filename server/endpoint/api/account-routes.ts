/**
 * Deleting an account (issue 20 item 5; src/contract/account.ts,
 * docs/CONTRACTS.md §2.3). The server removes, for the verified caller only,
 * everything stored for them, in this order:
 *
 * 1. their links: each `shares/<shareId>` record named by their
 *    `share-index/<userId>/…` entries, then the entry (a link stops working
 *    at once, before any file is touched);
 * 1b. their file requests: each `requests/<requestId>` record named by
 *    their `request-index/<userId>/…` entries, then the entry;
 * 2. `files/<userId>/` (payloads, manifests, declarations, markers, and
 *    uploads that have only uncommitted blocks), then `received/<userId>/`
 *    (what senders sent through their requests);
 * 3. `index/<userId>/` (the change log);
 * 4. `keys/<userId>/` (public identity, rotation statements, recovery copy,
 *    drive-key copy): the write-once rule's one exception;
 * 5. the directory entry of the caller's verified address, if it names them;
 * 6. the marker `account-deletions/<userId>`, last.
 *
 * Each call removes at most `blobsPerCall` blobs and stops starting new
 * pages after `msPerCall`, then answers `done: false`; the client calls
 * again. Every call lists from the start of each prefix (what it deleted is
 * gone), so a call cut anywhere loses nothing: the next one carries on. The
 * first call (no marker yet) needs a sign-in from the last five minutes and
 * writes the marker; while it exists the account takes no new keys or
 * uploads (routes.ts `refuseWhileDeleting`) and further calls need no fresh
 * sign-in. A call after the end finds nothing and answers `done: true`.
 * Blobs of other users, including files they shared with this one, are
 * never under these prefixes and are never touched.
 */
import { ACCOUNT_ROUTES } from '../../../src/contract/index.ts';
import type { Caller } from '../auth/token-verifier.ts';
import { accountDeletionBlob, directoryBlob, userFilesPrefix, userIndexPrefix, userKeysPrefix } from '../storage/blob-layout.ts';
import { mustCaller, requireFreshSignIn, route, type Route, type RouteServices } from './routes.ts';
import { directoryEntry } from './server-schemas.ts';
import { ownerShareIndexPrefix, shareBlob, shareIdOfIndexBlob } from './share-routes.ts';
import { inboxPrefix, ownerPeopleIndexPrefix, removePersonShareByIndex } from './people-routes.ts';
import { receivedPrefix, requestBlob, requestIdOfIndexBlob, requestIndexPrefix } from './request-routes.ts';

/** Default blobs removed per call: 100,000 blobs take 100 calls. */
export const DEFAULT_DELETE_BLOBS_PER_CALL = 1000;
/** Default time after which a call starts no new page (well inside any gateway's timeout). */
export const DEFAULT_DELETE_MS_PER_CALL = 10_000;
/** Deletes in flight at once. */
const DELETE_CONCURRENCY = 16;
/** Largest listing page (storage's own maximum is 5,000). */
const LIST_PAGE = 1000;

/** What one call may still spend. */
interface Budget {
  blobs: number;
  deadline: number;
}

const spent = (b: Budget): boolean => b.blobs <= 0 || Date.now() >= b.deadline;

/** Runs `work` over `items`, at most {@link DELETE_CONCURRENCY} at once. */
async function inParallel<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++];
      if (item !== undefined) await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(DELETE_CONCURRENCY, items.length) }, worker));
}

/**
 * Deletes every blob under `prefix`, page by page from the start, calling
 * `remove` for each, until none is left (resolves true) or the budget is
 * spent (false). Adds what it removed to `count`.
 */
async function drain(
  services: RouteServices,
  prefix: string,
  budget: Budget,
  count: { deleted: number },
  remove: (name: string) => Promise<number>,
): Promise<boolean> {
  for (;;) {
    if (spent(budget)) return false;
    const page = await services.store.list(prefix, { maxPageSize: Math.min(budget.blobs, LIST_PAGE), includeUncommitted: true });
    if (page.blobs.length === 0) return true;
    await inParallel(page.blobs, async (b) => {
      const removed = await remove(b.name);
      count.deleted += removed;
    });
    budget.blobs -= page.blobs.length;
  }
}

/** Deletes the directory entry of the caller's verified address when it names the caller (another user's claim is left alone). */
async function removeDirectoryEntry(services: RouteServices, c: Caller): Promise<number> {
  if (c.email === null) return 0;
  const name = directoryBlob(c.email, services.nameKey);
  const blob = await services.store.readSmall(name, 1024);
  if (blob === null) return 0;
  let json: unknown = null;
  try {
    json = JSON.parse(new TextDecoder().decode(blob.bytes));
  } catch {
    // Not ours to judge: a malformed entry is left as it is.
  }
  const entry = directoryEntry.safeParse(json);
  if (!entry.success || entry.data.userId !== c.userId) return 0;
  await services.store.delete(name);
  return 1;
}

/** The account routes, in the order of ACCOUNT_ROUTES. */
export const accountRoutes: Route[] = [
  route(ACCOUNT_ROUTES.deleteAccount, async ({ caller, services }) => {
    const c = mustCaller(caller);
    const marker = accountDeletionBlob(c.userId);
    const started = (await services.store.stat(marker)) === null;
    if (started) {
      // Deleting is the one act a stolen token must not do on its own: it needs a fresh sign-in, as a passphrase change does.
      requireFreshSignIn(c, services.now());
      const note = new TextEncoder().encode(JSON.stringify({ v: 1, startedAt: services.now().toISOString() }));
      await services.store.createIfAbsent(marker, note, 'application/json');
    }
    const budget: Budget = { blobs: services.accountDeletion.blobsPerCall, deadline: Date.now() + services.accountDeletion.msPerCall };
    const count = { deleted: 0 };
    const store = services.store;

    let done = await drain(services, ownerShareIndexPrefix(c.userId), budget, count, async (name) => {
      const shareId = shareIdOfIndexBlob(c.userId, name);
      // The record first: the link stops working before its index entry goes.
      if (shareId !== null) await store.delete(shareBlob(shareId));
      await store.deleteWithBlocks(name);
      return shareId === null ? 1 : 2;
    });
    // Files shared with people: each record first (the recipient's grants stop), then the inbox pointer and index.
    if (done) done = await drain(services, ownerPeopleIndexPrefix(c.userId), budget, count, (name) => removePersonShareByIndex(services, name));
    // The user's own inbox: pointers only; the records belong to the people who shared (their files are untouched).
    if (done) done = await drain(services, inboxPrefix(c.userId), budget, count, async (name) => {
      await store.delete(name);
      return 1;
    });
    if (done) {
      done = await drain(services, requestIndexPrefix(c.userId), budget, count, async (name) => {
        const requestId = requestIdOfIndexBlob(c.userId, name);
        // The record first: the request stops taking files before its index entry goes.
        if (requestId !== null) await store.delete(requestBlob(requestId));
        await store.deleteWithBlocks(name);
        return requestId === null ? 1 : 2;
      });
    }
    for (const prefix of [userFilesPrefix(c.userId), receivedPrefix(c.userId), userIndexPrefix(c.userId), userKeysPrefix(c.userId)]) {
      if (!done) break;
      done = await drain(services, prefix, budget, count, async (name) => {
        await store.deleteWithBlocks(name);
        return 1;
      });
    }
    if (done) {
      count.deleted += await removeDirectoryEntry(services, c);
      await store.delete(marker);
    }
    services.audit({ time: services.now().toISOString(), event: 'account-delete', user: c.userId, started, deleted: count.deleted, done });
    return { deleted: count.deleted, done };
  }),
];
