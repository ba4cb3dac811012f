/**
 * Drops and picks in Chromium: a dropped file keeps its File System Access
 * handle (for one-click Resume after a reload), a file inside a dropped
 * folder does not, and the handle survives the upload journal (IndexedDB);
 * a file chosen with the open picker keeps its handle too. The handles are
 * real ones from the origin-private file system; the drop is a stand-in
 * with the same shape as the browser's DataTransfer, and the picker a
 * stand-in returning those handles (a test cannot answer the real one).
 */
import { describe, expect, it } from 'vitest';
import { openUploadJournal } from '../../storage/upload-journal.ts';
import { filesFromDrop, filesFromPicker } from './picked-files.ts';

function fileEntry(file: File): FileSystemFileEntry {
  const entry = { isFile: true, isDirectory: false, name: file.name, file: (ok: (f: File) => void) => ok(file) };
  return entry as unknown as FileSystemFileEntry;
}

function folderEntry(name: string, children: FileSystemEntry[]): FileSystemDirectoryEntry {
  let read = false;
  const entry = {
    isFile: false,
    isDirectory: true,
    name,
    createReader: () => ({
      readEntries: (ok: (batch: FileSystemEntry[]) => void) => {
        ok(read ? [] : children);
        read = true;
      },
    }),
  };
  return entry as unknown as FileSystemDirectoryEntry;
}

function drop(items: { entry: FileSystemEntry; handle: FileSystemHandle | null }[]): DataTransfer {
  const list = items.map(({ entry, handle }) => ({
    kind: 'file',
    webkitGetAsEntry: () => entry,
    getAsFileSystemHandle: () => Promise.resolve(handle),
    getAsFile: () => null,
  }));
  return { items: list, files: [] } as unknown as DataTransfer;
}

describe('filesFromDrop with File System Access handles', () => {
  it('keeps the handle of a dropped file, none for files inside a dropped folder, and the journal keeps it', async () => {
    const root = await navigator.storage.getDirectory();
    const handle = await root.getFileHandle(`dropped-${crypto.randomUUID()}.txt`, { create: true });
    const folderHandle = await root.getDirectoryHandle(`folder-${crypto.randomUUID()}`, { create: true });
    const loose = new File(['loose'], 'loose.txt', { lastModified: 3 });
    const inside = new File(['inside'], 'inside.txt', { lastModified: 4 });

    const picked = await filesFromDrop(
      drop([
        { entry: fileEntry(loose), handle },
        { entry: folderEntry('trip', [fileEntry(inside)]), handle: folderHandle },
      ]),
    );
    expect(picked.map((p) => [p.file.name, p.relativePath, p.handle === handle])).toEqual([
      ['loose.txt', undefined, true],
      ['inside.txt', 'trip/inside.txt', false],
    ]);

    const journal = openUploadJournal(`journal-test-${crypto.randomUUID()}`);
    await journal.putQueued({ version: 1, uploadId: 'u-1', userId: 'alice', source: { name: 'loose.txt', size: 5, lastModified: 3 }, createdAt: 1, handle });
    const [stored] = await journal.listQueued('alice');
    expect(stored?.handle).toBeInstanceOf(FileSystemFileHandle);
    expect(await stored?.handle?.isSameEntry(handle)).toBe(true);
  });
});

describe('filesFromPicker', () => {
  it('returns the chosen files with their handles, "closed" when the picker is closed, "no-picker" where there is none or it is refused', async () => {
    const root = await navigator.storage.getDirectory();
    const handle = await root.getFileHandle(`picked-${crypto.randomUUID()}.txt`, { create: true });
    const writable = await handle.createWritable();
    await writable.write('picked bytes');
    await writable.close();
    const asked: (OpenFilePickerOptions | undefined)[] = [];
    const picked = await filesFromPicker({
      showOpenFilePicker: (options) => {
        asked.push(options);
        return Promise.resolve([handle]);
      },
    });
    expect(asked).toEqual([{ multiple: true }]);
    expect(picked.kind).toBe('files');
    const items = picked.kind === 'files' ? picked.items : [];
    expect(items).toHaveLength(1);
    expect(items[0]?.handle).toBe(handle);
    expect(items[0]?.file.name).toBe(handle.name);
    expect(await items[0]?.file.text()).toBe('picked bytes');

    expect(await filesFromPicker({ showOpenFilePicker: () => Promise.reject(new DOMException('closed', 'AbortError')) })).toEqual({ kind: 'closed' });
    expect(await filesFromPicker({ showOpenFilePicker: () => Promise.reject(new DOMException('frame', 'SecurityError')) })).toEqual({ kind: 'no-picker' });
    expect(await filesFromPicker({})).toEqual({ kind: 'no-picker' });
  });

  it('rejects when a chosen file cannot be read (removed after it was picked)', async () => {
    const root = await navigator.storage.getDirectory();
    const name = `gone-${crypto.randomUUID()}.txt`;
    const handle = await root.getFileHandle(name, { create: true });
    await root.removeEntry(name);
    await expect(filesFromPicker({ showOpenFilePicker: () => Promise.resolve([handle]) })).rejects.toMatchObject({ name: 'NotFoundError' });
  });
});
