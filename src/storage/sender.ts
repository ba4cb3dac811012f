/**
 * The sender: seals one file and uploads it (manifest grant → draft →
 * journal → payload blocks, each block's digest journaled before it is
 * sent → commit → finished manifest), and resumes an upload that a reload,
 * crash or lost connection interrupted, after proving the file still holds
 * the bytes it sealed. Emits progress; never touches the DOM.
 */
import { z } from 'zod';
import {
  DEFAULT_SEGMENT_SIZE,
  finishManifest,
  manifestLengthFor,
  openDraft,
  PayloadHasher,
  sealDraft,
  sealedSize,
  type FileMetadata,
  type ManifestSigner,
  type Recipient,
  type SealedDraft,
  blockDigest,
} from '../crypto/index.ts';
import { putBlob } from './blob-rest.ts';
import { isWholeBlob, planBlocks, uploadSegmentsPerBlock, type BlockSpan } from './block-plan.ts';
import { apiPaths, completeResponse, fileGrantsSchema, GrantKeeper, type FileGrants, type GrantApi } from './grants.ts';
import { ownerIdentities, ownerRecipients, type OwnerKeys } from './owner-keys.ts';
import { ProgressMeter, type TransferProgress } from './progress.ts';
import { callStorage } from './retry.ts';
import { StorageError } from './storage-error.ts';
import { openUploadJournal, type UploadJournal, type UploadRecord } from './upload-journal.ts';
import { commitBlocks, readPayloadState, resealBlocks, uploadBlocks, type TransportOptions } from './uploader.ts';

/** Options shared by sendFile and resumeUpload. */
export interface SendCommonOptions {
  /** The queue's id of this upload: kept in the record, whose put replaces the upload's queued record. */
  uploadId?: string | undefined;
  api: GrantApi;
  /**
   * The owner's keys: the file key is wrapped for the drive key (when
   * present) and `encrypt.publicKey`, the manifest signed with `sign`.
   */
  identity: OwnerKeys;
  /**
   * Who may read the file: the envelopes of a new file (default: the
   * owner's own, ownerRecipients). Include the owner's: an interrupted
   * upload resumes by reopening its draft with the owner's keys.
   */
  readers?: Recipient[] | undefined;
  /** The key pair that signs the manifest, i.e. who sealed the file (default: the owner's `identity.sign`). */
  signer?: ManifestSigner | undefined;
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
  /**
   * Re-seal: the id of the owner's complete file this upload seals again
   * under a new file key. Once complete, the new file takes its place (the
   * server deletes the old one; docs/CONTRACTS.md §2).
   */
  replaces?: string | undefined;
}

let sharedJournal: UploadJournal | null = null;
function defaultJournal(): UploadJournal {
  return (sharedJournal ??= openUploadJournal());
}

/** What the user is told when a resume finds the file changed and starts over (UploadQueue shows it on the upload). */
export const RESTARTED_BECAUSE_CHANGED =
  'This file changed since the upload was interrupted; it is being uploaded again from the start.';

/**
 * A block sealed now differs from the digest journaled for it by an earlier
 * session: the file's bytes changed. Never leaves this module: resumeUpload
 * answers it by starting over under a new file key.
 */
class SourceDiffersError extends Error {
  constructor() {
    super('The file differs from the bytes sealed before the interruption.');
    this.name = 'SourceDiffersError';
  }
}

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
  const metadata: FileMetadata = {
    name: file.name,
    type: file.type,
    size: file.size,
    lastModified: file.lastModified,
    ...(opts.relativePath !== undefined ? { relativePath: opts.relativePath } : {}),
  };
  const recipients = opts.readers ?? ownerRecipients(opts.identity);
  const trace = opts.transport?.trace;

  // The server wants the manifest's length before it names the file (and the
  // file id is inside the draft): the crypto core computes it from the
  // metadata and the recipients, nothing sealed.
  const segmentSize = opts.transport?.segmentSize ?? DEFAULT_SEGMENT_SIZE;
  const perBlock = opts.transport?.segmentsPerBlock ?? uploadSegmentsPerBlock(segmentSize, file.size);
  const blocks = planBlocks(file.size, segmentSize, perBlock); // throws before asking for a grant if too large
  const manifestBytes = manifestLengthFor({ metadata, recipients });
  opts.signal?.throwIfAborted();

  trace?.('grant asked');
  const grants = await opts.api.post(
    apiPaths.uploads,
    { payloadBytes: sealedSize(file.size, segmentSize), manifestBytes, ...(opts.replaces === undefined ? {} : { replaces: opts.replaces }) },
    fileGrantsSchema,
    withSignal(opts.signal),
  );
  trace?.('granted');
  const draft = await sealDraft({ fileId: grants.fileId, metadata, recipients, segmentSize });
  // The grant holds the manifest to the declared length: a mismatch is a bug here, better caught before any byte is sent.
  if (draft.manifestLength !== manifestBytes) throw new Error('Sealdrop sized the manifest wrongly; nothing was uploaded.');
  trace?.('draft sealed');

  const record: UploadRecord = {
    version: 2,
    fileId: grants.fileId,
    ...(opts.uploadId !== undefined ? { uploadId: opts.uploadId } : {}),
    userId: opts.userId,
    draft: draft.draft,
    source: {
      name: file.name,
      size: file.size,
      lastModified: file.lastModified,
      ...(opts.relativePath !== undefined ? { relativePath: opts.relativePath } : {}),
    },
    segmentSize,
    segmentsPerBlock: perBlock,
    blockDigests: [],
    createdAt: Date.now(),
    ...(opts.fileHandle !== undefined ? { handle: opts.fileHandle } : {}),
  };
  await journal.put(record);
  trace?.('journaled');
  opts.onStarted?.(grants.fileId);
  const keeper = new GrantKeeper(grants, () => renewGrants(opts.api, grants.fileId, opts.signal));
  try {
    await sealAndFinish({ journal, record, draft, file, blocks, keeper, hasher: new PayloadHasher() }, opts);
  } catch (error) {
    if (opts.signal?.aborted === true) await journal.delete(grants.fileId).catch(() => undefined);
    throw error;
  }
  await journal.delete(grants.fileId);
  trace?.('journal cleared');
  return { fileId: grants.fileId };
}

/** Options of resumeUpload. */
export interface ResumeUploadOptions extends SendCommonOptions {
  record: UploadRecord;
  /** The same file, picked again by the user (or reopened from `record.handle`). */
  file: File;
  /** Told the new file id when the upload starts over (the server no longer had it, the file changed, or another file was picked). */
  onStarted?: ((fileId: string) => void) | undefined;
  /** Told, in plain words, that the upload starts over because the file changed (RESTARTED_BECAUSE_CHANGED). */
  onRestarted?: ((notice: string) => void) | undefined;
}

/**
 * Finishes the upload described by `record`, sending only the blocks that
 * storage does not already hold (Get Block List). Resolves with the file id;
 * when the file picked again is not the same one, its bytes changed, or
 * the server has no upload in progress under that id (renew answers 404),
 * resolves with the id of a brand-new upload instead (the old record is
 * dropped; `onRestarted` is told when the file changed).
 *
 * SAFETY: a block is re-sealed with the same content key and the same
 * segment nonces as before. That is only safe if its plaintext is
 * identical: the same nonce over different plaintext under one key breaks
 * AES-GCM. Name, size and lastModified prove nothing (a file can change and
 * keep all three), so the journal is write-ahead: the digest of every
 * block's sealed segments is journaled BEFORE its Put Block is sent. A
 * resume re-reads and re-seals every block with a journaled digest (stored
 * or not: a Put Block may have reached storage just before the crash) and
 * compares, before sending anything; one mismatch, or a stored block with
 * no journaled digest, and it starts over with a fresh file key and a new
 * file id (sendFile). While it then sends, a block that already has a
 * journaled digest is only sent if it seals to that digest again, so a file
 * changing during the resume cannot reuse a nonce either. Same key + same
 * nonce + same plaintext gives the same ciphertext, so re-sending a
 * verified block leaks nothing.
 *
 * Throws like sendFile; also WrongKeyError/TamperedError/MalformedError
 * when the journaled draft no longer opens with the owner's key (the record
 * is then dropped).
 */
export async function resumeUpload(opts: ResumeUploadOptions): Promise<{ fileId: string }> {
  const journal = opts.journal ?? defaultJournal();
  const { file } = opts;
  // Our own copy: its block digests grow as blocks are journaled.
  const record: UploadRecord = { ...opts.record, blockDigests: [...opts.record.blockDigests] };
  if (!isSameSource(record, file)) return startOver(opts, journal, null);
  let draft: SealedDraft;
  try {
    draft = await openDraft(record.draft, ownerIdentities(opts.identity), { fileId: record.fileId });
  } catch (error) {
    await journal.delete(record.fileId);
    throw error;
  }
  const blocks = planBlocks(file.size, draft.segmentSize, record.segmentsPerBlock);

  let grants: FileGrants;
  try {
    grants = await renewGrants(opts.api, record.fileId, opts.signal);
  } catch (error) {
    // 409: the manifest is already committed, so the file is complete (its
    // complete call may have been lost: it is idempotent, make it again).
    if (hasStatus(error, 409)) {
      await completeUpload(opts.api, record.fileId, opts.signal);
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
    const state = await readPayloadState(keeper, blocks, { ...opts.transport, signal: opts.signal, wholeBlob: isWholeBlob(blocks) });
    const stored = (index: number): boolean => state.committed || state.uploaded.has(index);
    const hasher = new PayloadHasher();
    // Before anything is sent: every block ever sealed under this key must seal to its journaled digest again.
    const meter = new ProgressMeter(file.size);
    const journaled = blocks.filter((b) => (record.blockDigests[b.index] ?? null) !== null);
    const unproven = blocks.some((b) => stored(b.index) && (record.blockDigests[b.index] ?? null) === null);
    const same =
      !unproven &&
      (await resealBlocks({
        source: file,
        contentKey: draft.contentKey,
        segmentSize: draft.segmentSize,
        blocks: journaled,
        signal: opts.signal,
        check: async (block, digests) => {
          const expected = record.blockDigests[block.index];
          if (expected == null || !sameBytes(await blockDigest(digests), expected)) return false;
          addSegmentDigests(hasher, block, digests);
          if (stored(block.index)) opts.onProgress?.(meter.add(block.plainEnd - block.plainStart));
          return true;
        },
      }));
    if (!same) return await startOver(opts, journal, RESTARTED_BECAUSE_CHANGED);
    await sealAndFinish(
      { journal, record, draft, file, blocks, keeper, hasher, skip: state.uploaded, committed: state.committed },
      opts,
    );
  } catch (error) {
    if (error instanceof SourceDiffersError) return startOver(opts, journal, RESTARTED_BECAUSE_CHANGED);
    if (opts.signal?.aborted === true) await journal.delete(record.fileId).catch(() => undefined);
    throw error;
  }
  await journal.delete(record.fileId);
  return { fileId: record.fileId };
}

/**
 * Drops `opts.record` and uploads `opts.file` as a new file: a fresh file
 * key and a new file id, so no nonce of the old key is ever used again.
 * The old upload's uncommitted blocks expire in storage.
 */
async function startOver(opts: ResumeUploadOptions, journal: UploadJournal, notice: string | null): Promise<{ fileId: string }> {
  const { record } = opts;
  await journal.delete(record.fileId);
  if (notice !== null) opts.onRestarted?.(notice);
  return sendFile({
    ...opts,
    journal,
    userId: record.userId,
    relativePath: record.source.relativePath,
    fileHandle: record.handle,
    transport: { ...opts.transport, segmentSize: record.segmentSize, segmentsPerBlock: record.segmentsPerBlock },
  });
}

/** What sealAndFinish works on. */
interface UploadWork {
  journal: UploadJournal;
  /** The journal record; its blockDigests grow as blocks are sealed. */
  record: UploadRecord;
  draft: SealedDraft;
  file: File;
  blocks: readonly BlockSpan[];
  keeper: GrantKeeper<FileGrants>;
  /** Segment digests so far (those of blocks verified on resume). */
  hasher: PayloadHasher;
  /** Blocks storage already holds (their digests are in `hasher`). */
  skip?: ReadonlySet<number>;
  /** The payload is already committed (every digest is in `hasher`). */
  committed?: boolean;
}

/**
 * Seals and sends the blocks storage lacks, journaling each block's digest
 * before its Put Block (a block journaled earlier must seal to the same
 * digest, or SourceDiffersError), then commits the block list and stores
 * the manifest finished with the payload digest.
 */
async function sealAndFinish(work: UploadWork, opts: SendCommonOptions): Promise<void> {
  const { journal, record, hasher, blocks } = work;
  const trace = opts.transport?.trace;
  const wholeBlob = isWholeBlob(blocks);
  const signer = opts.signer ?? { privateKey: opts.identity.sign.privateKey, publicKey: opts.identity.sign.publicKey };
  // Finished (payload digest, MAC, signature) as soon as the last block is
  // sealed, while the payload still travels; stored only after the payload
  // is committed (a stored manifest means "complete" to every reader).
  let manifest: Promise<Uint8Array> | null = null;
  const startManifest = (): Promise<Uint8Array> =>
    (manifest ??= hasher.digest().then(async (payloadDigest) => {
      const bytes = await finishManifest(work.draft, { payloadDigest, signer });
      trace?.('manifest finished');
      return bytes;
    }));
  const last = blocks.at(-1);
  if (work.committed === true) {
    opts.onProgress?.({ bytesDone: work.file.size, totalBytes: work.file.size, bytesPerSecond: 0, secondsLeft: 0 });
  } else {
    await uploadBlocks({
      ...opts.transport,
      source: work.file,
      contentKey: work.draft.contentKey,
      segmentSize: work.draft.segmentSize,
      blocks,
      grants: work.keeper,
      skip: work.skip,
      wholeBlob,
      onProgress: opts.onProgress,
      signal: opts.signal,
      beforeSend: async (block, digests) => {
        const digest = await blockDigest(digests);
        const journaled = record.blockDigests[block.index] ?? null;
        if (journaled !== null) {
          // Sealed (and maybe sent) before: only the very same bytes may go again.
          if (!sameBytes(digest, journaled)) throw new SourceDiffersError();
        } else {
          while (record.blockDigests.length < block.index) record.blockDigests.push(null);
          record.blockDigests[block.index] = digest;
          await journal.put(record);
          trace?.(`journaled block ${block.index}`);
        }
        addSegmentDigests(hasher, block, digests);
        if (block.index === last?.index) startManifest().catch(() => undefined);
      },
    });
  }
  const finished = await startManifest();
  await finish(work.keeper, blocks, finished, opts, work.committed === true || wholeBlob);
  trace?.('manifest stored');
  // The file is complete in storage; the change log learns it now (a lost
  // call leaves the journal record, and the resume below completes it).
  await completeUpload(opts.api, work.record.fileId, opts.signal);
  trace?.('completed');
}

function addSegmentDigests(hasher: PayloadHasher, block: BlockSpan, digests: readonly Uint8Array[]): void {
  digests.forEach((d, s) => hasher.addDigest(block.firstSegment + s, d));
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
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
  /**
   * The server knows no upload in progress under this id (nothing was stored
   * yet, or it was deleted): nothing to resume from; resumeUpload starts it
   * afresh under a new key and file id.
   */
  | { state: 'gone' };

/**
 * Returns how far the upload of `record` got, by renewing its grants and
 * reading the payload's block list (Get Block List). Changes nothing in
 * storage or the journal; a complete file is completed again in the change
 * log (idempotent), in case the upload's own call was lost. Throws the API
 * client's errors (offline, session expired) and StorageError.
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
    if (hasStatus(error, 409)) {
      await completeUpload(api, record.fileId, opts.signal);
      return { state: 'complete' };
    }
    if (hasStatus(error, 404)) return { state: 'gone' };
    throw error;
  }
  const blocks = planBlocks(record.source.size, record.segmentSize, record.segmentsPerBlock);
  const keeper = new GrantKeeper(grants, () => renewGrants(api, record.fileId, opts.signal));
  const state = await readPayloadState(keeper, blocks, { ...opts.transport, signal: opts.signal, wholeBlob: isWholeBlob(blocks) });
  if (state.committed) return { state: 'partial', bytesDone: record.source.size };
  let bytesDone = 0;
  for (const block of blocks) if (state.uploaded.has(block.index)) bytesDone += block.plainEnd - block.plainStart;
  return { state: 'partial', bytesDone };
}

/** Returns true when `file` is the file the journal describes (name, size and lastModified). */
export function isSameSource(record: Pick<UploadRecord, 'source'>, file: File): boolean {
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
  if (!alreadyCommitted) {
    await commitBlocks(keeper, blocks, transport);
    opts.transport?.trace?.('committed');
  }
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

/**
 * Tells the server a file's manifest is committed, so its change log lists
 * it (`POST /files/:id/complete`; calling it twice appends once). Throws the
 * API client's errors (it retries 429 and 503 after their Retry-After).
 */
export async function completeUpload(api: GrantApi, fileId: string, signal?: AbortSignal): Promise<void> {
  await api.post(apiPaths.complete(fileId), undefined, completeResponse, withSignal(signal));
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
