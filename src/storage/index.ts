/**
 * Sealdrop's storage layer: ciphertext transport to blob storage, the
 * sender and receiver orchestrators, the upload queue and journal, and
 * saving decrypted streams to disk. The UI imports from here.
 */
export { StorageError, isRetryable, redactUrl, type StorageErrorKind } from './storage-error.ts';
export type { GrantApi, Grant, FileGrants, FileEntry } from './grants.ts';
export type { TransferProgress } from './progress.ts';
export { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry.ts';
export { TARGET_BLOCK_BYTES, MAX_BLOCKS_PER_BLOB, segmentsPerBlock } from './block-plan.ts';
export { DEFAULT_PARALLEL_BLOCKS, SourceChangedError, type TransportOptions } from './uploader.ts';
export { DEFAULT_DECRYPTS_IN_FLIGHT } from './downloader.ts';
export {
  sendFile,
  resumeUpload,
  pendingUploads,
  discardUpload,
  isSameSource,
  inspectPendingUpload,
  RESTARTED_BECAUSE_CHANGED,
  type PendingUploadState,
  type SendFileOptions,
  type ResumeUploadOptions,
  type SendCommonOptions,
} from './sender.ts';
export { UploadQueue, type UploadItem, type UploadStatus, type UploadQueueOptions } from './upload-queue.ts';
export { openUploadJournal, memoryUploadJournal, type UploadJournal, type UploadRecord } from './upload-journal.ts';
export {
  listDrive,
  openFileStream,
  deleteFile,
  type DriveEntry,
  type DriveFile,
  type DamagedFile,
  type DriveListing,
  type OpenedFile,
  type ReceiveOptions,
} from './receiver.ts';
export {
  saveStream,
  chooseSaveDestination,
  readAllForPreview,
  serviceWorkerCanStream,
  MEMORY_SAVE_LIMIT,
  type SaveDestination,
  type SaveFileInfo,
} from './save-to-disk.ts';
