/**
 * Sealdrop's side of each comparison, through the app's real code:
 * `sendFile` (src/storage/sender.ts) to seal and upload, the manifest read
 * and `openPayloadStream` (src/storage/downloader.ts) to download and open.
 * The token endpoint is replaced by `BenchGrantApi`, which answers the
 * sender's API calls with SAS URLs the runner minted; everything after the
 * grant is the app's own code path.
 */
import {
  backupIdentity,
  createSealStream,
  DEFAULT_SEGMENT_SIZE,
  finishManifest,
  generateIdentityKeys,
  openManifest,
  PayloadHasher,
  rsaIdentity,
  rsaRecipient,
  sealDraft,
  sealedSize,
  type IdentityKeys,
} from '../../src/crypto/index.ts';
import { getBlob } from '../../src/storage/blob-rest.ts';
import { segmentsPerBlock, TARGET_BLOCK_BYTES } from '../../src/storage/block-plan.ts';
import { DEFAULT_DECRYPTS_IN_FLIGHT, openPayloadStream } from '../../src/storage/downloader.ts';
import { apiPaths, fileGrantsSchema, GrantKeeper, type GrantApi } from '../../src/storage/grants.ts';
import { sendFile } from '../../src/storage/sender.ts';
import { DEFAULT_PARALLEL_BLOCKS } from '../../src/storage/uploader.ts';
import type { ZodType } from 'zod';
import type { ByteSink } from './test-data.ts';
import { tracedUpload, type TracedUpload } from './breakdown.ts';

/** Transfer parameters (segment size, segments per upload block, Put Blocks in flight, segments decrypting at once on download). */
export interface Params {
  segmentSize: number;
  segmentsPerBlock: number;
  concurrency: number;
  downloadConcurrency: number;
}

/** SAS URLs (read, create, write, delete) for one sealed file, minted by the runner. */
export interface SealedUrls {
  fileId: string;
  payloadUrl: string;
  manifestUrl: string;
}

/** A file sealed and uploaded: what the download side needs to find and open it. */
export interface SealedFile {
  urls: SealedUrls;
  params: Params;
}

/** Returns the app's default transfer parameters. */
export function defaultParams(): Params {
  return {
    segmentSize: DEFAULT_SEGMENT_SIZE,
    segmentsPerBlock: segmentsPerBlock(DEFAULT_SEGMENT_SIZE, TARGET_BLOCK_BYTES),
    concurrency: DEFAULT_PARALLEL_BLOCKS,
    downloadConcurrency: DEFAULT_DECRYPTS_IN_FLIGHT,
  };
}

const GRANT_LIFETIME_MS = 2 * 3600_000;

/**
 * Stands in for the token endpoint: answers `POST /uploads` and
 * `POST /files/:id/read` with the runner's SAS URLs, acknowledges
 * `POST /files/:id/complete` (validated by the
 * caller's own schema, as the real API client does); refuses anything else.
 */
class BenchGrantApi implements GrantApi {
  constructor(private readonly urls: SealedUrls) {}

  private answer(): unknown {
    const expiresAt = new Date(Date.now() + GRANT_LIFETIME_MS).toISOString();
    return {
      fileId: this.urls.fileId,
      payload: { url: this.urls.payloadUrl, expiresAt, permissions: 'rcw' },
      manifest: { url: this.urls.manifestUrl, expiresAt, permissions: 'cw' },
    };
  }

  get<T>(path: string, schema: ZodType<T>): Promise<T> {
    void schema;
    return Promise.reject(new Error(`The bench API does not answer GET ${path}.`));
  }

  post<T>(path: string, body: unknown, schema: ZodType<T>): Promise<T> {
    void body;
    if (path === apiPaths.uploads || path === apiPaths.read(this.urls.fileId)) {
      return Promise.resolve(schema.parse(this.answer()));
    }
    // The change log's "this file is complete" call: acknowledged (no log here; it is one small API call in the app).
    if (path === apiPaths.complete(this.urls.fileId)) {
      return Promise.resolve(schema.parse({ fileId: this.urls.fileId, etag: '"bench"', appended: true }));
    }
    return Promise.reject(new Error(`The bench API does not answer POST ${path}.`));
  }
}

let identity: IdentityKeys | undefined;

/** Returns the identity keys every sealed file is signed with and wrapped to (made once per page). */
export async function benchIdentity(): Promise<IdentityKeys> {
  identity ??= await generateIdentityKeys();
  return identity;
}

/**
 * The transport options `sendFile` gets. Segments per block are passed only
 * when overridden on the command line: by default the app picks them per
 * file (one Put Blob up to 16 MiB, smaller blocks for mid-size files), and
 * the bench measures what the app does.
 */
export function transportOf(params: Params): { segmentSize: number; segmentsPerBlock?: number; parallel: number } {
  const appDefault = params.segmentsPerBlock === defaultParams().segmentsPerBlock && params.segmentSize === DEFAULT_SEGMENT_SIZE;
  return { segmentSize: params.segmentSize, ...(appDefault ? {} : { segmentsPerBlock: params.segmentsPerBlock }), parallel: params.concurrency };
}

/**
 * Seals `source` and uploads it with the app's `sendFile` (probe draft,
 * grant, draft, IndexedDB journal, sealed and hashed blocks `concurrency` at
 * a time with each block's digest journaled before it is sent, commit,
 * finished manifest). Returns what the download side needs. Throws what
 * `sendFile` throws.
 */
export async function sealAndUpload(source: Blob, urls: SealedUrls, params: Params): Promise<SealedFile> {
  const file = new File([source], 'bench.bin', { type: 'application/octet-stream', lastModified: 0 });
  const { fileId } = await sendFile({
    api: new BenchGrantApi(urls),
    identity: await benchIdentity(),
    userId: 'bench',
    file,
    transport: transportOf(params),
  });
  if (fileId !== urls.fileId) throw new Error('sendFile reported another file id than it was granted.');
  return { urls, params };
}

/** `sealAndUpload` with the app's trace hook and the storage requests' timings (bench/page/breakdown.ts). */
export function sealAndUploadTraced(source: Blob, urls: SealedUrls, params: Params): Promise<TracedUpload> {
  return benchIdentity().then((id) => tracedUpload(source, urls, params, new BenchGrantApi(urls), id));
}

/**
 * Seals `source` through the same `sendFile`, with a transport that accepts
 * every request without sending it (201, nothing on the wire): Sealdrop's
 * seal-only throughput, file reading and Blob bodies included.
 */
export async function sealOnly(source: Blob, params: Params): Promise<void> {
  const file = new File([source], 'bench.bin', { type: 'application/octet-stream', lastModified: 0 });
  const nowhere = 'http://127.0.0.1:9/not-sent';
  await sendFile({
    api: new BenchGrantApi({ fileId: '1'.repeat(32), payloadUrl: nowhere, manifestUrl: nowhere }),
    identity: await benchIdentity(),
    userId: 'bench',
    file,
    transport: { ...transportOf(params), fetch: () => Promise.resolve(new Response(null, { status: 201 })) },
  });
}

/**
 * Returns a stream of `blob` read `readBytes` at a time with one
 * `blob.slice(...).arrayBuffer()` per chunk, only when the consumer asks
 * (high-water mark 0: no read-ahead). These are exactly the raw AES-GCM
 * peer's reads (plain-side.ts `rawAesGcm`), so the format-only line and its
 * peer read the file the same way. `blob.stream()` is not used: Chromium
 * feeds it from the browser process in small chunks (with its own read-ahead
 * on another thread), which would compare two different ways of reading.
 */
function sliceStream(blob: Blob, readBytes: number): ReadableStream<Uint8Array> {
  let off = 0;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (off >= blob.size) {
          controller.close();
          return;
        }
        const end = Math.min(off + readBytes, blob.size);
        const chunk = new Uint8Array(await blob.slice(off, end).arrayBuffer());
        off = end;
        controller.enqueue(chunk);
      },
    },
    { highWaterMark: 0 },
  );
}

/**
 * Seals `source` with the crypto core alone: a real `sealDraft` (RSA-OAEP
 * recipient, the real key schedule) for the content key, then the file read
 * `readBytes` at a time (as the raw peer reads it) piped through
 * `createSealStream(contentKey, DEFAULT_SEGMENT_SIZE)` with a PayloadHasher
 * (one SHA-256 per sealed segment) into a sink that only counts bytes, then
 * `finishManifest` (payload digest, MAC, ECDSA signature). No upload code,
 * no Blob bodies, no journal: the format's own cost. All inside the timing,
 * as the raw peer's key generation is. Throws when the sealed output is not
 * the size the format defines, or what the crypto core throws.
 */
export async function sealFormatOnly(source: Blob, readBytes: number): Promise<void> {
  const keys = await benchIdentity();
  const draft = await sealDraft({
    fileId: '2'.repeat(32),
    metadata: { name: 'bench.bin', type: 'application/octet-stream', size: source.size, lastModified: 0 },
    recipients: [rsaRecipient(keys.encrypt.publicKey)],
    segmentSize: DEFAULT_SEGMENT_SIZE,
  });
  const hasher = new PayloadHasher();
  let sealedBytes = 0;
  await sliceStream(source, readBytes)
    .pipeThrough(createSealStream(draft.contentKey, draft.segmentSize, { hasher }))
    .pipeTo(
      new WritableStream<Uint8Array>({
        write(chunk) {
          sealedBytes += chunk.byteLength;
        },
      }),
    );
  const expected = sealedSize(source.size, draft.segmentSize);
  if (sealedBytes !== expected) throw new Error(`The seal stream gave ${sealedBytes} bytes, not the ${expected} the format defines.`);
  const signer = { privateKey: keys.sign.privateKey, publicKey: keys.sign.publicKey };
  const manifest = await finishManifest(draft, { payloadDigest: await hasher.digest(), signer });
  if (manifest.length !== draft.manifestLength) throw new Error('The finished manifest is not the length its draft announced.');
}

/**
 * Downloads and opens a sealed file as the app does: read grant, manifest
 * GET, `openManifest` with the owner's key, then `openPayloadStream`
 * (one streaming GET, decrypt and hash each segment, in order, the payload
 * digest checked before the last bytes) piped into `sink`. Throws TamperedError,
 * TruncatedError, WrongKeyError or StorageError as the app would.
 */
export async function downloadAndOpen(file: SealedFile, sink: ByteSink): Promise<void> {
  const keys = await benchIdentity();
  const api = new BenchGrantApi(file.urls);
  const grants = await api.post(apiPaths.read(file.urls.fileId), undefined, fileGrantsSchema);
  const keeper = new GrantKeeper(grants, () => Promise.reject(new Error('The bench does not renew grants.')));
  const manifest = await getBlob(grants.manifest.url);
  const opened = await openManifest(manifest, [rsaIdentity(keys.encrypt.privateKey)], { fileId: file.urls.fileId });
  await openPayloadStream({
    grants: keeper,
    contentKey: opened.contentKey,
    segmentSize: opened.segmentSize,
    plainBytes: opened.metadata.size,
    payloadDigest: opened.payloadDigest,
    decryptsInFlight: file.params.downloadConcurrency,
  }).pipeTo(sink.stream);
}

/** Returns milliseconds for one `generateIdentityKeys()` (RSA-OAEP-3072 + ECDSA P-256). */
export async function timeIdentityKeygen(): Promise<number> {
  const t0 = performance.now();
  await generateIdentityKeys();
  return performance.now() - t0;
}

/** Returns milliseconds for one `backupIdentity()` at the default KDF parameters (the KDF dominates). */
export async function timePassphraseKdf(): Promise<number> {
  const keys = await benchIdentity();
  const t0 = performance.now();
  await backupIdentity(keys, 'correct horse battery staple bench');
  return performance.now() - t0;
}
