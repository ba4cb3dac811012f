/**
 * The real `DriveServices`: `src/storage` driven with the signed-in API
 * client and the unlocked identity.
 */
import type { UnlockedIdentity } from '../../keys/account-keys.ts';
import type { GrantApi } from '../../storage/grants.ts';
import { handleError } from '../base/handle-error.ts';
import { openListCache } from '../../storage/list-cache.ts';
import { listDriveProgressive, reconcileDrive } from '../../storage/listing.ts';
import { deleteFile, openFileStream, type DriveEntry as StoredEntry } from '../../storage/receiver.ts';
import { chooseSaveDestination, readAllForPreview, saveStream } from '../../storage/save-to-disk.ts';
import { discardUpload, inspectPendingUpload, pendingUploads } from '../../storage/sender.ts';
import { openOutbox } from '../../storage/outbox.ts';
import { openUploadJournal, recordLockKey } from '../../storage/upload-journal.ts';
import { liveUploadIds, whenAnyReleased } from '../../storage/upload-locks.ts';
import { UploadQueue } from '../../storage/upload-queue.ts';
import type { DriveServices, InterruptedUpload } from './drive-services.ts';
import { lazyLinkShareServices, lazyPersonShareServices } from '../share/lazy-share-services.ts';
import { folderOf, type DriveEntry } from './file-tree.ts';

/** Pause after a listing before the background walk starts, so it never competes with the first screen. */
const RECONCILE_DELAY_MS = 5_000;

/** Words for a payload the server holds without a manifest. */
const UNFINISHED_REASON = 'This upload did not finish. Delete it, then add the file again.';

/** What the adapter needs: the API client, the signed-in user's id and their unlocked keys. */
export interface StorageDriveContext {
  /** The API client; its `onSessionExpired` and `onSessionRestored` (the app's `ApiClient` has both) let the drive hold and release uploads. */
  api: GrantApi & { onSessionExpired?: (listener: () => void) => () => void; onSessionRestored?: (listener: () => void) => () => void };
  userId: string;
  identity: UnlockedIdentity;
}

/** Returns the drive's services over `src/storage` for one signed-in user. */
export function createStorageDriveServices(context: StorageDriveContext): DriveServices {
  const { api, userId, identity } = context;
  // The decrypted listing, sealed on this device (no IndexedDB: every listing starts cold).
  const cache = typeof indexedDB === 'undefined' ? undefined : openListCache(userId);
  // One background walk at a time: it adds what the change log missed, for the next listing.
  let reconciling: Promise<void> | null = null;
  const journal = openUploadJournal();
  const outbox = typeof indexedDB === 'undefined' ? null : openOutbox();
  // Uploads the last reading of the journal left out because another tab holds them.
  const skipped = new Set<string>();
  return {
    async list(onPartial): Promise<DriveEntry[]> {
      const listing = await listDriveProgressive(api, identity, {
        cache,
        onProgress: onPartial === undefined ? undefined : (p) => onPartial(p.files.map(toDriveEntry)),
      });
      if (listing.reconcileDue === true && cache !== undefined && reconciling === null) {
        reconciling = new Promise<void>((resolve) => setTimeout(resolve, RECONCILE_DELAY_MS))
          .then(() => reconcileDrive(api, identity, { cache }))
          .catch(() => undefined)
          .finally(() => (reconciling = null));
      }
      const entries: DriveEntry[] = listing.files.map(toDriveEntry);
      for (const entry of listing.unfinished) {
        entries.push({ status: 'unfinished', fileId: entry.fileId, createdAt: entry.createdAt, payloadBytes: entry.payloadBytes, reason: UNFINISHED_REASON });
      }
      return entries;
    },

    async listOffline(): Promise<DriveEntry[] | null> {
      if (cache === undefined) return null;
      const cached = await cache.load();
      return [...cached.values()].map(({ file }) => toDriveEntry(file));
    },

    uploads: new UploadQueue({ api, userId, identity, journal, outbox }),

    shares: typeof location === 'undefined' ? undefined : lazyLinkShareServices(api, identity, location.origin),
    people: typeof location === 'undefined' || typeof indexedDB === 'undefined' ? undefined : lazyPersonShareServices(api, identity, location.origin),
    // Re-sealing loads with its first use, like the share services (issue 19, app shell size).
    reseal: { reseal: (fileId, opts) => import('../share/reseal-services.ts').then((m) => m.createResealServices(api, identity).reseal(fileId, opts)) },

    open(fileId, { signal, onProgress }) {
      return openFileStream(api, fileId, identity, { signal, onProgress });
    },

    chooseSaveDestination,
    save: saveStream,
    // The Blob gets its type later, from the preview's allow-list.
    readForPreview: (stream, limit) => readAllForPreview(stream, { limit, type: '' }),

    async interrupted(): Promise<InterruptedUpload[]> {
      const records = await pendingUploads(userId);
      // Another tab's live upload is not interrupted (and must not be inspected or dropped: it may have stored nothing yet).
      const live = await liveUploadIds().catch(() => new Set<string>());
      const found: InterruptedUpload[] = [];
      for (const record of records) {
        if (live.has(recordLockKey(record))) {
          skipped.add(recordLockKey(record));
          continue;
        }
        try {
          const stored = await inspectPendingUpload(api, record);
          if (stored.state === 'partial') found.push({ record, bytesDone: stored.bytesDone });
          // Nothing stored under its id (interrupted between its grant and its first
          // byte, or deleted elsewhere): still journaled, so still offered; resuming
          // it starts afresh under a new key (resumeUpload), Discard forgets it.
          else if (stored.state === 'gone') found.push({ record, bytesDone: 0 });
          // Complete already: nothing left to resume.
          else await discardUpload(record);
        } catch {
          // Offline or the session expired: still offer it, without the percentage.
          found.push({ record, bytesDone: null });
        }
      }
      return found;
    },

    async queuedUploads() {
      const live = await liveUploadIds().catch(() => new Set<string>());
      const queued = await journal.listQueued(userId);
      for (const q of queued) if (live.has(q.uploadId)) skipped.add(q.uploadId);
      return queued.filter((q) => !live.has(q.uploadId));
    },

    async whenLiveElsewhereEnds(signal) {
      const ids = [...skipped];
      skipped.clear();
      await whenAnyReleased(ids, signal);
    },

    async forgetQueued(uploadId) {
      await journal.deleteQueued(uploadId);
      await outbox?.delete(uploadId);
    },

    async sealedUploads() {
      if (outbox === null) return [];
      const ids = await outbox.ids(userId);
      // A sealed copy whose upload is no longer journaled (finished, cancelled elsewhere) is dropped.
      const journaled = new Set([...(await journal.listQueued(userId)).map((q) => q.uploadId), ...(await journal.list(userId)).map(recordLockKey)]);
      const live = await liveUploadIds().catch(() => new Set<string>());
      for (const id of ids.filter((i) => !journaled.has(i) && !live.has(i))) await outbox.delete(id);
      return ids.filter((i) => journaled.has(i));
    },

    openSealed: (uploadId) => (outbox === null ? Promise.resolve(null) : outbox.open(uploadId, identity)),

    async discard(record) {
      try {
        await deleteFile(api, record.fileId);
      } catch (error) {
        // Nothing stored under that id (404) is what we wanted anyway.
        if (!isNotFound(error)) throw error;
      }
      await discardUpload(record);
      if (record.uploadId !== undefined) await outbox?.delete(record.uploadId);
    },

    onSessionExpired: api.onSessionExpired?.bind(api),
    onSessionRestored: api.onSessionRestored?.bind(api),

    async remove(fileId) {
      await deleteFile(api, fileId);
      // An unfinished upload of this device also has a journal record: forget it with the blobs.
      const records = await pendingUploads(userId).catch(() => []);
      for (const record of records.filter((r) => r.fileId === fileId)) await discardUpload(record);
    },
  };
}

function isNotFound(error: unknown): boolean {
  return handleError(error).kind === 'not-found';
}

/** A listed file as the file views show it. */
function toDriveEntry(entry: StoredEntry): DriveEntry {
  return entry.status === 'ok'
    ? {
        status: 'ok',
        fileId: entry.fileId,
        name: entry.metadata.name,
        type: entry.metadata.type,
        size: entry.metadata.size,
        lastModified: entry.metadata.lastModified,
        createdAt: entry.createdAt,
        folder: folderOf(entry.metadata.relativePath),
      }
    : { status: 'damaged', fileId: entry.fileId, createdAt: entry.createdAt, payloadBytes: entry.payloadBytes, reason: entry.problem };
}
