import { describe, expect, test } from 'vitest';
import { copyNumbers, folderOf, folderView, type DriveEntry, type DriveFile } from './file-tree.ts';

function file(name: string, relativePath: string | undefined, size: number, lastModified: number): DriveFile {
  return { status: 'ok', fileId: name + size, name, type: 'text/plain', size, lastModified, createdAt: '2025-01-01T00:00:00Z', folder: folderOf(relativePath) };
}

const entries: DriveEntry[] = [
  file('b.txt', undefined, 30, 3),
  file('a10.txt', undefined, 10, 1),
  file('a9.txt', undefined, 20, 2),
  file('one.jpg', 'photos/one.jpg', 100, 5),
  file('two.jpg', 'photos/2024/two.jpg', 200, 9),
  { status: 'damaged', fileId: 'x', createdAt: '2025-01-01T00:00:00Z', payloadBytes: 5, reason: 'damaged' },
];

describe('folderOf', () => {
  test('drops the file name and unsafe segments', () => {
    expect(folderOf('a/b/c.txt')).toEqual(['a', 'b']);
    expect(folderOf('c.txt')).toEqual([]);
    expect(folderOf(undefined)).toEqual([]);
    expect(folderOf('../../etc/./x//y.txt')).toEqual(['etc', 'x']);
  });
});

describe('folderView', () => {
  const byName = { sortKey: 'name', direction: 'ascending', filter: '' } as const;

  test('top level: files, folders with totals, problems', () => {
    const view = folderView(entries, [], byName);
    expect(view.files.map((f) => f.name)).toEqual(['a9.txt', 'a10.txt', 'b.txt']);
    expect(view.folders).toEqual([{ name: 'photos', path: ['photos'], fileCount: 2, size: 300, lastModified: 9 }]);
    expect(view.problems.map((p) => p.fileId)).toEqual(['x']);
  });

  test('inside a folder', () => {
    const view = folderView(entries, ['photos'], byName);
    expect(view.files.map((f) => f.name)).toEqual(['one.jpg']);
    expect(view.folders.map((f) => f.name)).toEqual(['2024']);
    expect(view.problems).toEqual([]);
  });

  test('sorts by size and date in both directions', () => {
    expect(folderView(entries, [], { ...byName, sortKey: 'size', direction: 'descending' }).files.map((f) => f.size)).toEqual([30, 20, 10]);
    expect(folderView(entries, [], { ...byName, sortKey: 'date' }).files.map((f) => f.lastModified)).toEqual([1, 2, 3]);
  });

  test('filter searches names beneath the folder, case-insensitively', () => {
    expect(folderView(entries, [], { ...byName, filter: 'JPG' }).files.map((f) => f.name)).toEqual(['one.jpg', 'two.jpg']);
    expect(folderView(entries, ['photos', '2024'], { ...byName, filter: 'jpg' }).files.map((f) => f.name)).toEqual(['two.jpg']);
    expect(folderView(entries, [], { ...byName, filter: 'nothing' })).toEqual({ folders: [], files: [], problems: [], copies: new Map() });
  });
});

describe('copyNumbers', () => {
  const at = (id: string, name: string, createdAt: string, folder: string[] = []): DriveFile => ({
    status: 'ok', fileId: id, name, type: '', size: 1, lastModified: 0, createdAt, folder,
  });

  test('numbers same-named files in one folder by upload time and leaves unique names out', () => {
    const copies = copyNumbers([
      at('b', 'report.txt', '2026-02-01T00:00:00.000Z'),
      at('a', 'report.txt', '2026-01-01T00:00:00.000Z'),
      at('c', 'report.txt', '2026-01-01T00:00:00.000Z', ['work']),
      at('d', 'notes.txt', '2026-01-01T00:00:00.000Z'),
    ]);
    expect(copies).toEqual(new Map([['a', 1], ['b', 2]]));
  });

  test('breaks a tie in upload time by file id, so the numbers never swap between listings', () => {
    const same = '2026-01-01T00:00:00.000Z';
    expect(copyNumbers([at('z', 'a.txt', same), at('y', 'a.txt', same)])).toEqual(new Map([['y', 1], ['z', 2]]));
  });
});
