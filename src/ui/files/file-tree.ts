/**
 * The "My files" view model: a flat list of decrypted entries folded into
 * folders by their relative paths, then sorted and filtered, all in the
 * browser (the server never sees a name).
 */

/** A file whose manifest opened: its decrypted metadata and where it sits. */
export interface DriveFile {
  status: 'ok';
  fileId: string;
  name: string;
  type: string;
  size: number;
  /** File modification time, ms since the epoch (from the sealed metadata). */
  lastModified: number;
  /** When it was uploaded (ISO-8601, from the server listing). */
  createdAt: string;
  /** Folder path segments from the relative path; empty for a top-level file. */
  folder: string[];
}

/** A stored file that cannot be shown normally: its manifest failed to open, or the upload never finished. */
export interface DriveProblem {
  status: 'damaged' | 'unfinished';
  fileId: string;
  createdAt: string;
  payloadBytes: number;
  /** Plain words about what is wrong. */
  reason: string;
}

/** Anything the listing returns. */
export type DriveEntry = DriveFile | DriveProblem;

/** A folder inside the current one, with totals over everything beneath it. */
export interface FolderRow {
  name: string;
  path: string[];
  fileCount: number;
  size: number;
  /** Latest modification time beneath it. */
  lastModified: number;
}

/** Columns the list sorts by. */
export type SortKey = 'name' | 'size' | 'date';
/** Sort direction. */
export type SortDirection = 'ascending' | 'descending';

/** What to show for one folder. */
export interface FolderView {
  folders: FolderRow[];
  files: DriveFile[];
  problems: DriveProblem[];
  /**
   * For files that share their folder and name with another file: which
   * upload this is (1 = the earliest), by file id. Files with a unique name
   * are not in it.
   */
  copies: ReadonlyMap<string, number>;
}

/** The key two files share when they have the same folder and name. */
export function sameNameKey(folder: readonly string[], name: string): string {
  return [...folder, name].join('/');
}

/**
 * Numbers the files that share a folder and name by upload time (ties by
 * file id), so the list can tell them apart; unique names are left out.
 */
export function copyNumbers(entries: readonly DriveEntry[]): Map<string, number> {
  const groups = new Map<string, DriveFile[]>();
  for (const entry of entries) {
    if (entry.status !== 'ok') continue;
    const key = sameNameKey(entry.folder, entry.name);
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [entry]);
    else group.push(entry);
  }
  const copies = new Map<string, number>();
  for (const group of groups.values()) {
    if (group.length < 2) continue;
    group.sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.fileId < b.fileId ? -1 : 1));
    group.forEach((file, i) => copies.set(file.fileId, i + 1));
  }
  return copies;
}

/**
 * Returns the path segments of a relative path such as `photos/2024/a.jpg`
 * without its last segment (the file itself). Empty, `.` and `..` segments
 * are dropped so a crafted path can never climb out of the tree.
 */
export function folderOf(relativePath: string | undefined): string[] {
  if (relativePath === undefined) return [];
  const segments = relativePath.split(/[/\\]/).filter((s) => s !== '' && s !== '.' && s !== '..');
  return segments.slice(0, -1);
}

function startsWith(folder: string[], prefix: string[]): boolean {
  return prefix.length <= folder.length && prefix.every((segment, i) => folder[i] === segment);
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

function compare<T extends { name: string; size: number; lastModified: number }>(
  key: SortKey,
  direction: SortDirection,
): (a: T, b: T) => number {
  const sign = direction === 'ascending' ? 1 : -1;
  return (a, b) => {
    const primary =
      key === 'name' ? collator.compare(a.name, b.name) : key === 'size' ? a.size - b.size : a.lastModified - b.lastModified;
    return sign * (primary !== 0 ? primary : collator.compare(a.name, b.name));
  };
}

/**
 * Returns the folders and files directly inside `path`, sorted; with a
 * non-empty `filter`, returns instead every file at or below `path` whose
 * name contains it (case-insensitive) and no folders. Problem entries are
 * listed at the top level only.
 */
export function folderView(
  entries: readonly DriveEntry[],
  path: readonly string[],
  options: { sortKey: SortKey; direction: SortDirection; filter: string },
): FolderView {
  const here = [...path];
  const needle = options.filter.trim().toLocaleLowerCase();
  const files: DriveFile[] = [];
  const folders = new Map<string, FolderRow>();
  const problems: DriveProblem[] = [];
  for (const entry of entries) {
    if (entry.status !== 'ok') {
      if (here.length === 0 && needle === '') problems.push(entry);
      continue;
    }
    if (!startsWith(entry.folder, here)) continue;
    if (needle !== '') {
      if (entry.name.toLocaleLowerCase().includes(needle)) files.push(entry);
      continue;
    }
    if (entry.folder.length === here.length) {
      files.push(entry);
      continue;
    }
    const name = entry.folder[here.length] ?? '';
    const row = folders.get(name) ?? { name, path: [...here, name], fileCount: 0, size: 0, lastModified: 0 };
    row.fileCount += 1;
    row.size += entry.size;
    row.lastModified = Math.max(row.lastModified, entry.lastModified);
    folders.set(name, row);
  }
  return {
    folders: [...folders.values()].sort(compare(options.sortKey, options.direction)),
    files: files.sort(compare(options.sortKey, options.direction)),
    problems,
    copies: copyNumbers(entries),
  };
}
