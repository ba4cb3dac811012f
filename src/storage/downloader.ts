/**
 * Download and decryption of a payload as a ReadableStream: ONE streaming
 * ranged GET of the whole payload, cut into sealed segments as the bytes
 * arrive, a few segments decrypting at once, delivered in order, with
 * back-pressure (the body is only read when the reader has room). Every
 * segment is authenticated, with its own index and final flag, before its
 * plaintext is enqueued, and the stream errors on tampering or truncation:
 * callers must treat the output as complete only when the stream closes
 * without error.
 *
 * When the connection drops mid-body, the download goes on with a ranged GET
 * from the first segment not yet received whole: bytes of a half-received
 * segment are dropped, nothing already delivered is delivered again, and
 * segment indices (hence nonces) continue where they were.
 *
 * Every sealed segment is also hashed (h_i, one digest call, alongside its
 * decryption) into one PayloadVerifier that lives across reconnections, so
 * the segments already checked keep their hashes. The final segment's
 * plaintext is held back until the payload digest matches the manifest's:
 * a payload re-sealed by someone holding the file key (same size, every
 * GCM tag valid) errors the stream with TamperedError at the very end and
 * is never delivered whole.
 */
import {
  decryptSegment,
  PayloadVerifier,
  sealedSize,
  segmentCount,
  TAG_LENGTH,
  TamperedError,
  TruncatedError,
} from '../crypto/index.ts';
import { getRangeStream, type FetchLike, type RangeStream } from './blob-rest.ts';
import type { Grant } from './grants.ts';
import { ProgressMeter, type TransferProgress } from './progress.ts';
import { backoffDelay, callStorage, DEFAULT_RETRY_POLICY, sleep, type GrantSource, type RetryPolicy } from './retry.ts';
import { isRetryable, StorageError } from './storage-error.ts';

/**
 * Segments decrypting at once by default: WebCrypto works on one while the
 * next bytes arrive (4 × 256 KiB segments: about 1 MiB of plaintext ahead).
 */
export const DEFAULT_DECRYPTS_IN_FLIGHT = 4;

/** Everything `openPayloadStream` needs. */
export interface PayloadStreamOptions {
  grants: GrantSource<{ payload: Grant }>;
  contentKey: CryptoKey;
  segmentSize: number;
  /** Plaintext size from the authenticated metadata (never from the server's listing). */
  plainBytes: number;
  /** The payload digest from the authenticated manifest (openManifest's `payloadDigest`). */
  payloadDigest: Uint8Array;
  /** Segments decrypting at once (default DEFAULT_DECRYPTS_IN_FLIGHT). */
  decryptsInFlight?: number | undefined;
  /**
   * Retry policy: for starting each GET (network errors, 5xx, one grant
   * renewal), and for how many times in a row a body may drop before any
   * further segment arrives (default DEFAULT_RETRY_POLICY).
   */
  retry?: RetryPolicy | undefined;
  fetch?: FetchLike | undefined;
  signal?: AbortSignal | undefined;
  onProgress?: ((progress: TransferProgress) => void) | undefined;
}

/**
 * Returns a stream of the file's plaintext. The stream errors with
 * TamperedError (a segment fails authentication, the payload is longer
 * than the sealed size, or — before the last plaintext is delivered — the
 * payload digest differs from the manifest's), TruncatedError (the payload is shorter), a
 * StorageError that retries could not cure (kind 'network' when the
 * connection kept dropping), or the signal's reason on cancel. Cancelling
 * the stream aborts the request in flight.
 */
export function openPayloadStream(opts: PayloadStreamOptions): ReadableStream<Uint8Array> {
  const segments = segmentCount(opts.plainBytes, opts.segmentSize);
  const expectedTotal = sealedSize(opts.plainBytes, opts.segmentSize);
  const sealedSegment = opts.segmentSize + TAG_LENGTH;
  const depth = Math.max(1, opts.decryptsInFlight ?? DEFAULT_DECRYPTS_IN_FLIGHT);
  const policy = opts.retry ?? DEFAULT_RETRY_POLICY;
  const meter = new ProgressMeter(opts.plainBytes);
  const stop = new AbortController();
  const signal = opts.signal === undefined ? stop.signal : AbortSignal.any([opts.signal, stop.signal]);
  // Checks the whole payload against the manifest; keeps every segment's hash across reconnections.
  const verifier = new PayloadVerifier(opts.payloadDigest, segments);
  /** Segment hashes still running (WebCrypto copies the bytes when called, so nothing else is held). */
  const hashing = new Set<Promise<void>>();

  /** The open GET, or null between connections. */
  let body: RangeStream | null = null;
  /** Index of the next segment whose sealed bytes are being gathered. */
  let received = 0;
  /** The part of segment `received` gathered so far (dropped when a connection drops). */
  let partial = new Uint8Array(0);
  let fill = 0;
  /** Drops of the connection since the last segment was delivered. */
  let dropsInARow = 0;
  /** Why the last connection was lost, until the next one is open. */
  let dropped: StorageError | null = null;
  /** Decryptions in segment order; each is authenticated before it resolves. */
  const decrypting: Promise<Uint8Array>[] = [];

  const sealedLength = (index: number): number => (index === segments - 1 ? expectedTotal - index * sealedSegment : sealedSegment);

  const connect = async (): Promise<RangeStream> => {
    const start = received * sealedSegment;
    let stream: RangeStream;
    try {
      stream = await callStorage(
        opts.grants,
        (g) => getRangeStream(g.payload.url, start, expectedTotal - 1, { signal, fetch: opts.fetch }),
        { policy: opts.retry, signal },
      );
    } catch (error) {
      // 416: the range starts past the end of the blob.
      if (error instanceof StorageError && error.status === 416) throw new TruncatedError();
      throw error;
    }
    if (stream.totalSize > expectedTotal) {
      await stream.cancel();
      throw new TamperedError('The file has extra data appended: it was tampered with.');
    }
    if (stream.totalSize < expectedTotal || stream.length !== expectedTotal - start) {
      await stream.cancel();
      throw new TruncatedError();
    }
    return stream;
  };

  const decryptNext = (sealed: Uint8Array): void => {
    const index = received++;
    const job = decryptSegment(opts.contentKey, index, index === segments - 1, sealed);
    // Hashed beside its decryption (one digest call), off the delivery path:
    // only the final segment waits for every hash.
    const hash = verifier.add(index, sealed).then(() => undefined);
    hashing.add(hash);
    void hash.then(
      () => hashing.delete(hash),
      () => undefined,
    );
    // A failure surfaces when the job reaches the head of the queue; until
    // then this keeps it from counting as unhandled.
    job.catch(() => undefined);
    decrypting.push(job);
  };

  /** Cuts a chunk of the body into sealed segments and starts decrypting each whole one. */
  const gather = (chunk: Uint8Array): void => {
    let off = 0;
    while (off < chunk.length) {
      // Content-Range promised exactly the rest of the payload: more is a broken answer.
      if (received >= segments) throw new StorageError('bad-response', { status: 206 });
      const need = sealedLength(received);
      if (fill === 0 && chunk.length - off >= need) {
        // A whole segment inside the chunk: no copy.
        decryptNext(chunk.subarray(off, off + need));
        off += need;
        continue;
      }
      if (fill === 0) partial = new Uint8Array(need);
      const n = Math.min(need - fill, chunk.length - off);
      partial.set(chunk.subarray(off, off + n), fill);
      fill += n;
      off += n;
      if (fill === need) {
        decryptNext(partial);
        fill = 0;
      }
    }
  };

  /** Forgets a dropped connection; the rest is read again from segment `received` on. */
  const forget = async (error: StorageError): Promise<void> => {
    await body?.cancel();
    body = null;
    fill = 0;
    dropped = error;
  };

  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          for (;;) {
            const head = decrypting[0];
            // Between connections, what was received whole is delivered first: it is progress.
            if (head !== undefined && (decrypting.length >= depth || received >= segments || body === null)) {
              void decrypting.shift(); // `head`, awaited just below
              const plain = await head;
              dropsInARow = 0;
              const last = received >= segments && decrypting.length === 0;
              // The final plaintext leaves only once every segment is hashed and
              // the payload is the one the owner signed.
              if (last) {
                await Promise.all(hashing);
                await verifier.finish();
              }
              if (plain.length > 0) controller.enqueue(plain);
              opts.onProgress?.(meter.add(plain.length));
              if (last) controller.close();
              return;
            }
            if (body === null) {
              if (dropped !== null) {
                if (dropsInARow >= policy.retries) throw dropped;
                await sleep(backoffDelay(dropsInARow++, policy), signal);
                dropped = null;
              }
              body = await connect();
            }
            let chunk: Uint8Array | null;
            try {
              chunk = await body.read();
            } catch (error) {
              if (signal.aborted || !(error instanceof StorageError) || !isRetryable(error)) throw error;
              await forget(error);
              continue;
            }
            if (chunk !== null) {
              gather(chunk);
            } else if (received < segments) {
              // The body ended before Content-Range's promise: a cut connection.
              await forget(new StorageError('network'));
            }
          }
        } catch (error) {
          stop.abort(error);
          await body?.cancel();
          throw error;
        }
      },
      async cancel(reason) {
        stop.abort(reason);
        await body?.cancel();
      },
    },
    // One chunk of read-ahead in the queue; the decryptions in flight are the real buffer.
    { highWaterMark: 1 },
  );
}
