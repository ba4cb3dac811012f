/**
 * Byte helpers for the sealed format: big-endian integers, length-prefixed
 * fields, UTF-8, hex and a strict reader that never reads past its input.
 */
import { MalformedError } from './errors.ts';

/** A byte array backed by a plain ArrayBuffer, as WebCrypto requires. */
export type Bytes = Uint8Array<ArrayBuffer>;

/**
 * Returns `data` itself when it is backed by a plain ArrayBuffer, otherwise a
 * copy that is (WebCrypto refuses SharedArrayBuffer-backed views).
 */
export function toBytes(data: Uint8Array): Bytes {
  if (data.buffer instanceof ArrayBuffer) {
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }
  return Uint8Array.from(data);
}

/** Returns the concatenation of `parts` as one new array. */
export function concatBytes(...parts: Uint8Array[]): Bytes {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Returns the UTF-8 encoding of `text`. */
export function utf8(text: string): Bytes {
  return encoder.encode(text);
}

/** Decodes UTF-8; throws MalformedError on invalid sequences. */
export function fromUtf8(data: Uint8Array): string {
  try {
    return strictDecoder.decode(data);
  } catch {
    throw new MalformedError('A text field is not valid UTF-8.');
  }
}

/** Returns `data` as lowercase hex. */
export function toHex(data: Uint8Array): string {
  let s = '';
  for (const b of data) s += b.toString(16).padStart(2, '0');
  return s;
}

/** Parses even-length hex (either case); throws MalformedError otherwise. */
export function fromHex(hex: string): Bytes {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) throw new MalformedError('Not a hex string.');
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Returns `n` fresh bytes from the platform CSPRNG. */
export function randomBytes(n: number): Bytes {
  const out = new Uint8Array(n);
  crypto.getRandomValues(out);
  return out;
}

/** Appends big-endian integers and byte fields into one growing buffer. */
export class ByteWriter {
  private readonly parts: Uint8Array[] = [];

  /** Appends one byte (0..255). */
  u8(v: number): this {
    checkRange(v, 0xff);
    this.parts.push(Uint8Array.of(v));
    return this;
  }

  /** Appends a 16-bit big-endian unsigned integer. */
  u16(v: number): this {
    checkRange(v, 0xffff);
    this.parts.push(Uint8Array.of(v >>> 8, v & 0xff));
    return this;
  }

  /** Appends a 32-bit big-endian unsigned integer. */
  u32(v: number): this {
    checkRange(v, 0xffffffff);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v);
    this.parts.push(b);
    return this;
  }

  /** Appends a 64-bit big-endian two's-complement integer (must be a safe integer). */
  i64(v: number): this {
    if (!Number.isSafeInteger(v)) throw new RangeError('Integer out of range.');
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigInt64(0, BigInt(v));
    this.parts.push(b);
    return this;
  }

  /** Appends raw bytes with no prefix. */
  raw(data: Uint8Array): this {
    this.parts.push(data);
    return this;
  }

  /** Appends a 16-bit big-endian length, then the bytes. */
  lp16(data: Uint8Array): this {
    return this.u16(data.length).raw(data);
  }

  /** Appends a 32-bit big-endian length, then the bytes. */
  lp32(data: Uint8Array): this {
    return this.u32(data.length).raw(data);
  }

  /** Returns everything appended so far as one array. */
  bytes(): Bytes {
    return concatBytes(...this.parts);
  }
}

function checkRange(v: number, max: number): void {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new RangeError('Integer out of range.');
}

/** Reads big-endian fields from a byte array; every overrun throws MalformedError. */
export class ByteReader {
  private at = 0;
  private readonly data: Bytes;

  constructor(data: Uint8Array) {
    this.data = toBytes(data);
  }

  /** Byte offset of the next read. */
  get offset(): number {
    return this.at;
  }

  /** Bytes not yet read. */
  get remaining(): number {
    return this.data.length - this.at;
  }

  /** Reads `n` bytes (a view into the input). */
  take(n: number): Bytes {
    if (n < 0 || this.at + n > this.data.length) throw new MalformedError('The data ends too early.');
    const out = this.data.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }

  /** Reads one byte. */
  u8(): number {
    return this.take(1)[0] ?? 0;
  }

  /** Reads a 16-bit big-endian unsigned integer. */
  u16(): number {
    const b = this.take(2);
    return new DataView(b.buffer, b.byteOffset, 2).getUint16(0);
  }

  /** Reads a 32-bit big-endian unsigned integer. */
  u32(): number {
    const b = this.take(4);
    return new DataView(b.buffer, b.byteOffset, 4).getUint32(0);
  }

  /** Reads a 64-bit big-endian two's-complement integer; throws MalformedError outside the safe-integer range. */
  i64(): number {
    const b = this.take(8);
    const v = new DataView(b.buffer, b.byteOffset, 8).getBigInt64(0);
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new MalformedError('A number is out of range.');
    }
    return Number(v);
  }

  /** Reads a 16-bit length prefix and that many bytes. */
  lp16(): Bytes {
    return this.take(this.u16());
  }

  /** Reads a 32-bit length prefix and that many bytes. */
  lp32(): Bytes {
    return this.take(this.u32());
  }

  /** Throws MalformedError unless every byte was read. */
  end(): void {
    if (this.remaining !== 0) throw new MalformedError('Unexpected bytes after the end of the data.');
  }
}
