/**
 * The payload digest: what the manifest's MAC and signature say the payload
 * is (docs/FORMAT.md §5.5). h_i = SHA-256(sealed segment i), then
 * SHA-256(labelled("sealdrop/v2/payload", u64(count) ‖ h_0 ‖ … ‖ h_{count−1})).
 *
 * Segment GCM tags stop anyone without the file key; the digest also stops a
 * key holder (a recipient) who re-seals different content under the right
 * content key, which GCM alone cannot tell from the original. Built segment
 * by segment so uploads can seal blocks in parallel and resumed or ranged
 * downloads can keep the hashes they have already checked.
 */
import { toBytes, type Bytes } from './bytes.ts';
import { TamperedError } from './errors.ts';
import { labelled } from './format.ts';

/** Label of the payload digest. */
export const LABEL_PAYLOAD = 'sealdrop/v2/payload';
/** Length of a segment digest and of the payload digest (SHA-256). */
export const DIGEST_LENGTH = 32;

/** Returns h_i = SHA-256 of one whole sealed segment (ciphertext ‖ tag). */
export async function segmentDigest(sealedSegment: Uint8Array): Promise<Bytes> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', toBytes(sealedSegment)));
}

/**
 * Returns the payload digest of the segment digests h_0 … h_{count−1}, in
 * order. Throws RangeError when the list is empty or a digest is not 32 bytes.
 */
export async function payloadDigestFromSegmentDigests(digests: readonly Uint8Array[]): Promise<Bytes> {
  if (digests.length === 0) throw new RangeError('A payload has at least one segment.');
  if (digests.some((d) => d.length !== DIGEST_LENGTH)) throw new RangeError('A segment digest is 32 bytes.');
  const count = new Uint8Array(8);
  new DataView(count.buffer).setBigUint64(0, BigInt(digests.length));
  const message = labelled(LABEL_PAYLOAD, count, ...digests);
  return new Uint8Array(await crypto.subtle.digest('SHA-256', message));
}

/** Returns the payload digest of a whole payload given as its sealed segments, in order. */
export async function payloadDigest(sealedSegments: readonly Uint8Array[]): Promise<Bytes> {
  return payloadDigestFromSegmentDigests(await Promise.all(sealedSegments.map(segmentDigest)));
}

/**
 * Collects segment digests in any order (blocks sealed in parallel, segments
 * restored from a journal) and returns the payload digest once every index
 * 0 … count−1 is present.
 */
export class PayloadHasher {
  protected readonly digests: (Bytes | undefined)[] = [];

  /** Hashes sealed segment `index`, keeps the digest and returns it (for a journal). */
  async add(index: number, sealedSegment: Uint8Array): Promise<Bytes> {
    const digest = await segmentDigest(sealedSegment);
    this.addDigest(index, digest);
    return digest;
  }

  /**
   * Keeps a segment digest computed earlier (e.g. before a resume). Throws
   * RangeError on a bad index, a digest that is not 32 bytes, or an index
   * already holding a different digest.
   */
  addDigest(index: number, digest: Uint8Array): void {
    if (!Number.isSafeInteger(index) || index < 0) throw new RangeError('A segment index is a non-negative integer.');
    if (digest.length !== DIGEST_LENGTH) throw new RangeError('A segment digest is 32 bytes.');
    const old = this.digests[index];
    const copy = Uint8Array.from(digest);
    if (old !== undefined && !old.every((b, i) => b === copy[i])) {
      throw new RangeError(`Segment ${index} was given two different digests.`);
    }
    this.digests[index] = copy;
  }

  /** Returns whether the digest of segment `index` is already known. */
  has(index: number): boolean {
    return this.digests[index] !== undefined;
  }

  /** Returns the digests held so far, by index (undefined where missing); copies. */
  segmentDigests(): (Bytes | undefined)[] {
    return this.digests.map((d) => (d === undefined ? undefined : Uint8Array.from(d)));
  }

  /**
   * Returns the payload digest of segments 0 … count−1 (count = the highest
   * index added + 1). Throws RangeError when nothing was added or an index
   * below it is missing.
   */
  async digest(): Promise<Bytes> {
    const list: Bytes[] = [];
    for (let i = 0; i < this.digests.length; i++) {
      const d = this.digests[i];
      if (d === undefined) throw new RangeError(`The digest of segment ${i} is missing.`);
      list.push(d);
    }
    return payloadDigestFromSegmentDigests(list);
  }
}

/**
 * Checks a payload against the digest from its manifest, segment by segment,
 * for ranged and resumed downloads: add every segment (or its digest, kept
 * from an earlier session, after that segment was verified), then finish.
 * Each segment must also pass its own GCM tag (decryptSegment); this class
 * only adds the whole-payload check a key holder cannot forge.
 */
export class PayloadVerifier extends PayloadHasher {
  private readonly expected: Bytes;
  private readonly count: number;

  /**
   * `expected` is openManifest's payloadDigest; `count` the number of segments
   * (segmentCount(metadata.size, segmentSize)). Throws RangeError on a digest
   * that is not 32 bytes or a count below 1.
   */
  constructor(expected: Uint8Array, count: number) {
    super();
    if (expected.length !== DIGEST_LENGTH) throw new RangeError('A payload digest is 32 bytes.');
    if (!Number.isSafeInteger(count) || count < 1) throw new RangeError('A payload has at least one segment.');
    this.expected = Uint8Array.from(expected);
    this.count = count;
  }

  override addDigest(index: number, digest: Uint8Array): void {
    if (index >= this.count) throw new RangeError(`Segment ${index} is past the end of the payload.`);
    super.addDigest(index, digest);
  }

  /** Segments whose digest is still missing, in increasing order. */
  missing(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.count; i++) if (!this.has(i)) out.push(i);
    return out;
  }

  /**
   * Resolves when every segment was added and the payload digest matches the
   * manifest's. Throws TamperedError when it does not (a payload substituted
   * by someone holding the file key); RangeError when a segment is missing.
   */
  async finish(): Promise<void> {
    if (this.missing().length > 0) throw new RangeError('Not every segment of the payload was checked.');
    const got = await this.digest();
    if (!constantTimeEqual(got, this.expected)) {
      throw new TamperedError('The file’s content does not match what its owner signed.');
    }
  }
}

/** Returns whether `a` and `b` hold the same bytes, without an early exit. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}


/**
 * Returns the digest an upload journal keeps for one block: SHA-256 of the
 * block's segment digests (each {@link segmentDigest}), concatenated in
 * order. Local bookkeeping for resume (docs/CONTRACTS.md §4), not part of
 * the sealed format.
 */
export async function blockDigest(segmentDigests: readonly Uint8Array[]): Promise<Uint8Array> {
  const all = new Uint8Array(segmentDigests.reduce((n, d) => n + d.length, 0));
  let at = 0;
  for (const d of segmentDigests) {
    all.set(d, at);
    at += d.length;
  }
  return new Uint8Array(await crypto.subtle.digest('SHA-256', all));
}
