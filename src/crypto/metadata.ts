/**
 * File metadata (name, MIME type, size, modification time, relative path):
 * a tag-length-value encoding, sealed under the metadata sub-key
 * (docs/FORMAT.md §8).
 */
import { z } from 'zod';
import { ByteReader, ByteWriter, fromUtf8, utf8, type Bytes } from './bytes.ts';
import { MalformedError } from './errors.ts';
import { MAX_PLAINTEXT_SIZE } from './format.ts';

/** What a reader learns about a file besides its content. */
export interface FileMetadata {
  /** File name, without any folder part. */
  name: string;
  /** MIME type as the browser reported it ('' when unknown). */
  type: string;
  /** Plaintext size in bytes. */
  size: number;
  /** Modification time, milliseconds since the Unix epoch. */
  lastModified: number;
  /** Folder uploads: the path inside the dropped folder, '/'-separated. */
  relativePath?: string;
  /** File requests: the name the sender typed about themself; stated, never verified (FORMAT.md §8.1 tag 6). */
  senderName?: string;
}

/** The padded metadata plaintext is a multiple of this many bytes (FORMAT.md §8.1). */
export const METADATA_PADDING_UNIT = 256;

/** Byte limits of the UTF-8 text fields. */
export const METADATA_LIMITS = { nameBytes: 1024, typeBytes: 255, relativePathBytes: 4096, senderNameBytes: 256 } as const;

const TAG_END = 0;
const TAG_NAME = 1;
const TAG_TYPE = 2;
const TAG_SIZE = 3;
const TAG_LAST_MODIFIED = 4;
const TAG_RELATIVE_PATH = 5;
const TAG_SENDER_NAME = 6;

const metadataSchema = z.object({
  name: z.string(),
  type: z.string(),
  size: z.number().int().nonnegative().max(MAX_PLAINTEXT_SIZE),
  lastModified: z.number().int().min(Number.MIN_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER),
  relativePath: z.string().optional(),
  senderName: z.string().optional(),
});

function text(value: string, maxBytes: number): Bytes {
  // A lone surrogate has no UTF-8 form; TextEncoder would silently write U+FFFD instead.
  if (/[\uD800-\uDFFF]/u.test(value)) throw new RangeError('A metadata text field is not valid Unicode.');
  const bytes = utf8(value);
  if (bytes.length > maxBytes) throw new RangeError('A metadata text field is too long.');
  return bytes;
}

/**
 * Returns the padded TLV encoding of `metadata` (text stored as given: no
 * normalisation, no BOM added or removed): the fields, then zero bytes (at
 * least one: the end tag 0) up to a multiple of 256 bytes. Throws RangeError
 * when a field is invalid (a lone surrogate, a size above MAX_PLAINTEXT_SIZE,
 * a time outside the safe-integer range) or too long.
 */
export function encodeMetadata(metadata: FileMetadata): Bytes {
  const parsed = metadataSchema.safeParse(metadata);
  if (!parsed.success) throw new RangeError('The file metadata is invalid.');
  const m = parsed.data;
  const w = new ByteWriter();
  w.u8(TAG_NAME).lp16(text(m.name, METADATA_LIMITS.nameBytes));
  w.u8(TAG_TYPE).lp16(text(m.type, METADATA_LIMITS.typeBytes));
  w.u8(TAG_SIZE).u16(8).i64(m.size);
  w.u8(TAG_LAST_MODIFIED).u16(8).i64(m.lastModified);
  if (m.relativePath !== undefined) {
    w.u8(TAG_RELATIVE_PATH).lp16(text(m.relativePath, METADATA_LIMITS.relativePathBytes));
  }
  if (m.senderName !== undefined) {
    w.u8(TAG_SENDER_NAME).lp16(text(m.senderName, METADATA_LIMITS.senderNameBytes));
  }
  const fields = w.bytes();
  const padded = new Uint8Array(Math.ceil((fields.length + 1) / METADATA_PADDING_UNIT) * METADATA_PADDING_UNIT);
  padded.set(fields);
  return padded;
}

/**
 * Parses decrypted, padded metadata. Throws MalformedError when the length
 * is not a non-zero multiple of 256, on unknown, repeated, out-of-order or
 * missing tags, wrong lengths, over-long text, invalid UTF-8, a missing end
 * tag or a non-zero padding byte.
 */
export function decodeMetadata(bytes: Uint8Array): FileMetadata {
  if (bytes.length === 0 || bytes.length % METADATA_PADDING_UNIT !== 0) {
    throw new MalformedError('The file metadata is not padded correctly.');
  }
  const r = new ByteReader(bytes);
  const fields = new Map<number, Bytes>();
  let last = 0;
  for (;;) {
    const tag = r.u8();
    if (tag === TAG_END) break;
    if (tag <= last) throw new MalformedError('The file metadata repeats a field or has them out of order.');
    if (tag > TAG_SENDER_NAME) throw new MalformedError('The file metadata has an unknown field.');
    last = tag;
    fields.set(tag, r.lp16());
  }
  // Every byte after the end tag is padding and must be zero, so the plaintext has one spelling.
  if (!r.take(r.remaining).every((b) => b === 0)) throw new MalformedError('The file metadata padding is not zero.');
  const textField = (tag: number, maxBytes: number): string => {
    const v = fields.get(tag);
    if (v === undefined || v.length > maxBytes) throw new MalformedError('The file metadata is incomplete.');
    return fromUtf8(v);
  };
  const intField = (tag: number): number => {
    const v = fields.get(tag);
    if (v === undefined || v.length !== 8) throw new MalformedError('The file metadata is incomplete.');
    return new ByteReader(v).i64();
  };
  const metadata: FileMetadata = {
    name: textField(TAG_NAME, METADATA_LIMITS.nameBytes),
    type: textField(TAG_TYPE, METADATA_LIMITS.typeBytes),
    size: intField(TAG_SIZE),
    lastModified: intField(TAG_LAST_MODIFIED),
  };
  if (metadata.size < 0 || metadata.size > MAX_PLAINTEXT_SIZE) throw new MalformedError('The file size is out of range.');
  if (fields.has(TAG_RELATIVE_PATH)) {
    metadata.relativePath = textField(TAG_RELATIVE_PATH, METADATA_LIMITS.relativePathBytes);
  }
  if (fields.has(TAG_SENDER_NAME)) {
    metadata.senderName = textField(TAG_SENDER_NAME, METADATA_LIMITS.senderNameBytes);
  }
  return metadata;
}
