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
  /** Nothing to show yet: no file, upload or interrupted upload (the page then offers the big drop zone). */
  readonly isEmpty = $derived(this.#isEmpty());

  constructor(services: DriveServices, options: DriveOptions = {}) {
    this.listing = new Listing(services, this.notices, (fileId) => this.interrupted.has(fileId) || this.uploads.isUnfinished(fileId));
    this.uploads = new Uploads({
      queue: services.uploads,
      notices: this.notices,
      onUploaded: (file) => this.listing.add(file),
      onSessionExpired: services.onSessionExpired,
      onSessionRestored: services.onSessionRestored,
      ...(options.retryWait === undefined ? {} : { wait: options.retryWait }),
    });
    this.interrupted = new InterruptedUploads({
      services,
      notices: this.notices,
      resume: (record, file) => this.uploads.resume(record, file),
      inQueue: (fileId) => this.uploads.has(fileId),
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
    let resumed = 0;
    for (const item of items) {
      if (this.interrupted.resumeIfSame(item.file)) resumed++;
      else this.uploads.add(item);
    }
    const name = items[0]?.file.name ?? 'a file';
    if (items.length === 1) this.notices.announce(resumed === 1 ? `Resuming ${name}.` : `Sealing ${name}.`);
    else this.notices.announce(resumed > 0 ? `Sealing ${items.length} files, ${resumed} of them resumed.` : `Sealing ${items.length} files.`);
  }

  /** Stops downloads, automatic retries and previews (sign-out, page teardown); uploads in the queue keep their journal. */
  close(): void {
    this.uploads.close();
    this.downloads.close();
  }

  #isEmpty(): boolean {
    return this.listing.loaded && this.listing.visibleEntries.length === 0 && this.uploads.views.length === 0 && this.interrupted.views.length === 0;
  }
}
