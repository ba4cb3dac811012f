/**
 * The receiver: lists the owner's drive (opening every manifest to learn
 * names), opens a file as a decrypting stream, and deletes files. Emits
 * progress; never touches the DOM.
 */
import { openManifest, TamperedError, UntrustedSignerError, type FileMetadata } from '../crypto/index.ts';
import { deleteBlob, getBlob } from './blob-rest.ts';
import { openPayloadStream } from './downloader.ts';
import { listDriveProgressive } from './listing.ts';
import {
  apiPaths,
  fileGrantsSchema,
  GrantKeeper,
  type FileEntry,
  type FileGrants,
  type Grant,
  type GrantApi,
} from './grants.ts';
import type { TransferProgress } from './progress.ts';
import { ownerFingerprints, ownerIdentities, type OwnerKeys } from './owner-keys.ts';
import { callStorage, type GrantSource } from './retry.ts';
import type { TransportOptions } from './uploader.ts';

/** A file of the drive whose manifest opened and verified. */
export interface DriveFile {
  status: 'ok';
  fileId: string;
  /** When the server recorded the upload (ISO-8601, server clock). */
  createdAt: string;
  /** Sealed size in storage. */
  payloadBytes: number;
  /** Name, type, size, lastModified, relativePath: authenticated. */
  metadata: FileMetadata;
  /** Fingerprint of the key that signed the manifest (the owner's). */
  sealedBy: string;
}

/** A file of the drive that cannot be opened: shown with its problem, never silently hidden. */
export interface DamagedFile {
  status: 'damaged';
  fileId: string;
  createdAt: string;
  payloadBytes: number;
  /** Plain words for the user. */
  problem: string;
}

/** One entry of the drive. */
export type DriveEntry = DriveFile | DamagedFile;

/** The owner's drive. */
export interface DriveListing {
  /** Complete files (manifest present), newest first, each opened or marked damaged. */
  files: DriveEntry[];
  /** Payloads without a manifest: unfinished uploads, never listed as good files. */
  unfinished: FileEntry[];
  /** True when the drive should be walked again in the background (`reconcileDrive`), to add what the change log missed. */
  reconcileDue?: boolean;
}

/** Options for calls that reach storage. */
export interface ReceiveOptions {
  signal?: AbortSignal | undefined;
  transport?: TransportOptions | undefined;
}

/**
 * Lists the owner's files: one API call per page of the server's listing
 * (it carries the manifests' read grants), every complete file's manifest
 * fetched and opened with the owner's RSA key and checked to be signed by
 * the owner's signing key. A manifest that fails any of this yields a
 * DamagedFile with the reason. Throws the API client's errors, a
 * StorageError when storage cannot be reached (offline, expired session),
 * or the signal's reason. The work is in listing.ts (with cache and
 * progress); this is the plain form.
 */
export function listDrive(api: GrantApi, identity: OwnerKeys, opts: ReceiveOptions = {}): Promise<DriveListing> {
  return listDriveProgressive(api, identity, opts);
}

type OpenedManifest = Awaited<ReturnType<typeof openManifest>> & { keeper: GrantKeeper<FileGrants> };

async function fetchManifest(
  api: GrantApi,
  identity: OwnerKeys,
  owner: ReadonlySet<string>,
  fileId: string,
  opts: ReceiveOptions & { trustedSigners?: ReadonlySet<string> | undefined },
): Promise<OpenedManifest> {
  const readGrants = (): Promise<FileGrants> => api.post(apiPaths.read(fileId), undefined, fileGrantsSchema, withSignal(opts.signal));
  const keeper = new GrantKeeper(await readGrants(), readGrants);
  const manifest = await callStorage(keeper, (g) => getBlob(g.manifest.url, { signal: opts.signal, fetch: opts.transport?.fetch }), {
    policy: opts.transport?.retry,
    signal: opts.signal,
  });
  // Our own drive holds only what we sealed: a manifest signed by anyone
  // else was put there by someone with access to storage.
  const trustedSigners = opts.trustedSigners ?? owner;
  try {
    return { ...(await openManifest(manifest, ownerIdentities(identity), { fileId, trustedSigners })), keeper };
  } catch (error) {
    if (error instanceof UntrustedSignerError && opts.trustedSigners === undefined) throw new TamperedError('This file was not sealed with your key.');
    throw error;
  }
}

/** What the payload stream needs of an opened, authenticated manifest (openManifest's answer has it). */
export interface OpenedPayloadKeys {
  contentKey: CryptoKey;
  segmentSize: number;
  metadata: { size: number };
  payloadDigest: Uint8Array;
}

/**
 * The decrypting stream of a file's payload, read through `grants` (renewed
 * as they need), for a manifest already opened and authenticated: the one
 * way every reader (the owner, a person, a link, a request's owner) reads a
 * payload. The stream errors with TamperedError / TruncatedError when the
 * payload fails authentication or its digest differs from the signed one;
 * the data is complete only when it closes without error.
 */
export function openPayloadFromGrants(
  grants: GrantSource<{ payload: Grant }>,
  opened: OpenedPayloadKeys,
  opts: { signal?: AbortSignal | undefined; onProgress?: ((progress: TransferProgress) => void) | undefined; transport?: TransportOptions | undefined } = {},
): ReadableStream<Uint8Array> {
  return openPayloadStream({
    ...opts.transport,
    grants,
    contentKey: opened.contentKey,
    segmentSize: opened.segmentSize,
    plainBytes: opened.metadata.size,
    payloadDigest: opened.payloadDigest,
    signal: opts.signal,
    onProgress: opts.onProgress,
  });
}

/** An opened file: authenticated metadata and a stream of its plaintext. */
export interface OpenedFile {
  metadata: FileMetadata;
  /** Fingerprint of the key that signed the manifest: who sealed the file (one of the trusted signers). */
  sealedBy: string;
  /**
   * The plaintext. It errors with TamperedError / TruncatedError if the
   * payload fails authentication, or its digest differs from the signed
   * manifest's (checked before the last bytes are delivered): the data is
   * complete only when the stream closes without error.
   */
  stream: ReadableStream<Uint8Array>;
}

/**
 * Opens one of the owner's files: fetches and verifies its manifest, then
 * returns a stream that downloads the payload in ranged requests and
 * decrypts it segment by segment. Throws before any data flows: the API
 * client's errors, StorageError, TamperedError/WrongKeyError/MalformedError
 * for a bad manifest, the signal's reason.
 */
export async function openFileStream(
  api: GrantApi,
  fileId: string,
  identity: OwnerKeys,
  opts: ReceiveOptions & {
    onProgress?: ((progress: TransferProgress) => void) | undefined;
    /** Signing-key fingerprints whose seal is accepted (default: only the owner's own); others throw UntrustedSignerError. */
    trustedSigners?: ReadonlySet<string> | undefined;
  } = {},
): Promise<OpenedFile> {
  const owner = await ownerFingerprints(identity);
  const opened = await fetchManifest(api, identity, owner, fileId, opts);
  const stream = openPayloadFromGrants(opened.keeper, opened, opts);
  return { metadata: opened.metadata, sealedBy: opened.signer.fingerprint, stream };
}

/**
 * Deletes a file: the manifest first (so the file stops being listed as
 * complete at once), then the payload. Blobs already gone count as deleted.
 * Also removes unfinished uploads' committed payloads. Throws the API
 * client's errors or StorageError.
 */
export async function deleteFile(api: GrantApi, fileId: string, opts: ReceiveOptions = {}): Promise<void> {
  const deleteGrants = (): Promise<FileGrants> => api.post(apiPaths.delete(fileId), undefined, fileGrantsSchema, withSignal(opts.signal));
  const keeper = new GrantKeeper(await deleteGrants(), deleteGrants);
  const call = { policy: opts.transport?.retry, signal: opts.signal };
  const blob = { signal: opts.signal, fetch: opts.transport?.fetch };
  await callStorage(keeper, (g) => deleteBlob(g.manifest.url, blob), call);
  await callStorage(keeper, (g) => deleteBlob(g.payload.url, blob), call);
}

function withSignal(signal: AbortSignal | undefined): { signal?: AbortSignal } {
  return signal === undefined ? {} : { signal };
}
