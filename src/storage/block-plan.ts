/**
 * How a payload is cut into blocks for upload (docs/CONTRACTS.md §4): each
 * block holds whole sealed segments, so each can be sealed on its own and
 * resent alone after a failure. (Downloads read the payload as one stream;
 * see downloader.ts.)
 */
import { segmentCount, TAG_LENGTH } from '../crypto/index.ts';
import { StorageError } from './storage-error.ts';

/**
 * Aim for upload blocks of about 16 MiB: measured (bench/PERFORMANCE.md)
 * against 4 and 8 MiB, fewer Put Blocks and preflights win clearly, while
 * memory stays bounded (about (in flight + 2) blocks).
 */
export const TARGET_BLOCK_BYTES = 16 * 1024 * 1024;
/** Azure's limit of blocks per blob. */
export const MAX_BLOCKS_PER_BLOB = 50_000;

/** The smallest block a file is cut into for the sake of parallelism. */
export const MIN_BLOCK_BYTES = 4 * 1024 * 1024;
/**
 * A file is cut into at least this many blocks while they stay at or above
 * {@link MIN_BLOCK_BYTES}, so a 30 MiB file still has several blocks in
 * flight (and resumes in small steps) instead of two 16 MiB ones.
 */
export const MIN_BLOCKS_PER_FILE = 8;

/**
 * Returns how many whole segments go into one upload block: about
 * `targetBytes`, or for a file of `fileBytes` less, down to
 * {@link MIN_BLOCK_BYTES}, so it has {@link MIN_BLOCKS_PER_FILE} blocks. At least 1.
 */
export function segmentsPerBlock(segmentSize: number, targetBytes: number = TARGET_BLOCK_BYTES, fileBytes?: number): number {
  const bytes =
    fileBytes === undefined ? targetBytes : Math.min(targetBytes, Math.max(MIN_BLOCK_BYTES, Math.ceil(fileBytes / MIN_BLOCKS_PER_FILE)));
  return Math.max(1, Math.floor(bytes / segmentSize));
}

/**
 * Payloads of at most this much plaintext go up as ONE Put Blob (one
 * request, which also commits them: no Put Block List), like the Azure
 * SDK's single-shot upload. Above it, blocks: an interrupted upload then
 * resumes from the blocks storage already holds. At or below it a resume
 * re-sends the whole payload, which never costs more than one 16 MiB block,
 * the same step as a large file's resume (TARGET_BLOCK_BYTES). Measured in
 * bench/PERFORMANCE.md ("Small and medium files").
 */
export const WHOLE_BLOB_MAX_BYTES = TARGET_BLOCK_BYTES;

/** True when a payload planned as `blocks` goes up as one Put Blob (one block of at most WHOLE_BLOB_MAX_BYTES plaintext). */
export function isWholeBlob(blocks: readonly BlockSpan[]): boolean {
  const [only] = blocks;
  return blocks.length === 1 && only !== undefined && only.plainEnd - only.plainStart <= WHOLE_BLOB_MAX_BYTES;
}

/**
 * Returns how many segments per block the sender uses for a new file of
 * `fileBytes`: all of them (one block, one Put Blob) up to
 * WHOLE_BLOB_MAX_BYTES, else {@link segmentsPerBlock}.
 */
export function uploadSegmentsPerBlock(segmentSize: number, fileBytes: number): number {
  if (fileBytes <= WHOLE_BLOB_MAX_BYTES) return Math.max(1, segmentCount(fileBytes, segmentSize));
  return segmentsPerBlock(segmentSize, TARGET_BLOCK_BYTES, fileBytes);
}

/**
 * Returns the block id of block `index`: base64 of `"blk-" + index` padded
 * to 6 digits, so every id of a blob has the same length (Azure requires it).
 * Throws RangeError beyond 999,999.
 */
export function blockId(index: number): string {
  if (!Number.isSafeInteger(index) || index < 0 || index > 999_999) throw new RangeError('A block index is 0..999999.');
  return btoa(`blk-${String(index).padStart(6, '0')}`);
}

/** One block of the payload: whole segments, with their plaintext and sealed byte ranges. */
export interface BlockSpan {
  index: number;
  /** Index of its first segment. */
  firstSegment: number;
  /** How many segments it holds. */
  segments: number;
  /** Plaintext bytes [plainStart, plainEnd). */
  plainStart: number;
  plainEnd: number;
  /** Sealed bytes [sealedStart, sealedEnd) within the payload. */
  sealedStart: number;
  sealedEnd: number;
}

/**
 * Returns the blocks of a payload sealing `plainBytes` bytes in segments of
 * `segmentSize`, `perBlock` segments per block (the last may hold fewer; an
 * empty file is one block with one empty final segment). Throws StorageError
 * 'too-large' beyond Azure's 50,000 blocks, RangeError on invalid sizes.
 */
export function planBlocks(plainBytes: number, segmentSize: number, perBlock: number): BlockSpan[] {
  if (!Number.isSafeInteger(perBlock) || perBlock < 1) throw new RangeError('Segments per block is a positive integer.');
  const segments = segmentCount(plainBytes, segmentSize);
  const count = Math.ceil(segments / perBlock);
  if (count > MAX_BLOCKS_PER_BLOB) {
    throw new StorageError('too-large', { message: 'The file is larger than storage accepts.' });
  }
  const sealedSegment = segmentSize + TAG_LENGTH;
  const blocks: BlockSpan[] = [];
  for (let index = 0; index < count; index++) {
    const firstSegment = index * perBlock;
    const n = Math.min(perBlock, segments - firstSegment);
    const plainStart = firstSegment * segmentSize;
    const plainEnd = Math.min(plainBytes, (firstSegment + n) * segmentSize);
    const sealedStart = firstSegment * sealedSegment;
    blocks.push({
      index,
      firstSegment,
      segments: n,
      plainStart,
      plainEnd,
      sealedStart,
      sealedEnd: sealedStart + (plainEnd - plainStart) + n * TAG_LENGTH,
    });
  }
  return blocks;
}
