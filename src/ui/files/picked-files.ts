/**
 * Turns what the user dropped, picked or pasted into a flat list of files,
 * each with the relative path it had inside a chosen or dropped folder.
 */

/** One file to seal, and its path inside a folder the user gave us (with the file name last). */
export interface PickedFile {
  file: File;
  relativePath?: string;
  /** Its File System Access handle where the browser gave one (Chromium), kept in the journal to reopen it after a reload. */
  handle?: FileSystemFileHandle;
}

/** Returns the files of an `<input type="file">` (with or without `webkitdirectory`), keeping folder paths. */
export function filesFromInput(files: FileList | readonly File[]): PickedFile[] {
  return Array.from(files, (file) =>
    file.webkitRelativePath === '' ? { file } : { file, relativePath: file.webkitRelativePath },
  );
}

/** Returns the files pasted onto the page (screenshots, files copied in a file manager). */
export function filesFromClipboard(data: DataTransfer | null): PickedFile[] {
  return data === null ? [] : filesFromInput(data.files);
}

/** What the File System Access open picker gave: files with their handles, nothing (closed), or no picker to use. */
export type PickerResult = { kind: 'files'; items: PickedFile[] } | { kind: 'closed' } | { kind: 'no-picker' };

/**
 * Asks for files with File System Access's open picker where the browser
 * has one (Chromium), so each file keeps its handle for the upload journal
 * (Resume after a reload then reopens it in one click). Call it straight
 * from a click: the picker needs the user's gesture.
 *
 * Resolves `no-picker` where there is none, or where the browser refuses
 * to show it (e.g. a SecurityError in a frame): the caller then uses its
 * `<input type="file">`. Resolves `closed` when the person closes the
 * picker without choosing. Rejects when a chosen file cannot be read.
 */
export async function filesFromPicker(win: Pick<Window, 'showOpenFilePicker'> = window): Promise<PickerResult> {
  const picker = win.showOpenFilePicker;
  if (typeof picker !== 'function') return { kind: 'no-picker' };
  let handles: FileSystemFileHandle[];
  try {
    handles = await picker.call(win, { multiple: true });
  } catch (error) {
    return error instanceof DOMException && error.name === 'AbortError' ? { kind: 'closed' } : { kind: 'no-picker' };
  }
  const items = await Promise.all(handles.map(async (handle): Promise<PickedFile> => ({ file: await handle.getFile(), handle })));
  return items.length === 0 ? { kind: 'closed' } : { kind: 'files', items };
}

function isFileEntry(entry: FileSystemEntry): entry is FileSystemFileEntry {
  return entry.isFile;
}

function isDirectoryEntry(entry: FileSystemEntry): entry is FileSystemDirectoryEntry {
  return entry.isDirectory;
}

function fileOf(entry: FileSystemFileEntry): Promise<File> {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

/** Reads every child: one `readEntries` call returns at most ~100, so keep calling until it returns none. */
async function childrenOf(directory: FileSystemDirectoryEntry): Promise<FileSystemEntry[]> {
  const reader = directory.createReader();
  const all: FileSystemEntry[] = [];
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) return all;
    all.push(...batch);
  }
}

async function walk(entry: FileSystemEntry, prefix: string, out: PickedFile[]): Promise<void> {
  if (isFileEntry(entry)) {
    const file = await fileOf(entry);
    out.push(prefix === '' ? { file } : { file, relativePath: `${prefix}${file.name}` });
  } else if (isDirectoryEntry(entry)) {
    for (const child of await childrenOf(entry)) await walk(child, `${prefix}${entry.name}/`, out);
  }
}

/**
 * Starts `DataTransferItem.getAsFileSystemHandle()` (Chromium's File System
 * Access; not in TypeScript's DOM library yet) and resolves with the
 * item's file handle, or null where the browser has none, the item is a
 * folder, or it refuses.
 */
function fileHandleOf(item: DataTransferItem): Promise<FileSystemFileHandle | null> {
  const call: unknown = Reflect.get(item, 'getAsFileSystemHandle');
  if (typeof call !== 'function') return Promise.resolve(null);
  try {
    return Promise.resolve(Reflect.apply(call, item, [])).then(
      (handle: unknown) => (typeof FileSystemFileHandle !== 'undefined' && handle instanceof FileSystemFileHandle ? handle : null),
      () => null,
    );
  } catch {
    return Promise.resolve(null);
  }
}

/**
 * Returns every file in a drop, walking dropped folders recursively. A
 * dropped file (not inside a folder) carries its FileSystemFileHandle where
 * the browser gives one (Chromium), for the upload journal.
 *
 * Must be called from inside the `drop` handler: the browser empties the
 * item list once the handler returns, so the entries are taken first and
 * walked afterwards. Falls back to `dataTransfer.files` where
 * `webkitGetAsEntry` is missing. Rejects if a folder cannot be read.
 */
export async function filesFromDrop(data: DataTransfer | null): Promise<PickedFile[]> {
  if (data === null) return [];
  const items = Array.from(data.items).filter((item) => item.kind === 'file');
  if (items.length === 0 || typeof items[0]?.webkitGetAsEntry !== 'function') return filesFromInput(data.files);
  const entries = items.map((item) => item.webkitGetAsEntry());
  // Asked for now too, for the same reason; settled later.
  const handles = items.map((item) => fileHandleOf(item));
  const out: PickedFile[] = [];
  for (const [index, entry] of entries.entries()) {
    if (entry !== null) {
      const before = out.length;
      await walk(entry, '', out);
      const handle = await handles[index];
      const only = out[before];
      // A dropped file (not a folder) keeps its handle, so Resume after a reload can reopen it.
      if (handle !== null && handle !== undefined && out.length === before + 1 && only !== undefined && only.relativePath === undefined) {
        out[before] = { ...only, handle };
      }
      continue;
    }
    const file = items[index]?.getAsFile();
    if (file) out.push({ file });
  }
  return out;
}
