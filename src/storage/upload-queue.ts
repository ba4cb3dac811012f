/**
 * A queue of uploads with a limit on parallel work: at most two files are
 * sealed and uploaded at once (each with several blocks in flight), the
 * rest wait. Exposes verbs (add, resume, cancel, retry, remove) and tells
 * listeners about every change; framework-free, so a Svelte rune class can
 * mirror it.
 *
 * Every file is journaled when it is queued, before any request (a queued
 * record: its description and file handle), so a reload, a closed tab or a
 * full-page sign-in can offer it again; once started, the sender's record
 * replaces it. While an entry is live here (queued, running or failed and
 * not removed), this tab holds its Web Lock, so other tabs do not call it
 * interrupted.
 */
import type { GrantApi } from './grants.ts';
import type { TransferProgress } from './progress.ts';
import type { OwnerKeys } from './owner-keys.ts';
import { resumeUpload, sendFile, type ResumeUploadOptions, type SendCommonOptions, type SendFileOptions } from './sender.ts';
import { openUploadJournal, recordLockKey, type UploadJournal, type UploadRecord } from './upload-journal.ts';
import { holdUploadLock, type LockManagerLike } from './upload-locks.ts';
import { OfflineError } from '../contract/errors.ts';
import type { Outbox } from './outbox.ts';

/** Where one upload stands. */
export type UploadStatus = 'queued' | 'uploading' | 'done' | 'failed' | 'cancelled';

/** A snapshot of one upload, for display. */
export interface UploadItem {
  /** Local id of the queue entry (not the server's file id). */
  readonly id: string;
  /** The upload's journal and lock id: kept across reloads (a queued record, then the sender's record). */
  readonly uploadId: string;
  readonly name: string;
  readonly relativePath: string | undefined;
  readonly size: number;
  readonly status: UploadStatus;
  readonly progress: TransferProgress;
  /** The failure when status is 'failed' (StorageError, ApiError, ...), for the UI's handleError. */
  readonly error: unknown;
  /** The server's file id once known. */
  readonly fileId: string | null;
  /** Something the user should know in plain words while it runs (e.g. a resume that had to start over). */
  readonly notice: string | null;
  /**
   * Running, and no byte has moved for {@link STALL_AFTER_MS} (a connection
   * that went quiet without failing): speed and time left mean nothing now.
   */
  readonly stalled: boolean;
}

/** How long a running upload may send nothing before it counts as stalled. */
export const STALL_AFTER_MS = 4_000;

/** What the queue needs to upload on the user's behalf. */
export interface UploadQueueOptions {
  api: GrantApi;
  userId: string;
  identity: OwnerKeys;
  /** Files sealed and uploaded at once (default 2). */
  parallelFiles?: number;
  journal?: UploadJournal;
  transport?: SendCommonOptions['transport'];
  /** The transfer itself (tests pass fakes); default: {@link sendFile} and {@link resumeUpload}. */
  transfer?: UploadTransfer;
  /** Web Locks (tests pass fakes; null: none); default `navigator.locks` where present. */
  locks?: LockManagerLike | null;
  /** How long nothing may move before an upload counts as stalled (default {@link STALL_AFTER_MS}). */
  stallAfterMs?: number;
  /** Where files added while offline are sealed at rest (default: none, they wait in memory only). */
  outbox?: Outbox | null;
  /** Whether the browser is online (default `navigator.onLine`). */
  online?: () => boolean;
}

/** What an upload row says once a file added offline is sealed at rest. */
export const SEALED_AT_REST_NOTICE = 'Sealed on this device. It uploads by itself when the connection is back, even after a reload.';

/** What a new file can bring besides its bytes. */
export interface AddOptions {
  /** Its path inside a dropped folder. */
  relativePath?: string | undefined;
  /** Its File System Access handle (Chromium), kept in the journal to reopen it after a reload. */
  handle?: FileSystemFileHandle | undefined;
  /** The id of its queued record, when it was journaled before (offered again after a reload). */
  uploadId?: string | undefined;
  /** It was opened from the outbox: its sealed copy is there already. */
  sealedAtRest?: boolean | undefined;
}

/** Seals and uploads a new file, or finishes a journaled one; both resolve with the server's file id. */
export interface UploadTransfer {
  send(opts: SendFileOptions): Promise<{ fileId: string }>;
  resume(opts: ResumeUploadOptions): Promise<{ fileId: string }>;
}

const STORAGE_TRANSFER: UploadTransfer = { send: sendFile, resume: resumeUpload };

interface Entry {
  item: UploadItem;
  file: File;
  handle: FileSystemFileHandle | undefined;
  record: UploadRecord | null;
  abort: AbortController | null;
  /** Settles once the file is journaled (queued record), this tab holds its lock and any sealing at rest is done. */
  ready: Promise<void>;
  /** Sealed into the outbox already (or being sealed). */
  stashed: boolean;
  /** Lets go of the upload's Web Lock. */
  unlock: () => void;
}

let counter = 0;

/** Uploads files one queue at a time; see the module comment. */
export class UploadQueue {
  private readonly entries: Entry[] = [];
  private readonly listeners = new Set<(items: readonly UploadItem[]) => void>();
  private readonly journal: UploadJournal;
  private readonly parallel: number;
  private readonly transfer: UploadTransfer;
  private held = false;

  constructor(private readonly opts: UploadQueueOptions) {
    this.journal = opts.journal ?? openUploadJournal();
    this.parallel = Math.max(1, opts.parallelFiles ?? 2);
    this.transfer = opts.transfer ?? STORAGE_TRANSFER;
  }

  /** Returns snapshots of every entry, in the order added. */
  get items(): readonly UploadItem[] {
    return this.entries.map((e) => e.item);
  }

  /** Calls `listener` with the items now and after every change; returns the function that unsubscribes. */
  subscribe(listener: (items: readonly UploadItem[]) => void): () => void {
    this.listeners.add(listener);
    listener(this.items);
    return () => this.listeners.delete(listener);
  }

  /**
   * Queues `file` (with its path inside a dropped folder and its file
   * handle, if any), journaling it first; returns the entry's id. The
   * second argument may be the relative path alone.
   */
  add(file: File, options?: string | AddOptions): string {
    const opts: AddOptions = typeof options === 'string' ? { relativePath: options } : (options ?? {});
    return this.enqueue(file, opts, null);
  }

  /** Queues the resumption of a journaled upload with the file picked again; returns the entry's id. */
  resume(record: UploadRecord, file: File): string {
    return this.enqueue(file, { relativePath: record.source.relativePath, handle: record.handle, uploadId: recordLockKey(record) }, record);
  }

  /**
   * Cancels a queued, running or failed upload (its journal records are
   * dropped). Does nothing for finished ones.
   */
  cancel(id: string): void {
    const entry = this.find(id);
    if (entry === undefined) return;
    if (entry.item.status === 'queued' || entry.item.status === 'failed') {
      this.update(entry, { status: 'cancelled' });
      this.settled(entry, true);
    } else if (entry.item.status === 'uploading') entry.abort?.abort(new DOMException('The upload was cancelled.', 'AbortError'));
  }

  /** Queues a failed upload again; it resumes from the blocks already stored when it can. */
  retry(id: string): void {
    const entry = this.find(id);
    if (entry?.item.status !== 'failed') return;
    this.update(entry, { status: 'queued', error: null });
    this.pump();
  }

  /**
   * Starts no new upload until {@link release} (running ones go on: their
   * storage grants do not need the session). For a session that expired:
   * queued files would only fail at the token endpoint.
   */
  hold(): void {
    this.held = true;
  }

  /** Lets queued uploads start again after {@link hold}. */
  release(): void {
    this.held = false;
    this.pump();
  }

  /** Removes a finished, failed or cancelled entry from the list. */
  remove(id: string): void {
    const at = this.entries.findIndex((e) => e.item.id === id);
    const entry = this.entries[at];
    if (entry === undefined || entry.item.status === 'uploading' || entry.item.status === 'queued') return;
    this.entries.splice(at, 1);
    // Still journaled if it failed: a reload offers it again. This tab no longer has it live.
    entry.unlock();
    this.emit();
  }

  private enqueue(file: File, opts: AddOptions, record: UploadRecord | null): string {
    const id = `upload-${++counter}`;
    const uploadId = opts.uploadId ?? crypto.randomUUID();
    const { relativePath, handle } = opts;
    let unlock: () => void = () => undefined;
    const locked = holdUploadLock(uploadId, this.opts.locks === undefined ? undefined : this.opts.locks).then(
      (release) => void (unlock = release),
      () => undefined,
    );
    // Journaled before its first byte; a journal that cannot be written (private mode, full disk) costs only the resume.
    const journaled =
      record !== null
        ? Promise.resolve()
        : this.journal
            .putQueued({
              version: 1,
              uploadId,
              userId: this.opts.userId,
              source: {
                name: file.name,
                size: file.size,
                lastModified: file.lastModified,
                ...(relativePath !== undefined ? { relativePath } : {}),
              },
              createdAt: Date.now(),
              ...(handle !== undefined ? { handle } : {}),
            })
            .catch(() => undefined);
    const entry: Entry = {
      item: {
        id,
        uploadId,
        name: file.name,
        relativePath,
        size: file.size,
        status: 'queued',
        progress: { bytesDone: 0, totalBytes: file.size, bytesPerSecond: 0, secondsLeft: null },
        error: null,
        fileId: record?.fileId ?? null,
        notice: opts.sealedAtRest === true ? SEALED_AT_REST_NOTICE : null,
        stalled: false,
      },
      file,
      handle,
      record,
      abort: null,
      ready: Promise.all([locked, journaled]).then(() => undefined),
      stashed: opts.sealedAtRest === true,
      unlock: () => void locked.then(() => unlock()),
    };
    this.entries.push(entry);
    // Offline: sealed into the outbox (ciphertext only) before it waits, so a reload does not lose it.
    const online = this.opts.online ?? (() => typeof navigator === 'undefined' || navigator.onLine);
    if (record === null && !online()) this.stash(entry);
    this.emit();
    this.pump();
    return id;
  }

  /**
   * Seals a file that has not started into the outbox (once), after its
   * queued record is written; its next try waits for it. Said on the row:
   * kept sealed on this device, or kept in this page only when the device
   * refused (full, private mode).
   */
  private stash(entry: Entry): void {
    const outbox = this.opts.outbox ?? null;
    if (outbox === null || entry.stashed) return;
    entry.stashed = true;
    entry.ready = entry.ready
      .then(() => outbox.put(entry.item.uploadId, this.opts.userId, entry.file, this.opts.identity, entry.item.relativePath))
      .then(
        () => this.update(entry, { notice: SEALED_AT_REST_NOTICE }),
        () => this.update(entry, { notice: 'It could not be kept on this device: keep this page open until it has uploaded.' }),
      );
  }

  /** An entry ended (done or cancelled): its lock and sealed copy go, and a cancelled one's queued record too. */
  private settled(entry: Entry, cancelled: boolean): void {
    entry.unlock();
    const { uploadId } = entry.item;
    const outbox = this.opts.outbox ?? null;
    void entry.ready
      .then(async () => {
        if (cancelled) await this.journal.deleteQueued(uploadId);
        await outbox?.delete(uploadId);
      })
      .catch(() => undefined);
  }

  private find(id: string): Entry | undefined {
    return this.entries.find((e) => e.item.id === id);
  }

  private update(entry: Entry, change: Partial<UploadItem>): void {
    entry.item = { ...entry.item, ...change };
    this.emit();
  }

  private emit(): void {
    const items = this.items;
    for (const listener of this.listeners) listener(items);
  }

  private pump(): void {
    if (this.held) return;
    let running = this.entries.filter((e) => e.item.status === 'uploading').length;
    for (const entry of this.entries) {
      if (running >= this.parallel) break;
      if (entry.item.status !== 'queued') continue;
      running++;
      void this.run(entry);
    }
  }

  private async run(entry: Entry): Promise<void> {
    const abort = new AbortController();
    entry.abort = abort;
    this.update(entry, { status: 'uploading', stalled: false });
    // Stalled when no byte moves for a while; any movement starts the wait again.
    let stall: ReturnType<typeof setTimeout> | undefined;
    const watch = (): void => {
      clearTimeout(stall);
      stall = setTimeout(() => this.update(entry, { stalled: true }), this.opts.stallAfterMs ?? STALL_AFTER_MS);
    };
    watch();
    const onProgress = (progress: TransferProgress): void => {
      if (progress.bytesDone === entry.item.progress.bytesDone) return this.update(entry, { progress });
      watch();
      this.update(entry, { progress, stalled: false });
    };
    const common = {
      uploadId: entry.item.uploadId,
      api: this.opts.api,
      identity: this.opts.identity,
      journal: this.journal,
      transport: this.opts.transport,
      signal: abort.signal,
      onProgress,
      // A resume that has to start over gets a new file id too.
      onStarted: (started: string) => this.update(entry, { fileId: started }),
    };
    try {
      await entry.ready;
      abort.signal.throwIfAborted();
      const record = entry.record ?? (await this.journaled(entry.item.fileId));
      const { fileId } =
        record !== null
          ? await this.transfer.resume({
              ...common,
              record,
              file: entry.file,
              onStarted: (started) => this.update(entry, { fileId: started }),
              onRestarted: (notice) => this.update(entry, { notice }),
            })
          : await this.transfer.send({
              ...common,
              userId: this.opts.userId,
              file: entry.file,
              relativePath: entry.item.relativePath,
              fileHandle: entry.handle,
            });
      entry.record = null;
      this.update(entry, { status: 'done', fileId, ...(entry.item.notice === SEALED_AT_REST_NOTICE ? { notice: null } : {}) });
      this.settled(entry, false);
    } catch (error) {
      entry.record = null;
      if (abort.signal.aborted) {
        this.update(entry, { status: 'cancelled' });
        this.settled(entry, true);
      } else {
        // No connection before it even started: keep it sealed on this device while it waits.
        if (error instanceof OfflineError && entry.item.fileId === null) this.stash(entry);
        this.update(entry, { status: 'failed', error });
      }
    } finally {
      clearTimeout(stall);
      if (entry.item.stalled) this.update(entry, { stalled: false });
      entry.abort = null;
      this.pump();
    }
  }

  /** The journal record of an upload that failed earlier, if it is still there. */
  private async journaled(fileId: string | null): Promise<UploadRecord | null> {
    if (fileId === null) return null;
    const records = await this.journal.list(this.opts.userId);
    return records.find((r) => r.fileId === fileId) ?? null;
  }
}
