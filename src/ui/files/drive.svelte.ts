/**
 * The state behind "My files": the decrypted listing, the upload queue,
 * downloads, previews and the list's sort/filter/folder, exposed as verbs.
 * Components read its fields and call its methods; they never change it.
 */
import { SvelteMap, SvelteSet } from 'svelte/reactivity';
import type { TransferProgress } from '../../storage/progress.ts';
import { isSameSource } from '../../storage/sender.ts';
import type { UploadRecord } from '../../storage/upload-journal.ts';
import type { UploadItem } from '../../storage/upload-queue.ts';
import { handleError, type UserMessage } from '../base/handle-error.ts';
import type { DriveServices, InterruptedUpload } from './drive-services.ts';
import { folderOf, folderView, type DriveEntry, type DriveFile, type SortDirection, type SortKey } from './file-tree.ts';
import { reopenFile } from './file-handle-access.ts';
import type { PickedFile } from './picked-files.ts';
import { onlineAgain, pause } from './wait-for-network.ts';
import { canPreview, PREVIEW_LIMIT_BYTES, previewKind, safePreviewType, type PreviewKind } from './preview-kind.ts';

/** Automatic retries of a failing upload (after storage's own retries gave up) before it is shown as failed. */
export const MAX_AUTO_RETRIES = 4;
/** Text previews show at most this many characters. */
const TEXT_PREVIEW_CHARS = 200_000;

/** A download in progress (or just failed), keyed by file id. */
export interface DownloadState {
  bytesDone: number;
  size: number;
  state: 'running' | 'failed';
}

/** What the preview dialog shows. */
export type PreviewState =
  | { status: 'loading'; fileId: string; name: string }
  | { status: 'ready'; fileId: string; name: string; kind: Exclude<PreviewKind, 'text'>; url: string }
  | { status: 'ready'; fileId: string; name: string; kind: 'text'; text: string; cut: boolean }
  | { status: 'failed'; fileId: string; name: string; problem: UserMessage };

/** An upload as the list shows it: storage's snapshot plus what the drive knows (waiting to retry, the problem in words). */
export interface UploadView {
  item: UploadItem;
  /**
   * `waiting`: it failed and retries on its own once the connection is back.
   * `held`: queued but not started, and the session expired: it cannot start before a new sign-in.
   */
  state: UploadItem['status'] | 'waiting' | 'held';
  problem: UserMessage | null;
}

/** An interrupted upload as the resume list shows it. The name comes from this device's journal only. */
export interface InterruptedView {
  fileId: string;
  /** The file's name (with its folder path, if it came in a folder). */
  label: string;
  size: number;
  /** How much storage already holds, 0–100; null when it could not be read. */
  percent: number | null;
  /** True when the browser kept a handle to the file, so "Resume" can reopen it without asking. */
  canReopen: boolean;
  /** A resume or discard is under way. */
  busy: boolean;
  /** Why the last attempt did not resume (e.g. a different file was chosen), in plain words. */
  problem: string | null;
}

const RETRYABLE = new Set(['offline', 'server', 'rate-limited']);

/** "My files" for one signed-in user with unlocked keys. */
export class Drive {
  entries = $state.raw<DriveEntry[]>([]);
  loading = $state(false);
  loaded = $state(false);
  listProblem = $state<UserMessage | null>(null);
  downloads = new SvelteMap<string, DownloadState>();
  preview = $state<PreviewState | null>(null);
  /** The latest error worth a banner (download refused, delete failed…). */
  alert = $state<UserMessage | null>(null);
  /** Polite live-region text: uploads finished, files deleted. */
  announcement = $state('');
  sortKey = $state<SortKey>('name');
  direction = $state<SortDirection>('ascending');
  filter = $state('');
  path = $state<string[]>([]);
  /** The listing without server-side unfinished uploads that the resume list already offers. */
  readonly visibleEntries = $derived(this.#visibleEntries());
  readonly view = $derived(folderView(this.visibleEntries, this.path, { sortKey: this.sortKey, direction: this.direction, filter: this.filter }));
  readonly uploads: UploadView[] = $derived(this.#uploadViews());
  /** Uploads a reload, crash or sign-in interrupted, waiting for the same file (or Discard). */
  readonly interrupted: InterruptedView[] = $derived(this.#interruptedViews());
  /** The session expired: new uploads wait for a new sign-in (the app shows the banner). */
  sessionExpired = $state(false);
  readonly isEmpty = $derived(this.loaded && this.visibleEntries.length === 0 && this.uploads.length === 0 && this.interrupted.length === 0);

  #items = $state.raw<readonly UploadItem[]>([]);
  #interrupted = $state.raw<InterruptedUpload[]>([]);
  #interruptedBusy = new SvelteSet<string>();
  #interruptedProblems = new SvelteMap<string, string>();
  #waiting = new SvelteSet<string>();
  #services: DriveServices;
  #closed = new AbortController();
  /* eslint-disable svelte/prefer-svelte-reactivity -- private bookkeeping of the queue's changes; nothing renders or derives from it */
  #picked = new Map<string, PickedFile>();
  #seen = new Map<string, UploadItem['status']>();
  #retries = new Map<string, number>();
  #waits = new Map<string, AbortController>();
  /* eslint-enable svelte/prefer-svelte-reactivity */
  #unsubscribe: () => void;
  #unsubscribeExpired: () => void;
  #unsubscribeRestored: () => void;

  constructor(services: DriveServices) {
    this.#services = services;
    this.#unsubscribe = services.uploads.subscribe((items) => this.#uploadsChanged(items));
    this.#unsubscribeExpired = services.onSessionExpired?.(() => this.#sessionEnded()) ?? (() => {});
    this.#unsubscribeRestored = services.onSessionRestored?.(() => this.#sessionRestored()) ?? (() => {});
  }

  /** Reads this device's interrupted uploads for the resume list; a failure is shown in the alert banner, never thrown. */
  async loadInterrupted(): Promise<void> {
    try {
      const found = await this.#services.interrupted();
      // One started in this tab meanwhile is not "interrupted".
      this.#interrupted = found.filter((u) => !this.#items.some((i) => i.fileId === u.record.fileId));
    } catch (error) {
      this.alert = handleError(error);
    }
  }

  /**
   * Resumes an interrupted upload from the file handle the browser kept
   * (Chromium), asking for read permission if needed: call it straight from
   * the click. When there is no handle, permission is refused or the file
   * changed, it says so in the row and the user can choose the file instead.
   */
  async resumeFromDevice(fileId: string): Promise<void> {
    const record = this.#record(fileId);
    if (record?.handle === undefined || this.#interruptedBusy.has(fileId)) return;
    const handle = record.handle;
    this.#interruptedBusy.add(fileId);
    try {
      const file = await reopenFile(handle);
      if (file === null) {
        this.#interruptedProblems.set(fileId, 'Sealdrop was not allowed to read the file. Choose the file again instead.');
        return;
      }
      this.resumeWith(fileId, file);
    } catch {
      this.#interruptedProblems.set(fileId, 'The file could not be opened from here (moved or deleted?). Choose the file again instead.');
    } finally {
      this.#interruptedBusy.delete(fileId);
    }
  }

  /**
   * Resumes an interrupted upload with the file the user chose again. Only
   * a file with the same name, size and last-modified date is taken: a
   * different file is refused in plain words and nothing is uploaded. The
   * sender then proves the bytes are the ones sealed before (other content
   * must never be sealed again under the old key) and otherwise starts over
   * under a new key, saying so on the upload.
   */
  resumeWith(fileId: string, file: File): void {
    const record = this.#record(fileId);
    if (record === undefined) return;
    if (!isSameSource(record, file)) {
      this.#interruptedProblems.set(
        fileId,
        `“${file.name}” is not the same file as the interrupted upload (its name, size or date differ), so it was not resumed. Choose the original file, or discard the interrupted upload and add the new file.`,
      );
      return;
    }
    this.#resume(record, file);
  }

  /** Forgets an interrupted upload and deletes what storage holds of it; a failure is shown in the alert banner. */
  async discardInterrupted(fileId: string): Promise<void> {
    const record = this.#record(fileId);
    if (record === undefined || this.#interruptedBusy.has(fileId)) return;
    this.#interruptedBusy.add(fileId);
    try {
      await this.#services.discard(record);
      this.#forgetInterrupted(fileId);
      this.entries = this.entries.filter((e) => e.fileId !== fileId);
      this.announcement = `Discarded the interrupted upload of ${record.source.name}.`;
    } catch (error) {
      this.alert = handleError(error);
    } finally {
      this.#interruptedBusy.delete(fileId);
    }
  }

  /** Reloads the listing; a failure is shown as `listProblem`, never thrown. */
  async refresh(): Promise<void> {
    this.loading = true;
    try {
      this.entries = await this.#services.list();
      this.listProblem = null;
      this.loaded = true;
    } catch (error) {
      this.listProblem = handleError(error);
    } finally {
      this.loading = false;
    }
  }

  /**
   * Queues files (empty ones and folders' files alike) for sealing and
   * upload. A file that is the very one of an interrupted upload resumes it
   * instead of starting over.
   */
  addFiles(items: readonly PickedFile[]): void {
    if (items.length === 0) return;
    let resumed = 0;
    for (const item of items) {
      const record = this.#interrupted.find((u) => isSameSource(u.record, item.file))?.record;
      if (record !== undefined) {
        this.#resume(record, item.file);
        resumed++;
      } else this.#picked.set(this.#services.uploads.add(item.file, item.relativePath), item);
    }
    const name = items[0]?.file.name ?? 'a file';
    if (items.length === 1) this.announcement = resumed === 1 ? `Resuming ${name}.` : `Sealing ${name}.`;
    else this.announcement = resumed > 0 ? `Sealing ${items.length} files, ${resumed} of them resumed.` : `Sealing ${items.length} files.`;
  }

  /** Stops a queued, running or waiting upload; nothing of it is listed. */
  cancel(id: string): void {
    // A failed one (e.g. held for sign-in) has nothing running: just take it off the list.
    if (this.#items.find((i) => i.id === id)?.status === 'failed') {
      this.#services.uploads.remove(id);
      return;
    }
    const wait = this.#waits.get(id);
    if (wait !== undefined) {
      wait.abort();
      this.#services.uploads.remove(id);
      return;
    }
    this.#services.uploads.cancel(id);
  }

  /** Tries a failed upload again; it resumes from the blocks already stored when it can. */
  retry(id: string): void {
    this.#retries.delete(id);
    this.#services.uploads.retry(id);
  }

  /** Removes finished, failed and cancelled rows from the upload list. */
  clearFinished(): void {
    for (const view of this.uploads) {
      if (view.state === 'done' || view.state === 'failed' || view.state === 'cancelled') this.#services.uploads.remove(view.item.id);
    }
  }

  /** Deletes a file (payload and manifest). Resolves true on success; shows an alert and resolves false otherwise. */
  async remove(fileId: string): Promise<boolean> {
    const entry = this.entries.find((e) => e.fileId === fileId);
    try {
      await this.#services.remove(fileId);
      this.entries = this.entries.filter((e) => e.fileId !== fileId);
      this.announcement = entry?.status === 'ok' ? `Deleted ${entry.name}.` : 'Deleted.';
      return true;
    } catch (error) {
      this.alert = handleError(error);
      return false;
    }
  }

  /**
   * Downloads, decrypts and saves a file. Call it straight from the click:
   * the save picker needs the user's gesture. Any failure (tampering
   * included) ends in an alert, never in a file that looks complete.
   */
  async download(fileId: string): Promise<void> {
    const entry = this.#file(fileId);
    if (entry === undefined || this.downloads.get(fileId)?.state === 'running') return;
    const info = { name: entry.name, type: entry.type, size: entry.size };
    this.downloads.set(fileId, { bytesDone: 0, size: entry.size, state: 'running' });
    const onProgress = (progress: TransferProgress): void => {
      this.downloads.set(fileId, { bytesDone: progress.bytesDone, size: entry.size, state: 'running' });
    };
    try {
      const destination = await this.#services.chooseSaveDestination(info);
      if (destination === null) {
        this.downloads.delete(fileId);
        return;
      }
      const { metadata, stream } = await this.#services.open(fileId, { signal: this.#closed.signal, onProgress });
      await this.#services.save(stream, { name: metadata.name, type: metadata.type, size: metadata.size }, destination);
      this.downloads.delete(fileId);
      this.announcement = `Saved ${metadata.name}.`;
    } catch (error) {
      const problem = handleError(error);
      if (problem.kind === 'cancelled') {
        this.downloads.delete(fileId);
        return;
      }
      this.downloads.set(fileId, { bytesDone: 0, size: entry.size, state: 'failed' });
      this.alert = problem;
    }
  }

  /** Opens the in-page preview of a file small enough and of a previewable type. */
  async openPreview(fileId: string): Promise<void> {
    const entry = this.#file(fileId);
    if (entry === undefined) return;
    this.closePreview();
    const base = { fileId, name: entry.name };
    const kind = previewKind(entry.type, entry.name);
    if (kind === null || !canPreview(entry.type, entry.name, entry.size)) {
      this.preview = { ...base, status: 'failed', problem: { kind: 'unknown', title: 'No preview for this file.', action: 'Download it to open it with an app on your device.' } };
      return;
    }
    this.preview = { ...base, status: 'loading' };
    try {
      const { metadata, stream } = await this.#services.open(fileId, { signal: this.#closed.signal, onProgress: () => {} });
      const bytes = await this.#services.readForPreview(stream, PREVIEW_LIMIT_BYTES);
      if (this.preview?.fileId !== fileId) return;
      const blob = new Blob([bytes], { type: safePreviewType(kind, metadata.type) });
      if (kind === 'text') {
        const text = await blob.text();
        this.preview = { ...base, status: 'ready', kind, text: text.slice(0, TEXT_PREVIEW_CHARS), cut: text.length > TEXT_PREVIEW_CHARS };
      } else {
        this.preview = { ...base, status: 'ready', kind, url: URL.createObjectURL(blob) };
      }
    } catch (error) {
      if (this.preview?.fileId === fileId) this.preview = { ...base, status: 'failed', problem: handleError(error) };
    }
  }

  /** Closes the preview and frees its object URL. */
  closePreview(): void {
    if (this.preview?.status === 'ready' && this.preview.kind !== 'text') URL.revokeObjectURL(this.preview.url);
    this.preview = null;
  }

  /** Sorts by `key`; choosing the current key again flips the direction. */
  sortBy(key: SortKey): void {
    if (this.sortKey === key) this.direction = this.direction === 'ascending' ? 'descending' : 'ascending';
    else {
      this.sortKey = key;
      this.direction = key === 'name' ? 'ascending' : 'descending';
    }
  }

  /** Filters the list by name (decrypted, in this browser). */
  setFilter(text: string): void {
    this.filter = text;
  }

  /** Shows the folder at `path` ([] = top level). */
  openFolder(path: readonly string[]): void {
    this.path = [...path];
  }

  /** Shows `error` in the alert banner, in plain words. */
  reportError(error: unknown): void {
    this.alert = handleError(error);
  }

  /** Hides the alert banner. */
  dismissAlert(): void {
    this.alert = null;
  }

  /** Stops downloads, automatic retries and previews (sign-out, page teardown); uploads in the queue keep their journal. */
  close(): void {
    this.#closed.abort();
    for (const wait of this.#waits.values()) wait.abort();
    this.#unsubscribe();
    this.#unsubscribeExpired();
    this.#unsubscribeRestored();
    this.closePreview();
  }

  #record(fileId: string): UploadRecord | undefined {
    return this.#interrupted.find((u) => u.record.fileId === fileId)?.record;
  }

  #resume(record: UploadRecord, file: File): void {
    this.#forgetInterrupted(record.fileId);
    const relativePath = record.source.relativePath;
    this.#picked.set(this.#services.uploads.resume(record, file), relativePath === undefined ? { file } : { file, relativePath });
    this.announcement = `Resuming ${record.source.name}.`;
  }

  #forgetInterrupted(fileId: string): void {
    this.#interrupted = this.#interrupted.filter((u) => u.record.fileId !== fileId);
    this.#interruptedProblems.delete(fileId);
  }

  /** Queued files cannot get a grant now: hold them; running ones go on with the storage grants they have. */
  #sessionEnded(): void {
    if (this.sessionExpired) return;
    this.sessionExpired = true;
    this.#services.uploads.hold();
  }

  /**
   * Signed in again in this page: held files start, and uploads that failed
   * only because the session had expired go again (one that had started
   * resumes from the blocks already stored).
   */
  #sessionRestored(): void {
    if (!this.sessionExpired) return;
    this.sessionExpired = false;
    this.#services.uploads.release();
    for (const item of this.#items) {
      if (item.status === 'failed' && handleError(item.error).kind === 'session-expired') this.retry(item.id);
    }
  }

  #interruptedViews(): InterruptedView[] {
    return this.#interrupted.map(({ record, bytesDone }) => ({
      fileId: record.fileId,
      label: record.source.relativePath ?? record.source.name,
      size: record.source.size,
      percent: bytesDone === null ? null : record.source.size === 0 ? 0 : Math.floor((bytesDone / record.source.size) * 100),
      canReopen: record.handle !== undefined,
      busy: this.#interruptedBusy.has(record.fileId),
      problem: this.#interruptedProblems.get(record.fileId) ?? null,
    }));
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

  #visibleEntries(): DriveEntry[] {
    const offered = (fileId: string): boolean =>
      this.#interrupted.some((u) => u.record.fileId === fileId) || this.#items.some((i) => i.fileId === fileId && i.status !== 'done');
    return this.entries.filter((e) => e.status !== 'unfinished' || !offered(e.fileId));
  }

  #file(fileId: string): DriveFile | undefined {
    const entry = this.entries.find((e) => e.fileId === fileId);
    return entry?.status === 'ok' ? entry : undefined;
  }

  #uploadViews(): UploadView[] {
    return this.#items.map((item) => ({
      item,
      state: this.#waiting.has(item.id) ? 'waiting' : this.#held(item) ? 'held' : item.status,
      problem: item.status === 'failed' && !this.#held(item) ? handleError(item.error) : null,
    }));
  }

  /** Reacts to what changed in the queue: lists finished files, schedules automatic retries, announces. */
  #uploadsChanged(items: readonly UploadItem[]): void {
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
    if (!RETRYABLE.has(problem.kind) || retries >= MAX_AUTO_RETRIES) {
      this.announcement = `${item.name} was not uploaded. ${problem.title}`;
      return;
    }
    this.#retries.set(item.id, retries + 1);
    const wait = new AbortController();
    this.#waits.set(item.id, wait);
    this.#waiting.add(item.id);
    const signal = AbortSignal.any([wait.signal, this.#closed.signal]);
    onlineAgain(signal)
      .then(() => pause(1000 * 2 ** retries, signal))
      .then(
        () => this.#services.uploads.retry(item.id),
        () => undefined,
      )
      .finally(() => {
        this.#waits.delete(item.id);
        this.#waiting.delete(item.id);
      });
  }

  #uploaded(item: UploadItem, fileId: string): void {
    const picked = this.#picked.get(item.id);
    const entry: DriveFile = {
      status: 'ok',
      fileId,
      name: item.name,
      type: picked?.file.type ?? '',
      size: item.size,
      lastModified: picked?.file.lastModified ?? Date.now(),
      // eslint-disable-next-line svelte/prefer-svelte-reactivity -- a one-off timestamp string, nothing observes the Date
      createdAt: new Date().toISOString(),
      folder: folderOf(item.relativePath),
    };
    this.entries = [...this.entries.filter((e) => e.fileId !== fileId), entry];
    this.announcement = `${item.name} is sealed and uploaded.`;
  }
}
