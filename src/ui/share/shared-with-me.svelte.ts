/**
 * "Shared with me": the files others shared with the user, each with its
 * sender and whether the sender's key is verified; downloads and previews
 * reuse the drive's Downloads (streamed to disk, preview in the page),
 * opened through the share and accepted only when sealed by the sender's
 * pinned key.
 */
import { chooseSaveDestination, readAllForPreview, saveStream } from '../../storage/save-to-disk.ts';
import type { UserMessage } from '../base/handle-error.ts';
import { Downloads } from '../files/downloads.svelte.ts';
import type { DriveFile } from '../files/file-tree.ts';
import { DriveNotices } from '../files/notices.svelte.ts';
import { personShareMessage } from './person-errors.ts';
import type { PersonShareServices, SharedFile } from './person-services.ts';

/** The drive's notices, but a failure the share itself explained is shown in its own words, not the generic ones. */
class ShareNotices extends DriveNotices {
  explained: UserMessage | null = null;
  override show(problem: UserMessage): void {
    super.show(this.explained ?? problem);
    this.explained = null;
  }
}

/** The list of files shared with the user, with its verbs. */
export class SharedWithMe {
  files = $state<SharedFile[]>([]);
  loaded = $state(false);
  loading = $state(false);
  problem = $state<UserMessage | null>(null);
  readonly notices = new ShareNotices();
  readonly downloads: Downloads;
  readonly #services: PersonShareServices;

  constructor(services: PersonShareServices) {
    this.#services = services;
    // Keyed by share id: the same file id could come from two owners.
    this.downloads = new Downloads(
      {
        open: (shareId, opts) => {
          const file = this.#ok(shareId);
          if (file === undefined) return Promise.reject(new Error('Not in the list.'));
          return services.openShared(shareId, file.sealedBy, opts).catch((error: unknown) => {
            // Say why in the share's own words (withdrawn, not sealed by the pinned key).
            this.notices.explained = personShareMessage(error);
            throw error;
          });
        },
        chooseSaveDestination,
        save: saveStream,
        readForPreview: (stream, limit) => readAllForPreview(stream, { limit, type: '' }),
      },
      this.notices,
      (shareId) => this.asDriveFile(shareId),
    );
  }

  #ok(shareId: string): Extract<SharedFile, { status: 'ok' }> | undefined {
    const f = this.files.find((x) => x.shareId === shareId);
    return f?.status === 'ok' ? f : undefined;
  }

  /** The shared file as the drive's row and downloads see it (its key is the share id). */
  asDriveFile(shareId: string): DriveFile | undefined {
    const f = this.#ok(shareId);
    if (f === undefined) return undefined;
    return { status: 'ok', fileId: shareId, name: f.metadata.name, type: f.metadata.type, size: f.metadata.size, lastModified: f.metadata.lastModified, createdAt: f.createdAt, folder: [] };
  }

  /** Lists the inbox again. */
  async refresh(): Promise<void> {
    this.loading = true;
    this.problem = null;
    try {
      this.files = await this.#services.sharedWithMe();
      this.loaded = true;
    } catch (error) {
      this.problem = personShareMessage(error);
    } finally {
      this.loading = false;
    }
  }

  /** Accepts a sender's new key (after the warning), then lists again so their files open with it. */
  async acceptSenderKey(userId: string): Promise<void> {
    await this.#services.contacts.acceptChange(userId);
    await this.refresh();
  }

  /** Stops downloads and previews. */
  close(): void {
    this.downloads.close();
  }
}
