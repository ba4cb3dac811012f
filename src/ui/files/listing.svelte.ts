/**
 * The decrypted listing of "My files" and how it is shown: sort, filter and
 * the open folder. Also deletes files and takes in ones uploaded meanwhile.
 */
import { folderView, type DriveEntry, type DriveFile, type SortDirection, type SortKey } from './file-tree.ts';
import type { DriveServices } from './drive-services.ts';
import { handleError, type UserMessage } from '../base/handle-error.ts';
import type { DriveNotices } from './notices.svelte.ts';

/** The listing and its view settings. */
export class Listing {
  entries = $state.raw<DriveEntry[]>([]);
  loading = $state(false);
  loaded = $state(false);
  listProblem = $state<UserMessage | null>(null);
  /** The server could not be reached (offline): `entries` are this device's copy of the last listing. */
  offlineCopy = $state(false);
  sortKey = $state<SortKey>('name');
  direction = $state<SortDirection>('ascending');
  filter = $state('');
  path = $state<string[]>([]);
  /** The listing without server-side unfinished uploads that the resume list or the queue already offers. */
  readonly visibleEntries = $derived(this.#visibleEntries());
  /** How many good files the drive holds (as listed so far while `loading`). */
  readonly fileCount = $derived(this.entries.reduce((n, e) => (e.status === 'ok' ? n + 1 : n), 0));
  readonly view = $derived(folderView(this.visibleEntries, this.path, { sortKey: this.sortKey, direction: this.direction, filter: this.filter }));

  readonly #services: Pick<DriveServices, 'list' | 'remove' | 'listOffline'>;
  readonly #notices: DriveNotices;
  readonly #offeredElsewhere: (fileId: string) => boolean;

  /**
   * `offeredElsewhere(fileId)` tells whether an unfinished upload is shown by
   * another list (interrupted, or in the queue); it is then hidden here.
   */
  constructor(services: Pick<DriveServices, 'list' | 'remove' | 'listOffline'>, notices: DriveNotices, offeredElsewhere: (fileId: string) => boolean = () => false) {
    this.#services = services;
    this.#notices = notices;
    this.#offeredElsewhere = offeredElsewhere;
  }

  /** Reloads the listing; a failure is shown as `listProblem`, never thrown. */
  async refresh(): Promise<void> {
    this.loading = true;
    try {
      // A large drive shows what it has while the rest opens (not on reloads of a listed drive: no flicker).
      const firstLoad = !this.loaded;
      this.entries = await this.#services.list(firstLoad ? (partial) => (this.entries = partial) : undefined);
      // For `npm run bench -- --drive N` (src/storage/listing.ts leaves the others).
      performance.mark('sealdrop:list:entries-set');
      this.listProblem = null;
      this.offlineCopy = false;
      this.loaded = true;
    } catch (error) {
      const problem = handleError(error);
      const unreachable = problem.kind === 'offline' || problem.kind === 'server-down';
      const copy = unreachable ? await this.#services.listOffline?.().catch(() => null) : null;
      if (copy !== null && copy !== undefined) {
        // Offline: show the last listing this device saw, and say so (FilesPage).
        if (!this.loaded) this.entries = copy;
        this.offlineCopy = true;
        this.listProblem = null;
        this.loaded = true;
      } else this.listProblem = problem;
    } finally {
      this.loading = false;
    }
  }

  /** Deletes a file (payload and manifest). Resolves true on success; shows an alert and resolves false otherwise. */
  async remove(fileId: string): Promise<boolean> {
    const entry = this.entries.find((e) => e.fileId === fileId);
    try {
      await this.#services.remove(fileId);
      this.forget(fileId);
      this.#notices.announce(entry?.status === 'ok' ? `Deleted ${entry.name}.` : 'Deleted.');
      return true;
    } catch (error) {
      this.#notices.report(error);
      return false;
    }
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

  /** Lists a file uploaded from this page (replacing an entry with the same id). */
  add(entry: DriveFile): void {
    this.entries = [...this.entries.filter((e) => e.fileId !== entry.fileId), entry];
  }

  /** Drops an entry without asking the server (it is gone already). */
  forget(fileId: string): void {
    this.entries = this.entries.filter((e) => e.fileId !== fileId);
  }

  /** Returns the listed file with this id, or undefined (also for damaged and unfinished entries). */
  file(fileId: string): DriveFile | undefined {
    const entry = this.entries.find((e) => e.fileId === fileId);
    return entry?.status === 'ok' ? entry : undefined;
  }

  #visibleEntries(): DriveEntry[] {
    return this.entries.filter((e) => e.status !== 'unfinished' || !this.#offeredElsewhere(e.fileId));
  }
}
