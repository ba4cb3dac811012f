/**
 * Uploads a reload, crash or sign-in interrupted on this device, waiting
 * for the very same file to resume (or for Discard). Only a file with the
 * same name, size and date is taken; the sender then proves its bytes are
 * the ones sealed before, since other content must never be sealed again
 * under the old key, and otherwise starts over under a new key. Files that
 * were queued and had not started (a full-page sign-in, a closed tab) are
 * offered again the same way; nothing of them was sealed or sent.
 */
import { SvelteMap, SvelteSet } from 'svelte/reactivity';
import { isSameSource } from '../../storage/sender.ts';
import type { QueuedRecord, UploadRecord } from '../../storage/upload-journal.ts';
import type { PickedFile } from './picked-files.ts';
import type { DriveServices, InterruptedUpload } from './drive-services.ts';
import { reopenFile } from './file-handle-access.ts';
import type { DriveNotices } from './notices.svelte.ts';

/** An interrupted upload as the resume list shows it. The name comes from this device's journal only. */
export interface InterruptedView {
  /** The upload's file id when it had started, else its queue id. */
  id: string;
  /** False for a file that was queued and had not started (nothing of it was sent). */
  started: boolean;
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

/** What the resume list is given. */
export interface InterruptedOptions {
  services: Pick<DriveServices, 'interrupted' | 'discard' | 'queuedUploads' | 'forgetQueued' | 'sealedUploads' | 'openSealed' | 'whenLiveElsewhereEnds'>;
  notices: DriveNotices;
  /** Queues the resumption (the upload list's `resume`). */
  resume: (record: UploadRecord, file: File) => void;
  /** Queues a file that had not started, under its journaled queue id (the upload list's `add`); `sealedAtRest` when it came from the outbox. */
  add: (picked: PickedFile, uploadId: string, sealedAtRest?: boolean) => void;
  /** True when the upload queue of this page already has the file id or queue id (so it is not "interrupted"). */
  inQueue: (id: string) => boolean;
  /** Tells the listing that a discarded upload's entry is gone. */
  onDiscarded: (fileId: string) => void;
  /** Reads the file behind a kept handle (tests pass their own). */
  reopen?: (handle: FileSystemFileHandle) => Promise<File | null>;
}

/** The resume list with its verbs. */
export class InterruptedUploads {
  /** Uploads a reload, crash or sign-in interrupted, waiting for the same file (or Discard). */
  readonly views: InterruptedView[] = $derived(this.#views());

  #uploads = $state.raw<InterruptedUpload[]>([]);
  #queued = $state.raw<QueuedRecord[]>([]);
  #busy = new SvelteSet<string>();
  #problems = new SvelteMap<string, string>();
  readonly #options: InterruptedOptions;
  readonly #reopen: (handle: FileSystemFileHandle) => Promise<File | null>;
  /** Stops the wait for another tab's uploads of the previous reading. */
  #watch: AbortController | null = null;

  constructor(options: InterruptedOptions) {
    this.#options = options;
    this.#reopen = options.reopen ?? reopenFile;
  }

  /** Reads this device's interrupted uploads; a failure is shown in the alert banner, never thrown. */
  async load(): Promise<void> {
    try {
      const found = await this.#options.services.interrupted();
      const queued = (await this.#options.services.queuedUploads?.()) ?? [];
      // One started in this tab meanwhile is not "interrupted".
      this.#uploads = found.filter((u) => !this.#options.inQueue(u.record.fileId) && !(u.record.uploadId !== undefined && this.#options.inQueue(u.record.uploadId)));
      this.#queued = queued.filter((q) => !this.#options.inQueue(q.uploadId));
      await this.#goOnSealed();
      this.#watchOtherTabs();
    } catch (error) {
      this.#options.notices.report(error);
    }
  }

  /** Stops watching other tabs' uploads (page teardown, sign-out). */
  close(): void {
    this.#watch?.abort();
    this.#watch = null;
  }

  /**
   * Uploads left out as live in another tab are read again once that tab
   * lets go of one (closed, or reloaded a moment ago: a reloaded page's
   * locks can outlive it briefly).
   */
  #watchOtherTabs(): void {
    const wait = this.#options.services.whenLiveElsewhereEnds;
    if (wait === undefined) return;
    this.#watch?.abort();
    const watch = new AbortController();
    this.#watch = watch;
    this.#options.services.whenLiveElsewhereEnds?.(watch.signal).then(
      () => {
        if (this.#watch === watch) void this.load();
      },
      () => undefined,
    );
  }

  /**
   * Files sealed at rest on this device (added offline) need nobody to
   * choose them again: they are opened from their sealed copy and go on by
   * themselves. One that does not open whole stays in the list, said in
   * the alert banner.
   */
  async #goOnSealed(): Promise<void> {
    const sealed = (await this.#options.services.sealedUploads?.()) ?? [];
    const { services } = this.#options;
    if (sealed.length === 0 || services.openSealed === undefined) return;
    const open = (uploadId: string): ReturnType<NonNullable<DriveServices['openSealed']>> =>
      services.openSealed?.(uploadId) ?? Promise.resolve(null);
    for (const { record } of this.#uploads.filter((u) => u.record.uploadId !== undefined && sealed.includes(u.record.uploadId))) {
      const opened = await this.#openSealed(open, record.uploadId ?? '');
      if (opened !== null && isSameSource(record, opened.file)) this.#resume(record, opened.file);
    }
    for (const queued of this.#queued.filter((q) => sealed.includes(q.uploadId))) {
      const opened = await this.#openSealed(open, queued.uploadId);
      if (opened === null) continue;
      this.#forget(queued.uploadId);
      const { relativePath } = opened;
      this.#options.add({ file: opened.file, ...(relativePath !== undefined ? { relativePath } : {}) }, queued.uploadId, true);
    }
  }

  async #openSealed(
    open: NonNullable<DriveServices['openSealed']>,
    uploadId: string,
  ): Promise<{ file: File; relativePath: string | undefined } | null> {
    try {
      return await open(uploadId);
    } catch (error) {
      this.#options.notices.report(error);
      return null;
    }
  }

  /** True when this file id is in the resume list. */
  has(fileId: string): boolean {
    return this.#uploads.some((u) => u.record.fileId === fileId);
  }

  /**
   * Resumes the interrupted upload `file` is the very source of, if any
   * (or queues a not-started one under its journaled id). Returns true when
   * it did (the file must then not be added anew).
   */
  resumeIfSame(file: File, relativePath?: string): boolean {
    const record = this.#uploads.find((u) => isSameSource(u.record, file))?.record;
    if (record !== undefined) {
      this.#resume(record, file);
      return true;
    }
    const queued = this.#queued.find((q) => isSameSource(q, file) && q.source.relativePath === relativePath);
    if (queued === undefined) return false;
    this.#startQueued(queued, file);
    return true;
  }

  /**
   * Resumes an interrupted upload from the file handle the browser kept
   * (Chromium), asking for read permission if needed: call it straight from
   * the click. When there is no handle, permission is refused, the file is
   * gone or it changed (size or date differ from the journal), it says so in
   * the row and the user can choose the file instead.
   */
  async resumeFromDevice(id: string): Promise<void> {
    const record = this.#record(id) ?? this.#queuedRecord(id);
    if (record?.handle === undefined || this.#busy.has(id)) return;
    const handle = record.handle;
    this.#busy.add(id);
    try {
      const file = await this.#reopen(handle);
      if (file === null) {
        this.#problems.set(id, 'Sealdrop was not allowed to read the file. Choose the file again instead.');
        return;
      }
      // The handle reads the file as it is now: a file edited since is not the one the journal describes.
      if (!isSameSource(record, file)) {
        this.#problems.set(
          id,
          `${record.source.name} has changed since the upload was interrupted (its size or date differ), so it was not resumed. Discard the interrupted upload, then add the file again.`,
        );
        return;
      }
      this.resumeWith(id, file);
    } catch {
      this.#problems.set(id, 'The file could not be opened from here (moved or deleted?). Choose the file again instead.');
    } finally {
      this.#busy.delete(id);
    }
  }

  /**
   * Resumes an interrupted upload with the file the user chose again. Only
   * a file with the same name, size and last-modified date is taken: a
   * different file is refused in plain words and nothing is uploaded. The
   * sender then proves the bytes are the ones sealed before and otherwise
   * starts over under a new key, saying so on the upload.
   */
  resumeWith(id: string, file: File): void {
    const record = this.#record(id) ?? this.#queuedRecord(id);
    if (record === undefined) return;
    if (!isSameSource(record, file)) {
      this.#problems.set(
        id,
        `“${file.name}” is not the same file as the interrupted upload (its name, size or date differ), so it was not resumed. Choose the original file, or discard the interrupted upload and add the new file.`,
      );
      return;
    }
    if (record.version === 2) this.#resume(record, file);
    else this.#startQueued(record, file);
  }

  /** Forgets an interrupted upload and deletes what storage holds of it; a failure is shown in the alert banner. */
  async discard(id: string): Promise<void> {
    const queued = this.#queuedRecord(id);
    if (queued !== undefined) return this.#discardQueued(queued);
    const record = this.#record(id);
    if (record === undefined || this.#busy.has(id)) return;
    this.#busy.add(id);
    try {
      await this.#options.services.discard(record);
      this.#forget(id);
      this.#options.onDiscarded(id);
      this.#options.notices.announce(`Discarded the interrupted upload of ${record.source.name}.`);
    } catch (error) {
      this.#options.notices.report(error);
    } finally {
      this.#busy.delete(id);
    }
  }

  #record(id: string): UploadRecord | undefined {
    return this.#uploads.find((u) => u.record.fileId === id)?.record;
  }

  #queuedRecord(uploadId: string): QueuedRecord | undefined {
    return this.#queued.find((q) => q.uploadId === uploadId);
  }

  #startQueued(queued: QueuedRecord, file: File): void {
    this.#forget(queued.uploadId);
    const { relativePath } = queued.source;
    this.#options.add(
      { file, ...(relativePath !== undefined ? { relativePath } : {}), ...(queued.handle !== undefined ? { handle: queued.handle } : {}) },
      queued.uploadId,
    );
    this.#options.notices.announce(`Sealing ${queued.source.name}.`);
  }

  async #discardQueued(queued: QueuedRecord): Promise<void> {
    try {
      await this.#options.services.forgetQueued?.(queued.uploadId);
      this.#forget(queued.uploadId);
      this.#options.notices.announce(`Discarded ${queued.source.name}; it had not started uploading.`);
    } catch (error) {
      this.#options.notices.report(error);
    }
  }

  #resume(record: UploadRecord, file: File): void {
    this.#forget(record.fileId);
    this.#options.resume(record, file);
    this.#options.notices.announce(`Resuming ${record.source.name}.`);
  }

  #forget(id: string): void {
    this.#uploads = this.#uploads.filter((u) => u.record.fileId !== id);
    this.#queued = this.#queued.filter((q) => q.uploadId !== id);
    this.#problems.delete(id);
  }

  #views(): InterruptedView[] {
    const started = this.#uploads.map(({ record, bytesDone }) => ({
      id: record.fileId,
      started: true,
      label: record.source.relativePath ?? record.source.name,
      size: record.source.size,
      percent: bytesDone === null ? null : record.source.size === 0 ? 0 : Math.floor((bytesDone / record.source.size) * 100),
      canReopen: record.handle !== undefined,
      busy: this.#busy.has(record.fileId),
      problem: this.#problems.get(record.fileId) ?? null,
    }));
    const queued = this.#queued.map((q) => ({
      id: q.uploadId,
      started: false,
      label: q.source.relativePath ?? q.source.name,
      size: q.source.size,
      percent: null,
      canReopen: q.handle !== undefined,
      busy: this.#busy.has(q.uploadId),
      problem: this.#problems.get(q.uploadId) ?? null,
    }));
    return [...started, ...queued];
  }
}
