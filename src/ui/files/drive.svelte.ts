/**
 * "My files" for one signed-in user with unlocked keys, composed of its
 * parts: the listing (listing.svelte.ts), the upload list with its
 * automatic retries (uploads.svelte.ts), interrupted uploads to resume
 * (interrupted.svelte.ts), downloads and the preview (downloads.svelte.ts),
 * and the alert and announcements they share (notices.svelte.ts).
 * Components read the parts' fields and call their verbs; they never change
 * them. Only what spans parts lives here.
 */
import type { DriveServices } from './drive-services.ts';
import { folderOf, sameNameKey, type DriveFile } from './file-tree.ts';
import { Downloads } from './downloads.svelte.ts';
import { InterruptedUploads } from './interrupted.svelte.ts';
import { Listing } from './listing.svelte.ts';
import { DriveNotices } from './notices.svelte.ts';
import type { PickedFile } from './picked-files.ts';
import { Uploads, type RetryWait } from './uploads.svelte.ts';

/** Overrides for tests: how the upload list waits before an automatic retry, how a kept file handle is read. */
export interface DriveOptions {
  retryWait?: RetryWait;
  reopen?: (handle: FileSystemFileHandle) => Promise<File | null>;
}

/** "My files" for one signed-in user with unlocked keys. */
export class Drive {
  readonly notices = new DriveNotices();
  readonly listing: Listing;
  readonly uploads: Uploads;
  readonly interrupted: InterruptedUploads;
  readonly downloads: Downloads;
  /**
   * Files just picked whose folder and name are already in the drive: the
   * page asks "keep both or replace" before anything is sealed.
   */
  sameNameChoice = $state.raw<{ items: readonly PickedFile[]; clashes: readonly string[] } | null>(null);
  /** Files to delete once their same-named replacement is uploaded, by folder and name (bookkeeping, not shown). */
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- nothing renders from it
  readonly #replacing = new Map<string, string[]>();
  /** Nothing to show yet: no file, upload or interrupted upload (the page then offers the big drop zone). */
  readonly isEmpty = $derived(this.#isEmpty());

  constructor(services: DriveServices, options: DriveOptions = {}) {
    this.listing = new Listing(services, this.notices, (fileId) => this.interrupted.has(fileId) || this.uploads.isUnfinished(fileId));
    this.uploads = new Uploads({
      queue: services.uploads,
      notices: this.notices,
      onUploaded: (file) => {
        this.listing.add(file);
        void this.#dropReplaced(file);
      },
      onSessionExpired: services.onSessionExpired,
      onSessionRestored: services.onSessionRestored,
      ...(options.retryWait === undefined ? {} : { wait: options.retryWait }),
    });
    this.interrupted = new InterruptedUploads({
      services,
      notices: this.notices,
      resume: (record, file) => this.uploads.resume(record, file),
      add: (picked, uploadId, sealedAtRest) => this.uploads.add(picked, uploadId, sealedAtRest),
      inQueue: (id) => this.uploads.has(id),
      onDiscarded: (fileId) => this.listing.forget(fileId),
      ...(options.reopen === undefined ? {} : { reopen: options.reopen }),
    });
    this.downloads = new Downloads(services, this.notices, (fileId) => this.listing.file(fileId));
  }

  /**
   * Queues files (empty ones and folders' files alike) for sealing and
   * upload. A file that is the very one of an interrupted upload resumes it
   * instead of starting over.
   */
  addFiles(items: readonly PickedFile[]): void {
    if (items.length === 0) return;
    const clashes = this.#sameNamed(items);
    if (clashes.length > 0) {
      this.sameNameChoice = { items, clashes };
      return;
    }
    this.#queue(items);
  }

  /** Answers the same-name question: upload alongside the files already there. */
  keepBoth(): void {
    const choice = this.sameNameChoice;
    this.sameNameChoice = null;
    if (choice !== null) this.#queue(choice.items);
  }

  /**
   * Answers the same-name question: upload, and delete each same-named file
   * already there once its replacement is safely uploaded (never before, so
   * a failed upload loses nothing).
   */
  replace(): void {
    const choice = this.sameNameChoice;
    this.sameNameChoice = null;
    if (choice === null) return;
    for (const item of choice.items) {
      const key = keyOf(item);
      const old = this.#existing(key).map((f) => f.fileId);
      if (old.length > 0) this.#replacing.set(key, old);
    }
    this.#queue(choice.items);
  }

  /** Answers the same-name question: upload nothing. */
  cancelSameName(): void {
    if (this.sameNameChoice !== null) this.notices.announce('Nothing was uploaded.');
    this.sameNameChoice = null;
  }

  #queue(items: readonly PickedFile[]): void {
    let resumed = 0;
    for (const item of items) {
      if (this.interrupted.resumeIfSame(item.file, item.relativePath)) resumed++;
      else this.uploads.add(item);
    }
    const name = items[0]?.file.name ?? 'a file';
    if (items.length === 1) this.notices.announce(resumed === 1 ? `Resuming ${name}.` : `Sealing ${name}.`);
    else this.notices.announce(resumed > 0 ? `Sealing ${items.length} files, ${resumed} of them resumed.` : `Sealing ${items.length} files.`);
  }

  /** The names (with folder) of picked files that the drive already holds. */
  #sameNamed(items: readonly PickedFile[]): string[] {
    const names = items.filter((item) => this.#existing(keyOf(item)).length > 0).map((item) => item.relativePath ?? item.file.name);
    return names.filter((name, i) => names.indexOf(name) === i);
  }

  #existing(key: string): DriveFile[] {
    return this.listing.entries.filter((e): e is DriveFile => e.status === 'ok' && sameNameKey(e.folder, e.name) === key);
  }

  async #dropReplaced(file: DriveFile): Promise<void> {
    const key = sameNameKey(file.folder, file.name);
    const old = this.#replacing.get(key);
    if (old === undefined) return;
    this.#replacing.delete(key);
    for (const fileId of old) if (fileId !== file.fileId) await this.listing.remove(fileId);
  }

  /** Stops downloads, automatic retries and previews (sign-out, page teardown); uploads in the queue keep their journal. */
  close(): void {
    this.uploads.close();
    this.interrupted.close();
    this.downloads.close();
  }

  #isEmpty(): boolean {
    return this.listing.loaded && this.listing.visibleEntries.length === 0 && this.uploads.views.length === 0 && this.interrupted.views.length === 0;
  }
}

/** Folder and name of a picked file, as the list keys same-named files. */
function keyOf(item: PickedFile): string {
  return sameNameKey(folderOf(item.relativePath), item.file.name);
}
