/**
 * The few Azure Blob REST calls Sealdrop needs, over plain `fetch` with a
 * SAS URL (no storage SDK in the page: it would cost ~100 KB gzipped).
 *
 * - No `x-ms-version` header: the SAS's own `sv` decides the version, which
 *   keeps Azurite and Azure happy alike (PLATFORM-NOTES).
 * - Request bodies are `Blob`s: under CDP, Uint8Array bodies are throttled,
 *   and Put Block needs a Content-Length anyway (no streamed bodies).
 * - Every failure becomes one `StorageError`; an abort rethrows the signal's
 *   reason untouched so callers can tell "cancelled" from "failed".
 */
import { parseRetryAfter } from '../contract/index.ts';
import { StorageError } from './storage-error.ts';

/** The subset of `fetch` this module uses; tests inject a wrapper to simulate failures. */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** Options shared by every call. */
export interface BlobCallOptions {
  signal?: AbortSignal | undefined;
  /** Defaults to the global `fetch`. */
  fetch?: FetchLike | undefined;
}

/** One block as Get Block List reports it. */
export interface BlockInfo {
  /** The base64 block id exactly as it was sent. */
  name: string;
  /** Bytes in the block. */
  size: number;
}

/** Committed and uncommitted blocks of a blob. */
export interface BlockList {
  committed: BlockInfo[];
  uncommitted: BlockInfo[];
}

/** The bytes of a ranged read and the blob's full length from `Content-Range`. */
export interface RangeResult {
  bytes: Uint8Array<ArrayBuffer>;
  /** Total length of the blob as storage reports it. */
  totalSize: number;
}

const defaultFetch: FetchLike = (input, init) => fetch(input, init);

/** Appends query parameters to a SAS URL by string, so the SAS's own encoding is never re-serialised. */
function withQuery(url: string, query: string): string {
  return url + (url.includes('?') ? '&' : '?') + query;
}

async function send(url: string, init: RequestInit, opts: BlobCallOptions): Promise<Response> {
  const doFetch = opts.fetch ?? defaultFetch;
  try {
    // no-store: Chromium answers a repeated ranged GET from its HTTP cache
    // with a 206 whose Content-Range is missing, and a blob's block list or
    // manifest changes under the same URL; storage answers are never reused.
    return await doFetch(url, { ...init, cache: 'no-store', signal: opts.signal ?? null });
  } catch (error) {
    if (opts.signal?.aborted === true) throw opts.signal.reason;
    // A TypeError from fetch: offline, connection reset or a CORS refusal.
    // Never echo the underlying message: it may contain the URL (and SAS).
    void error;
    throw new StorageError('network');
  }
}

/** Reads a success body; a connection lost mid-body becomes a retryable network error. */
async function readBody<T>(read: () => Promise<T>, opts: BlobCallOptions): Promise<T> {
  try {
    return await read();
  } catch {
    if (opts.signal?.aborted === true) throw opts.signal.reason;
    throw new StorageError('network');
  }
}

/**
 * Turns a non-success answer into a StorageError. Reads the (small) error
 * body to tell an expired SAS from other refusals; the body never reaches
 * the message, which stays one of our fixed plain sentences.
 */
async function failure(res: Response): Promise<StorageError> {
  const storageCode = res.headers.get('x-ms-error-code') ?? undefined;
  const body = await res.text().catch(() => '');
  const status = res.status;
  const base = { status, ...(storageCode !== undefined ? { storageCode } : {}) };
  if (status === 401 || status === 403) {
    // Azure says "Signature not valid in the specified time frame" for an
    // expired SAS; Azurite says only AuthorizationFailure, so callers that can
    // renew a grant treat every 403 as worth one renewal.
    const expired = /time frame|expired/i.test(body);
    return new StorageError(expired ? 'expired-grant' : 'forbidden', base);
  }
  if (status === 404) return new StorageError('not-found', base);
  if (status === 409 || status === 412) return new StorageError('conflict', base);
  if (status === 413) return new StorageError('too-large', { ...base, message: 'The file is larger than storage accepts.' });
  if (status === 507 || /quota|insufficientstorage|capacity/i.test(storageCode ?? '')) {
    return new StorageError('quota', base);
  }
  // Azure throttles with 503 ServerBusy (or 429) and may name a pause: honoured by callStorage.
  const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), Date.now()) ?? undefined;
  const later = retryAfterMs === undefined ? {} : { retryAfterMs };
  if (status === 429) return new StorageError('server', { ...base, ...later, message: 'Storage is busy. Try again in a moment.' });
  if (status >= 500) return new StorageError('server', { ...base, ...later });
  return new StorageError('bad-response', {
    ...base,
    message: `Storage rejected the request (${status}${storageCode !== undefined ? ` ${storageCode}` : ''}).`,
  });
}

async function expectStatus(res: Response, ok: number): Promise<void> {
  if (res.status === ok) {
    // Release the connection: these answers have empty or useless bodies.
    await res.body?.cancel().catch(() => undefined);
    return;
  }
  throw await failure(res);
}

/**
 * Uploads one uncommitted block (`Put Block`). `blockId` is the base64 id;
 * all ids of one blob must have the same length. Resolves on 201; throws
 * StorageError otherwise, or the signal's reason when aborted.
 */
export async function putBlock(url: string, blockId: string, body: Blob, opts: BlobCallOptions & { onSent?: ((bytes: number) => void) | undefined } = {}): Promise<void> {
  const target = withQuery(url, `comp=block&blockid=${encodeURIComponent(blockId)}`);
  // With a progress listener (and no injected fetch), XHR reports the bytes actually sent as they go.
  const useXhr = opts.onSent !== undefined && opts.fetch === undefined && typeof XMLHttpRequest !== 'undefined';
  const res = useXhr ? await sendWithUploadProgress(target, body, opts.signal, opts.onSent ?? (() => undefined)) : await send(target, { method: 'PUT', body }, opts);
  await expectStatus(res, 201);
}

/**
 * How long an upload request may go without sending a byte or hearing an
 * answer before it is taken for a lost connection: aborted and reported as
 * a network error, so the retries take over. A connection that died
 * silently (a NAT that forgot it, a network switch mid-request) otherwise
 * leaves the request, and the upload, waiting forever.
 */
export const UPLOAD_STALL_MS = 30_000;

/**
 * A PUT of `body` through XMLHttpRequest, calling `onSent` with the bytes
 * of this request sent so far (the browser's upload progress events, about
 * every 50 ms while bytes move). Resolves to the answer as a Response;
 * throws StorageError 'network' when no answer came or nothing moved for
 * {@link UPLOAD_STALL_MS}, or the signal's reason.
 */
function sendWithUploadProgress(
  url: string,
  body: Blob,
  signal: AbortSignal | undefined,
  onSent: (bytes: number) => void,
  headers: Readonly<Record<string, string>> = {},
): Promise<Response> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(signal.reason);
      return;
    }
    const xhr = new XMLHttpRequest();
    const abort = (): void => xhr.abort();
    signal?.addEventListener('abort', abort, { once: true });
    let stall: ReturnType<typeof setTimeout> | undefined;
    const watch = (): void => {
      clearTimeout(stall);
      stall = setTimeout(abort, UPLOAD_STALL_MS);
    };
    const done = (): void => {
      clearTimeout(stall);
      signal?.removeEventListener('abort', abort);
    };
    xhr.open('PUT', url);
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (event) => {
      watch();
      onSent(event.loaded);
    };
    xhr.onreadystatechange = watch;
    xhr.onload = () => {
      done();
      const headers = new Headers();
      for (const line of xhr.getAllResponseHeaders().trim().split(/\r?\n/)) {
        const at = line.indexOf(':');
        if (at > 0) headers.append(line.slice(0, at).trim(), line.slice(at + 1).trim());
      }
      resolve(new Response(xhr.status === 204 || xhr.status === 304 ? null : xhr.responseText, { status: xhr.status, headers }));
    };
    xhr.onerror = () => {
      done();
      // Never echo details: they may name the URL (and SAS).
      reject(new StorageError('network'));
    };
    xhr.onabort = () => {
      done();
      reject(signal?.aborted === true ? signal.reason : new StorageError('network'));
    };
    xhr.ontimeout = xhr.onerror;
    watch();
    xhr.send(body);
  });
}

/** Returns the XML body of Put Block List naming `blockIds` as latest blocks, in order. */
export function blockListXml(blockIds: readonly string[]): string {
  const items = blockIds.map((id) => `<Latest>${escapeXml(id)}</Latest>`).join('');
  return `<?xml version="1.0" encoding="utf-8"?><BlockList>${items}</BlockList>`;
}

/**
 * Commits `blockIds` as the blob's content (`Put Block List`). With
 * `ifNoneMatch: '*'` an existing blob is never overwritten: storage answers
 * 409 and this throws StorageError kind 'conflict'. Throws StorageError on
 * any other failure.
 */
export async function putBlockList(
  url: string,
  blockIds: readonly string[],
  opts: BlobCallOptions & { ifNoneMatch?: '*' } = {},
): Promise<void> {
  const headers: Record<string, string> = { 'Content-Type': 'application/xml' };
  if (opts.ifNoneMatch === '*') headers['If-None-Match'] = '*';
  const body = new Blob([blockListXml(blockIds)], { type: 'application/xml' });
  await expectStatus(await send(withQuery(url, 'comp=blocklist'), { method: 'PUT', headers, body }, opts), 201);
}

/**
 * Returns the committed and uncommitted blocks of a blob (`Get Block List`,
 * `blocklisttype=all`). A blob with no blocks at all answers 404: that is
 * returned as two empty lists. Throws StorageError otherwise.
 */
export async function getBlockList(url: string, opts: BlobCallOptions = {}): Promise<BlockList> {
  const res = await send(withQuery(url, 'comp=blocklist&blocklisttype=all'), { method: 'GET' }, opts);
  if (res.status === 404) {
    await res.body?.cancel().catch(() => undefined);
    return { committed: [], uncommitted: [] };
  }
  if (res.status !== 200) throw await failure(res);
  return parseBlockListXml(await readBody(() => res.text(), opts));
}

/**
 * Parses a Get Block List answer. DOMParser does not exist in workers or
 * Node, and the answer is tiny and machine-made, so a small regex reader over
 * `<CommittedBlocks>` / `<UncommittedBlocks>` and their `<Name>`/`<Size>`
 * pairs is enough. Throws StorageError 'bad-response' when the body is not a
 * block list.
 */
export function parseBlockListXml(xml: string): BlockList {
  if (!/<BlockList\b/.test(xml)) throw new StorageError('bad-response');
  return { committed: readSection(xml, 'CommittedBlocks'), uncommitted: readSection(xml, 'UncommittedBlocks') };
}

function readSection(xml: string, tag: string): BlockInfo[] {
  const section = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(xml);
  if (section?.[1] === undefined) return []; // absent or self-closing `<Tag />`
  const blocks: BlockInfo[] = [];
  const blockRe = /<Block>\s*<Name>([^<]*)<\/Name>\s*<Size>(\d+)<\/Size>\s*<\/Block>/g;
  for (const m of section[1].matchAll(blockRe)) {
    blocks.push({ name: unescapeXml(m[1] ?? ''), size: Number(m[2]) });
  }
  return blocks;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function unescapeXml(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}

/**
 * Uploads a whole block blob in one request (`Put Blob`): a manifest, or a
 * payload small enough for one request. With `ifNoneMatch: '*'` it never
 * overwrites (StorageError 'conflict'). With `onSent` (and no injected
 * fetch) it goes through XHR and reports the bytes sent, as putBlock does.
 * Throws StorageError on failure.
 */
export async function putBlob(
  url: string,
  body: Blob,
  opts: BlobCallOptions & { ifNoneMatch?: '*'; onSent?: ((bytes: number) => void) | undefined } = {},
): Promise<void> {
  const headers: Record<string, string> = { 'x-ms-blob-type': 'BlockBlob' };
  if (opts.ifNoneMatch === '*') headers['If-None-Match'] = '*';
  const useXhr = opts.onSent !== undefined && opts.fetch === undefined && typeof XMLHttpRequest !== 'undefined';
  const res = useXhr
    ? await sendWithUploadProgress(url, body, opts.signal, opts.onSent ?? (() => undefined), headers)
    : await send(url, { method: 'PUT', headers, body }, opts);
  await expectStatus(res, 201);
}

/**
 * Returns the length of a committed blob (`Get Blob Properties`, a HEAD),
 * or null when there is none (404; uncommitted blocks do not make a blob).
 * Throws StorageError on any other failure.
 */
export async function blobLength(url: string, opts: BlobCallOptions = {}): Promise<number | null> {
  const res = await send(url, { method: 'HEAD' }, opts);
  if (res.status === 404) return null;
  if (res.status !== 200) throw await failure(res);
  const length = Number(res.headers.get('content-length'));
  if (!Number.isSafeInteger(length) || length < 0) throw new StorageError('bad-response');
  return length;
}

/** Returns the whole blob's bytes (for small blobs such as manifests). Throws StorageError on failure. */
export async function getBlob(url: string, opts: BlobCallOptions = {}): Promise<Uint8Array<ArrayBuffer>> {
  const res = await send(url, { method: 'GET' }, opts);
  if (res.status !== 200) throw await failure(res);
  return new Uint8Array(await readBody(() => res.arrayBuffer(), opts));
}

/**
 * Reads a whole (small) blob and its ETag, for a later conditional write
 * (If-Match). Throws StorageError like getBlob, or kind 'bad-response' when
 * the answer carries no ETag.
 */
export async function getBlobWithEtag(url: string, opts: BlobCallOptions = {}): Promise<{ bytes: Uint8Array<ArrayBuffer>; etag: string }> {
  const res = await send(url, { method: 'GET' }, opts);
  if (res.status !== 200) throw await failure(res);
  const etag = res.headers.get('etag');
  const bytes = new Uint8Array(await readBody(() => res.arrayBuffer(), opts));
  if (etag === null || etag === '') throw new StorageError('bad-response', { status: res.status, message: 'Storage did not say which version of the file it sent.' });
  return { bytes, etag };
}

/**
 * Reads bytes `start`..`endInclusive` of a blob with a `Range` header.
 * Returns the bytes (possibly fewer than asked when the blob is shorter) and
 * the blob's total length from `Content-Range`. Throws StorageError: kind
 * 'bad-response' when the answer is not a well-formed 206 matching the
 * request (status 416 when the range starts past the end), or any other kind.
 */
export async function getRange(
  url: string,
  start: number,
  endInclusive: number,
  opts: BlobCallOptions = {},
): Promise<RangeResult> {
  const { res, from, to, total } = await rangedGet(url, start, endInclusive, opts);
  const bytes = new Uint8Array(await readBody(() => res.arrayBuffer(), opts));
  if (bytes.length !== to - from + 1) throw new StorageError('bad-response', { status: 206 });
  return { bytes, totalSize: total };
}

/**
 * Sends a ranged GET and checks the answer is a 206 whose `Content-Range`
 * starts at `start` and ends within the request. Returns the response and
 * its body, unread. Throws StorageError like `getRange`.
 */
async function rangedGet(
  url: string,
  start: number,
  endInclusive: number,
  opts: BlobCallOptions,
): Promise<{ res: Response; body: ReadableStream<Uint8Array>; from: number; to: number; total: number }> {
  const res = await send(url, { method: 'GET', headers: { Range: `bytes=${start}-${endInclusive}` } }, opts);
  if (res.status !== 206) {
    if (res.status === 200) {
      await res.body?.cancel().catch(() => undefined);
      throw new StorageError('bad-response', { status: 200 });
    }
    throw await failure(res);
  }
  const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(res.headers.get('Content-Range') ?? '');
  const [from, to, total] = [Number(range?.[1]), Number(range?.[2]), Number(range?.[3])];
  const body = res.body;
  if (range === null || body === null || from !== start || to > endInclusive || to < from) {
    await res.body?.cancel().catch(() => undefined);
    throw new StorageError('bad-response', { status: 206 });
  }
  return { res, body, from, to, total };
}

/** An open ranged read: the body still arriving, and what `Content-Range` promised. */
export interface RangeStream {
  /**
   * Returns the next chunk of the body, or null at its end. Rejects with
   * StorageError 'network' when the connection drops (or the signal's reason).
   */
  read(): Promise<Uint8Array | null>;
  /** Stops reading and releases the connection; never rejects. */
  cancel(): Promise<void>;
  /** Bytes the body will hold: `to - from + 1` from `Content-Range`. */
  length: number;
  /** Total length of the blob as storage reports it. */
  totalSize: number;
}

/**
 * Starts a ranged read of bytes `start`..`endInclusive` and returns as soon
 * as the headers arrive, leaving the body to be read chunk by chunk (a large
 * payload is never buffered whole). Throws StorageError like `getRange`:
 * 'bad-response' when the answer is not a well-formed 206 starting at
 * `start` (status 416 when the range starts past the end), or any other kind.
 */
export async function getRangeStream(
  url: string,
  start: number,
  endInclusive: number,
  opts: BlobCallOptions = {},
): Promise<RangeStream> {
  const { body, from, to, total } = await rangedGet(url, start, endInclusive, opts);
  const reader = body.getReader();
  return {
    // A dropped connection becomes our own retryable error, never the
    // browser's TypeError (whose text may name the URL and its SAS).
    read: async () => {
      const { done, value } = await readBody(() => reader.read(), opts);
      return done ? null : value;
    },
    cancel: () => reader.cancel().catch(() => undefined),
    length: to - from + 1,
    totalSize: total,
  };
}

/**
 * Deletes a blob. Resolves true when it was deleted, false when it was
 * already gone (404); throws StorageError on any other failure.
 */
export async function deleteBlob(url: string, opts: BlobCallOptions = {}): Promise<boolean> {
  const res = await send(url, { method: 'DELETE' }, opts);
  if (res.status === 404) {
    await res.body?.cancel().catch(() => undefined);
    return false;
  }
  await expectStatus(res, 202);
  return true;
}
