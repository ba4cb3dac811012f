/**
 * The payload: STREAM segments of AES-256-GCM (docs/FORMAT.md §5).
 *
 * The payload is the plain concatenation of sealed segments, with no header
 * of its own, so sealed segment i starts at byte i × (segmentSize + 16) and a
 * ranged read maps to whole segments. Each nonce is the segment counter plus a
 * final-segment flag, so reordering, dropping, duplicating, truncating or
 * appending segments fails authentication.
 */
import { toBytes, type Bytes } from './bytes.ts';
import { MalformedError, TamperedError, TruncatedError } from './errors.ts';
import { MAX_PLAINTEXT_SIZE, checkSegmentSize } from './format.ts';
import { PayloadHasher, PayloadVerifier } from './payload-digest.ts';

/**
 * Default plaintext bytes per segment: 256 KiB, chosen by measurement
 * (fastest sealing in Chromium; bench/segment-size.ts, numbers in
 * docs/FORMAT.md §5.4).
 */
export const DEFAULT_SEGMENT_SIZE = 256 * 1024;
/** AES-GCM tag length: what each segment adds to its plaintext. */
export const TAG_LENGTH = 16;

/** Returns the 12-byte nonce of segment `index`: 11-byte big-endian counter ‖ final flag. */
export function segmentNonce(index: number, isFinal: boolean): Bytes {
  if (!Number.isSafeInteger(index) || index < 0) throw new RangeError('A segment index is a non-negative integer.');
  const nonce = new Uint8Array(12);
  // Bytes 0..2 stay zero: a safe integer fits in the low 8 bytes of the counter.
  new DataView(nonce.buffer).setBigUint64(3, BigInt(index));
  nonce[11] = isFinal ? 1 : 0;
  return nonce;
}

function checkPlainBytes(plainBytes: number): void {
  if (!Number.isSafeInteger(plainBytes) || plainBytes < 0 || plainBytes > MAX_PLAINTEXT_SIZE) {
    throw new RangeError('A size is an integer from 0 to MAX_PLAINTEXT_SIZE.');
  }
}

/**
 * Returns how many segments a plaintext of `plainBytes` bytes seals into:
 * ceil(plainBytes / segmentSize), and 1 for an empty file (one empty final
 * segment). Throws RangeError on a size that is not an integer from 0 to
 * MAX_PLAINTEXT_SIZE, or an invalid segment size.
 */
export function segmentCount(plainBytes: number, segmentSize: number = DEFAULT_SEGMENT_SIZE): number {
  checkPlainBytes(plainBytes);
  checkSegmentSize(segmentSize);
  return Math.max(1, Math.ceil(plainBytes / segmentSize));
}

/** Returns the payload length for `plainBytes` of plaintext. Throws RangeError on invalid input. */
export function sealedSize(plainBytes: number, segmentSize: number = DEFAULT_SEGMENT_SIZE): number {
  return plainBytes + TAG_LENGTH * segmentCount(plainBytes, segmentSize);
}

/**
 * Returns the plaintext length of a payload of `sealedBytes` bytes. Throws
 * MalformedError when no plaintext seals to that length (shorter than one
 * tag, a last segment shorter than a tag, or an empty last segment after
 * others); RangeError on an invalid segment size.
 */
export function plainSize(sealedBytes: number, segmentSize: number = DEFAULT_SEGMENT_SIZE): number {
  checkSegmentSize(segmentSize);
  if (!Number.isSafeInteger(sealedBytes) || sealedBytes < TAG_LENGTH) {
    throw new MalformedError('No file seals to this size.');
  }
  const sealedSegment = segmentSize + TAG_LENGTH;
  const count = Math.ceil(sealedBytes / sealedSegment);
  const last = sealedBytes - (count - 1) * sealedSegment;
  if (last < TAG_LENGTH || (last === TAG_LENGTH && count > 1)) {
    throw new MalformedError('No file seals to this size.');
  }
  return sealedBytes - TAG_LENGTH * count;
}

/** Returns segment `index` sealed under `contentKey` (plaintext ‖ 16-byte tag). Throws RangeError on a bad index. */
export async function encryptSegment(
  contentKey: CryptoKey,
  index: number,
  isFinal: boolean,
  plain: Uint8Array,
): Promise<Bytes> {
  const iv = segmentNonce(index, isFinal);
  return new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, contentKey, toBytes(plain)));
}

/**
 * Returns the plaintext of sealed segment `index`. Throws TamperedError when
 * authentication fails (wrong key, index, final flag or bytes), MalformedError
 * when `sealed` is shorter than a tag.
 */
export async function decryptSegment(
  contentKey: CryptoKey,
  index: number,
  isFinal: boolean,
  sealed: Uint8Array,
): Promise<Bytes> {
  if (sealed.length < TAG_LENGTH) throw new MalformedError('A sealed segment is shorter than its tag.');
  const iv = segmentNonce(index, isFinal);
  try {
    return new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv }, contentKey, toBytes(sealed)));
  } catch {
    throw new TamperedError();
  }
}

/**
 * Cuts a byte stream into blocks of `blockSize`, calling `emit(block, index,
 * isFinal)` for each; a block is only emitted as non-final once a later byte
 * has arrived, and the (possibly short, possibly empty) rest is the final one.
 */
function segmenter(
  blockSize: number,
  emit: (block: Uint8Array, index: number, isFinal: boolean) => Promise<void>,
  atEnd: (rest: Uint8Array, index: number) => Promise<void>,
): { push(chunk: Uint8Array): Promise<void>; end(): Promise<void> } {
  let buffer = new Uint8Array(blockSize);
  let fill = 0;
  let index = 0;
  return {
    async push(chunk) {
      let off = 0;
      while (off < chunk.length) {
        if (fill === blockSize) {
          await emit(buffer, index++, false);
          buffer = new Uint8Array(blockSize);
          fill = 0;
        }
        if (fill === 0 && chunk.length - off > blockSize) {
          // Fast path: a whole block straight from the chunk, no copy.
          await emit(chunk.subarray(off, off + blockSize), index++, false);
          off += blockSize;
          continue;
        }
        const n = Math.min(blockSize - fill, chunk.length - off);
        buffer.set(chunk.subarray(off, off + n), fill);
        fill += n;
        off += n;
      }
    },
    async end() {
      await atEnd(buffer.subarray(0, fill), index);
    },
  };
}

/**
 * Returns a TransformStream that seals plaintext bytes into the payload. Pass
 * a fresh PayloadHasher as `opts.hasher` to collect the segment digests; once
 * the stream has closed, `await hasher.digest()` is the payload digest for
 * finishManifest. Throws RangeError on an invalid segment size; the stream
 * errors if WebCrypto does.
 */
export function createSealStream(
  contentKey: CryptoKey,
  segmentSize: number,
  opts: { hasher?: PayloadHasher } = {},
): TransformStream<Uint8Array, Bytes> {
  checkSegmentSize(segmentSize);
  let out: TransformStreamDefaultController<Bytes> | undefined;
  const seal = async (block: Uint8Array, index: number, isFinal: boolean): Promise<void> => {
    const sealed = await encryptSegment(contentKey, index, isFinal, block);
    await opts.hasher?.add(index, sealed);
    out?.enqueue(sealed);
  };
  const inner = segmenter(segmentSize, seal, (rest, index) => seal(rest, index, true));
  return new TransformStream<Uint8Array, Bytes>({
    start(controller) {
      out = controller;
    },
    transform: (chunk) => inner.push(chunk),
    flush: () => inner.end(),
  });
}

/**
 * Returns a TransformStream that opens a payload back into plaintext and
 * checks it against `opts.payloadDigest` (from openManifest). The readable
 * side errors with TamperedError (a segment fails authentication, bytes
 * appended, segments swapped, or — at the end — the payload digest differs:
 * content re-sealed by someone holding the file key) or TruncatedError (the
 * stream ends before its final segment). The final segment's plaintext is
 * only emitted after the digest matched; earlier segments are authentic
 * against anyone without the file key, but the output is complete and the
 * owner's only when the stream closes without error. Throws RangeError on
 * an invalid segment size or a digest that is not 32 bytes.
 */
export function createOpenStream(
  contentKey: CryptoKey,
  segmentSize: number,
  opts: { payloadDigest: Uint8Array },
): TransformStream<Uint8Array, Bytes> {
  checkSegmentSize(segmentSize);
  if (opts.payloadDigest.length !== 32) throw new RangeError('A payload digest is 32 bytes.');
  const sealedSegment = segmentSize + TAG_LENGTH;
  const hasher = new PayloadHasher();
  let out: TransformStreamDefaultController<Bytes> | undefined;
  const open = async (block: Uint8Array, index: number, isFinal: boolean): Promise<void> => {
    const plain = await decryptSegment(contentKey, index, isFinal, block);
    await hasher.add(index, block);
    out?.enqueue(plain);
  };
  const atEnd = async (rest: Uint8Array, index: number): Promise<void> => {
    if (rest.length < TAG_LENGTH) throw new TruncatedError();
    let plain: Bytes;
    try {
      plain = await decryptSegment(contentKey, index, true, rest);
    } catch (error) {
      // A full segment that opens as non-final means the real final one was cut off.
      if (rest.length === sealedSegment && (await opensAsNonFinal(contentKey, index, rest))) {
        throw new TruncatedError();
      }
      throw error;
    }
    // Only an empty file may end in an empty final segment.
    if (plain.length === 0 && index > 0) throw new TamperedError();
    await hasher.add(index, rest);
    // Last check, before the final plaintext leaves: the payload is the one the owner signed.
    const verifier = new PayloadVerifier(opts.payloadDigest, index + 1);
    hasher.segmentDigests().forEach((d, i) => {
      if (d !== undefined) verifier.addDigest(i, d);
    });
    await verifier.finish();
    out?.enqueue(plain);
  };
  const inner = segmenter(sealedSegment, open, atEnd);
  return new TransformStream<Uint8Array, Bytes>({
    start(controller) {
      out = controller;
    },
    transform: (chunk) => inner.push(chunk),
    flush: () => inner.end(),
  });
}

async function opensAsNonFinal(contentKey: CryptoKey, index: number, sealed: Uint8Array): Promise<boolean> {
  try {
    await decryptSegment(contentKey, index, false, sealed);
    return true;
  } catch {
    return false;
  }
}

