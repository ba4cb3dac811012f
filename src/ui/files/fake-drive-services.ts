/**
 * Test doubles of the drive's services (drive-services.ts), for the unit
 * tests of the drive's rune classes: an upload queue the test drives by
 * hand, and storage verbs that record their calls and answer what the test
 * set up. Nothing here runs in the app.
 */
import type { QueuedRecord, UploadRecord } from '../../storage/upload-journal.ts';
import type { AddOptions, UploadItem } from '../../storage/upload-queue.ts';
import type { DriveServices, InterruptedUpload, OpenedMetadata, UploadQueueLike } from './drive-services.ts';
import type { DriveEntry, DriveFile } from './file-tree.ts';

/** A 32-hex-digit file id made of one repeated character. */
export function fileId(char: string): string {
  return char.repeat(32);
}

/** A snapshot of one upload, queued unless `change` says otherwise. */
export function uploadItem(id: string, name: string, change: Partial<UploadItem> = {}): UploadItem {
  return {
    id,
    uploadId: `local-${id}`,
    name,
    relativePath: undefined,
    size: 10,
    status: 'queued',
    progress: { bytesDone: 0, totalBytes: 10, bytesPerSecond: 0, secondsLeft: null },
    error: null,
    fileId: null,
    notice: null,
    stalled: false,
    ...change,
  };
}

/** A listed file. */
export function driveFile(id: string, name: string, change: Partial<DriveFile> = {}): DriveFile {
  return { status: 'ok', fileId: id, name, type: 'text/plain', size: 5, lastModified: 0, createdAt: '2026-01-01T00:00:00.000Z', folder: [], ...change };
}

/** A file the person picked. */
export function pickedFile(name: string, content = name, lastModified = 1_700_000_000_000): File {
  return new File([content], name, { type: 'text/plain', lastModified });
}

/** The journal record of an interrupted upload of `file`. */
export function journalRecord(file: File, id: string, change: Partial<UploadRecord> = {}): UploadRecord {
  return {
    version: 2,
    fileId: id,
    userId: 'user-1',
    draft: new Uint8Array([1]),
    source: { name: file.name, size: file.size, lastModified: file.lastModified },
    segmentSize: 65_536,
    segmentsPerBlock: 4,
    blockDigests: [],
    createdAt: 0,
    ...change,
  };
}

/** An upload queue that records each verb and changes its items only as a real queue would start to (or as the test says). */
export class FakeUploadQueue implements UploadQueueLike {
  items: UploadItem[] = [];
  held = false;
  readonly calls: string[] = [];
  readonly listeners = new Set<(items: readonly UploadItem[]) => void>();
  #next = 0;

  add(file: File, options: AddOptions = {}): string {
    const id = `upload-${++this.#next}`;
    this.calls.push(options.uploadId === undefined ? `add ${file.name}` : `add ${file.name} as ${options.uploadId}`);
    const item = uploadItem(id, file.name, { relativePath: options.relativePath, size: file.size });
    this.set([...this.items, options.uploadId === undefined ? item : { ...item, uploadId: options.uploadId }]);
    return id;
  }

  resume(record: UploadRecord, file: File): string {
    const id = `upload-${++this.#next}`;
    this.calls.push(`resume ${record.fileId} ${file.name}`);
    this.set([...this.items, uploadItem(id, file.name, { relativePath: record.source.relativePath, size: file.size, fileId: record.fileId })]);
    return id;
  }

  hold(): void {
    this.calls.push('hold');
    this.held = true;
  }

  release(): void {
    this.calls.push('release');
    this.held = false;
  }

  cancel(id: string): void {
    this.calls.push(`cancel ${id}`);
  }

  retry(id: string): void {
    this.calls.push(`retry ${id}`);
    this.change(id, { status: 'queued', error: null });
  }

  remove(id: string): void {
    this.calls.push(`remove ${id}`);
    this.set(this.items.filter((i) => i.id !== id));
  }

  subscribe(listener: (items: readonly UploadItem[]) => void): () => void {
    this.listeners.add(listener);
    listener(this.items);
    return () => this.listeners.delete(listener);
  }

  /** Changes one entry, as the real queue does when an upload moves on, and tells the listeners. */
  change(id: string, change: Partial<UploadItem>): void {
    this.set(this.items.map((i) => (i.id === id ? { ...i, ...change } : i)));
  }

  /** Replaces every entry and tells the listeners. */
  set(items: UploadItem[]): void {
    this.items = items;
    for (const listener of this.listeners) listener(items);
  }
}

/** A promise with its resolve and reject at hand. */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

/** Returns a promise the test settles. */
export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Session events the test fires. */
export class FakeSessionEvents {
  readonly expired = new Set<() => void>();
  readonly restored = new Set<() => void>();
  readonly onSessionExpired = (listener: () => void): (() => void) => {
    this.expired.add(listener);
    return () => this.expired.delete(listener);
  };
  readonly onSessionRestored = (listener: () => void): (() => void) => {
    this.restored.add(listener);
    return () => this.restored.delete(listener);
  };
  expire(): void {
    for (const listener of this.expired) listener();
  }
  restore(): void {
    for (const listener of this.restored) listener();
  }
}

/** Drive services over fakes: a listing, interrupted uploads and files to open, all set by the test; calls are recorded. */
export class FakeDriveServices implements DriveServices {
  readonly uploads = new FakeUploadQueue();
  readonly session = new FakeSessionEvents();
  readonly onSessionExpired = this.session.onSessionExpired;
  readonly onSessionRestored = this.session.onSessionRestored;
  readonly calls: string[] = [];
  listing: DriveEntry[] | Error = [];
  /** The device copy of the listing (offline); undefined = the service has none. */
  listOffline: DriveServices['listOffline'] = undefined;
  pending: InterruptedUpload[] | Error = [];
  /** Queued, never started files in the journal. */
  queued: QueuedRecord[] = [];
  /** Waits for another tab's uploads to be let go (undefined: the service has no such wait). */
  whenLiveElsewhereEnds: DriveServices['whenLiveElsewhereEnds'] = undefined;
  /** Files sealed at rest (added offline), by upload id; an Error does not open. */
  sealed = new Map<string, { file: File; relativePath: string | undefined } | Error>();
  /** Plaintext of the files `open` can open, by id. */
  contents = new Map<string, { metadata: OpenedMetadata; bytes: Uint8Array } | Error>();
  /** What the save picker answers: a destination, null (closed) or an error. */
  destination: 'disk' | null | Error = 'disk';
  failRemove: Error | null = null;
  failDiscard: Error | null = null;

  list(): Promise<DriveEntry[]> {
    this.calls.push('list');
    return this.listing instanceof Error ? Promise.reject(this.listing) : Promise.resolve([...this.listing]);
  }

  open: DriveServices['open'] = (id, { onProgress }) => {
    this.calls.push(`open ${id}`);
    const content = this.contents.get(id);
    if (content === undefined) return Promise.reject(new Error('no such file in the fake'));
    if (content instanceof Error) return Promise.reject(content);
    onProgress({ bytesDone: content.bytes.length, totalBytes: content.bytes.length, bytesPerSecond: 0, secondsLeft: 0 });
    const bytes = content.bytes;
    return Promise.resolve({
      metadata: content.metadata,
      stream: new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(bytes);
          controller.close();
        },
      }),
    });
  };

  chooseSaveDestination: DriveServices['chooseSaveDestination'] = (file) => {
    this.calls.push(`choose ${file.name}`);
    if (this.destination instanceof Error) return Promise.reject(this.destination);
    return Promise.resolve(this.destination === null ? null : { kind: 'memory' });
  };

  save: DriveServices['save'] = async (stream, file) => {
    this.calls.push(`save ${file.name}`);
    await new Response(stream).arrayBuffer();
    return true;
  };

  readForPreview: DriveServices['readForPreview'] = (stream) => new Response(stream).blob();

  remove(id: string): Promise<void> {
    this.calls.push(`remove ${id}`);
    return this.failRemove === null ? Promise.resolve() : Promise.reject(this.failRemove);
  }

  interrupted(): Promise<InterruptedUpload[]> {
    this.calls.push('interrupted');
    return this.pending instanceof Error ? Promise.reject(this.pending) : Promise.resolve([...this.pending]);
  }

  queuedUploads(): Promise<QueuedRecord[]> {
    return Promise.resolve([...this.queued]);
  }

  sealedUploads(): Promise<string[]> {
    return Promise.resolve([...this.sealed.keys()]);
  }

  openSealed(uploadId: string): Promise<{ file: File; relativePath: string | undefined } | null> {
    this.calls.push(`open sealed ${uploadId}`);
    const sealed = this.sealed.get(uploadId);
    return sealed instanceof Error ? Promise.reject(sealed) : Promise.resolve(sealed ?? null);
  }

  forgetQueued(uploadId: string): Promise<void> {
    this.calls.push(`forget ${uploadId}`);
    this.queued = this.queued.filter((q) => q.uploadId !== uploadId);
    return Promise.resolve();
  }

  discard(record: UploadRecord): Promise<void> {
    this.calls.push(`discard ${record.fileId}`);
    return this.failDiscard === null ? Promise.resolve() : Promise.reject(this.failDiscard);
  }
}
