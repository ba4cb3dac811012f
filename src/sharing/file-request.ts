/**
 * File requests ("send me files"), both sides:
 *
 * - the owner creates a request (the server keeps only expiry, size cap and
 *   counts; the link carries the owner's fingerprint and an optional label
 *   in its #fragment), lists and revokes requests, and lists, opens and
 *   deletes what was received: each received file is opened with the
 *   owner's RSA key and checked like an own file (signed manifest, payload
 *   digest, segment tags), but its signer is a sender's one-time key, so
 *   "who sent it" is only what the sender stated;
 * - anyone holding the link, without an account, fetches the owner's public
 *   identity, checks it against the fingerprint from the link (a server that
 *   hands out another key is caught here, before anything is sealed), and
 *   seals each file to that key alone, signed with a one-time key, uploaded
 *   through the request's create-only grants.
 *
 * The fingerprint and label never leave the browser except inside the link
 * text the owner copies; file names and the sender's name only sealed.
 */
import {
  ApiError,
  OfflineError,
  REQUEST_ERROR_CODES,
  REQUEST_ROUTES,
  UnexpectedResponseError,
  errorBody,
  fileGrantsSchema,
  pathOf,
  receivedListSchema,
  requestEntrySchema,
  requestListSchema,
  requestOpenSchema,
  type FileGrants,
  type RequestEntry,
} from '../contract/index.ts';
import {
  PayloadHasher,
  finishManifest,
  importPublicIdentity,
  newEphemeralSigner,
  openManifest,
  rsaRecipient,
  sealDraft,
  sealedSize,
  WrongKeyError,
  type FileMetadata,
  type ManifestSigner,
} from '../crypto/index.ts';
import { deleteBlob, getBlob, putBlob } from '../storage/blob-rest.ts';
import { planBlocks, segmentsPerBlock, TARGET_BLOCK_BYTES } from '../storage/block-plan.ts';
import { GrantKeeper, type GrantApi } from '../storage/grants.ts';
import { openPayloadFromGrants } from '../storage/receiver.ts';
import { ownerIdentities, type OwnerKeys } from '../storage/owner-keys.ts';
import type { TransferProgress } from '../storage/progress.ts';
import { callStorage } from '../storage/retry.ts';
import { commitBlocks, uploadBlocks } from '../storage/uploader.ts';
import { requestLinkText } from './request-text.ts';

export type { RequestEntry };

/** Lifetimes the app offers for a request, in seconds. */
export const REQUEST_LIFETIMES = [
  { label: '1 day', seconds: 86_400 },
  { label: '7 days', seconds: 604_800 },
  { label: '30 days', seconds: 2_592_000 },
] as const;

/** Size caps the app offers, in sealed bytes. */
export const REQUEST_CAPS = [
  { label: '100 MiB', bytes: 100 * 1024 ** 2 },
  { label: '1 GiB', bytes: 1024 ** 3 },
  { label: '10 GiB', bytes: 10 * 1024 ** 3 },
] as const;

// --- the owner's side -----------------------------------------------------

/** What the owner chooses for a new request. */
export interface NewRequestOptions {
  expiresInSeconds: number;
  maxBytes: number;
  /** Shown to senders (only inside the link); null for none. */
  label: string | null;
}

/**
 * Creates a file request and returns its link (for `origin`, carrying
 * `fingerprint` and the label in the #fragment) and the server's record.
 * Throws RangeError for a label over 96 bytes (before asking the server),
 * the API client's errors (ApiError 409 when the account has no published key).
 */
export async function createFileRequest(
  api: GrantApi,
  fingerprint: string,
  options: NewRequestOptions,
  origin: string,
): Promise<{ link: string; request: RequestEntry }> {
  // Checks the label (and fingerprint) before anything is created.
  requestLinkText(origin, { requestId: '0'.repeat(32), fingerprint, label: options.label });
  const request = await api.post(
    pathOf(REQUEST_ROUTES.createRequest),
    { expiresInSeconds: options.expiresInSeconds, maxBytes: options.maxBytes },
    requestEntrySchema,
  );
  return { link: requestLinkText(origin, { requestId: request.requestId, fingerprint, label: options.label }), request };
}

/** The owner's requests, newest first. Throws the API client's errors. */
export async function listFileRequests(api: GrantApi): Promise<RequestEntry[]> {
  return (await api.get(pathOf(REQUEST_ROUTES.listRequests), requestListSchema)).requests;
}

/** Revokes a request: the server gives no more grants for it. Files already received stay. Throws the API client's errors. */
export async function revokeFileRequest(api: GrantApi, requestId: string): Promise<RequestEntry> {
  return api.post(pathOf(REQUEST_ROUTES.revokeRequest, requestId), {}, requestEntrySchema);
}

/** A received file whose manifest opened and verified. */
export interface ReceivedFile {
  status: 'ok';
  fileId: string;
  createdAt: string;
  metadata: FileMetadata;
  /** What the sender typed about themself, or null: stated, never verified. */
  senderName: string | null;
  /** Fingerprint of the sender's one-time signing key (says nothing about who they are). */
  sealedBy: string;
}

/** A received file that cannot be opened: shown with its problem. */
export interface DamagedReceivedFile {
  status: 'damaged';
  fileId: string;
  createdAt: string;
  problem: string;
}

const readGrants = (api: GrantApi, fileId: string, signal?: AbortSignal): Promise<FileGrants> =>
  api.post(pathOf(REQUEST_ROUTES.readReceived, fileId), {}, fileGrantsSchema, signal === undefined ? {} : { signal });

/**
 * Lists what was received, newest first: every manifest fetched and opened
 * with the owner's keys (authenticated before any name is read). A
 * manifest that fails gives a DamagedReceivedFile. Throws the API client's
 * errors, or StorageError when a manifest cannot be fetched.
 */
export async function listReceivedFiles(api: GrantApi, identity: OwnerKeys): Promise<(ReceivedFile | DamagedReceivedFile)[]> {
  const { files } = await api.get(pathOf(REQUEST_ROUTES.listReceived), receivedListSchema);
  return Promise.all(
    files.map(async (f): Promise<ReceivedFile | DamagedReceivedFile> => {
      const manifest = await getBlob(f.manifestRead.url);
      try {
        const opened = await openManifest(manifest, ownerIdentities(identity), { fileId: f.fileId });
        const { senderName, ...metadata } = opened.metadata;
        return { status: 'ok', fileId: f.fileId, createdAt: f.createdAt, metadata, senderName: senderName ?? null, sealedBy: opened.signer.fingerprint };
      } catch (error) {
        const problem = error instanceof WrongKeyError ? 'This file was not sealed to your key.' : 'This file is damaged or was altered: it cannot be opened.';
        return { status: 'damaged', fileId: f.fileId, createdAt: f.createdAt, problem };
      }
    }),
  );
}

/**
 * Opens a received file for reading, with the same checks as the owner's
 * own files: manifest authenticated first, then a stream that errors with
 * TamperedError / TruncatedError when the payload fails authentication or
 * its digest differs from the signed one. Throws before any data flows:
 * the API client's errors, StorageError, crypto errors for a bad manifest.
 */
export async function openReceivedStream(
  api: GrantApi,
  identity: OwnerKeys,
  fileId: string,
  opts: { signal?: AbortSignal; onProgress?: (p: TransferProgress) => void } = {},
): Promise<{ metadata: FileMetadata; stream: ReadableStream<Uint8Array> }> {
  const keeper = new GrantKeeper(await readGrants(api, fileId, opts.signal), () => readGrants(api, fileId, opts.signal));
  const manifest = await callStorage(keeper, (g) => getBlob(g.manifest.url, { signal: opts.signal }), { signal: opts.signal });
  const opened = await openManifest(manifest, ownerIdentities(identity), { fileId });
  const stream = openPayloadFromGrants(keeper, opened, opts);
  return { metadata: opened.metadata, stream };
}

/** Deletes a received file (manifest first, then payload). Throws the API client's errors or StorageError. */
export async function deleteReceivedFile(api: GrantApi, fileId: string): Promise<void> {
  const grants = await api.post(pathOf(REQUEST_ROUTES.deleteReceived, fileId), {}, fileGrantsSchema);
  await deleteBlob(grants.manifest.url);
  await deleteBlob(grants.payload.url);
}

// --- the sender's side ----------------------------------------------------

/** Why a request cannot take files, as the server says it. */
export type RequestRefusal = 'expired' | 'revoked' | 'not-found' | 'full' | 'no-key';

/** The server refused a request; `reason` says why, the message in plain words. */
export class RequestRefusedError extends Error {
  override readonly name = 'RequestRefusedError';
  constructor(
    readonly reason: RequestRefusal,
    detail?: string,
  ) {
    super(
      detail ??
        {
          expired: 'This file request has expired. Ask the person who sent it for a new one.',
          revoked: 'The person who asked for files has closed this request.',
          'not-found': 'There is no file request at this link. It may have been deleted.',
          full: 'This file request has taken all the files it can. Ask the person who sent it for a new one.',
          'no-key': 'The person who asked for files has no key to seal them to.',
        }[reason],
    );
  }
}

/** The public key the server gave does not have the link's fingerprint: nothing may be sealed to it. */
export class RequestKeyMismatchError extends Error {
  override readonly name = 'RequestKeyMismatchError';
  constructor() {
    super('The key offered for this request is not the one in the link, so nothing was sent. Ask the person for the link again, by another way.');
  }
}

const REFUSALS: Record<string, RequestRefusal> = {
  [REQUEST_ERROR_CODES.expired]: 'expired',
  [REQUEST_ERROR_CODES.revoked]: 'revoked',
  [REQUEST_ERROR_CODES.notFound]: 'not-found',
  [REQUEST_ERROR_CODES.capReached]: 'full',
  [REQUEST_ERROR_CODES.noKey]: 'no-key',
};

/** One anonymous call to the token endpoint: no credentials, no referrer, only ids and sizes. */
async function anonymousPost(apiBase: string, path: string, body: unknown, fetchFn: typeof fetch): Promise<unknown> {
  let res: Response;
  try {
    res = await fetchFn(`${apiBase.replace(/\/+$/, '')}${path}`, {
      method: 'POST',
      credentials: 'omit',
      referrerPolicy: 'no-referrer',
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
  } catch (cause) {
    throw new OfflineError({ cause });
  }
  const json: unknown = await res.json().catch(() => null);
  if (!res.ok) {
    const parsed = errorBody.safeParse(json);
    const code = parsed.success ? parsed.data.error : `http_${res.status}`;
    const refusal = REFUSALS[code];
    // The cap message says how many bytes are left: worth showing as is.
    if (refusal !== undefined) throw new RequestRefusedError(refusal, refusal === 'full' && parsed.success ? parsed.data.message : undefined);
    throw new ApiError(res.status, code, parsed.success ? parsed.data.message : 'The request could not be reached.');
  }
  return json;
}

/** An open request, its owner's key checked against the link. */
export interface OpenedRequest {
  requestId: string;
  /** The owner's RSA-OAEP key, whose fingerprint matched the link's. */
  ownerKey: CryptoKey;
  fingerprint: string;
  expiresAt: string;
  maxBytes: number;
  usedBytes: number;
}

/**
 * Opens a request: fetches the owner's public identity, verifies its
 * self-signature and compares its fingerprint with `fingerprint` from the
 * link. Throws RequestRefusedError (expired, revoked, unknown),
 * RequestKeyMismatchError, ApiError (e.g. 429), OfflineError, and the
 * crypto errors of a damaged identity (TamperedError, MalformedError).
 */
export async function openFileRequest(apiBase: string, requestId: string, fingerprint: string, fetchFn: typeof fetch = fetch): Promise<OpenedRequest> {
  const path = pathOf(REQUEST_ROUTES.openRequest, requestId);
  const parsed = requestOpenSchema.safeParse(await anonymousPost(apiBase, path, undefined, fetchFn));
  if (!parsed.success) throw new UnexpectedResponseError(path);
  const bytes = Uint8Array.from(atob(parsed.data.publicIdentity), (c) => c.charCodeAt(0));
  const identity = await importPublicIdentity(bytes);
  if (identity.fingerprint !== fingerprint) throw new RequestKeyMismatchError();
  return { requestId, ownerKey: identity.encrypt, fingerprint, expiresAt: parsed.data.expiresAt, maxBytes: parsed.data.maxBytes, usedBytes: parsed.data.usedBytes };
}

/** A provisional file id: only used to measure the manifest's length before the server gives the real one. */
const MEASURE_FILE_ID = '0'.repeat(32);

/** Options of sendToRequest. */
export interface SendToRequestOptions {
  apiBase: string;
  request: OpenedRequest;
  /** The page's one-time signing key (newRequestSigner), the same for every file of one visit. */
  signer: ManifestSigner;
  file: File;
  /** What the sender says their name is (sealed with the file's metadata); null or empty for none. */
  senderName: string | null;
  onProgress?: (p: TransferProgress) => void;
  signal?: AbortSignal;
  fetchFn?: typeof fetch;
}

/** A one-time signing key for one visit of the request page. */
export function newRequestSigner(): Promise<ManifestSigner> {
  return newEphemeralSigner();
}

/**
 * Seals `file` to the request owner's key alone and uploads it through the
 * request's create-only grants (payload blocks, then the block list and the
 * manifest, both with If-None-Match: *). Throws RequestRefusedError
 * (expired, revoked, cap reached), ApiError, OfflineError, StorageError,
 * RangeError for a name longer than the format allows, or the signal's
 * reason. A grant outliving its 15 minutes is not renewed: a file that
 * takes longer fails with a plain StorageError and can be sent again.
 */
export async function sendToRequest(opts: SendToRequestOptions): Promise<void> {
  const fetchFn = opts.fetchFn ?? fetch;
  const { file } = opts;
  const stated = opts.senderName?.trim() ?? '';
  const metadata: FileMetadata = {
    name: file.name,
    type: file.type,
    size: file.size,
    lastModified: file.lastModified,
    ...(stated === '' ? {} : { senderName: stated }),
  };
  const recipients = [rsaRecipient(opts.request.ownerKey)];
  const probe = await sealDraft({ fileId: MEASURE_FILE_ID, metadata, recipients });
  const blocks = planBlocks(file.size, probe.segmentSize, segmentsPerBlock(probe.segmentSize, TARGET_BLOCK_BYTES, file.size));
  opts.signal?.throwIfAborted();
  const path = pathOf(REQUEST_ROUTES.uploadToRequest, opts.request.requestId);
  const answer = fileGrantsSchema.safeParse(
    await anonymousPost(opts.apiBase, path, { payloadBytes: sealedSize(file.size, probe.segmentSize), manifestBytes: probe.manifestLength }, fetchFn),
  );
  if (!answer.success) throw new UnexpectedResponseError(path);
  const grants = answer.data;
  const draft = await sealDraft({ fileId: grants.fileId, metadata, recipients, segmentSize: probe.segmentSize });
  const keeper = new GrantKeeper(grants, () => Promise.resolve(grants));
  const hasher = new PayloadHasher();
  await uploadBlocks({
    source: file,
    contentKey: draft.contentKey,
    segmentSize: draft.segmentSize,
    blocks,
    grants: keeper,
    onProgress: opts.onProgress,
    signal: opts.signal,
    beforeSend: (block, digests) => {
      digests.forEach((d, s) => hasher.addDigest(block.firstSegment + s, d));
      return Promise.resolve();
    },
  });
  await commitBlocks(keeper, blocks, { signal: opts.signal });
  const manifest = await finishManifest(draft, { payloadDigest: await hasher.digest(), signer: opts.signer });
  await callStorage(keeper, (g) => putBlob(g.manifest.url, new Blob([manifest]), { ifNoneMatch: '*', signal: opts.signal }), { signal: opts.signal });
}
