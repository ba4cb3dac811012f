/**
 * The upload list: a mirror of storage's upload queue with what the page
 * adds to it: automatic retries of transient failures (the policy is
 * storage's, upload-retry.ts), holding new uploads while the session is
 * expired, and the problem of each failed upload in plain words.
 */
import { SvelteSet } from 'svelte/reactivity';
import type { UploadRecord } from '../../storage/upload-journal.ts';
import type { UploadItem } from '../../storage/upload-queue.ts';
import { nextUploadRetry } from '../../storage/upload-retry.ts';
import { handleError, type UserMessage } from '../base/handle-error.ts';
import type { DriveServices, UploadQueueLike } from './drive-services.ts';
import { folderOf, type DriveFile } from './file-tree.ts';
import type { DriveNotices } from './notices.svelte.ts';
import type { PickedFile } from './picked-files.ts';
import { onlineAgain, pause } from './wait-for-network.ts';

/** An upload as the list shows it: storage's snapshot plus what the page knows (waiting to retry, the problem in words). */
export interface UploadView {
  item: UploadItem;
  /**
   * `waiting`: it failed and retries on its own once the connection is back.
   * `held`: queued but not started, and the session expired: it cannot start before a new sign-in.
   */
  state: UploadItem['status'] | 'waiting' | 'held';
  problem: UserMessage | null;
}

/** Waits before an automatic retry; rejects when `signal` aborts. */
export type RetryWait = (delayMs: number, signal: AbortSignal) => Promise<void>;

/** Waits until the browser is online, then `delayMs` more. */
export const waitOnlineThenPause: RetryWait = (delayMs, signal) => onlineAgain(signal).then(() => pause(delayMs, signal));

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
}

/** The upload list with its verbs. */
export class Uploads {
  readonly views: UploadView[] = $derived(this.#views());
  /** The session expired: new uploads wait for a new sign-in (the app shows the banner). */
  sessionExpired = $state(false);

  #items = $state.raw<readonly UploadItem[]>([]);
  #waiting = new SvelteSet<string>();
  readonly #queue: UploadQueueLike;
  readonly #notices: DriveNotices;
  readonly #onUploaded: (file: DriveFile) => void;
  readonly #wait: RetryWait;
  readonly #closed = new AbortController();
  /* eslint-disable svelte/prefer-svelte-reactivity -- private bookkeeping of the queue's changes; nothing renders or derives from it */
  readonly #picked = new Map<string, PickedFile>();
  readonly #seen = new Map<string, UploadItem['status']>();
  readonly #retries = new Map<string, number>();
  readonly #waits = new Map<string, AbortController>();
  /* eslint-enable svelte/prefer-svelte-reactivity */
  readonly #unsubscribe: (() => void)[];

  constructor(options: UploadsOptions) {
    this.#queue = options.queue;
    this.#notices = options.notices;
    this.#onUploaded = options.onUploaded;
    this.#wait = options.wait ?? waitOnlineThenPause;
    this.#unsubscribe = [
      options.queue.subscribe((items) => this.#changed(items)),
      options.onSessionExpired?.(() => this.#sessionEnded()) ?? (() => {}),
      options.onSessionRestored?.(() => this.#sessionRestored()) ?? (() => {}),
    ];
  }

  /** Queues a file for sealing and upload. */
  add(picked: PickedFile): void {
    this.#picked.set(this.#queue.add(picked.file, picked.relativePath), picked);
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

  /** True when the queue has this server file id, in any state. */
  has(fileId: string): boolean {
    return this.#items.some((i) => i.fileId === fileId);
  }

  /** Stops a queued, running or waiting upload; nothing of it is listed. */
  cancel(id: string): void {
    // A failed one (waiting to retry, or held for sign-in) has nothing running: stop its wait and take it off the list.
    if (this.#items.find((i) => i.id === id)?.status === 'failed') {
      this.#waits.get(id)?.abort();
      this.#queue.remove(id);
      return;
    }
    this.#queue.cancel(id);
  }

  /** Tries a failed upload again; it resumes from the blocks already stored when it can. */
  retry(id: string): void {
    this.#retries.delete(id);
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
   * Cannot go on before a new sign-in, and is not in the journal either
   * (never got a file id): signing in again in the pop-up starts it, a
   * full-page sign-in would drop it.
   */
  #held(item: UploadItem): boolean {
    if (!this.sessionExpired) return false;
    return item.status === 'queued' || (item.status === 'failed' && item.fileId === null && handleError(item.error).kind === 'session-expired');
  }

  #views(): UploadView[] {
    return this.#items.map((item) => ({
      item,
      state: this.#waiting.has(item.id) ? 'waiting' : this.#held(item) ? 'held' : item.status,
      problem: item.status === 'failed' && !this.#held(item) ? handleError(item.error) : null,
    }));
  }

  /** Reacts to what changed in the queue: lists finished files, schedules automatic retries, announces. */
  #changed(items: readonly UploadItem[]): void {
    this.#items = items;
    for (const item of items) {
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
        this.#retries.delete(id);
      }
    }
  }

  #failed(item: UploadItem): void {
    const problem = handleError(item.error);
    if (problem.kind === 'session-expired') this.#sessionEnded();
    const retries = this.#retries.get(item.id) ?? 0;
    const delay = nextUploadRetry(item.error, retries);
    if (delay === null) {
      this.#notices.announce(`${item.name} was not uploaded. ${problem.title}`);
      return;
    }
    this.#retries.set(item.id, retries + 1);
    const wait = new AbortController();
    this.#waits.set(item.id, wait);
    this.#waiting.add(item.id);
    this.#wait(delay, AbortSignal.any([wait.signal, this.#closed.signal]))
      .then(
        () => this.#queue.retry(item.id),
        () => undefined,
      )
      .finally(() => {
        this.#waits.delete(item.id);
        this.#waiting.delete(item.id);
      });
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
  }
}
