/**
 * How a payload is cut into blocks for upload and into ranges for download
 * (docs/CONTRACTS.md §4): each block or range holds whole sealed segments,
 * so each can be sealed or opened on its own.
 */
import { segmentCount, TAG_LENGTH } from '../crypto/index.ts';
import { StorageError } from './storage-error.ts';

/** Aim for blocks and download ranges of about 4 MiB: few requests and preflights, bounded memory. */
export const TARGET_BLOCK_BYTES = 4 * 1024 * 1024;
/** Azure's limit of blocks per blob. */
export const MAX_BLOCKS_PER_BLOB = 50_000;

/** Returns how many whole segments go into one block (or one ranged read): at least 1. */
export function segmentsPerBlock(segmentSize: number, targetBytes: number = TARGET_BLOCK_BYTES): number {
  return Math.max(1, Math.floor(targetBytes / segmentSize));
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

/** One block of the payload (or one ranged read): whole segments, with their plaintext and sealed byte ranges. */
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
