/**
 * Downloads (decrypt and save, with progress per file) and the in-page
 * preview of small files of a previewable type.
 */
import { SvelteMap } from 'svelte/reactivity';
import type { TransferProgress } from '../../storage/progress.ts';
import { handleError, type UserMessage } from '../base/handle-error.ts';
import type { DriveServices } from './drive-services.ts';
import type { DriveFile } from './file-tree.ts';
import type { DriveNotices } from './notices.svelte.ts';
import { canPreview, PREVIEW_LIMIT_BYTES, previewKind, safePreviewType, type PreviewKind } from './preview-kind.ts';
import { recordActivity } from '../activity/activity.svelte.ts';

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

/** The services downloads and previews use. */
export type DownloadServices = Pick<DriveServices, 'open' | 'chooseSaveDestination' | 'save' | 'readForPreview'>;

/** Downloads and the preview, with their verbs. */
export class Downloads {
  preview = $state<PreviewState | null>(null);

  #states = new SvelteMap<string, DownloadState>();
  readonly #services: DownloadServices;
  readonly #notices: DriveNotices;
  readonly #find: (fileId: string) => DriveFile | undefined;
  readonly #closed = new AbortController();

  /** `find` returns the listed file with an id (the listing's `file`). */
  constructor(services: DownloadServices, notices: DriveNotices, find: (fileId: string) => DriveFile | undefined) {
    this.#services = services;
    this.#notices = notices;
    this.#find = find;
  }

  /** Returns the download of this file in progress (or just failed), or undefined. */
  of(fileId: string): DownloadState | undefined {
    return this.#states.get(fileId);
  }

  /**
   * Downloads, decrypts and saves a file. Call it straight from the click:
   * the save picker needs the user's gesture. Any failure (tampering
   * included) ends in an alert, never in a file that looks complete.
   */
  async download(fileId: string): Promise<void> {
    const entry = this.#find(fileId);
    if (entry === undefined || this.#states.get(fileId)?.state === 'running') return;
    const info = { name: entry.name, type: entry.type, size: entry.size };
    this.#states.set(fileId, { bytesDone: 0, size: entry.size, state: 'running' });
    const onProgress = (progress: TransferProgress): void => {
      this.#states.set(fileId, { bytesDone: progress.bytesDone, size: entry.size, state: 'running' });
    };
    try {
      const destination = await this.#services.chooseSaveDestination(info);
      if (destination === null) {
        this.#states.delete(fileId);
        return;
      }
      const { metadata, stream } = await this.#services.open(fileId, { signal: this.#closed.signal, onProgress });
      await this.#services.save(stream, { name: metadata.name, type: metadata.type, size: metadata.size }, destination);
      this.#states.delete(fileId);
      this.#notices.announce(`Saved ${metadata.name}.`);
      recordActivity({ kind: 'download', fileName: [...entry.folder, entry.name].join('/') });
    } catch (error) {
      const problem = handleError(error);
      if (problem.kind === 'cancelled') {
        this.#states.delete(fileId);
        return;
      }
      this.#states.set(fileId, { bytesDone: 0, size: entry.size, state: 'failed' });
      this.#notices.show(problem);
    }
  }

  /** Opens the in-page preview of a file small enough and of a previewable type. */
  async openPreview(fileId: string): Promise<void> {
    const entry = this.#find(fileId);
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
      recordActivity({ kind: 'open', fileName: [...entry.folder, entry.name].join('/') });
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

  /** Stops downloads and previews (sign-out, page teardown). */
  close(): void {
    this.#closed.abort();
    this.closePreview();
  }
}
