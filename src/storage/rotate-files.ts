/**
 * A key rotation's file step (issue 20 item 3; docs/FORMAT.md §10.6): every
 * complete file of the owner gets its manifest re-sealed for the new keys
 * (new drive-key and RSA envelopes, signed by the new signing key) and
 * written with If-Match on the ETag read; on 412 (the manifest changed
 * meanwhile, e.g. a link was added) it is read again and re-sealed. Only
 * manifests travel: the payloads are never read or written.
 *
 * Resumable: the caller keeps the ids already done (a journal on the
 * device) and is told after each file; a manifest already signed by the new
 * key is skipped, so a file done but not yet journaled costs one read.
 */
import { ApiError, ROTATION_ROUTES, pathOf, rotatedManifestResponse } from '../contract/index.ts';
import { rotateManifest, SealdropCryptoError, type FormerOwnerKeys } from '../crypto/index.ts';
import { getBlobWithEtag } from './blob-rest.ts';
import { apiPaths, fileGrantsSchema, fileListSchema, type FileListPage, type GrantApi } from './grants.ts';
import { LIST_PAGE_BLOBS } from './listing.ts';
import { ownerRecipients, type OwnerKeys } from './owner-keys.ts';

/** Attempts per file when its manifest keeps changing under us (412). */
const ATTEMPTS = 4;

/** Where a rotation's file step stands. */
export interface FileRotationProgress {
  /** Files done (re-sealed, already re-sealed, or gone). */
  done: number;
  /** Complete files in the drive. */
  total: number;
}

/** What {@link rotateDriveFiles} needs besides the API. */
export interface FileRotationOptions {
  /** The keys the files are sealed for now. */
  former: FormerOwnerKeys;
  /** The new keys (with the new drive key, when there is one). */
  next: OwnerKeys;
  /** Files done in an earlier run (from the journal). */
  done: ReadonlySet<string>;
  /** Told after each file is done, before the next one starts (the caller journals it). */
  onFileDone: (fileId: string) => Promise<void>;
  onProgress?: ((progress: FileRotationProgress) => void) | undefined;
  signal?: AbortSignal | undefined;
}

/** Files that could not be re-sealed (damaged or not the owner's), with the reason in plain words. */
export interface FileRotationResult {
  problems: { fileId: string; problem: string }[];
}

function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

/**
 * Re-seals every complete file of the owner for the new keys (see the
 * module comment). Resolves with the files that could not be (a damaged
 * manifest stays damaged; it is reported, not retried). Throws the API
 * client's errors, StorageError, or the signal's reason; whatever was done
 * before has been reported through `onFileDone`.
 */
export async function rotateDriveFiles(api: GrantApi, opts: FileRotationOptions): Promise<FileRotationResult> {
  const signal = opts.signal === undefined ? {} : { signal: opts.signal };
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const page: FileListPage = await api.get(apiPaths.files(cursor, LIST_PAGE_BLOBS), fileListSchema, signal);
    for (const f of page.files) if (f.complete) ids.push(f.fileId);
    cursor = page.next;
  } while (cursor !== null);

  const problems: FileRotationResult['problems'] = [];
  let done = ids.filter((id) => opts.done.has(id)).length;
  opts.onProgress?.({ done, total: ids.length });
  const add = ownerRecipients(opts.next);
  for (const fileId of ids) {
    if (opts.done.has(fileId)) continue;
    opts.signal?.throwIfAborted();
    const problem = await rotateOne(api, fileId, opts, add, signal);
    if (problem !== null) problems.push({ fileId, problem });
    else await opts.onFileDone(fileId);
    done++;
    opts.onProgress?.({ done, total: ids.length });
  }
  return { problems };
}

/** Re-seals one file; resolves null when done (or gone), else why it could not be. */
async function rotateOne(
  api: GrantApi,
  fileId: string,
  opts: FileRotationOptions,
  add: ReturnType<typeof ownerRecipients>,
  signal: { signal?: AbortSignal },
): Promise<string | null> {
  for (let attempt = 1; ; attempt++) {
    try {
      const grants = await api.post(apiPaths.read(fileId), undefined, fileGrantsSchema, signal);
      const current = await getBlobWithEtag(grants.manifest.url, { signal: opts.signal });
      const manifest = await rotateManifest(current.bytes, { fileId, former: opts.former, signer: opts.next.sign, add });
      if (manifest === null) return null;
      await api.post(pathOf(ROTATION_ROUTES.rotateManifest, fileId), { manifest: toBase64(manifest), manifestEtag: current.etag }, rotatedManifestResponse, signal);
      return null;
    } catch (error) {
      if (error instanceof SealdropCryptoError || error instanceof RangeError) return error.message;
      if (error instanceof ApiError && error.status === 404) return null; // deleted meanwhile: nothing to re-seal
      if (error instanceof ApiError && error.status === 412 && attempt < ATTEMPTS) continue;
      throw error;
    }
  }
}
