/**
 * Uploads a reload, crash or sign-in interrupted on this device, waiting
 * for the very same file to resume (or for Discard). Only a file with the
 * same name, size and date is taken; the sender then proves its bytes are
 * the ones sealed before, since other content must never be sealed again
 * under the old key, and otherwise starts over under a new key.
 */
import { SvelteMap, SvelteSet } from 'svelte/reactivity';
import { isSameSource } from '../../storage/sender.ts';
import type { UploadRecord } from '../../storage/upload-journal.ts';
import type { DriveServices, InterruptedUpload } from './drive-services.ts';
import { reopenFile } from './file-handle-access.ts';
import type { DriveNotices } from './notices.svelte.ts';

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

/** What the resume list is given. */
export interface InterruptedOptions {
  services: Pick<DriveServices, 'interrupted' | 'discard'>;
  notices: DriveNotices;
  /** Queues the resumption (the upload list's `resume`). */
  resume: (record: UploadRecord, file: File) => void;
  /** True when the upload queue of this page already has the file id (so it is not "interrupted"). */
  inQueue: (fileId: string) => boolean;
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
  #busy = new SvelteSet<string>();
  #problems = new SvelteMap<string, string>();
  readonly #options: InterruptedOptions;
  readonly #reopen: (handle: FileSystemFileHandle) => Promise<File | null>;

  constructor(options: InterruptedOptions) {
    this.#options = options;
    this.#reopen = options.reopen ?? reopenFile;
  }

  /** Reads this device's interrupted uploads; a failure is shown in the alert banner, never thrown. */
  async load(): Promise<void> {
    try {
      const found = await this.#options.services.interrupted();
      // One started in this tab meanwhile is not "interrupted".
      this.#uploads = found.filter((u) => !this.#options.inQueue(u.record.fileId));
    } catch (error) {
      this.#options.notices.report(error);
    }
  }

  /** True when this file id is in the resume list. */
  has(fileId: string): boolean {
    return this.#uploads.some((u) => u.record.fileId === fileId);
  }

  /**
   * Resumes the interrupted upload `file` is the very source of, if any.
   * Returns true when it did (the file must then not be added anew).
   */
  resumeIfSame(file: File): boolean {
    const record = this.#uploads.find((u) => isSameSource(u.record, file))?.record;
    if (record === undefined) return false;
    this.#resume(record, file);
    return true;
  }

  /**
   * Resumes an interrupted upload from the file handle the browser kept
   * (Chromium), asking for read permission if needed: call it straight from
   * the click. When there is no handle, permission is refused or the file
   * changed, it says so in the row and the user can choose the file instead.
   */
  async resumeFromDevice(fileId: string): Promise<void> {
    const record = this.#record(fileId);
    if (record?.handle === undefined || this.#busy.has(fileId)) return;
    const handle = record.handle;
    this.#busy.add(fileId);
    try {
      const file = await this.#reopen(handle);
      if (file === null) {
        this.#problems.set(fileId, 'Sealdrop was not allowed to read the file. Choose the file again instead.');
        return;
      }
      this.resumeWith(fileId, file);
    } catch {
      this.#problems.set(fileId, 'The file could not be opened from here (moved or deleted?). Choose the file again instead.');
    } finally {
      this.#busy.delete(fileId);
    }
  }

  /**
   * Resumes an interrupted upload with the file the user chose again. Only
   * a file with the same name, size and last-modified date is taken: a
   * different file is refused in plain words and nothing is uploaded. The
   * sender then proves the bytes are the ones sealed before and otherwise
   * starts over under a new key, saying so on the upload.
   */
  resumeWith(fileId: string, file: File): void {
    const record = this.#record(fileId);
    if (record === undefined) return;
    if (!isSameSource(record, file)) {
      this.#problems.set(
        fileId,
        `“${file.name}” is not the same file as the interrupted upload (its name, size or date differ), so it was not resumed. Choose the original file, or discard the interrupted upload and add the new file.`,
      );
      return;
    }
    this.#resume(record, file);
  }

  /** Forgets an interrupted upload and deletes what storage holds of it; a failure is shown in the alert banner. */
  async discard(fileId: string): Promise<void> {
    const record = this.#record(fileId);
    if (record === undefined || this.#busy.has(fileId)) return;
    this.#busy.add(fileId);
    try {
      await this.#options.services.discard(record);
      this.#forget(fileId);
      this.#options.onDiscarded(fileId);
      this.#options.notices.announce(`Discarded the interrupted upload of ${record.source.name}.`);
    } catch (error) {
      this.#options.notices.report(error);
    } finally {
      this.#busy.delete(fileId);
    }
  }

  #record(fileId: string): UploadRecord | undefined {
    return this.#uploads.find((u) => u.record.fileId === fileId)?.record;
  }

  #resume(record: UploadRecord, file: File): void {
    this.#forget(record.fileId);
    this.#options.resume(record, file);
    this.#options.notices.announce(`Resuming ${record.source.name}.`);
  }

  #forget(fileId: string): void {
    this.#uploads = this.#uploads.filter((u) => u.record.fileId !== fileId);
    this.#problems.delete(fileId);
  }

  #views(): InterruptedView[] {
    return this.#uploads.map(({ record, bytesDone }) => ({
      fileId: record.fileId,
      label: record.source.relativePath ?? record.source.name,
      size: record.source.size,
      percent: bytesDone === null ? null : record.source.size === 0 ? 0 : Math.floor((bytesDone / record.source.size) * 100),
      canReopen: record.handle !== undefined,
      busy: this.#busy.has(record.fileId),
      problem: this.#problems.get(record.fileId) ?? null,
    }));
  }
}
