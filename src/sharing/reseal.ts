/**
 * Re-seal with a new key (issue 17, Deliver 6; docs/THREAT-MODEL.md §
 * "Re-sealing a file"). A file's key is burnt once it was shared: whoever
 * opened the file could keep its key. Re-sealing
 *
 * 1. ends every share of the file (links revoked, people's records and
 *    inbox pointers deleted: their grants are refused from then on);
 * 2. opens the file with the owner's keys and decrypts it (the download
 *    pipeline, src/storage/receiver.ts), collecting the plaintext in a Blob;
 * 3. seals it again under a NEW random file key and uploads it as a new
 *    file with the same metadata (the upload pipeline, src/storage/sender.ts,
 *    with `replaces`: new payload, new manifest, the owner's envelopes
 *    including the drive key's);
 * 4. the server's complete step then switches: the old file stops being
 *    granted and listed, one change-log append adds the new file and deletes
 *    the old one, and the old blobs are deleted. Only after the new manifest
 *    is stored.
 *
 * Cut off anywhere (reload, network failure, cancel): before step 4 the old
 * file is untouched and still opens (its shares have ended); the new upload
 * is left unfinished (ciphertext under a key that only existed in this
 * page's memory) and the drive lists it as "An unfinished upload", to be
 * deleted; re-sealing again starts over. If only the complete call of step
 * 4 was lost, the next listing finishes the switch. Nothing is lost.
 *
 * The new upload is journaled in memory only: an interrupted re-seal is not
 * offered as an upload to resume (its source is the drive itself).
 */
import {
  ApiError,
  PEOPLE_ERROR_CODES,
  PEOPLE_ROUTES,
  SHARE_ROUTES,
  pathOf,
  personShareListSchema,
  revokedPersonShareSchema,
  shareEntrySchema,
  shareListSchema,
} from '../contract/index.ts';
import type { GrantApi } from '../storage/grants.ts';
import type { OwnerKeys } from '../storage/owner-keys.ts';
import { openFileStream } from '../storage/receiver.ts';
import { sendFile } from '../storage/sender.ts';
import type { TransportOptions } from '../storage/uploader.ts';
import { memoryUploadJournal } from '../storage/upload-journal.ts';

/** The step a re-seal is at. */
export type ResealPhase = 'ending-shares' | 'downloading' | 'uploading';

/** Where a re-seal stands: the phase, and plaintext bytes done of the file's size in that phase. */
export interface ResealProgress {
  phase: ResealPhase;
  bytesDone: number;
  totalBytes: number;
}

/** Options of {@link resealFile}. */
export interface ResealOptions {
  onProgress?: ((progress: ResealProgress) => void) | undefined;
  signal?: AbortSignal | undefined;
  /** Transport knobs (tests inject a fetch; segment size as for any upload). */
  transport?: (TransportOptions & { segmentSize?: number; segmentsPerBlock?: number }) | undefined;
}

/** What a finished re-seal did. */
export interface ResealResult {
  /** The file's id from now on (the old one is deleted). */
  fileId: string;
  /** Links and people whose access ended. */
  endedShares: number;
}

/** Plaintext is gathered in Blobs of about this size, so the JS heap holds one at a time. */
const BLOB_PART_BYTES = 8 * 1024 * 1024;
/** The memory journal needs a user id; nothing is kept per user. */
const RESEAL_JOURNAL_USER = 'reseal';

/**
 * Re-seals the owner's file `fileId` under a new file key (see the module
 * comment). Resolves with the new file id once the new file is complete and
 * has taken the old one's place. Throws the API client's errors (ApiError
 * 404 when the file is gone), StorageError, the crypto core's errors for a
 * file that does not open (TamperedError, WrongKeyError...), or the signal's
 * reason; in every case the old file is still there (see above).
 */
export async function resealFile(api: GrantApi, identity: OwnerKeys, fileId: string, opts: ResealOptions = {}): Promise<ResealResult> {
  const { signal, transport } = opts;
  opts.onProgress?.({ phase: 'ending-shares', bytesDone: 0, totalBytes: 0 });
  const endedShares = await endShares(api, fileId, signal);

  signal?.throwIfAborted();
  const opened = await openFileStream(api, fileId, identity, {
    signal,
    transport,
    onProgress: (p) => opts.onProgress?.({ phase: 'downloading', bytesDone: p.bytesDone, totalBytes: p.totalBytes }),
  });
  const { metadata } = opened;
  const plain = await streamToBlob(opened.stream, metadata.type);
  const file = new File([plain], metadata.name, { type: metadata.type, lastModified: metadata.lastModified });

  const sent = await sendFile({
    api,
    identity,
    userId: RESEAL_JOURNAL_USER,
    file,
    relativePath: metadata.relativePath,
    journal: memoryUploadJournal(),
    replaces: fileId,
    signal,
    transport,
    onProgress: (p) => opts.onProgress?.({ phase: 'uploading', bytesDone: p.bytesDone, totalBytes: p.totalBytes }),
  });
  return { fileId: sent.fileId, endedShares };
}

/**
 * Ends every share of `fileId`: each live link revoked and each person's
 * share deleted, by the server's records only (the manifest is not
 * re-signed: it is about to be replaced, and its file deleted). Returns how
 * many ended. Throws the API client's errors.
 */
export async function endShares(api: GrantApi, fileId: string, signal?: AbortSignal): Promise<number> {
  const options = signal === undefined ? {} : { signal };
  const [links, people] = await Promise.all([
    api.get(pathOf(SHARE_ROUTES.listShares, fileId), shareListSchema, options),
    api.get(pathOf(PEOPLE_ROUTES.listPersonShares, fileId), personShareListSchema, options),
  ]);
  let ended = 0;
  for (const link of links.shares) {
    if (link.revoked) continue;
    await api.post(pathOf(SHARE_ROUTES.revokeShare, link.shareId), {}, shareEntrySchema, options);
    ended++;
  }
  for (const person of people.people) {
    try {
      await api.post(pathOf(PEOPLE_ROUTES.revokePersonShare, person.shareId), {}, revokedPersonShareSchema, options);
      ended++;
    } catch (error) {
      // Revoked meanwhile (another device): ended all the same.
      if (!(error instanceof ApiError && error.code === PEOPLE_ERROR_CODES.notShared)) throw error;
    }
  }
  return ended;
}

/**
 * Reads `stream` to its end into one Blob of type `type`, a part of about
 * {@link BLOB_PART_BYTES} at a time (the browser keeps Blob data outside the
 * JS heap). Rejects with the stream's error: a payload that fails
 * authentication never becomes a Blob.
 */
async function streamToBlob(stream: ReadableStream<Uint8Array>, type: string): Promise<Blob> {
  const reader = stream.getReader();
  const parts: Blob[] = [];
  let pending: Uint8Array<ArrayBuffer>[] = [];
  let pendingBytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    pending.push(new Uint8Array(value));
    pendingBytes += value.length;
    if (pendingBytes >= BLOB_PART_BYTES) {
      parts.push(new Blob(pending));
      pending = [];
      pendingBytes = 0;
    }
  }
  if (pending.length > 0) parts.push(new Blob(pending));
  return new Blob(parts, { type });
}
