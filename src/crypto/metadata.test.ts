/** The optional sender name (tag 6) of file requests: round trip, limit, and what an unknown tag still does. */
import { describe, expect, it } from 'vitest';
import { MalformedError } from './errors.ts';
import { decodeMetadata, encodeMetadata, METADATA_LIMITS, type FileMetadata } from './metadata.ts';

const base: FileMetadata = { name: 'report.pdf', type: 'application/pdf', size: 1234, lastModified: 1_700_000_000_000 };

describe('metadata sender name (tag 6)', () => {
  it('round-trips a stated sender name, and its absence stays absent', () => {
    expect(decodeMetadata(encodeMetadata({ ...base, senderName: 'Zoë from accounting' }))).toEqual({ ...base, senderName: 'Zoë from accounting' });
    expect(decodeMetadata(encodeMetadata({ ...base, senderName: '' }))).toEqual({ ...base, senderName: '' });
    expect('senderName' in decodeMetadata(encodeMetadata(base))).toBe(false);
  });

  it('writes tag 6 after tag 5 and none when there is no sender name', () => {
    const withBoth = encodeMetadata({ ...base, relativePath: 'a/b', senderName: 'x' });
    expect(decodeMetadata(withBoth)).toEqual({ ...base, relativePath: 'a/b', senderName: 'x' });
    // Without a sender name the bytes are exactly those written before tag 6 existed.
    const plain = encodeMetadata(base);
    expect(plain.includes(6)).toBe(false);
  });

  it('refuses a sender name over its byte limit with a RangeError', () => {
    expect(() => encodeMetadata({ ...base, senderName: 'é'.repeat(METADATA_LIMITS.senderNameBytes / 2 + 1) })).toThrow(RangeError);
    expect(() => encodeMetadata({ ...base, senderName: 'a'.repeat(METADATA_LIMITS.senderNameBytes) })).not.toThrow();
  });

  it('still refuses tag 7 as an unknown field', () => {
    const bytes = encodeMetadata({ ...base, senderName: 'x' });
    // Turn tag 6 into 7: its place is right after the four required fields.
    const at = bytes.findIndex((b, i) => b === 6 && bytes[i + 1] === 0 && bytes[i + 2] === 1 && bytes[i + 3] === 'x'.charCodeAt(0));
    expect(at).toBeGreaterThan(0);
    bytes[at] = 7;
    expect(() => decodeMetadata(bytes)).toThrow(MalformedError);
    expect(() => decodeMetadata(bytes)).toThrow(/unknown field/);
  });
});
