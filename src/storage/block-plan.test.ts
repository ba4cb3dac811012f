import { describe, expect, it } from 'vitest';
import { sealedSize, segmentCount } from '../crypto/index.ts';
import { blockId, isWholeBlob, MAX_BLOCKS_PER_BLOB, planBlocks, segmentsPerBlock, TARGET_BLOCK_BYTES, uploadSegmentsPerBlock, WHOLE_BLOB_MAX_BYTES } from './block-plan.ts';
import { StorageError } from './storage-error.ts';

describe('block ids', () => {
  it('are base64 of blk- and a 6-digit index, all the same length', () => {
    expect(blockId(0)).toBe(btoa('blk-000000'));
    expect(atob(blockId(42))).toBe('blk-000042');
    expect(new Set([0, 9, 10, 49_999, 999_999].map((i) => blockId(i).length)).size).toBe(1);
    expect(() => blockId(1_000_000)).toThrow(RangeError);
    expect(() => blockId(-1)).toThrow(RangeError);
  });
});

describe('planBlocks', () => {
  const S = 1024;
  for (const size of [0, 1, S - 1, S, S + 1, 4 * S, 4 * S + 1, 37 * S + 5]) {
    it(`covers ${size} bytes with whole segments and no gaps`, () => {
      const blocks = planBlocks(size, S, 4);
      expect(blocks.reduce((n, b) => n + b.segments, 0)).toBe(segmentCount(size, S));
      expect(blocks[0]?.plainStart).toBe(0);
      expect(blocks.at(-1)?.plainEnd).toBe(size);
      expect(blocks.at(-1)?.sealedEnd).toBe(sealedSize(size, S));
      blocks.forEach((b, i) => {
        expect(b.index).toBe(i);
        expect(b.segments).toBeGreaterThanOrEqual(1);
        expect(b.segments).toBeLessThanOrEqual(4);
        const next = blocks[i + 1];
        if (next !== undefined) {
          expect(next.plainStart).toBe(b.plainEnd);
          expect(next.sealedStart).toBe(b.sealedEnd);
          expect(b.sealedEnd - b.sealedStart).toBe(4 * (S + 16));
        }
      });
    });
  }

  it('refuses more blocks than Azure allows', () => {
    expect(() => planBlocks((MAX_BLOCKS_PER_BLOB + 1) * 1024, 1024, 1)).toThrow(StorageError);
    expect(planBlocks(MAX_BLOCKS_PER_BLOB * 1024, 1024, 1)).toHaveLength(MAX_BLOCKS_PER_BLOB);
  });

  it('packs about 16 MiB of segments per block', () => {
    expect(segmentsPerBlock(1024 * 1024)).toBe(16);
    expect(segmentsPerBlock(256 * 1024)).toBe(64);
    expect(segmentsPerBlock(16 * 1024 * 1024)).toBe(1);
    expect(segmentsPerBlock(64 * 1024, 4 * 1024 * 1024)).toBe(64);
    expect(segmentsPerBlock(1024 * 1024) * 1024 * 1024).toBeLessThanOrEqual(TARGET_BLOCK_BYTES);
  });

  it('cuts smaller files into smaller blocks, down to 4 MiB, so several are in flight', () => {
    const MiB = 1024 * 1024;
    const S = 256 * 1024;
    expect(segmentsPerBlock(S, TARGET_BLOCK_BYTES, 1024 * MiB) * S).toBe(16 * MiB);
    expect(segmentsPerBlock(S, TARGET_BLOCK_BYTES, 64 * MiB) * S).toBe(8 * MiB);
    expect(segmentsPerBlock(S, TARGET_BLOCK_BYTES, 28 * MiB) * S).toBe(4 * MiB);
    expect(segmentsPerBlock(S, TARGET_BLOCK_BYTES, 0) * S).toBe(4 * MiB);
    expect(planBlocks(28 * MiB, S, segmentsPerBlock(S, TARGET_BLOCK_BYTES, 28 * MiB))).toHaveLength(7);
  });
});

describe('one Put Blob or blocks', () => {
  const S = 256 * 1024;
  const MiB = 1024 * 1024;
  it('sends files up to WHOLE_BLOB_MAX_BYTES as one block (one Put Blob), larger ones in blocks that resume', () => {
    expect(WHOLE_BLOB_MAX_BYTES).toBe(16 * MiB);
    for (const size of [0, 1, 1024, MiB, 4 * MiB + 1, 16 * MiB]) {
      const blocks = planBlocks(size, S, uploadSegmentsPerBlock(S, size));
      expect(blocks, `${size} bytes`).toHaveLength(1);
      expect(isWholeBlob(blocks)).toBe(true);
    }
    for (const size of [16 * MiB + 1, 40 * MiB]) {
      const blocks = planBlocks(size, S, uploadSegmentsPerBlock(S, size));
      expect(blocks.length, `${size} bytes`).toBeGreaterThan(1);
      expect(isWholeBlob(blocks)).toBe(false);
    }
    // One block above the limit (a plan made with bigger blocks) still goes as blocks.
    expect(isWholeBlob(planBlocks(20 * MiB, S, 80))).toBe(false);
  });
});
