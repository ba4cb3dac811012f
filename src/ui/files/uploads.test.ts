import { describe, expect, it } from 'vitest';
import { TamperedError } from '../../crypto/errors.ts';
import { SessionExpiredError } from '../../auth/api-client.ts';
import { StorageError } from '../../storage/storage-error.ts';
import { messageFor } from '../base/handle-error.ts';
import { deferred, FakeSessionEvents, FakeUploadQueue, fileId, pickedFile, type Deferred } from './fake-drive-services.ts';
import type { DriveFile } from './file-tree.ts';
import { DriveNotices } from './notices.svelte.ts';
import { Uploads } from './uploads.svelte.ts';

/** An upload list over a fake queue, with a retry clock the test advances by hand. */
function setUp(opts: { online?: boolean } = {}) {
  const queue = new FakeUploadQueue();
  const session = new FakeSessionEvents();
  const notices = new DriveNotices();
  const uploaded: DriveFile[] = [];
  const waits: { delayMs: number; signal: AbortSignal; gate: Deferred<void> }[] = [];
  const uploads = new Uploads({
    queue,
    notices,
    onUploaded: (file) => uploaded.push(file),
    onSessionExpired: session.onSessionExpired,
    onSessionRestored: session.onSessionRestored,
    random: () => 0.5,
    online: () => opts.online ?? true,
    wait: (delayMs, signal) => {
      const gate = deferred<void>();
      signal.addEventListener('abort', () => gate.reject(signal.reason), { once: true });
      waits.push({ delayMs, signal, gate });
      return gate.promise;
    },
  });
  /** Lets the pending wait end, then the promise chain that retries. */
  const endWait = async (index: number): Promise<void> => {
    const wait = waits[index];
    if (wait === undefined) throw new Error(`no wait number ${index}`);
    wait.gate.resolve();
    await wait.gate.promise;
    await Promise.resolve();
  };
  return { queue, session, notices, uploaded, waits, uploads, endWait };
}

describe('Uploads', () => {
  it('waits for storage after a transient failure, quickly at first, then at growing pauses, without end and never failing', async () => {
    const { queue, notices, waits, uploads, endWait } = setUp();
    uploads.add({ file: pickedFile('report.pdf') });
    const failure = new StorageError('server', { status: 503 });

    for (let attempt = 0; attempt < 30; attempt++) {
      queue.change('upload-1', { status: 'failed', error: attempt % 2 === 0 ? failure : new StorageError('network') });
      expect(uploads.views[0]?.state).toBe('waiting-for-storage');
      // Online, a storage network error is storage not answering, not "you are offline".
      expect(uploads.views[0]?.problem?.kind).toBe(attempt % 2 === 0 ? 'server' : 'storage-down');
      await endWait(attempt);
      expect(queue.calls.at(-1)).toBe('retry upload-1');
      // Each try is queued, then running: the row still says it is waiting for storage.
      expect(uploads.views[0]?.state).toBe('waiting-for-storage');
      queue.change('upload-1', { status: 'uploading' });
      expect(uploads.views[0]?.state).toBe('waiting-for-storage');
    }
    // Quick retries, then jittered by the injected source (0.5): 3.75, 7.5, 15 s, then 22.5 s of 15–30 s, and so on.
    expect(waits.slice(0, 9).map((w) => w.delayMs)).toEqual([1000, 2000, 4000, 8000, 3750, 7500, 15_000, 22_500, 22_500]);
    expect(waits.slice(9).every((w) => w.delayMs === 22_500)).toBe(true);
    expect(waits).toHaveLength(30);
    expect(notices.announcement).toBe('report.pdf is waiting for storage. It continues on its own when storage answers.');

    // Storage answers: the try gets further, the row shows the upload again, and a later outage starts with quick retries.
    queue.change('upload-1', { status: 'uploading', progress: { bytesDone: 5, totalBytes: 10, bytesPerSecond: 1, secondsLeft: 5 } });
    expect(uploads.views[0]?.state).toBe('uploading');
    queue.change('upload-1', { status: 'failed', error: failure });
    expect(waits.at(-1)?.delayMs).toBe(1000);
    await endWait(30);
    queue.change('upload-1', { status: 'done', fileId: fileId('1') });
    expect(uploads.views[0]?.state).toBe('done');
    expect(notices.announcement).toBe('report.pdf is sealed and uploaded.');
  });

  it('shows an upload that had to start over as uploading again from its first stored block', async () => {
    const { queue, uploads, endWait } = setUp();
    uploads.add({ file: pickedFile('restart.bin') });
    const progress = (bytesDone: number) => ({ bytesDone, totalBytes: 10, bytesPerSecond: 1, secondsLeft: 1 });
    queue.change('upload-1', { status: 'uploading', progress: progress(6) });
    queue.change('upload-1', { status: 'failed', error: new StorageError('network') });
    await endWait(0);
    queue.change('upload-1', { status: 'uploading' });
    expect(uploads.views[0]?.state).toBe('waiting-for-storage');
    // A new upload under a new key counts from zero.
    queue.change('upload-1', { progress: progress(2) });
    expect(uploads.views[0]?.state).toBe('uploading');
  });

  it('says it waits for the connection, not for storage, while the browser is offline', () => {
    const { queue, uploads } = setUp({ online: false });
    uploads.add({ file: pickedFile('offline.txt') });
    queue.change('upload-1', { status: 'failed', error: new StorageError('network') });
    expect(uploads.views[0]?.state).toBe('waiting');
  });

  it('fails a lasting refusal at once in plain words, even while waiting for storage', async () => {
    const { queue, notices, waits, uploads, endWait } = setUp();
    uploads.add({ file: pickedFile('photo.jpg') });
    for (let attempt = 0; attempt < 5; attempt++) {
      queue.change('upload-1', { status: 'failed', error: new StorageError('network') });
      await endWait(attempt);
    }
    queue.change('upload-1', { status: 'failed', error: new StorageError('forbidden', { status: 403 }) });
    expect(waits).toHaveLength(5);
    expect(uploads.views[0]).toMatchObject({ state: 'failed', problem: messageFor('forbidden') });
    expect(notices.announcement).toBe(`photo.jpg was not uploaded. ${messageFor('forbidden').title}`);
  });

  it('never says a file was deleted elsewhere when storage lost what an upload sent', () => {
    const { queue, uploads } = setUp();
    uploads.add({ file: pickedFile('notes.txt') });
    queue.change('upload-1', { status: 'failed', error: new StorageError('not-found', { status: 404 }) });
    const problem = uploads.views[0]?.problem;
    expect(problem?.title).toBe('Storage no longer has the part already sent.');
    expect(`${problem?.title} ${problem?.action}`).not.toMatch(/deleted|another device/);
  });

  it('does not retry a lasting failure on its own, and a manual retry starts the count again', async () => {
    const { queue, notices, waits, uploads, endWait } = setUp();
    uploads.add({ file: pickedFile('a.txt') });
    queue.change('upload-1', { status: 'failed', error: new TamperedError() });
    expect(waits).toHaveLength(0);
    expect(uploads.views[0]).toMatchObject({ state: 'failed', problem: messageFor('tampered') });
    expect(notices.announcement).toBe(`a.txt was not uploaded. ${messageFor('tampered').title}`);

    uploads.retry('upload-1');
    expect(queue.calls.at(-1)).toBe('retry upload-1');
    queue.change('upload-1', { status: 'failed', error: new StorageError('server') });
    await endWait(0);
    expect(waits[0]?.delayMs).toBe(1000);
  });

  it('holds the queue while the session is expired and releases it, retrying what failed for that reason', () => {
    const { queue, session, uploads } = setUp();
    uploads.add({ file: pickedFile('started.txt') });
    uploads.add({ file: pickedFile('waiting.txt') });
    queue.change('upload-1', { status: 'failed', error: new SessionExpiredError(), fileId: fileId('1') });

    // The failure itself tells the list the session is gone.
    expect(uploads.sessionExpired).toBe(true);
    expect(queue.calls).toContain('hold');
    expect(uploads.views.map((v) => v.state)).toEqual(['failed', 'held']);
    expect(uploads.views[1]?.problem).toBeNull();

    session.expire();
    expect(queue.calls.filter((c) => c === 'hold')).toHaveLength(1);

    session.restore();
    expect(uploads.sessionExpired).toBe(false);
    expect(queue.calls.slice(-2)).toEqual(['release', 'retry upload-1']);
    expect(uploads.views.map((v) => v.state)).toEqual(['queued', 'queued']);
  });

  it('shows a queued upload that never got a file id as held, not failed, while signed out', () => {
    const { queue, session, uploads } = setUp();
    session.expire();
    uploads.add({ file: pickedFile('new.txt') });
    queue.change('upload-1', { status: 'failed', error: new SessionExpiredError() });
    expect(uploads.views[0]).toMatchObject({ state: 'held', problem: null });
  });

  it('cancels by state: a waiting retry is stopped, cancelled (its journal record goes) and dropped, a failed one too, a running one cancelled', () => {
    const { queue, waits, uploads } = setUp();
    uploads.add({ file: pickedFile('waiting.txt') });
    uploads.add({ file: pickedFile('failed.txt') });
    uploads.add({ file: pickedFile('running.txt') });
    queue.change('upload-1', { status: 'failed', error: new StorageError('network') });
    queue.change('upload-2', { status: 'failed', error: new TamperedError() });
    queue.change('upload-3', { status: 'uploading' });

    uploads.cancel('upload-1');
    expect(waits[0]?.signal.aborted).toBe(true);
    uploads.cancel('upload-2');
    uploads.cancel('upload-3');
    expect(queue.calls.slice(-5)).toEqual(['cancel upload-1', 'remove upload-1', 'cancel upload-2', 'remove upload-2', 'cancel upload-3']);
  });

  it('lists a finished upload with its folder and type, and says so', () => {
    const { queue, notices, uploaded, uploads } = setUp();
    uploads.add({ file: new File(['x'], 'a.png', { type: 'image/png', lastModified: 42 }), relativePath: 'photos/2024/a.png' });
    queue.change('upload-1', { status: 'done', fileId: fileId('9') });
    expect(uploaded).toEqual([expect.objectContaining({ fileId: fileId('9'), name: 'a.png', type: 'image/png', lastModified: 42, folder: ['photos', '2024'] })]);
    expect(notices.announcement).toBe('a.png is sealed and uploaded.');
    // The same snapshot again is no news.
    queue.change('upload-1', {});
    expect(uploaded).toHaveLength(1);
  });

  it('clears only finished, failed and cancelled rows', () => {
    const { queue, uploads } = setUp();
    for (const name of ['done', 'failed', 'cancelled', 'running', 'queued']) uploads.add({ file: pickedFile(name) });
    queue.change('upload-1', { status: 'done', fileId: fileId('1') });
    queue.change('upload-2', { status: 'failed', error: new TamperedError() });
    queue.change('upload-3', { status: 'cancelled' });
    queue.change('upload-4', { status: 'uploading' });
    uploads.clearFinished();
    expect(uploads.views.map((v) => v.item.name)).toEqual(['running', 'queued']);
  });

  it('stops waiting retries and listening when closed', () => {
    const { queue, session, waits, uploads } = setUp();
    uploads.add({ file: pickedFile('a.txt') });
    queue.change('upload-1', { status: 'failed', error: new StorageError('network') });
    uploads.close();
    expect(waits[0]?.signal.aborted).toBe(true);
    expect(queue.listeners.size).toBe(0);
    expect(session.expired.size + session.restored.size).toBe(0);
  });
});
