import { describe, expect, it } from 'vitest';
import { MalformedError, TamperedError, TruncatedError } from './errors.ts';
import { importAesGcmKey } from './key-schedule.ts';
import {
  DEFAULT_SEGMENT_SIZE,
  createOpenStream,
  createSealStream,
  decryptSegment,
  encryptSegment,
  plainSize,
  sealedSize,
  segmentCount,
} from './stream.ts';
import { payloadDigest } from './payload-digest.ts';
import { randomData, readAll, streamOf } from './test-streams.ts';

const S = 1024;
const key = await importAesGcmKey(randomData(32));
const otherKey = await importAesGcmKey(randomData(32));

async function seal(plain: Uint8Array, chunk = 4096, k = key): Promise<Uint8Array> {
  return readAll(streamOf(plain, chunk).pipeThrough(createSealStream(k, S)));
}
/**
 * The payload digest of `sealed` as it is (cut into S + 16-byte segments), so
 * these tests reach the segment rules of FORMAT.md §5.4 whatever the bytes;
 * the digest rule itself is tested in trust.test.ts.
 */
async function digestOf(sealed: Uint8Array): Promise<Uint8Array> {
  const segments: Uint8Array[] = [];
  for (let at = 0; at < sealed.length; at += S + 16) segments.push(sealed.subarray(at, at + S + 16));
  return segments.length === 0 ? new Uint8Array(32) : payloadDigest(segments);
}
async function open(sealed: Uint8Array, chunk = 4096, k = key): Promise<Uint8Array> {
  return readAll(streamOf(sealed, chunk).pipeThrough(createOpenStream(k, S, { payloadDigest: await digestOf(sealed) })));
}
/** Returns sealed segment i of a payload. */
function segment(payload: Uint8Array, i: number): Uint8Array {
  return payload.slice(i * (S + 16), (i + 1) * (S + 16));
}
function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

describe('sealedSize / plainSize / segmentCount', () => {
  it.each([
    [0, 1, 16],
    [1, 1, 17],
    [S - 1, 1, S + 15],
    [S, 1, S + 16],
    [S + 1, 2, S + 33],
    [3 * S, 3, 3 * S + 48],
  ])('plain %i → %i segments, %i sealed bytes, and back', (plain, count, sealed) => {
    expect(segmentCount(plain, S)).toBe(count);
    expect(sealedSize(plain, S)).toBe(sealed);
    expect(plainSize(sealed, S)).toBe(plain);
  });

  it('uses the default segment size when none is given', () => {
    const D = DEFAULT_SEGMENT_SIZE;
    expect(D).toBeGreaterThanOrEqual(64 * 1024);
    expect(D).toBeLessThanOrEqual(4 * 1024 * 1024);
    for (const n of [0, 1, D - 1, D, D + 1, 5 * D + 7]) expect(plainSize(sealedSize(n))).toBe(n);
    expect(sealedSize(D + 1)).toBe(D + 1 + 32);
  });

  it('round-trips every size around several boundaries', () => {
    for (let n = 0; n < 4 * S + 40; n++) expect(plainSize(sealedSize(n, S), S)).toBe(n);
  });

  it.each([
    ['shorter than a tag', 15],
    ['nothing', 0],
    ['a last segment shorter than a tag', S + 16 + 5],
    ['an empty last segment after a full one', S + 16 + 16],
    ['negative', -1],
    ['not an integer', 100.5],
  ])('plainSize rejects %s', (_what, sealed) => {
    expect(() => plainSize(sealed, S)).toThrow(MalformedError);
  });

  it('rejects invalid sizes and segment sizes', () => {
    expect(() => sealedSize(-1, S)).toThrow(RangeError);
    expect(() => sealedSize(1, 100)).toThrow(RangeError);
    expect(() => createSealStream(key, 17 * 1024 * 1024)).toThrow(RangeError);
  });
});

describe('STREAM round trips', () => {
  const sizes = [0, 1, S - 1, S, S + 1, 2 * S, 3 * S + 17, 7 * S];
  it.each(sizes)('seals and opens %i bytes', async (n) => {
    const plain = randomData(n);
    const sealed = await seal(plain, 333);
    expect(sealed.length).toBe(sealedSize(n, S));
    expect(await open(sealed, 1000)).toEqual(plain);
  });

  it('round-trips random sizes with random chunking', async () => {
    const pick = new Uint32Array(12);
    crypto.getRandomValues(pick);
    for (let i = 0; i < pick.length; i += 3) {
      const n = (pick[i] ?? 0) % (6 * S);
      const plain = randomData(n);
      const sealed = await seal(plain, 1 + ((pick[i + 1] ?? 0) % (2 * S)));
      expect(await open(sealed, 1 + ((pick[i + 2] ?? 0) % (3 * S)))).toEqual(plain);
    }
  });

  it('handles a stream delivering one byte per chunk, both ways', async () => {
    const plain = randomData(2 * S + 5);
    const sealed = await seal(plain, 1);
    // Nonces come from the counter, so chunking must not change a single byte.
    expect(sealed).toEqual(await seal(plain, 100_000));
    expect(await open(sealed, 1)).toEqual(plain);
  });

  it('matches encryptSegment, and each segment decrypts alone', async () => {
    const plain = randomData(2 * S + 100);
    const sealed = await seal(plain);
    expect(await decryptSegment(key, 1, false, segment(sealed, 1))).toEqual(plain.slice(S, 2 * S));
    expect(await decryptSegment(key, 2, true, segment(sealed, 2))).toEqual(plain.slice(2 * S));
    const again = await encryptSegment(key, 0, false, plain.slice(0, S));
    expect(await decryptSegment(key, 0, false, again)).toEqual(plain.slice(0, S));
  });
});

describe('STREAM rejects', () => {
  const plain = randomData(3 * S + 10);
  const sealedPromise = seal(plain);

  it('a flipped bit in any segment', async () => {
    const sealed = await sealedPromise;
    for (const at of [0, S + 15, S + 16, 2 * (S + 16) + 3, sealed.length - 1]) {
      const bad = sealed.slice();
      bad[at] = (bad[at] ?? 0) ^ 0x01;
      await expect(open(bad)).rejects.toThrow(TamperedError);
    }
  });

  it('swapped segments', async () => {
    const sealed = await sealedPromise;
    const bad = concat(segment(sealed, 1), segment(sealed, 0), sealed.slice(2 * (S + 16)));
    await expect(open(bad)).rejects.toThrow(TamperedError);
  });

  it('a duplicated segment', async () => {
    const sealed = await sealedPromise;
    const bad = concat(segment(sealed, 0), segment(sealed, 0), sealed.slice(S + 16));
    await expect(open(bad)).rejects.toThrow(TamperedError);
  });

  it('a dropped middle segment', async () => {
    const sealed = await sealedPromise;
    const bad = concat(segment(sealed, 0), sealed.slice(2 * (S + 16)));
    await expect(open(bad)).rejects.toThrow(TamperedError);
  });

  it('truncation at a segment boundary', async () => {
    const sealed = await sealedPromise;
    for (const segments of [1, 2, 3]) {
      await expect(open(sealed.slice(0, segments * (S + 16)))).rejects.toThrow(TruncatedError);
    }
  });

  it('truncation inside a segment, and an empty payload', async () => {
    const sealed = await sealedPromise;
    await expect(open(sealed.slice(0, sealed.length - 1))).rejects.toThrow(TamperedError);
    await expect(open(sealed.slice(0, S + 16 + 7))).rejects.toThrow(TruncatedError);
    await expect(open(new Uint8Array(0))).rejects.toThrow(TruncatedError);
  });

  it('appended bytes, after a short or a full final segment', async () => {
    const sealed = await sealedPromise;
    await expect(open(concat(sealed, Uint8Array.of(0)))).rejects.toThrow(TamperedError);
    const full = await seal(randomData(2 * S));
    await expect(open(concat(full, randomData(20)))).rejects.toThrow(TamperedError);
    await expect(open(concat(full, segment(full, 1)))).rejects.toThrow(TamperedError);
  });

  it('the wrong key', async () => {
    await expect(open(await sealedPromise, 4096, otherKey)).rejects.toThrow(TamperedError);
  });

  it('a segment opened at the wrong index or final flag', async () => {
    const sealed = await sealedPromise;
    await expect(decryptSegment(key, 1, false, segment(sealed, 0))).rejects.toThrow(TamperedError);
    await expect(decryptSegment(key, 0, true, segment(sealed, 0))).rejects.toThrow(TamperedError);
    await expect(decryptSegment(key, 0, false, new Uint8Array(15))).rejects.toThrow(MalformedError);
  });

  it('errors whose messages carry no secret bytes', async () => {
    const error: unknown = await open(await sealedPromise, 4096, otherKey).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TamperedError);
    expect(String(error)).not.toMatch(/[0-9a-f]{16}/);
  });
});

describe('FORMAT.md §5 rules', () => {
  it('a total size is judged by plainSize (MalformedError), a stream that ends by the reader (TruncatedError)', async () => {
    const sealed = await seal(randomData(2 * S));
    for (const cut of [0, 15, S + 16 + 15]) {
      expect(() => plainSize(cut, S)).toThrow(MalformedError);
      await expect(open(sealed.slice(0, cut))).rejects.toThrow(TruncatedError);
    }
  });

  it('the counter is the full 11 bytes: index 2^32 + 5 is not index 5, and indexes ≥ 2^53 are refused', async () => {
    const plain = randomData(5);
    const wide = await encryptSegment(key, 2 ** 32 + 5, true, plain);
    await expect(decryptSegment(key, 5, true, wide)).rejects.toThrow(TamperedError);
    expect(await decryptSegment(key, 2 ** 32 + 5, true, wide)).toEqual(plain);
    await expect(encryptSegment(key, 2 ** 53, true, plain)).rejects.toThrow(RangeError);
  });
});
