/**
 * The file header: the fixed 57 bytes at the start of every manifest that
 * name the format version, the segment size, the file and its key salt.
 * Layout in docs/FORMAT.md §3.
 */
import { ByteReader, ByteWriter, concatBytes, toHex, utf8, type Bytes } from './bytes.ts';
import { MalformedError, UnsupportedVersionError } from './errors.ts';

/** ASCII "SDRP": the first four bytes of every manifest. */
export const MAGIC: Bytes = utf8('SDRP');
/** The only format version this code writes and reads (v1 never shipped; readers drop it). */
export const FORMAT_VERSION = 2;
/** Length of an encoded header in bytes. */
export const HEADER_LENGTH = 57;
/** Length of the per-file HKDF salt in bytes. */
export const SALT_LENGTH = 32;
/** Length of a file key in bytes. */
export const FILE_KEY_LENGTH = 32;
/** Smallest segment size a header may declare. */
export const MIN_SEGMENT_SIZE = 1024;
/** Largest segment size a header may declare (16 MiB). */
export const MAX_SEGMENT_SIZE = 16 * 1024 * 1024;

/**
 * Largest plaintext size Sealdrop writes or reads: the largest n whose sealed
 * size n + 16 · ceil(n / 1024) is still ≤ 2^53 − 1 at the smallest segment
 * size (a larger segment size only makes the sealed size smaller).
 */
export const MAX_PLAINTEXT_SIZE = 8_868_626_958_514_191;

/** Decoded header fields. */
export interface Header {
  /** Plaintext bytes per segment (all but the last segment are this long). */
  segmentSize: number;
  /** The server-chosen file id, 32 lowercase hex characters. */
  fileId: string;
  /** Per-file random HKDF salt, 32 bytes. */
  salt: Bytes;
}

const FILE_ID = /^[0-9a-f]{32}$/;

/** Throws RangeError unless `segmentSize` is an integer in [MIN_SEGMENT_SIZE, MAX_SEGMENT_SIZE]. */
export function checkSegmentSize(segmentSize: number): void {
  if (!Number.isInteger(segmentSize) || segmentSize < MIN_SEGMENT_SIZE || segmentSize > MAX_SEGMENT_SIZE) {
    throw new RangeError(`Segment size must be an integer from ${MIN_SEGMENT_SIZE} to ${MAX_SEGMENT_SIZE}.`);
  }
}

/** Returns the 16 bytes of a file id; throws RangeError unless it is 32 lowercase hex characters. */
export function fileIdBytes(fileId: string): Bytes {
  if (!FILE_ID.test(fileId)) throw new RangeError('A file id is 32 lowercase hex characters.');
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = parseInt(fileId.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Returns the 57-byte encoding of `header`; throws RangeError on out-of-range fields. */
export function encodeHeader(header: Header): Bytes {
  checkSegmentSize(header.segmentSize);
  if (header.salt.length !== SALT_LENGTH) throw new RangeError('The salt must be 32 bytes.');
  return new ByteWriter()
    .raw(MAGIC)
    .u8(FORMAT_VERSION)
    .u32(header.segmentSize)
    .raw(fileIdBytes(header.fileId))
    .raw(header.salt)
    .bytes();
}

/**
 * Reads the header at the start of `reader`. Throws MalformedError when the
 * magic is wrong or a field is out of range, UnsupportedVersionError when
 * the version is not 2.
 */
export function readHeader(reader: ByteReader): { header: Header; bytes: Bytes } {
  const start = reader.offset;
  const magic = reader.take(MAGIC.length);
  if (!magic.every((b, i) => b === MAGIC[i])) throw new MalformedError('This is not a Sealdrop manifest.');
  const version = reader.u8();
  if (version !== FORMAT_VERSION) throw new UnsupportedVersionError();
  const segmentSize = reader.u32();
  if (segmentSize < MIN_SEGMENT_SIZE || segmentSize > MAX_SEGMENT_SIZE) {
    throw new MalformedError('The segment size is out of range.');
  }
  const fileId = toHex(reader.take(16));
  const salt = reader.take(SALT_LENGTH).slice();
  const header = { segmentSize, fileId, salt };
  // Re-encode rather than slice so the bytes we bind keys to are exactly canonical.
  const bytes = encodeHeader(header);
  if (reader.offset - start !== HEADER_LENGTH) throw new MalformedError();
  return { header, bytes };
}

/**
 * Returns `label ‖ 0x00 ‖ parts…`: the HKDF info / AAD / signed-message
 * framing used everywhere in the format (labels never contain 0x00).
 */
export function labelled(label: string, ...parts: Uint8Array[]): Bytes {
  return concatBytes(utf8(label), Uint8Array.of(0), ...parts);
}
