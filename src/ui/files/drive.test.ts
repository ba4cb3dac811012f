/**
 * The drive as the page uses it: its parts wired together (an upload that
 * finishes is listed, a dropped file resumes its interrupted upload, lists
 * hide what another list already offers).
 */
import { describe, expect, it } from 'vitest';
import { Drive } from './drive.svelte.ts';
import { driveFile, FakeDriveServices, fileId, journalRecord, pickedFile } from './fake-drive-services.ts';

const interruptedFile = pickedFile('big.iso', 'half-sent bytes');
const unfinished = { status: 'unfinished', createdAt: '2026-01-01T00:00:00.000Z', payloadBytes: 3, reason: 'did not finish' } as const;

function setUp() {
  const services = new FakeDriveServices();
  const drive = new Drive(services, { retryWait: () => new Promise<void>(() => undefined) });
  return { services, drive };
}

describe('Drive', () => {
  it('is empty only once loaded with nothing listed, queued or interrupted', async () => {
    const { drive } = setUp();
    expect(drive.isEmpty).toBe(false);
    await drive.listing.refresh();
    expect(drive.isEmpty).toBe(true);
    drive.addFiles([{ file: pickedFile('a.txt') }]);
    expect(drive.isEmpty).toBe(false);
  });

  it('lists an upload once it finishes', async () => {
    const { services, drive } = setUp();
    services.listing = [driveFile(fileId('1'), 'old.txt')];
    await drive.listing.refresh();
    drive.addFiles([{ file: pickedFile('new.txt') }]);
    services.uploads.change('upload-1', { status: 'done', fileId: fileId('2') });
    expect(drive.listing.view.files.map((f) => f.name)).toEqual(['new.txt', 'old.txt']);
  });

  it('resumes a dropped file that an upload was interrupted on, and queues the others', async () => {
    const { services, drive } = setUp();
    services.pending = [{ record: journalRecord(interruptedFile, fileId('1')), bytesDone: 5 }];
    services.listing = [{ ...unfinished, fileId: fileId('1') }];
    await Promise.all([drive.listing.refresh(), drive.interrupted.load()]);
    // The server's unfinished entry is offered by the resume list, not listed twice.
    expect(drive.listing.visibleEntries).toEqual([]);

    drive.addFiles([{ file: pickedFile('new.txt') }, { file: interruptedFile }]);
    expect(services.uploads.calls).toEqual(['add new.txt', `resume ${fileId('1')} big.iso`]);
    expect(drive.interrupted.views).toEqual([]);
    expect(drive.notices.announcement).toBe('Sealing 2 files, 1 of them resumed.');
    // Now the queue offers it until it is done.
    expect(drive.listing.visibleEntries).toEqual([]);
  });

  it('asks “keep both or replace” before sealing a file whose folder and name are taken; keep both uploads beside it', async () => {
    const { services, drive } = setUp();
    services.listing = [driveFile(fileId('1'), 'report.txt'), driveFile(fileId('2'), 'report.txt', { folder: ['work'] })];
    await drive.listing.refresh();
    drive.addFiles([{ file: pickedFile('report.txt') }, { file: pickedFile('other.txt') }]);
    // Nothing is sealed while the question is open.
    expect(services.uploads.calls).toEqual([]);
    expect(drive.sameNameChoice?.clashes).toEqual(['report.txt']);
    drive.keepBoth();
    expect(drive.sameNameChoice).toBeNull();
    expect(services.uploads.calls).toEqual(['add report.txt', 'add other.txt']);
    services.uploads.change('upload-1', { status: 'done', fileId: fileId('3') });
    expect(services.calls.filter((c) => c.startsWith('remove'))).toEqual([]);
    expect(drive.listing.view.copies).toEqual(new Map([[fileId('1'), 1], [fileId('3'), 2]]));
  });

  it('replaces a same-named file only once the new one is uploaded, and leaves other folders alone', async () => {
    const { services, drive } = setUp();
    services.listing = [driveFile(fileId('1'), 'report.txt'), driveFile(fileId('2'), 'report.txt', { folder: ['work'] })];
    await drive.listing.refresh();
    drive.addFiles([{ file: pickedFile('report.txt') }]);
    drive.replace();
    expect(services.calls.filter((c) => c.startsWith('remove'))).toEqual([]);
    services.uploads.change('upload-1', { status: 'done', fileId: fileId('3') });
    await Promise.resolve();
    await Promise.resolve();
    expect(services.calls.filter((c) => c.startsWith('remove'))).toEqual([`remove ${fileId('1')}`]);
  });

  it('uploads nothing when the same-name question is cancelled', async () => {
    const { services, drive } = setUp();
    services.listing = [driveFile(fileId('1'), 'report.txt')];
    await drive.listing.refresh();
    drive.addFiles([{ file: pickedFile('report.txt') }]);
    drive.cancelSameName();
    expect(services.uploads.calls).toEqual([]);
    expect(drive.notices.announcement).toBe('Nothing was uploaded.');
  });

  it('drops the listing’s entry of a discarded interrupted upload', async () => {
    const { services, drive } = setUp();
    services.pending = [{ record: journalRecord(interruptedFile, fileId('1')), bytesDone: 5 }];
    services.listing = [{ ...unfinished, fileId: fileId('1') }];
    await Promise.all([drive.listing.refresh(), drive.interrupted.load()]);
    await drive.interrupted.discard(fileId('1'));
    expect(drive.listing.entries).toEqual([]);
  });

  it('does not offer as interrupted what this page is uploading already', async () => {
    const { services, drive } = setUp();
    services.uploads.resume(journalRecord(interruptedFile, fileId('1')), interruptedFile);
    services.pending = [{ record: journalRecord(interruptedFile, fileId('1')), bytesDone: 5 }];
    await drive.interrupted.load();
    expect(drive.interrupted.views).toEqual([]);
  });

  it('downloads a listed file and stops listening when closed', async () => {
    const { services, drive } = setUp();
    services.listing = [driveFile(fileId('1'), 'a.txt')];
    services.contents.set(fileId('1'), { metadata: { name: 'a.txt', type: 'text/plain', size: 1, lastModified: 0 }, bytes: new Uint8Array([65]) });
    await drive.listing.refresh();
    await drive.downloads.download(fileId('1'));
    expect(drive.notices.announcement).toBe('Saved a.txt.');

    drive.close();
    expect(services.uploads.listeners.size).toBe(0);
  });
});
