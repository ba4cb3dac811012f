/**
 * Seals a file block by block and uploads the blocks straight to blob
 * storage: several Put Blocks in flight, a bounded memory window, retries
 * with back-off, grant renewal, progress and cancel. Then commits the block
 * list without ever overwriting. Each sealed segment is hashed as soon as it
 * is sealed (the payload digest's h_i), while earlier blocks are uploading;
 * a block's digests reach the caller (the journal) before its Put Block.
 *
 * Only ciphertext leaves this module; the plaintext is read one block at a
 * time (`Blob.slice`, the next one ahead), never the whole file.
 */
import { encryptSegment, segmentCount, segmentDigest } from '../crypto/index.ts';
import { blockId, type BlockSpan } from './block-plan.ts';
import { blobLength, getBlockList, putBlob, putBlock, putBlockList, type FetchLike } from './blob-rest.ts';
import type { Grant } from './grants.ts';
import { ProgressMeter, type TransferProgress } from './progress.ts';
import { StorageError } from './storage-error.ts';
import { callStorage, type GrantSource, type RetryPolicy } from './retry.ts';

/** Put Blocks in flight at once by default (4 measured best against Azurite here). */
export const DEFAULT_PARALLEL_BLOCKS = 4;

/** Knobs of the transport, exported so the benchmark and tests can tune them. */
export interface TransportOptions {
  /** Defaults to the global fetch; tests inject failures through it. */
  fetch?: FetchLike | undefined;
  /** Requests in flight at once (default DEFAULT_PARALLEL_BLOCKS). */
  parallel?: number | undefined;
  /** Retry policy for network errors and 5xx (default DEFAULT_RETRY_POLICY). */
  retry?: RetryPolicy | undefined;
  /** Told the name of each step as it happens (the bench's time breakdown); never told data. */
  trace?: ((step: string) => void) | undefined;
}

/** Grants that include one for the payload blob. */
export interface PayloadGrants {
  payload: Grant;
}

/** Everything `uploadBlocks` needs. */
export interface UploadBlocksOptions extends TransportOptions {
  /** The plaintext file. */
  source: Blob;
  contentKey: CryptoKey;
  segmentSize: number;
  /** The block layout (see planBlocks); the same on every resume. */
  blocks: readonly BlockSpan[];
  grants: GrantSource<PayloadGrants>;
  /** Blocks already in storage (after a resume): not sealed or sent again. */
  skip?: ReadonlySet<number> | undefined;
  /**
   * The payload is one block, sent as one Put Blob (If-None-Match: *) that
   * also commits it: no Put Block List follows (see wholeBlobPlan).
   */
  wholeBlob?: boolean | undefined;
  /**
   * Called with each block's segment digests (h_i of its sealed segments, in
   * segment order) once the block is sealed and BEFORE its Put Block is
   * sent; the send waits for it, and a throw stops the upload with nothing
   * of that block sent. The sender journals the block's digest here
   * (write-ahead) and refuses bytes that differ from an earlier session's.
   * Calls come one at a time, in block order.
   */
  beforeSend?: ((block: BlockSpan, segmentDigests: Uint8Array[]) => Promise<void>) | undefined;
  onProgress?: ((progress: TransferProgress) => void) | undefined;
  signal?: AbortSignal | undefined;
}

/**
 * Seals and uploads every block not in `skip`, at most `parallel` Put
 * Blocks at a time. While they are in flight the next block is read and
 * sealed, and the one after it read, so memory holds at most `parallel` + 1
 * sealed blocks and 2 plaintext ones. Resolves when all are stored
 * (uncommitted). Throws the first StorageError that retries could not cure,
 * what grant renewal throws, what `beforeSend` throws, SourceChangedError,
 * or the signal's reason on cancel; on failure the other requests in
 * flight are aborted.
 */
export async function uploadBlocks(opts: UploadBlocksOptions): Promise<void> {
  const parallel = Math.max(1, opts.parallel ?? DEFAULT_PARALLEL_BLOCKS);
  const totalSegments = segmentCount(opts.source.size, opts.segmentSize);
  const meter = new ProgressMeter(opts.source.size);
  const stop = new AbortController();
  const signal = opts.signal === undefined ? stop.signal : AbortSignal.any([opts.signal, stop.signal]);

  const skipped = opts.blocks.filter((b) => opts.skip?.has(b.index) === true);
  if (skipped.length > 0) opts.onProgress?.(meter.add(skipped.reduce((n, b) => n + b.plainEnd - b.plainStart, 0)));
  const todo = opts.blocks.filter((b) => opts.skip?.has(b.index) !== true);

  const inFlight = new Set<Promise<void>>();
  let failure: { error: unknown } | null = null;
  let reading: Promise<Uint8Array<ArrayBuffer>> | null = null;
  try {
    for (const [i, block] of todo.entries()) {
      if (failure !== null) break;
      signal.throwIfAborted();
      const plain = await (reading ?? readBlock(opts.source, block));
      // Read the next block from disk while this one is sealed and waits for a slot.
      const after = todo[i + 1];
      reading = after === undefined ? null : readBlock(opts.source, after);
      reading?.catch(() => undefined);
      const { body, segmentDigests } = await sealBlock(plain, opts.contentKey, opts.segmentSize, block, totalSegments);
      opts.trace?.(`sealed block ${block.index}`);
      // Journal first (write-ahead), while the Put Blocks in flight go on.
      await opts.beforeSend?.(block, segmentDigests);
      while (inFlight.size >= parallel) await Promise.race(inFlight);
      if (failure !== null) break;
      signal.throwIfAborted();
      // Progress follows the bytes actually sent (as plaintext bytes), never going back when a try is repeated.
      const plainLength = block.plainEnd - block.plainStart;
      let counted = 0;
      const onSent = (sent: number): void => {
        const plain = Math.min(plainLength, Math.floor((sent / Math.max(1, body.size)) * plainLength));
        if (plain <= counted) return;
        opts.onProgress?.(meter.add(plain - counted));
        counted = plain;
      };
      opts.trace?.(`send block ${block.index}`);
      const send =
        opts.wholeBlob === true
          ? (g: PayloadGrants) => putWholePayload(g.payload.url, body, { signal, fetch: opts.fetch, onSent })
          : (g: PayloadGrants) => putBlock(g.payload.url, blockId(block.index), body, { signal, fetch: opts.fetch, onSent });
      const sending = callStorage(opts.grants, send, {
        policy: opts.retry,
        signal,
      }).then(
        () => {
          opts.trace?.(`sent block ${block.index}`);
          opts.onProgress?.(meter.add(plainLength - counted));
          counted = plainLength;
        },
        (error: unknown) => {
          failure ??= { error };
          stop.abort(error);
        },
      );
      const tracked = sending.finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
    }
  } catch (error) {
    failure ??= { error };
    stop.abort(error);
  }
  await Promise.all(inFlight);
  if (failure !== null) {
    // Prefer the caller's cancel reason over a consequence of it.
    if (opts.signal?.aborted === true) throw opts.signal.reason;
    throw failure.error;
  }
}

/**
 * Sends the whole payload as one Put Blob that never overwrites. A 409
 * whose blob has exactly this body's length counts as done: only this
 * upload's grant can write the blob, and the journaled digest made sure any
 * earlier attempt sent these very bytes (an answer lost after storage took
 * them). Throws StorageError otherwise.
 */
async function putWholePayload(url: string, body: Blob, opts: Parameters<typeof putBlob>[2]): Promise<void> {
  try {
    await putBlob(url, body, { ...opts, ifNoneMatch: '*' });
  } catch (error) {
    if (!(error instanceof StorageError && error.kind === 'conflict')) throw error;
    if ((await blobLength(url, { signal: opts?.signal, fetch: opts?.fetch })) !== body.size) throw error;
  }
}

/** Reads one block of plaintext (one file read per block). Throws SourceChangedError when the file changed. */
export async function readBlock(source: Blob, block: BlockSpan): Promise<Uint8Array<ArrayBuffer>> {
  let plain: Uint8Array<ArrayBuffer>;
  try {
    plain = new Uint8Array(await source.slice(block.plainStart, block.plainEnd).arrayBuffer());
  } catch {
    // NotReadableError: the file was changed, moved or deleted since it was picked.
    throw new SourceChangedError();
  }
  if (plain.length !== block.plainEnd - block.plainStart) throw new SourceChangedError();
  return plain;
}

/** One block sealed: its body for Put Block and the digest of each of its sealed segments. */
export interface SealedBlock {
  body: Blob;
  /** h_i = SHA-256(sealed segment i) for the block's segments, in order (the payload digest's inputs). */
  segmentDigests: Uint8Array[];
}

/**
 * Returns one block's sealed segments as one Blob (built from the segments
 * themselves: no concatenation copy) with each segment's digest. All
 * segments of the block are handed to WebCrypto at once, each hashed (one
 * digest call) as soon as it is sealed, so its work is never waiting on our
 * turn-taking and hashing overlaps the sealing of the others.
 */
export async function sealBlock(
  plain: Uint8Array<ArrayBuffer>,
  contentKey: CryptoKey,
  segmentSize: number,
  block: BlockSpan,
  totalSegments: number,
): Promise<SealedBlock> {
  const sealing: Promise<{ sealed: Uint8Array<ArrayBuffer>; digest: Uint8Array }>[] = [];
  for (let s = 0; s < block.segments; s++) {
    const index = block.firstSegment + s;
    const part = plain.subarray(s * segmentSize, Math.min(plain.length, (s + 1) * segmentSize));
    sealing.push(
      encryptSegment(contentKey, index, index === totalSegments - 1, part).then(async (sealed) => ({ sealed, digest: await segmentDigest(sealed) })),
    );
  }
  const done = await Promise.all(sealing);
  return { body: new Blob(done.map((d) => d.sealed)), segmentDigests: done.map((d) => d.digest) };
}

/**
 * Reads and seals `blocks` again WITHOUT sending anything, calling
 * `check(block, segmentDigests)` for each, in order, until it returns
 * false: how a resumed upload proves its source still holds the bytes it
 * sealed before, and learns the segment digests of the blocks storage
 * already has. The next block is read while one is sealed. Resolves true
 * when every block passed. Throws SourceChangedError (file unreadable or
 * shorter) or the signal's reason.
 */
export async function resealBlocks(opts: {
  source: Blob;
  contentKey: CryptoKey;
  segmentSize: number;
  blocks: readonly BlockSpan[];
  check: (block: BlockSpan, segmentDigests: Uint8Array[]) => Promise<boolean>;
  signal?: AbortSignal | undefined;
}): Promise<boolean> {
  const totalSegments = segmentCount(opts.source.size, opts.segmentSize);
  let reading: Promise<Uint8Array<ArrayBuffer>> | null = null;
  for (const [i, block] of opts.blocks.entries()) {
    opts.signal?.throwIfAborted();
    const plain = await (reading ?? readBlock(opts.source, block));
    // Read the next block from disk while this one is sealed.
    const after = opts.blocks[i + 1];
    reading = after === undefined ? null : readBlock(opts.source, after);
    reading?.catch(() => undefined);
    const { segmentDigests } = await sealBlock(plain, opts.contentKey, opts.segmentSize, block, totalSegments);
    if (!(await opts.check(block, segmentDigests))) return false;
  }
  return true;
}

/** The file changed on disk while it was being read: it is shorter than when the upload began. */
export class SourceChangedError extends Error {
  constructor() {
    super('The file changed while it was being uploaded. Pick it again to start over.');
    this.name = 'SourceChangedError';
  }
}

/** Returns the ids of `blocks` in order: what Put Block List commits. */
export function blockIdsOf(blocks: readonly BlockSpan[]): string[] {
  return blocks.map((b) => blockId(b.index));
}

/** Where a payload stands in storage, from its block list. */
export interface PayloadState {
  /** The payload is already committed with exactly the expected blocks. */
  committed: boolean;
  /** Indices of blocks stored uncommitted with the expected id and size. */
  uploaded: Set<number>;
}

/**
 * Reads the payload's block list (Get Block List; the upload grant has `r`)
 * and returns which expected blocks are already stored, and whether the
 * payload is already committed as expected; for a `wholeBlob` payload, only
 * whether the blob exists with the expected length (Get Blob Properties).
 * Throws StorageError.
 */
export async function readPayloadState(
  grants: GrantSource<PayloadGrants>,
  blocks: readonly BlockSpan[],
  opts: TransportOptions & { signal?: AbortSignal | undefined; wholeBlob?: boolean | undefined } = {},
): Promise<PayloadState> {
  if (opts.wholeBlob === true) {
    // One Put Blob: the payload is either committed whole or not there (a 404, also while only blocks of an older attempt exist).
    const only = blocks[0];
    const length = await callStorage(grants, (g) => blobLength(g.payload.url, { signal: opts.signal, fetch: opts.fetch }), {
      policy: opts.retry,
      signal: opts.signal,
    });
    return { committed: blocks.length === 1 && only !== undefined && length === only.sealedEnd - only.sealedStart, uploaded: new Set() };
  }
  const list = await callStorage(grants, (g) => getBlockList(g.payload.url, { signal: opts.signal, fetch: opts.fetch }), {
    policy: opts.retry,
    signal: opts.signal,
  });
  const expected = new Map(blocks.map((b) => [blockId(b.index), b]));
  const committed =
    list.committed.length === blocks.length &&
    list.committed.every((c, i) => {
      const b = blocks[i];
      return b !== undefined && c.name === blockId(b.index) && c.size === b.sealedEnd - b.sealedStart;
    });
  const uploaded = new Set<number>();
  for (const u of list.uncommitted) {
    const b = expected.get(u.name);
    if (b !== undefined && u.size === b.sealedEnd - b.sealedStart) uploaded.add(b.index);
  }
  return { committed, uploaded };
}

/**
 * Commits the payload's blocks (Put Block List with If-None-Match: *): an
 * existing blob is never overwritten. When storage answers 409 but the blob
 * it has is exactly this block list (an earlier attempt did commit, and
 * only its answer was lost), that counts as done. Throws StorageError
 * ('conflict' when a different blob already exists).
 */
export async function commitBlocks(
  grants: GrantSource<PayloadGrants>,
  blocks: readonly BlockSpan[],
  opts: TransportOptions & { signal?: AbortSignal | undefined } = {},
): Promise<void> {
  const ids = blockIdsOf(blocks);
  try {
    await callStorage(
      grants,
      (g) => putBlockList(g.payload.url, ids, { ifNoneMatch: '*', signal: opts.signal, fetch: opts.fetch }),
      { policy: opts.retry, signal: opts.signal },
    );
  } catch (error) {
    if (!(error instanceof StorageError && error.kind === 'conflict')) throw error;
    if (!(await readPayloadState(grants, blocks, opts)).committed) throw error;
  }
}
