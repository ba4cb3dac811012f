import { describe, expect, it } from 'vitest';
import { TamperedError } from '../../crypto/index.ts';
import { StorageError } from '../../storage/storage-error.ts';
import type { QueuedRecord, UploadRecord } from '../../storage/upload-journal.ts';
import { messageFor } from '../base/handle-error.ts';
import { FakeDriveServices, fileId, journalRecord, pickedFile } from './fake-drive-services.ts';
import { InterruptedUploads } from './interrupted.svelte.ts';
import { DriveNotices } from './notices.svelte.ts';
import type { PickedFile } from './picked-files.ts';

const original = pickedFile('film.mp4', 'the original bytes');

function setUp(opts: { inQueue?: string[]; reopen?: (handle: FileSystemFileHandle) => Promise<File | null> } = {}) {
  const services = new FakeDriveServices();
  const notices = new DriveNotices();
  const resumed: [UploadRecord, File][] = [];
  const discarded: string[] = [];
  const added: [PickedFile, string, boolean | undefined][] = [];
  const interrupted = new InterruptedUploads({
    services,
    notices,
    resume: (record, file) => resumed.push([record, file]),
    add: (picked, uploadId, sealedAtRest) => added.push([picked, uploadId, sealedAtRest]),
    inQueue: (id) => opts.inQueue?.includes(id) ?? false,
    onDiscarded: (id) => discarded.push(id),
    ...(opts.reopen === undefined ? {} : { reopen: opts.reopen }),
  });
  return { services, notices, resumed, discarded, added, interrupted };
}

describe('InterruptedUploads', () => {
  it('lists this device’s interrupted uploads with how much is stored, leaving out those already in the queue', async () => {
    const { services, interrupted } = setUp({ inQueue: [fileId('2')] });
    services.pending = [
      { record: journalRecord(original, fileId('1'), { source: { name: 'film.mp4', size: 200, lastModified: 1, relativePath: 'clips/film.mp4' } }), bytesDone: 50 },
      { record: journalRecord(original, fileId('2')), bytesDone: 1 },
      { record: journalRecord(pickedFile('x'), fileId('3')), bytesDone: null },
    ];
    await interrupted.load();
    expect(interrupted.views).toEqual([
      { id: fileId('1'), started: true, label: 'clips/film.mp4', size: 200, percent: 25, canReopen: false, busy: false, problem: null },
      { id: fileId('3'), started: true, label: 'x', size: 1, percent: null, canReopen: false, busy: false, problem: null },
    ]);
  });

  it('shows a journal it cannot read in the alert banner', async () => {
    const { services, notices, interrupted } = setUp();
    services.pending = new DOMException('full', 'QuotaExceededError');
    await interrupted.load();
    expect(notices.alert).toEqual(messageFor('quota'));
  });

  it('resumes only with the very same file; another one is refused in plain words', async () => {
    const { services, notices, resumed, interrupted } = setUp();
    services.pending = [{ record: journalRecord(original, fileId('1')), bytesDone: 0 }];
    await interrupted.load();

    interrupted.resumeWith(fileId('1'), pickedFile('film.mp4', 'other bytes of another length'));
    expect(resumed).toHaveLength(0);
    expect(interrupted.views[0]?.problem).toMatch(/^“film.mp4” is not the same file as the interrupted upload/);

    interrupted.resumeWith(fileId('1'), original);
    expect(resumed.map(([record, file]) => [record.fileId, file])).toEqual([[fileId('1'), original]]);
    expect(interrupted.views).toEqual([]);
    expect(notices.announcement).toBe('Resuming film.mp4.');
  });

  it('recognises a dropped file as the source of an interrupted upload', async () => {
    const { services, resumed, interrupted } = setUp();
    services.pending = [{ record: journalRecord(original, fileId('1')), bytesDone: 0 }];
    await interrupted.load();
    expect(interrupted.resumeIfSame(pickedFile('other.mp4'))).toBe(false);
    expect(interrupted.resumeIfSame(original)).toBe(true);
    expect(resumed).toHaveLength(1);
    expect(interrupted.has(fileId('1'))).toBe(false);
  });

  it('reopens a kept file handle, and says so when permission is refused, the file is gone or it changed', async () => {
    // Never read by the fake reopen below.
    const handle = {} as FileSystemFileHandle;
    let answer: () => Promise<File | null> = () => Promise.resolve(null);
    const { services, resumed, interrupted } = setUp({ reopen: () => answer() });
    services.pending = [{ record: journalRecord(original, fileId('1'), { handle }), bytesDone: 0 }];
    await interrupted.load();
    expect(interrupted.views[0]?.canReopen).toBe(true);

    await interrupted.resumeFromDevice(fileId('1'));
    expect(interrupted.views[0]).toMatchObject({ busy: false, problem: 'Sealdrop was not allowed to read the file. Choose the file again instead.' });

    answer = () => Promise.reject(new DOMException('gone', 'NotFoundError'));
    await interrupted.resumeFromDevice(fileId('1'));
    expect(interrupted.views[0]?.problem).toBe('The file could not be opened from here (moved or deleted?). Choose the file again instead.');

    // The handle reads the file as it is now: edited since (other size and date), it is not resumed.
    answer = () => Promise.resolve(new File(['edited since'], 'film.mp4', { lastModified: original.lastModified + 1 }));
    await interrupted.resumeFromDevice(fileId('1'));
    expect(resumed).toHaveLength(0);
    expect(interrupted.views[0]?.problem).toBe(
      'film.mp4 has changed since the upload was interrupted (its size or date differ), so it was not resumed. Discard the interrupted upload, then add the file again.',
    );

    answer = () => Promise.resolve(original);
    await interrupted.resumeFromDevice(fileId('1'));
    expect(resumed).toHaveLength(1);
  });

  it('discards an interrupted upload, and keeps it when storage refuses', async () => {
    const { services, notices, discarded, interrupted } = setUp();
    services.pending = [
      { record: journalRecord(original, fileId('1')), bytesDone: 0 },
      { record: journalRecord(pickedFile('b.txt'), fileId('2')), bytesDone: 0 },
    ];
    await interrupted.load();

    await interrupted.discard(fileId('1'));
    expect(services.calls).toContain(`discard ${fileId('1')}`);
    expect(discarded).toEqual([fileId('1')]);
    expect(notices.announcement).toBe('Discarded the interrupted upload of film.mp4.');

    services.failDiscard = new StorageError('network');
    await interrupted.discard(fileId('2'));
    expect(interrupted.views.map((v) => v.id)).toEqual([fileId('2')]);
    // The browser is online here, so a storage network error is storage not answering.
    expect(notices.alert).toEqual(messageFor('storage-down'));
  });

  it('offers files that were queued and never started (a full-page sign-in, a closed tab) and queues them under their journaled id', async () => {
    const { services, notices, added, interrupted } = setUp({ inQueue: ['live-here'] });
    const queued = (uploadId: string, file: File, relativePath?: string): QueuedRecord => ({
      version: 1,
      uploadId,
      userId: 'u',
      source: { name: file.name, size: file.size, lastModified: file.lastModified, ...(relativePath === undefined ? {} : { relativePath }) },
      createdAt: 1,
    });
    const notes = pickedFile('notes.txt', 'my notes');
    services.queued = [queued('q-1', notes, 'work/notes.txt'), queued('live-here', pickedFile('x')), queued('q-2', original)];
    await interrupted.load();
    expect(interrupted.views).toEqual([
      { id: 'q-1', started: false, label: 'work/notes.txt', size: notes.size, percent: null, canReopen: false, busy: false, problem: null },
      { id: 'q-2', started: false, label: 'film.mp4', size: original.size, percent: null, canReopen: false, busy: false, problem: null },
    ]);

    // The same name with another folder is not that file.
    expect(interrupted.resumeIfSame(notes)).toBe(false);
    expect(interrupted.resumeIfSame(notes, 'work/notes.txt')).toBe(true);
    expect(added).toEqual([[{ file: notes, relativePath: 'work/notes.txt' }, 'q-1', undefined]]);
    expect(notices.announcement).toBe('Sealing notes.txt.');

    interrupted.resumeWith('q-2', pickedFile('film.mp4', 'other bytes'));
    expect(interrupted.views[0]?.problem).toMatch(/is not the same file/);
    await interrupted.discard('q-2');
    expect(services.calls).toContain('forget q-2');
    expect(interrupted.views).toEqual([]);
    expect(notices.announcement).toBe('Discarded film.mp4; it had not started uploading.');
  });

  it('lets files sealed at rest (added offline) go on by themselves after a reload; one that does not open stays, said in the alert', async () => {
    const { services, notices, added, resumed, interrupted } = setUp();
    const queued = (uploadId: string, file: File): QueuedRecord => ({
      version: 1,
      uploadId,
      userId: 'u',
      source: { name: file.name, size: file.size, lastModified: file.lastModified },
      createdAt: 1,
    });
    const offline = pickedFile('offline.txt', 'typed on a plane');
    const broken = pickedFile('broken.txt');
    services.queued = [queued('q-sealed', offline), queued('q-broken', broken), queued('q-plain', pickedFile('plain.txt'))];
    services.pending = [{ record: { ...journalRecord(original, fileId('1')), uploadId: 'q-started' }, bytesDone: 10 }];
    services.sealed.set('q-sealed', { file: offline, relativePath: 'trips/offline.txt' });
    services.sealed.set('q-broken', new TamperedError());
    services.sealed.set('q-started', { file: original, relativePath: undefined });
    await interrupted.load();

    expect(added).toEqual([[{ file: offline, relativePath: 'trips/offline.txt' }, 'q-sealed', true]]);
    expect(resumed.map(([record, file]) => [record.fileId, file])).toEqual([[fileId('1'), original]]);
    // Not sealed at rest: offered to choose again. Sealed but damaged: offered too, and said.
    expect(interrupted.views.map((v) => v.label)).toEqual(['broken.txt', 'plain.txt']);
    expect(notices.alert).toEqual(messageFor('tampered'));
  });

  it('reads the journal again once an upload live in another tab is let go there (closed, or reloaded a moment ago)', async () => {
    const { services, interrupted } = setUp();
    let release: () => void = () => undefined;
    const signals: AbortSignal[] = [];
    services.whenLiveElsewhereEnds = (signal) => {
      signals.push(signal);
      return new Promise<void>((resolve) => (release = resolve));
    };
    await interrupted.load();
    expect(services.calls.filter((c) => c === 'interrupted')).toHaveLength(1);
    services.pending = [{ record: journalRecord(original, fileId('7')), bytesDone: 3 }];
    release();
    await expect.poll(() => interrupted.views.map((v) => v.id)).toEqual([fileId('7')]);
    expect(services.calls.filter((c) => c === 'interrupted')).toHaveLength(2);
    // Each reading waits again; closing stops the wait.
    interrupted.close();
    expect(signals.at(-1)?.aborted).toBe(true);
  });
});
