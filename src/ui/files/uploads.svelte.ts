/**
 * The upload list: a mirror of storage's upload queue with what the page
 * adds to it: automatic retries of transient failures (the policy is
 * storage's, upload-retry.ts: a few quick ones, then waiting for storage for
 * as long as the outage lasts), holding new uploads while the session is
 * expired, and the problem of each failed upload in plain words.
 */
import { SvelteMap } from 'svelte/reactivity';
import type { UploadRecord } from '../../storage/upload-journal.ts';
import type { UploadItem } from '../../storage/upload-queue.ts';
import { nextUploadRetry, UPLOAD_RETRY_POLICY, type UploadRetryPolicy } from '../../storage/upload-retry.ts';
import { handleError, type UserMessage } from '../base/handle-error.ts';
import type { DriveServices, UploadQueueLike } from './drive-services.ts';
import { folderOf, type DriveFile } from './file-tree.ts';
import type { DriveNotices } from './notices.svelte.ts';
import type { PickedFile } from './picked-files.ts';
import { pauseOrOnline } from './wait-for-network.ts';
import { recordActivity } from '../activity/activity.svelte.ts';

/** An upload as the list shows it: storage's snapshot plus what the page knows (waiting to retry, the problem in words). */
export interface UploadView {
  item: UploadItem;
  /**
   * `waiting-for-storage`: a try failed on a transient error (storage or the endpoint not answering, after the
   *   request-level retries of storage/retry.ts); it is tried again on its own (quickly, then at growing pauses,
   *   without end) and keeps this state through the tries until one gets further.
   * `waiting`: the same while the browser says it is offline: waiting for the connection.
   * `held`: queued but not started, and the session expired: it cannot start before a new sign-in.
   */
  state: UploadItem['status'] | 'waiting' | 'waiting-for-storage' | 'held';
  problem: UserMessage | null;
}

/** Waits before an automatic retry; rejects when `signal` aborts. */
export type RetryWait = (delayMs: number, signal: AbortSignal) => Promise<void>;

/** Waits `delayMs`, or less when the browser's `online` event fires; while offline, until it does. */
export const waitForRetry: RetryWait = pauseOrOnline;

/** What the upload list is given. */
export interface UploadsOptions {
  queue: UploadQueueLike;
  notices: DriveNotices;
  /** Tells about a file uploaded from this page, for the listing. */
  onUploaded: (file: DriveFile) => void;
  onSessionExpired?: DriveServices['onSessionExpired'];
  onSessionRestored?: DriveServices['onSessionRestored'];
  /** How to wait before an automatic retry (tests pass their own clock). */
  wait?: RetryWait;
  /** When to retry on its own (default UPLOAD_RETRY_POLICY). */
  retryPolicy?: UploadRetryPolicy;
  /** Jitter of the pauses while waiting for storage (default: the CSPRNG; tests pass their own). */
  random?: () => number;
  /** Whether the browser is online (default: `navigator.onLine`). */
  online?: () => boolean;
}

/** The upload list with its verbs. */
export class Uploads {
  readonly views: UploadView[] = $derived(this.#views());
  /** The session expired: new uploads wait for a new sign-in (the app shows the banner). */
  sessionExpired = $state(false);

  #items = $state.raw<readonly UploadItem[]>([]);
  /** Uploads waiting to be tried again on their own, by id, and what for. */
  #waiting = new SvelteMap<string, 'storage' | 'connection'>();
  readonly #queue: UploadQueueLike;
  readonly #notices: DriveNotices;
  readonly #onUploaded: (file: DriveFile) => void;
  readonly #wait: RetryWait;
  readonly #policy: UploadRetryPolicy;
  readonly #random: (() => number) | undefined;
  readonly #online: () => boolean;
  readonly #closed = new AbortController();
  /* eslint-disable svelte/prefer-svelte-reactivity -- private bookkeeping of the queue's changes; nothing renders or derives from it */
  readonly #picked = new Map<string, PickedFile>();
  readonly #seen = new Map<string, UploadItem['status']>();
  readonly #retries = new Map<string, number>();
  /** Bytes done when an upload began waiting: any other count in a later try means storage answered again. */
  readonly #stalledAt = new Map<string, number>();
  readonly #waits = new Map<string, AbortController>();
  /* eslint-enable svelte/prefer-svelte-reactivity */
  readonly #unsubscribe: (() => void)[];

  constructor(options: UploadsOptions) {
    this.#queue = options.queue;
    this.#notices = options.notices;
    this.#onUploaded = options.onUploaded;
    this.#wait = options.wait ?? waitForRetry;
    this.#policy = options.retryPolicy ?? UPLOAD_RETRY_POLICY;
    this.#random = options.random;
    this.#online = options.online ?? (() => typeof navigator === 'undefined' || navigator.onLine);
    this.#unsubscribe = [
      options.queue.subscribe((items) => this.#changed(items)),
      options.onSessionExpired?.(() => this.#sessionEnded()) ?? (() => {}),
      options.onSessionRestored?.(() => this.#sessionRestored()) ?? (() => {}),
    ];
  }

  /** Queues a file for sealing and upload (under `uploadId` when it was journaled before, e.g. before a reload). */
  add(picked: PickedFile, uploadId?: string, sealedAtRest?: boolean): void {
    const id = this.#queue.add(picked.file, { relativePath: picked.relativePath, handle: picked.handle, uploadId, sealedAtRest });
    this.#picked.set(id, picked);
  }

  /** Queues the resumption of a journaled upload with the very file it was made from. */
  resume(record: UploadRecord, file: File): void {
    const relativePath = record.source.relativePath;
    this.#picked.set(this.#queue.resume(record, file), relativePath === undefined ? { file } : { file, relativePath });
  }

  /** True while the queue has this server file id and has not finished it. */
  isUnfinished(fileId: string): boolean {
    return this.#items.some((i) => i.fileId === fileId && i.status !== 'done');
  }

  /** True when the queue has this server file id or queue id, in any state. */
  has(id: string): boolean {
    return this.#items.some((i) => i.fileId === id || i.uploadId === id);
  }

  /** Stops a queued, running or waiting upload; nothing of it is listed. */
  cancel(id: string): void {
    // A failed one (waiting to retry, or held for sign-in) has nothing running: stop its wait and take it off the list.
    if (this.#items.find((i) => i.id === id)?.status === 'failed') {
      this.#waits.get(id)?.abort();
      this.#queue.cancel(id);
      this.#queue.remove(id);
      return;
    }
    this.#queue.cancel(id);
  }

  /** Tries a failed upload again; it resumes from the blocks already stored when it can. */
  retry(id: string): void {
    this.#answered(id);
    this.#queue.retry(id);
  }

  /** Removes finished, failed and cancelled rows from the list. */
  clearFinished(): void {
    for (const view of this.views) {
      if (view.state === 'done' || view.state === 'failed' || view.state === 'cancelled') this.#queue.remove(view.item.id);
    }
  }

  /** Stops automatic retries and listening (sign-out, page teardown); uploads in the queue keep their journal. */
  close(): void {
    this.#closed.abort();
    for (const wait of this.#waits.values()) wait.abort();
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
  }

  /** Queued files cannot get a grant now: hold them; running ones go on with the storage grants they have. */
  #sessionEnded(): void {
    if (this.sessionExpired) return;
    this.sessionExpired = true;
    this.#queue.hold();
  }

  /**
   * Signed in again in this page: held files start, and uploads that failed
   * only because the session had expired go again (one that had started
   * resumes from the blocks already stored).
   */
  #sessionRestored(): void {
    if (!this.sessionExpired) return;
    this.sessionExpired = false;
    this.#queue.release();
    for (const item of this.#items) {
      if (item.status === 'failed' && handleError(item.error).kind === 'session-expired') this.retry(item.id);
    }
  }

  /**
   * Cannot go on before a new sign-in (it never got a file id): signing in
   * again in the pop-up starts it; after a full-page sign-in its queued
   * journal record offers it again.
   */
  #held(item: UploadItem): boolean {
    if (!this.sessionExpired) return false;
    return item.status === 'queued' || (item.status === 'failed' && item.fileId === null && handleError(item.error).kind === 'session-expired');
  }

  #views(): UploadView[] {
    return this.#items.map((item) => ({
      item,
      state: this.#stateOf(item),
      problem: item.status === 'failed' && !this.#held(item) ? uploadProblem(item.error) : null,
    }));
  }

  /** Reacts to what changed in the queue: lists finished files, schedules automatic retries, announces. */
  #changed(items: readonly UploadItem[]): void {
    this.#items = items;
    for (const item of items) {
      this.#stillWaiting(item);
      const before = this.#seen.get(item.id);
      if (before === item.status) continue;
      this.#seen.set(item.id, item.status);
      if (item.status === 'done' && item.fileId !== null) this.#uploaded(item, item.fileId);
      if (item.status === 'failed') this.#failed(item);
    }
    for (const id of this.#seen.keys()) {
      if (!items.some((i) => i.id === id)) {
        this.#seen.delete(id);
        this.#picked.delete(id);
        this.#answered(id);
      }
    }
  }

  #stateOf(item: UploadItem): UploadView['state'] {
    const waiting = this.#waiting.get(item.id);
    if (waiting !== undefined) return waiting === 'storage' ? 'waiting-for-storage' : 'waiting';
    return this.#held(item) ? 'held' : item.status;
  }

  /**
   * A failed upload: a transient failure is tried again on its own, quickly
   * at first, then for as long as storage does not answer; a lasting one is
   * said once and waits for the person.
   */
  #failed(item: UploadItem): void {
    const problem = handleError(item.error);
    if (problem.kind === 'session-expired') this.#sessionEnded();
    const retries = this.#retries.get(item.id) ?? 0;
    const next = nextUploadRetry(item.error, retries, this.#policy, this.#random === undefined ? {} : { random: this.#random });
    if (next === null) {
      this.#answered(item.id);
      this.#notices.announce(`${item.name} was not uploaded. ${uploadProblem(item.error).title}`);
      return;
    }
    this.#retries.set(item.id, retries + 1);
    // Said once, when the quick retries run out; the row keeps saying it.
    if (next.waitingForStorage && retries === this.#policy.retries) {
      this.#notices.announce(`${item.name} is waiting for storage. It continues on its own when storage answers.`);
    }
    const wait = new AbortController();
    this.#waits.set(item.id, wait);
    this.#waiting.set(item.id, this.#online() ? 'storage' : 'connection');
    this.#stalledAt.set(item.id, item.progress.bytesDone);
    this.#wait(next.delayMs, AbortSignal.any([wait.signal, this.#closed.signal]))
      .then(
        () => this.#queue.retry(item.id),
        () => undefined,
      )
      .finally(() => {
        // The state stays through the tries until one gets further (#stillWaiting).
        if (this.#waits.get(item.id) === wait) this.#waits.delete(item.id);
      });
  }

  /**
   * An upload waiting for storage (or the connection) keeps that state while
   * its tries fail (each try is "queued", then "uploading" for a while); it
   * ends when a try reports progress (a block stored, or the block list
   * read back on a resume: storage answers again, and the next outage gets
   * quick retries again; a start-over counts from zero), finishes, or is
   * cancelled.
   */
  #stillWaiting(item: UploadItem): void {
    const stalledAt = this.#stalledAt.get(item.id);
    if (stalledAt === undefined) return;
    const further = item.status === 'uploading' && item.progress.bytesDone !== stalledAt;
    if (further || item.status === 'done' || item.status === 'cancelled') this.#answered(item.id);
  }

  /** Forgets the automatic retries of `id`: it finished, was removed, got going again or was retried by the person. */
  #answered(id: string): void {
    this.#retries.delete(id);
    this.#stalledAt.delete(id);
    if (!this.#waits.has(id)) this.#waiting.delete(id);
  }

  #uploaded(item: UploadItem, fileId: string): void {
    const picked = this.#picked.get(item.id);
    this.#onUploaded({
      status: 'ok',
      fileId,
      name: item.name,
      type: picked?.file.type ?? '',
      size: item.size,
      lastModified: picked?.file.lastModified ?? Date.now(),
      // eslint-disable-next-line svelte/prefer-svelte-reactivity -- a one-off timestamp string, nothing observes the Date
      createdAt: new Date().toISOString(),
      folder: folderOf(item.relativePath),
    });
    this.#notices.announce(`${item.name} is sealed and uploaded.`);
    recordActivity({ kind: 'upload', fileName: item.relativePath ?? item.name });
  }
}

/**
 * The problem of a failed upload in plain words. A missing blob during an
 * upload means storage lost what was sent, not that anyone deleted the file
 * (the server never says so): Retry starts it over.
 */
function uploadProblem(error: unknown): UserMessage {
  const problem = handleError(error);
  if (problem.kind !== 'not-found') return problem;
  return { kind: 'not-found', title: 'Storage no longer has the part already sent.', action: 'Retry to upload the file again from the start.' };
}
