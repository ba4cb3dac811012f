/**
 * What the "My files" state needs from the rest of the app, as one small
 * interface: the real implementation wires `src/storage` with the signed-in
 * API client and the unlocked identity; tests pass fakes.
 */
import type { LinkShareServices } from '../share/share-services.ts';
import type { PersonShareServices } from '../share/person-services.ts';
import type { ResealServices } from '../share/reseal-services.ts';
import type { TransferProgress } from '../../storage/progress.ts';
import type { SaveDestination, SaveFileInfo } from '../../storage/save-to-disk.ts';
import type { QueuedRecord, UploadRecord } from '../../storage/upload-journal.ts';
import type { AddOptions, UploadItem } from '../../storage/upload-queue.ts';
import type { DriveEntry } from './file-tree.ts';

/** Decrypted metadata of a file being opened (mirrors the crypto core's `FileMetadata`). */
export interface OpenedMetadata {
  name: string;
  type: string;
  size: number;
  lastModified: number;
  relativePath?: string;
}

/** Options every transfer takes: a way to stop it and a progress callback (plaintext bytes, speed, time left). */
export interface TransferOptions {
  signal: AbortSignal;
  onProgress: (progress: TransferProgress) => void;
}

/** The upload queue's verbs (storage's `UploadQueue` has them): at most a few files at once, resumable retries. */
export interface UploadQueueLike {
  /** Queues a file (journaling it first); returns the entry's id. */
  add(file: File, options?: AddOptions): string;
  /** Queues the resumption of a journaled upload with the same file picked again; returns the entry's id. */
  resume(record: UploadRecord, file: File): string;
  /** Starts no new upload until `release` (running ones go on). */
  hold(): void;
  /** Lets queued uploads start again. */
  release(): void;
  cancel(id: string): void;
  /** Queues a failed upload again; it resumes from the blocks already stored when it can. */
  retry(id: string): void;
  /** Forgets a finished, failed or cancelled entry. */
  remove(id: string): void;
  /** Calls `listener` with every entry now and after each change; returns the unsubscribe function. */
  subscribe(listener: (items: readonly UploadItem[]) => void): () => void;
}

/** The storage verbs the drive calls. Every method rejects with a typed error (`StorageError`, crypto errors, API errors). */
export interface DriveServices {
  /** Link shares of the owner's files (absent: no Share button, e.g. in tests). */
  shares?: LinkShareServices | undefined;
  /** Sharing with people and the contacts (absent: no "with a person" button, e.g. in tests). */
  people?: PersonShareServices | undefined;
  /** Re-sealing a file under a new key (absent: the share dialogs do not offer it, e.g. in tests). */
  reseal?: ResealServices | undefined;
  /**
   * Lists the user's files with decrypted metadata; damaged and unfinished
   * ones as problems. `onPartial` is told the files known so far while a
   * large listing fills (cached ones first), so the list can show them.
   */
  list(onPartial?: (entries: DriveEntry[]) => void): Promise<DriveEntry[]>;
  /**
   * The files of the last listing as this device keeps them (the sealed
   * list cache), for when the server cannot be reached; null when there is
   * no device copy. Unfinished and damaged entries are not kept.
   */
  listOffline?: (() => Promise<DriveEntry[] | null>) | undefined;
  /** The upload queue: seals and uploads files, reporting progress per file. */
  uploads: UploadQueueLike;
  /** Opens a file for reading: its metadata once authenticated, and a plaintext stream that errors on tampering. */
  open(fileId: string, options: TransferOptions): Promise<{ metadata: OpenedMetadata; stream: ReadableStream<Uint8Array> }>;
  /**
   * Picks where a download goes (the save picker needs the click's user
   * gesture, so call it first). Null when the user closed the picker; throws
   * StorageError 'too-large' when no path can take a file this big.
   */
  chooseSaveDestination(file: SaveFileInfo): Promise<SaveDestination | null>;
  /** Saves a plaintext stream there; rejects, leaving no complete-looking file, if the stream errors (tampering). */
  save(stream: ReadableStream<Uint8Array>, file: SaveFileInfo, destination: SaveDestination): Promise<boolean>;
  /** Reads a whole plaintext stream into a Blob for a preview; rejects past `limit` bytes. */
  readForPreview(stream: ReadableStream<Uint8Array>, limit: number): Promise<Blob>;
  /** Deletes the payload and the manifest. */
  remove(fileId: string): Promise<void>;
  /**
   * Lists this device's interrupted uploads (from the journal) with how much
   * storage already holds (`bytesDone` null when that could not be read,
   * e.g. offline). Records of uploads that are complete or unknown to the
   * server are dropped from the journal and not returned. Rejects only when
   * the journal cannot be read.
   */
  interrupted(): Promise<InterruptedUpload[]>;
  /** Forgets an interrupted upload: its journal record and, through the delete grant, whatever storage holds of it. */
  discard(record: UploadRecord): Promise<void>;
  /**
   * Lists this device's files that were queued and never started (a reload,
   * a closed tab or a full-page sign-in came first), leaving out those live
   * in another tab. Rejects only when the journal cannot be read.
   */
  queuedUploads?: (() => Promise<QueuedRecord[]>) | undefined;
  /** Forgets a queued, never started file (nothing of it is in storage) and its sealed copy on this device. */
  forgetQueued?: ((uploadId: string) => Promise<void>) | undefined;
  /**
   * Resolves once an upload that `interrupted()` or `queuedUploads()` last
   * left out as live in another tab is no longer held there (that tab was
   * reloaded or closed), so the list can be read again. Rejects when
   * `signal` aborts.
   */
  whenLiveElsewhereEnds?: ((signal: AbortSignal) => Promise<void>) | undefined;
  /** The upload ids whose file was sealed at rest on this device (added offline), so they can go on without asking. */
  sealedUploads?: (() => Promise<string[]>) | undefined;
  /**
   * Opens the sealed copy of `uploadId` back into its file (in memory).
   * Null when there is none; rejects with the crypto core's errors when it
   * does not open whole (wrong key, tampered, truncated).
   */
  openSealed?: ((uploadId: string) => Promise<{ file: File; relativePath: string | undefined } | null>) | undefined;
  /** Registers a listener for "the session expired, sign in again"; returns the unsubscribe function. */
  onSessionExpired?: ((listener: () => void) => () => void) | undefined;
  /** Registers a listener for "the same person signed in again in this page"; returns the unsubscribe function. */
  onSessionRestored?: ((listener: () => void) => () => void) | undefined;
}

/** An upload a reload, crash or sign-in interrupted: its journal record and how much of it is stored. */
export interface InterruptedUpload {
  record: UploadRecord;
  /** Plaintext bytes already in storage; null when unknown. */
  bytesDone: number | null;
}
