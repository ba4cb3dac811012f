/**
 * The sender: seals one file and uploads it (manifest grant → seal manifest
 * → journal → payload blocks → commit → manifest), and resumes an upload
 * that a reload, crash or lost connection interrupted. Emits progress; never
 * touches the DOM.
 */
import { z } from 'zod';
import {
  openManifest,
  rsaIdentity,
  rsaRecipient,
  sealedSize,
  sealManifest,
  type FileMetadata,
  type IdentityKeys,
} from '../crypto/index.ts';
import { putBlob } from './blob-rest.ts';
import { planBlocks, segmentsPerBlock as defaultSegmentsPerBlock, TARGET_BLOCK_BYTES, type BlockSpan } from './block-plan.ts';
import { apiPaths, fileGrantsSchema, GrantKeeper, type FileGrants, type GrantApi } from './grants.ts';
import type { TransferProgress } from './progress.ts';
import { callStorage } from './retry.ts';
import { StorageError } from './storage-error.ts';
import { openUploadJournal, type UploadJournal, type UploadRecord } from './upload-journal.ts';
import { commitBlocks, readPayloadState, uploadBlocks, type TransportOptions } from './uploader.ts';

/** Options shared by sendFile and resumeUpload. */
export interface SendCommonOptions {
  api: GrantApi;
  /** The owner's keys: the file key is wrapped for `encrypt.publicKey`, the manifest signed with `sign`. */
  identity: IdentityKeys;
  /** Where the unfinished upload is remembered (default: the IndexedDB journal). */
  journal?: UploadJournal | undefined;
  onProgress?: ((progress: TransferProgress) => void) | undefined;
  signal?: AbortSignal | undefined;
  transport?: (TransportOptions & { segmentSize?: number; segmentsPerBlock?: number }) | undefined;
}

/** Options of sendFile. */
export interface SendFileOptions extends SendCommonOptions {
  /** The signed-in user's id (from GET /me): the journal is kept per user. */
  userId: string;
  file: File;
  /** Path inside a dropped folder ('/'-separated), sealed with the metadata. */
  relativePath?: string | undefined;
  /** Kept in the journal (Chromium) so a resume can reopen the file without asking. */
  fileHandle?: FileSystemFileHandle | undefined;
  /** Told the server's file id once the upload is journaled (so a retry can resume it). */
  onStarted?: ((fileId: string) => void) | undefined;
}

let sharedJournal: UploadJournal | null = null;
function defaultJournal(): UploadJournal {
  return (sharedJournal ??= openUploadJournal());
}

/** A provisional file id: only used to measure the manifest's length before the server gives the real one. */
const MEASURE_FILE_ID = '0'.repeat(32);

/**
 * Seals `file` and uploads it. Resolves with the server's file id once the
 * payload is committed and the manifest stored (the file is then complete).
 *
 * While it runs, the upload is kept in the journal; on any failure except a
 * cancel the record stays, so `pendingUploads` / `resumeUpload` can finish
 * it. Throws: the signal's reason on cancel (journal record removed);
 * StorageError (network, server, quota, too-large, forbidden...); the API
 * client's errors (session expired, offline, ApiError 413 over the size
 * limit); RangeError when a name or path is longer than the format allows;
 * SourceChangedError when the file shrank while being read.
 */
export async function sendFile(opts: SendFileOptions): Promise<{ fileId: string }> {
  const journal = opts.journal ?? defaultJournal();
  const { file } = opts;
  const segmentSizeWanted = opts.transport?.segmentSize;
  const metadata: FileMetadata = {
    name: file.name,
    type: file.type,
    size: file.size,
    lastModified: file.lastModified,
    ...(opts.relativePath !== undefined ? { relativePath: opts.relativePath } : {}),
  };
  const recipients = [rsaRecipient(opts.identity.encrypt.publicKey)];
  const signer = { privateKey: opts.identity.sign.privateKey, publicKey: opts.identity.sign.publicKey };

  // The server wants the manifest's length before it names the file, and the
  // name is inside the manifest: seal a throw-away one to measure it (its
  // random file key is discarded, nothing is encrypted under it).
  const probe = await sealManifest({ fileId: MEASURE_FILE_ID, metadata, recipients, signer, segmentSize: segmentSizeWanted });
  const segmentSize = probe.segmentSize;
  const perBlock = opts.transport?.segmentsPerBlock ?? defaultSegmentsPerBlock(segmentSize, TARGET_BLOCK_BYTES, file.size);
  const blocks = planBlocks(file.size, segmentSize, perBlock); // throws before asking for a grant if too large
  opts.signal?.throwIfAborted();

  const grants = await opts.api.post(
    apiPaths.uploads,
    { payloadBytes: sealedSize(file.size, segmentSize), manifestBytes: probe.manifest.length },
    fileGrantsSchema,
    withSignal(opts.signal),
  );
  const sealed = await sealManifest({ fileId: grants.fileId, metadata, recipients, signer, segmentSize });

  const record: UploadRecord = {
    version: 1,
    fileId: grants.fileId,
    userId: opts.userId,
    manifest: sealed.manifest,
    source: {
      name: file.name,
      size: file.size,
      lastModified: file.lastModified,
      ...(opts.relativePath !== undefined ? { relativePath: opts.relativePath } : {}),
    },
    segmentSize,
    segmentsPerBlock: perBlock,
    createdAt: Date.now(),
    ...(opts.fileHandle !== undefined ? { handle: opts.fileHandle } : {}),
  };
  await journal.put(record);
  opts.onStarted?.(grants.fileId);
  const keeper = new GrantKeeper(grants, () => renewGrants(opts.api, grants.fileId, opts.signal));
  try {
    await uploadBlocks({
      ...opts.transport,
      source: file,
      contentKey: sealed.contentKey,
      segmentSize,
      blocks,
      grants: keeper,
      onProgress: opts.onProgress,
      signal: opts.signal,
    });
    await finish(keeper, blocks, sealed.manifest, opts);
  } catch (error) {
    if (opts.signal?.aborted === true) await journal.delete(grants.fileId).catch(() => undefined);
    throw error;
  }
  await journal.delete(grants.fileId);
  return { fileId: grants.fileId };
}

/** Options of resumeUpload. */
export interface ResumeUploadOptions extends SendCommonOptions {
  record: UploadRecord;
  /** The same file, picked again by the user (or reopened from `record.handle`). */
  file: File;
  /** Told the new file id when the upload had to start over (the server no longer had it, or the file differs). */
  onStarted?: ((fileId: string) => void) | undefined;
}

/**
 * Finishes the upload described by `record`, sending only the blocks that
 * storage does not already hold (Get Block List). Resolves with the file id;
 * when the file picked again is not the same one, or the server has no
 * upload in progress under that id (renew answers 404), resolves with the
 * id of a brand-new upload instead (and the old record is dropped).
 *
 * SAFETY: a block is re-sealed with the same content key and the same
 * segment nonces as before. That is only safe if the plaintext is identical:
 * the same nonce over different plaintext under one key would break
 * AES-GCM. So we resume only when the name, size AND lastModified match the
 * journal; otherwise we discard the record and start over with a fresh file
 * key and a new file id (sendFile).
 *
 * Throws like sendFile; also WrongKeyError/TamperedError when the journaled
 * manifest no longer opens with the owner's key (the record is then dropped).
 */
export async function resumeUpload(opts: ResumeUploadOptions): Promise<{ fileId: string }> {
  const journal = opts.journal ?? defaultJournal();
  const { record, file } = opts;
  if (!isSameSource(record, file)) {
    await journal.delete(record.fileId);
    return sendFile({
      ...opts,
      userId: record.userId,
      relativePath: record.source.relativePath,
      transport: { ...opts.transport, segmentSize: record.segmentSize, segmentsPerBlock: record.segmentsPerBlock },
    });
  }
  let opened: Awaited<ReturnType<typeof openManifest>>;
  try {
    opened = await openManifest(record.manifest, [rsaIdentity(opts.identity.encrypt.privateKey)], { fileId: record.fileId });
  } catch (error) {
    await journal.delete(record.fileId);
    throw error;
  }
  const blocks = planBlocks(file.size, opened.segmentSize, record.segmentsPerBlock);

  let grants: FileGrants;
  try {
    grants = await renewGrants(opts.api, record.fileId, opts.signal);
  } catch (error) {
    // 409: the manifest is already committed, so the file is complete.
    if (hasStatus(error, 409)) {
      await journal.delete(record.fileId);
      return { fileId: record.fileId };
    }
    // 404: the server has no upload in progress under this id (no block was
    // stored yet, storage lost them, or it was swept or deleted; its answer
    // does not say which, so nothing here may claim a deletion). The file is
    // still in hand: start over quietly, with a new file id and a new key.
    if (hasStatus(error, 404)) {
      await journal.delete(record.fileId);
      return sendFile({
        ...opts,
        userId: record.userId,
        relativePath: record.source.relativePath,
        transport: { ...opts.transport, segmentSize: record.segmentSize, segmentsPerBlock: record.segmentsPerBlock },
      });
    }
    throw error;
  }
  const keeper = new GrantKeeper(grants, () => renewGrants(opts.api, record.fileId, opts.signal));
  try {
    const state = await readPayloadState(keeper, blocks, { ...opts.transport, signal: opts.signal });
    if (!state.committed) {
      await uploadBlocks({
        ...opts.transport,
        source: file,
        contentKey: opened.contentKey,
        segmentSize: opened.segmentSize,
        blocks,
        grants: keeper,
        skip: state.uploaded,
        onProgress: opts.onProgress,
        signal: opts.signal,
      });
    } else {
      opts.onProgress?.({ bytesDone: file.size, totalBytes: file.size, bytesPerSecond: 0, secondsLeft: 0 });
    }
    await finish(keeper, blocks, record.manifest, opts, state.committed);
  } catch (error) {
    if (opts.signal?.aborted === true) await journal.delete(record.fileId).catch(() => undefined);
    throw error;
  }
  await journal.delete(record.fileId);
  return { fileId: record.fileId };
}

/**
 * Returns the unfinished uploads of `userId` on this device, oldest first,
 * for the UI to offer "resume" (pick the file again) or "discard".
 * Rejects with IndexedDB errors.
 */
export function pendingUploads(userId: string, journal: UploadJournal = defaultJournal()): Promise<UploadRecord[]> {
  return journal.list(userId);
}

/**
 * Forgets an unfinished upload on this device. Its uncommitted blocks stay
 * in storage until storage expires them (7 days on Azure); they are
 * ciphertext under a key that only existed inside the record.
 */
export function discardUpload(record: UploadRecord, journal: UploadJournal = defaultJournal()): Promise<void> {
  return journal.delete(record.fileId);
}

/** What storage holds of a journaled upload, for the UI's "interrupted at N%". */
export type PendingUploadState =
  /** Blocks holding `bytesDone` plaintext bytes (of the record's size) are stored; the rest must be sent. */
  | { state: 'partial'; bytesDone: number }
  /** The manifest is already committed: the file is complete and the record only outlived it. */
  | { state: 'complete' }
  /** The server knows no such upload (deleted, or never started): nothing to resume. */
  | { state: 'gone' };

/**
 * Returns how far the upload of `record` got, by renewing its grants and
 * reading the payload's block list (Get Block List). Changes nothing in
 * storage or the journal. Throws the API client's errors (offline, session
 * expired) and StorageError.
 */
export async function inspectPendingUpload(
  api: GrantApi,
  record: UploadRecord,
  opts: { signal?: AbortSignal; transport?: TransportOptions } = {},
): Promise<PendingUploadState> {
  let grants: FileGrants;
  try {
    grants = await renewGrants(api, record.fileId, opts.signal);
  } catch (error) {
    if (hasStatus(error, 409)) return { state: 'complete' };
    if (hasStatus(error, 404)) return { state: 'gone' };
    throw error;
  }
  const blocks = planBlocks(record.source.size, record.segmentSize, record.segmentsPerBlock);
  const keeper = new GrantKeeper(grants, () => renewGrants(api, record.fileId, opts.signal));
  const state = await readPayloadState(keeper, blocks, { ...opts.transport, signal: opts.signal });
  if (state.committed) return { state: 'partial', bytesDone: record.source.size };
  let bytesDone = 0;
  for (const block of blocks) if (state.uploaded.has(block.index)) bytesDone += block.plainEnd - block.plainStart;
  return { state: 'partial', bytesDone };
}

/** Returns true when `file` is the file the journal describes (name, size and lastModified). */
export function isSameSource(record: UploadRecord, file: File): boolean {
  return file.size === record.source.size && file.lastModified === record.source.lastModified && file.name === record.source.name;
}

async function finish(
  keeper: GrantKeeper<FileGrants>,
  blocks: readonly BlockSpan[],
  manifest: Uint8Array,
  opts: SendCommonOptions,
  alreadyCommitted = false,
): Promise<void> {
  const transport = { ...opts.transport, signal: opts.signal };
  if (!alreadyCommitted) await commitBlocks(keeper, blocks, transport);
  const body = new Blob([new Uint8Array(manifest)]);
  try {
    await callStorage(keeper, (g) => putBlob(g.manifest.url, body, { ifNoneMatch: '*', signal: opts.signal, fetch: opts.transport?.fetch }), {
      policy: opts.transport?.retry,
      signal: opts.signal,
    });
  } catch (error) {
    // Only the owner can write this file's manifest, with grants for this
    // file id: a 409 means an earlier attempt of ours stored it and only
    // the answer was lost. Readers verify its signature either way.
    if (!(error instanceof StorageError && error.kind === 'conflict')) throw error;
  }
}

function renewGrants(api: GrantApi, fileId: string, signal: AbortSignal | undefined): Promise<FileGrants> {
  return api.post(apiPaths.renew(fileId), undefined, fileGrantsSchema, withSignal(signal));
}

function withSignal(signal: AbortSignal | undefined): { signal?: AbortSignal } {
  return signal === undefined ? {} : { signal };
}

/** True when `error` carries an HTTP `status` (the API client's ApiError) equal to `status`. */
function hasStatus(error: unknown, status: number): boolean {
  return z.object({ status: z.literal(status) }).safeParse(error).success;
}
