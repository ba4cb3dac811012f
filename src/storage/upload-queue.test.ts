/**
 * The upload queue's own logic (parallel limit, hold and release, retry,
 * resume, cancel) over a fake transfer whose uploads finish only when the
 * test says so: no timers, no network, no sealing.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { generateIdentityKeys, type IdentityKeys } from '../crypto/index.ts';
import type { GrantApi } from './grants.ts';
import type { ResumeUploadOptions, SendFileOptions } from './sender.ts';
import { ServerUnreachableError } from '../contract/errors.ts';
import { StorageError } from './storage-error.ts';
import { memoryUploadJournal, type UploadJournal, type UploadRecord } from './upload-journal.ts';
import { memoryOutbox, type Outbox } from './outbox.ts';
import { liveUploadIds, type LockManagerLike } from './upload-locks.ts';
import { SEALED_AT_REST_NOTICE, UploadQueue, type UploadItem, type UploadTransfer } from './upload-queue.ts';

const USER = 'user-1';

/** One call of the fake transfer, finished by the test. */
interface Call {
  kind: 'send' | 'resume';
  name: string;
  record: UploadRecord | null;
  uploadId: string | undefined;
  signal: AbortSignal | undefined;
  progress(bytesDone: number): void;
  finish(fileId: string): void;
  fail(error: unknown): void;
  /** Fails before the upload got a file id (the grant request did not get through). */
  failEarly(error: unknown): void;
}

/** A transfer that records each call and settles it only when told; an abort rejects it like the real one. */
function fakeTransfer(): UploadTransfer & { calls: Call[]; started(count: number): Promise<void> } {
  const calls: Call[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  const tell = (): void => {
    for (const waiter of waiters.filter((w) => calls.length >= w.count)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  };
  const start = (kind: Call['kind'], opts: SendFileOptions | ResumeUploadOptions, record: UploadRecord | null, onStarted?: (id: string) => void) =>
    new Promise<{ fileId: string }>((resolve, reject) => {
      opts.signal?.addEventListener('abort', () => reject(opts.signal?.reason), { once: true });
      calls.push({
        kind,
        name: opts.file.name,
        record,
        uploadId: opts.uploadId,
        signal: opts.signal,
        progress: (bytesDone) => opts.onProgress?.({ bytesDone, totalBytes: opts.file.size, bytesPerSecond: 1, secondsLeft: 1 }),
        finish: (fileId) => resolve({ fileId }),
        failEarly: reject,
        fail: (error) => {
          // A real upload is journaled (and told its file id) before it can fail halfway.
          onStarted?.(FILE_ID);
          reject(error);
        },
      });
      tell();
    });
  return {
    calls,
    /** Resolves once `count` transfers have started (the queue reads its journal first, asynchronously). */
    started: (count) =>
      new Promise<void>((resolve) => {
        waiters.push({ count, resolve });
        tell();
      }),
    send: (opts) => start('send', opts, null, opts.onStarted),
    resume: (opts) => start('resume', opts, opts.record),
  };
}

const FILE_ID = 'a'.repeat(32);

function record(file: File, fileId = FILE_ID): UploadRecord {
  return {
    version: 2,
    fileId,
    userId: USER,
    draft: new Uint8Array([1, 2, 3]),
    source: { name: file.name, size: file.size, lastModified: file.lastModified },
    segmentSize: 65_536,
    segmentsPerBlock: 4,
    blockDigests: [],
    createdAt: 0,
  };
}

function file(name: string): File {
  return new File([name], name, { lastModified: 1_700_000_000_000 });
}

/** Web Locks in memory: which names are held now. */
function fakeLocks(): LockManagerLike & { held: Set<string> } {
  const held = new Set<string>();
  return {
    held,
    async request(name, _options, callback) {
      held.add(name);
      try {
        await callback();
      } finally {
        held.delete(name);
      }
    },
    query: () => Promise.resolve({ held: [...held].map((name) => ({ name })) }),
  };
}

function makeQueue(
  opts: { parallelFiles?: number; journal?: UploadJournal; locks?: LockManagerLike | null; stallAfterMs?: number; outbox?: Outbox; identity?: IdentityKeys; online?: boolean } = {},
) {
  const transfer = fakeTransfer();
  const queue = new UploadQueue({
    // Never read: the fake transfer stands in for grants and sealing.
    api: {} as GrantApi,
    identity: opts.identity ?? ({} as IdentityKeys),
    ...(opts.outbox === undefined ? {} : { outbox: opts.outbox, online: () => opts.online ?? false }),
    userId: USER,
    journal: opts.journal ?? memoryUploadJournal(),
    transfer,
    locks: opts.locks ?? null,
    ...(opts.stallAfterMs === undefined ? {} : { stallAfterMs: opts.stallAfterMs }),
    ...(opts.parallelFiles === undefined ? {} : { parallelFiles: opts.parallelFiles }),
  });
  const statuses = (): string[] => queue.items.map((i) => `${i.name}:${i.status}`);
  /** Resolves once the queue's items satisfy `done` (checked at every change). */
  const until = (done: (items: readonly UploadItem[]) => boolean): Promise<void> =>
    new Promise((resolve) => {
      const stop = queue.subscribe((items) => {
        if (!done(items)) return;
        queueMicrotask(() => stop());
        resolve();
      });
    });
  const statusOf = (name: string, status: UploadItem['status']) => (items: readonly UploadItem[]) =>
    items.some((i) => i.name === name && i.status === status);
  return { queue, transfer, statuses, until, statusOf };
}

describe('UploadQueue', () => {
  it('runs at most `parallelFiles` uploads and starts the next in the order added', async () => {
    const { queue, transfer, statuses, until, statusOf } = makeQueue({ parallelFiles: 2 });
    for (const name of ['a', 'b', 'c', 'd']) queue.add(file(name));
    expect(statuses()).toEqual(['a:uploading', 'b:uploading', 'c:queued', 'd:queued']);
    await transfer.started(2);
    expect(transfer.calls.map((c) => c.name)).toEqual(['a', 'b']);

    transfer.calls[1]?.finish('b'.repeat(32));
    await until(statusOf('c', 'uploading'));
    expect(statuses()).toEqual(['a:uploading', 'b:done', 'c:uploading', 'd:queued']);
    expect(queue.items[1]?.fileId).toBe('b'.repeat(32));
  });

  it('starts nothing while held, lets running uploads finish, and releases the held ones in order', async () => {
    const { queue, transfer, statuses, until, statusOf } = makeQueue({ parallelFiles: 1 });
    queue.add(file('running'));
    queue.hold();
    queue.add(file('first'));
    queue.add(file('second'));
    expect(statuses()).toEqual(['running:uploading', 'first:queued', 'second:queued']);

    await transfer.started(1);
    transfer.calls[0]?.finish(FILE_ID);
    await until(statusOf('running', 'done'));
    // Finishing an upload pumps the queue, but held means held.
    expect(statuses()).toEqual(['running:done', 'first:queued', 'second:queued']);
    expect(transfer.calls).toHaveLength(1);

    queue.release();
    expect(statuses()).toEqual(['running:done', 'first:uploading', 'second:queued']);
    await transfer.started(2);
    transfer.calls[1]?.finish('b'.repeat(32));
    await transfer.started(3);
    expect(transfer.calls.map((c) => c.name)).toEqual(['running', 'first', 'second']);
  });

  it('retries a failed upload from its journal record, so only the missing blocks are sent', async () => {
    const journal = memoryUploadJournal();
    const { queue, transfer, until, statusOf } = makeQueue({ journal });
    const picked = file('photo.jpg');
    const id = queue.add(picked);
    await journal.put(record(picked));
    await transfer.started(1);

    const transient = new StorageError('network');
    transfer.calls[0]?.fail(transient);
    await until(statusOf('photo.jpg', 'failed'));
    expect(queue.items[0]).toMatchObject({ status: 'failed', error: transient, fileId: FILE_ID });

    queue.retry(id);
    expect(queue.items[0]).toMatchObject({ status: 'uploading', error: null });
    await transfer.started(2);
    expect(transfer.calls[1]).toMatchObject({ kind: 'resume', name: 'photo.jpg' });
    expect(transfer.calls[1]?.record?.fileId).toBe(FILE_ID);

    transfer.calls[1]?.finish(FILE_ID);
    await until(statusOf('photo.jpg', 'done'));
  });

  it('retries from the start when the journal no longer has the upload', async () => {
    const { queue, transfer, until, statusOf } = makeQueue();
    const id = queue.add(file('notes.txt'));
    await transfer.started(1);
    transfer.calls[0]?.fail(new StorageError('server'));
    await until(statusOf('notes.txt', 'failed'));

    queue.retry(id);
    await transfer.started(2);
    expect(transfer.calls[1]?.kind).toBe('send');
  });

  it('ignores retry of an upload that has not failed', async () => {
    const { queue, transfer, statuses } = makeQueue();
    const id = queue.add(file('a'));
    await transfer.started(1);
    queue.retry(id);
    expect(statuses()).toEqual(['a:uploading']);
    expect(transfer.calls).toHaveLength(1);
  });

  it('resumes an interrupted upload with its record and file id from the start', async () => {
    const { queue, transfer, until, statusOf } = makeQueue();
    const picked = file('video.mp4');
    queue.resume(record(picked, 'c'.repeat(32)), picked);
    expect(queue.items[0]).toMatchObject({ status: 'uploading', fileId: 'c'.repeat(32) });
    await transfer.started(1);
    expect(transfer.calls[0]).toMatchObject({ kind: 'resume', name: 'video.mp4' });
    expect(transfer.calls[0]?.record?.fileId).toBe('c'.repeat(32));

    transfer.calls[0]?.finish('c'.repeat(32));
    await until(statusOf('video.mp4', 'done'));
  });

  it('cancels a queued upload without starting it, and aborts a running one', async () => {
    const { queue, transfer, statuses, until, statusOf } = makeQueue({ parallelFiles: 1 });
    const running = queue.add(file('running'));
    const waiting = queue.add(file('waiting'));

    queue.cancel(waiting);
    expect(statuses()).toEqual(['running:uploading', 'waiting:cancelled']);

    await transfer.started(1);
    queue.cancel(running);
    expect(transfer.calls[0]?.signal?.aborted).toBe(true);
    await until(statusOf('running', 'cancelled'));
    // The cancelled one behind it never starts.
    expect(transfer.calls).toHaveLength(1);
  });

  it('keeps running and queued entries when asked to remove them, and removes finished ones', async () => {
    const { queue, transfer, statuses, until, statusOf } = makeQueue({ parallelFiles: 1 });
    const first = queue.add(file('first'));
    const second = queue.add(file('second'));
    queue.remove(first);
    queue.remove(second);
    expect(statuses()).toEqual(['first:uploading', 'second:queued']);

    await transfer.started(1);
    transfer.calls[0]?.finish(FILE_ID);
    await until(statusOf('first', 'done'));
    queue.remove(first);
    expect(statuses()).toEqual(['second:uploading']);
  });

  it('journals a file when it is queued, before its transfer starts; the started record replaces it; cancelling drops it', async () => {
    const journal = memoryUploadJournal();
    const { queue, transfer, until, statusOf } = makeQueue({ journal, parallelFiles: 1 });
    const picked = file('tiny.txt');
    queue.add(picked, { relativePath: 'notes/tiny.txt' });
    const behind = queue.add(file('behind.txt'));
    await transfer.started(1);
    const queued = await journal.listQueued(USER);
    expect(queued.map((q) => [q.source.name, q.source.relativePath, q.source.size])).toEqual([
      ['tiny.txt', 'notes/tiny.txt', picked.size],
      ['behind.txt', undefined, 10],
    ]);
    // The transfer is told the queued record's id, so its started record replaces the queued one.
    const uploadId = transfer.calls[0]?.uploadId;
    expect(uploadId).toBe(queued[0]?.uploadId);
    expect(queue.items[0]?.uploadId).toBe(uploadId);
    await journal.put({ ...record(picked), uploadId });
    expect((await journal.listQueued(USER)).map((q) => q.source.name)).toEqual(['behind.txt']);

    queue.cancel(behind);
    await until(statusOf('behind.txt', 'cancelled'));
    await expect.poll(async () => (await journal.listQueued(USER)).length).toBe(0);
  });

  it('holds a Web Lock per upload while it is live in this tab (queued, running, failed) and lets go when it ends', async () => {
    const locks = fakeLocks();
    const { queue, transfer, until, statusOf } = makeQueue({ locks, parallelFiles: 1 });
    const first = queue.add(file('first'));
    queue.add(file('second'));
    await transfer.started(1);
    const [a, b] = queue.items.map((i) => i.uploadId);
    expect(await liveUploadIds(locks)).toEqual(new Set([a, b]));

    transfer.calls[0]?.fail(new StorageError('server'));
    await until(statusOf('first', 'failed'));
    // Failed is still this tab's: Retry is one click away.
    expect((await liveUploadIds(locks)).has(a ?? '')).toBe(true);
    queue.remove(first);
    await expect.poll(async () => [...(await liveUploadIds(locks))]).toEqual([b]);

    await transfer.started(2);
    transfer.calls[1]?.finish(FILE_ID);
    await until(statusOf('second', 'done'));
    await expect.poll(async () => (await liveUploadIds(locks)).size).toBe(0);
  });

  describe('stalls', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it('marks a running upload stalled when no byte moves for stallAfterMs, and not stalled once bytes move again or it ends', async () => {
      const { queue, transfer, until, statusOf } = makeQueue({ stallAfterMs: 4_000 });
      queue.add(file('slow.bin'));
      await transfer.started(1);
      vi.useFakeTimers();
      const call = transfer.calls[0];
      call?.progress(3);
      vi.advanceTimersByTime(3_999);
      expect(queue.items[0]?.stalled).toBe(false);
      // The same count again is not movement.
      call?.progress(3);
      vi.advanceTimersByTime(1);
      expect(queue.items[0]?.stalled).toBe(true);
      call?.progress(5);
      expect(queue.items[0]?.stalled).toBe(false);
      vi.advanceTimersByTime(4_000);
      expect(queue.items[0]?.stalled).toBe(true);
      vi.useRealTimers();
      call?.finish(FILE_ID);
      await until(statusOf('slow.bin', 'done'));
      expect(queue.items[0]?.stalled).toBe(false);
    });
  });

  it('offline, seals each added file into the outbox before it waits; the sealed copy goes when the upload is done or cancelled', async () => {
    const identity = await generateIdentityKeys();
    const outbox = memoryOutbox();
    const { queue, transfer, until, statusOf } = makeQueue({ outbox, identity, parallelFiles: 1 });
    const picked = new File(['written on a train'], 'train.txt', { lastModified: 7 });
    queue.add(picked, { relativePath: 'trips/train.txt' });
    const other = queue.add(file('other.txt'));
    await transfer.started(1);
    // The transfer starts only once the copy is sealed at rest.
    expect(queue.items[0]?.notice).toBe(SEALED_AT_REST_NOTICE);
    const [first, second] = queue.items.map((i) => i.uploadId);
    // Both sealed at rest; the two seals run side by side, so either may be stored first.
    await expect.poll(async () => (await outbox.ids(USER)).sort()).toEqual([first, second].sort());
    const opened = await outbox.open(first ?? '', identity);
    expect(await opened?.file.text()).toBe('written on a train');
    expect(opened?.relativePath).toBe('trips/train.txt');

    transfer.calls[0]?.finish(FILE_ID);
    await until(statusOf('train.txt', 'done'));
    expect(queue.items[0]?.notice).toBeNull();
    await expect.poll(() => outbox.ids(USER)).toEqual([second]);
    queue.cancel(other);
    await expect.poll(() => outbox.ids(USER)).toEqual([]);
  });

  it('seals a file into the outbox when its first try finds no connection although the browser said online', async () => {
    const identity = await generateIdentityKeys();
    const outbox = memoryOutbox();
    const { queue, transfer, until, statusOf } = makeQueue({ outbox, identity, online: true });
    const id = queue.add(new File(['café wifi'], 'cafe.txt', { lastModified: 9 }));
    await transfer.started(1);
    expect(await outbox.ids(USER)).toEqual([]);
    transfer.calls[0]?.failEarly(new ServerUnreachableError());
    await until(statusOf('cafe.txt', 'failed'));
    await expect.poll(() => queue.items[0]?.notice).toBe(SEALED_AT_REST_NOTICE);
    expect(await outbox.ids(USER)).toEqual([queue.items[0]?.uploadId]);

    // The retry waits for nothing more and does not seal it twice.
    queue.retry(id);
    await transfer.started(2);
    transfer.calls[1]?.finish(FILE_ID);
    await until(statusOf('cafe.txt', 'done'));
    await expect.poll(() => outbox.ids(USER)).toEqual([]);
  });
});
