/**
 * Ranged download and decryption of a payload as a ReadableStream: whole
 * segments per request (~4 MiB), a few requests in flight, delivered in
 * order, with back-pressure (no request is made until the reader has room
 * for it). Every segment is authenticated before its plaintext is enqueued,
 * and the stream errors on tampering or truncation: callers must treat the
 * output as complete only when the stream closes without error.
 */
import { decryptSegment, sealedSize, segmentCount, TAG_LENGTH, TamperedError, TruncatedError } from '../crypto/index.ts';
import { getRange, type FetchLike } from './blob-rest.ts';
import { planBlocks, segmentsPerBlock, type BlockSpan } from './block-plan.ts';
import type { Grant } from './grants.ts';
import { ProgressMeter, type TransferProgress } from './progress.ts';
import { callStorage, type GrantSource, type RetryPolicy } from './retry.ts';
import { StorageError } from './storage-error.ts';

/** Ranged GETs in flight at once by default. */
export const DEFAULT_PARALLEL_RANGES = 3;

/** Everything `openPayloadStream` needs. */
export interface PayloadStreamOptions {
  grants: GrantSource<{ payload: Grant }>;
  contentKey: CryptoKey;
  segmentSize: number;
  /** Plaintext size from the authenticated metadata (never from the server's listing). */
  plainBytes: number;
  /** Segments per ranged GET (default: about 4 MiB worth). */
  segmentsPerRequest?: number | undefined;
  parallel?: number | undefined;
  retry?: RetryPolicy | undefined;
  fetch?: FetchLike | undefined;
  signal?: AbortSignal | undefined;
  onProgress?: ((progress: TransferProgress) => void) | undefined;
}

/**
 * Returns a stream of the file's plaintext. The stream errors with
 * TamperedError (a segment fails authentication, or the payload is longer
 * than the sealed size), TruncatedError (the payload is shorter), a
 * StorageError that retries could not cure, or the signal's reason on
 * cancel. Cancelling the stream aborts the requests in flight.
 */
export function openPayloadStream(opts: PayloadStreamOptions): ReadableStream<Uint8Array> {
  const perRequest = opts.segmentsPerRequest ?? segmentsPerBlock(opts.segmentSize);
  const parallel = Math.max(1, opts.parallel ?? DEFAULT_PARALLEL_RANGES);
  const ranges = planBlocks(opts.plainBytes, opts.segmentSize, perRequest);
  const lastSegment = segmentCount(opts.plainBytes, opts.segmentSize) - 1;
  const expectedTotal = sealedSize(opts.plainBytes, opts.segmentSize);
  const meter = new ProgressMeter(opts.plainBytes);
  const stop = new AbortController();
  const signal = opts.signal === undefined ? stop.signal : AbortSignal.any([opts.signal, stop.signal]);

  const pending: Promise<Uint8Array[]>[] = [];
  let next = 0;

  const fetchAndOpen = async (range: BlockSpan): Promise<Uint8Array[]> => {
    let result;
    try {
      result = await callStorage(
        opts.grants,
        (g) => getRange(g.payload.url, range.sealedStart, range.sealedEnd - 1, { signal, fetch: opts.fetch }),
        { policy: opts.retry, signal },
      );
    } catch (error) {
      // 416: the range starts past the end of the blob.
      if (error instanceof StorageError && error.status === 416) throw new TruncatedError();
      throw error;
    }
    if (result.totalSize < expectedTotal || result.bytes.length < range.sealedEnd - range.sealedStart) {
      throw new TruncatedError();
    }
    if (result.totalSize > expectedTotal) throw new TamperedError('The file has extra data appended: it was tampered with.');
    const plain: Uint8Array[] = [];
    const sealedSegment = opts.segmentSize + TAG_LENGTH;
    for (let s = 0; s < range.segments; s++) {
      const index = range.firstSegment + s;
      const sealed = result.bytes.subarray(s * sealedSegment, Math.min(result.bytes.length, (s + 1) * sealedSegment));
      plain.push(await decryptSegment(opts.contentKey, index, index === lastSegment, sealed));
    }
    return plain;
  };

  const fill = (): void => {
    while (pending.length < parallel && next < ranges.length) {
      const range = ranges[next++];
      if (range === undefined) break;
      const job = fetchAndOpen(range);
      // Errors surface when the job reaches the head of the queue; until
      // then this keeps them from counting as unhandled.
      job.catch(() => undefined);
      pending.push(job);
    }
  };

  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        fill();
        const head = pending.shift();
        if (head === undefined) {
          controller.close();
          return;
        }
        let chunks: Uint8Array[];
        try {
          chunks = await head;
        } catch (error) {
          stop.abort(error);
          throw error;
        }
        for (const chunk of chunks) {
          if (chunk.length > 0) controller.enqueue(chunk);
          opts.onProgress?.(meter.add(chunk.length));
        }
        if (pending.length === 0 && next >= ranges.length) controller.close();
        else fill();
      },
      cancel(reason) {
        stop.abort(reason);
      },
    },
    // One chunk of read-ahead in the queue; the requests in flight are the real buffer.
    { highWaterMark: 1 },
  );
}
