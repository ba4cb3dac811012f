/**
 * The streaming downloader against a fake blob endpoint that serves a real
 * sealed payload in small chunks and can misbehave per request: drop the
 * connection mid-body, end the body early, lie about the range, or hold
 * altered bytes. Runs in Node and in Chromium.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { encryptSegment, payloadDigest, sealedSize, segmentCount, TamperedError, TruncatedError } from '../crypto/index.ts';
import type { FetchLike } from './blob-rest.ts';
import { openPayloadStream } from './downloader.ts';
import type { Grant } from './grants.ts';
import type { GrantSource } from './retry.ts';
import { StorageError } from './storage-error.ts';

const SEGMENT = 1024;
const SEALED_SEGMENT = SEGMENT + 16;
const FAST_RETRY = { retries: 3, baseDelayMs: 1, maxDelayMs: 2 };
/** Body chunks that never line up with segment boundaries. */
const CHUNK = 700;

/** How the fake answers one payload GET. */
interface Behaviour {
  /** Drop the connection (TypeError, as fetch does) after this many body bytes. */
  dropAfter?: number;
  /** End the body cleanly after this many body bytes (fewer than Content-Range promised). */
  endAfter?: number;
  /** Serve the bytes from offset 0 while claiming the range asked for. */
  lieAboutStart?: boolean;
}

/** A fake blob endpoint for one payload; records the Range of each GET. */
class FakePayload {
  readonly ranges: string[] = [];
  constructor(
    public bytes: Uint8Array<ArrayBuffer>,
    private readonly behave: (request: number) => Behaviour = () => ({}),
  ) {}

  readonly fetch: FetchLike = (_input, init) => {
    const range = /^bytes=(\d+)-(\d+)$/.exec(new Headers(init.headers).get('Range') ?? '');
    if (range === null) return Promise.resolve(new Response('', { status: 400 }));
    const request = this.ranges.push(`${range[1]}-${range[2]}`) - 1;
    const how = this.behave(request);
    const start = Number(range[1]);
    const end = Math.min(Number(range[2]), this.bytes.length - 1);
    if (start >= this.bytes.length) return Promise.resolve(new Response('', { status: 416 }));
    const from = how.lieAboutStart === true ? 0 : start;
    const body = this.bytes.slice(from, from + end - start + 1);
    let at = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (how.dropAfter !== undefined && at >= how.dropAfter) {
          controller.error(new TypeError('network error'));
          return;
        }
        const stop = Math.min(body.length, how.endAfter ?? body.length, how.dropAfter ?? body.length);
        if (at >= stop) {
          controller.close();
          return;
        }
        const next = Math.min(stop, at + CHUNK);
        controller.enqueue(body.slice(at, next));
        at = next;
      },
    });
    return Promise.resolve(
      new Response(stream, { status: 206, headers: { 'Content-Range': `bytes ${start}-${end}/${this.bytes.length}` } }),
    );
  };
}

const grants: GrantSource<{ payload: Grant }> = {
  current: () => Promise.resolve({ payload: { url: 'https://fake.blob.test/c/payload?sig=x', expiresAt: '2999-01-01T00:00:00Z', permissions: 'r' } }),
  renewAfterRefusal: () => Promise.reject(new Error('no renewal in this test')),
};

function content(size: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (i * 131 + (i >> 9)) & 0xff;
  return out;
}

let key: CryptoKey;
beforeAll(async () => {
  key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
});

/**
 * The payload digest the (honest) manifest signs, by plaintext size: each
 * test seals one plaintext per size, so `open` finds the digest of what was
 * really sealed whatever the fake then serves.
 */
const signedDigests = new Map<number, Uint8Array>();

/** Seals `plain` under the test key; the first sealing of a size records the digest the manifest would sign. */
async function seal(plain: Uint8Array<ArrayBuffer>, opts: { record?: boolean } = {}): Promise<Uint8Array<ArrayBuffer>> {
  const count = segmentCount(plain.length, SEGMENT);
  const parts: Uint8Array<ArrayBuffer>[] = [];
  for (let i = 0; i < count; i++) parts.push(await encryptSegment(key, i, i === count - 1, plain.subarray(i * SEGMENT, (i + 1) * SEGMENT)));
  if (opts.record !== false && !signedDigests.has(plain.length)) signedDigests.set(plain.length, await payloadDigest(parts));
  return new Uint8Array(await new Blob(parts).arrayBuffer());
}

function signedDigest(plainBytes: number): Uint8Array {
  const digest = signedDigests.get(plainBytes);
  if (digest === undefined) throw new Error(`nothing of ${plainBytes} bytes was sealed`);
  return digest;
}

/** Reads the stream (or what a reader has left of it) to its end; returns what arrived and how it ended. */
async function drain(
  from: ReadableStream<Uint8Array> | ReadableStreamDefaultReader<Uint8Array>,
): Promise<{ bytes: Uint8Array; error: unknown }> {
  const got: Uint8Array<ArrayBuffer>[] = [];
  const reader = from instanceof ReadableStream ? from.getReader() : from;
  let error: unknown = null;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      got.push(new Uint8Array(value));
    }
  } catch (e) {
    error = e;
  }
  return { bytes: new Uint8Array(await new Blob(got).arrayBuffer()), error };
}

function open(store: FakePayload, plainBytes: number, onProgress?: (done: number) => void): ReadableStream<Uint8Array> {
  return openPayloadStream({
    grants,
    contentKey: key,
    segmentSize: SEGMENT,
    plainBytes,
    payloadDigest: signedDigest(plainBytes),
    fetch: store.fetch,
    retry: FAST_RETRY,
    ...(onProgress !== undefined ? { onProgress: (p: { bytesDone: number }) => onProgress(p.bytesDone) } : {}),
  });
}

describe('streaming download', () => {
  it('reads the whole payload with one GET and reports progress to the end', async () => {
    const plain = content(20 * SEGMENT + 333);
    const store = new FakePayload(await seal(plain));
    const progress: number[] = [];
    const { bytes, error } = await drain(open(store, plain.length, (d) => progress.push(d)));
    expect(error).toBeNull();
    expect(bytes).toEqual(plain);
    expect(store.ranges).toEqual([`0-${sealedSize(plain.length, SEGMENT) - 1}`]);
    expect(progress.at(-1)).toBe(plain.length);
  });

  it('opens an empty file (one empty final segment)', async () => {
    const store = new FakePayload(await seal(new Uint8Array(0)));
    const { bytes, error } = await drain(open(store, 0));
    expect(error).toBeNull();
    expect(bytes).toHaveLength(0);
  });

  it('after a dropped connection, goes on from the next whole segment and delivers every byte exactly once', async () => {
    const plain = content(20 * SEGMENT + 333);
    const total = sealedSize(plain.length, SEGMENT);
    // First GET drops inside segment 5; the second (from segment 5) drops inside its 3rd segment.
    const store = new FakePayload(await seal(plain), (n) =>
      n === 0 ? { dropAfter: 5 * SEALED_SEGMENT + 300 } : n === 1 ? { dropAfter: 2 * SEALED_SEGMENT + 900 } : {},
    );
    const { bytes, error } = await drain(open(store, plain.length));
    expect(error).toBeNull();
    expect(bytes).toEqual(plain);
    expect(store.ranges).toEqual([`0-${total - 1}`, `${5 * SEALED_SEGMENT}-${total - 1}`, `${7 * SEALED_SEGMENT}-${total - 1}`]);
  });

  it('treats a body that ends before its Content-Range as a dropped connection', async () => {
    const plain = content(9 * SEGMENT);
    const store = new FakePayload(await seal(plain), (n) => (n === 0 ? { endAfter: 3 * SEALED_SEGMENT + 10 } : {}));
    const { bytes, error } = await drain(open(store, plain.length));
    expect(error).toBeNull();
    expect(bytes).toEqual(plain);
    expect(store.ranges[1]).toBe(`${3 * SEALED_SEGMENT}-${sealedSize(plain.length, SEGMENT) - 1}`);
  });

  it('fails with a plain network error when the connection keeps dropping without progress', async () => {
    const plain = content(6 * SEGMENT);
    const store = new FakePayload(await seal(plain), (n) => (n === 0 ? { dropAfter: 2 * SEALED_SEGMENT } : { dropAfter: 100 }));
    const { bytes, error } = await drain(open(store, plain.length));
    expect(error).toBeInstanceOf(StorageError);
    expect(error).toMatchObject({ kind: 'network' });
    expect(bytes).toEqual(plain.subarray(0, 2 * SEGMENT));
    // The first GET, then `retries` more from segment 2, each dropped before a segment arrived.
    expect(store.ranges).toHaveLength(1 + FAST_RETRY.retries);
    expect(store.ranges.slice(1).every((r) => r.startsWith(`${2 * SEALED_SEGMENT}-`))).toBe(true);
  });

  it('authenticates resumed segments under their own index: a server replaying earlier bytes is caught', async () => {
    const plain = content(8 * SEGMENT);
    const store = new FakePayload(await seal(plain), (n) => (n === 0 ? { dropAfter: 3 * SEALED_SEGMENT + 1 } : { lieAboutStart: true }));
    const { bytes, error } = await drain(open(store, plain.length));
    expect(error).toBeInstanceOf(TamperedError);
    expect(bytes).toEqual(plain.subarray(0, 3 * SEGMENT));
  });

  it('catches a payload altered between two connections', async () => {
    const plain = content(8 * SEGMENT);
    const sealed = await seal(plain);
    const altered = Uint8Array.from(sealed);
    altered[6 * SEALED_SEGMENT + 3] = (altered[6 * SEALED_SEGMENT + 3] ?? 0) ^ 1;
    const store: FakePayload = new FakePayload(sealed, (n) => {
      if (n === 1) store.bytes = altered; // from the second GET on
      return n === 0 ? { dropAfter: 2 * SEALED_SEGMENT + 1 } : {};
    });
    const { bytes, error } = await drain(open(store, plain.length));
    expect(error).toBeInstanceOf(TamperedError);
    expect(bytes).toEqual(plain.subarray(0, bytes.length));
    expect(bytes.length).toBeLessThanOrEqual(6 * SEGMENT);
  });

  it('errors with TruncatedError when the final segment is missing, even if the cut falls on a segment boundary', async () => {
    const plain = content(6 * SEGMENT);
    const sealed = await seal(plain);
    const { bytes, error } = await drain(open(new FakePayload(sealed.slice(0, 5 * SEALED_SEGMENT)), plain.length));
    expect(error).toBeInstanceOf(TruncatedError);
    expect(bytes).toHaveLength(0);
  });

  it('errors with TruncatedError when the payload is gone at resume time', async () => {
    const plain = content(6 * SEGMENT);
    const sealed = await seal(plain);
    const store: FakePayload = new FakePayload(sealed, (n) => {
      if (n === 1) store.bytes = sealed.slice(0, 2 * SEALED_SEGMENT); // shorter than where we resume
      return n === 0 ? { dropAfter: 4 * SEALED_SEGMENT + 5 } : {};
    });
    const { bytes, error } = await drain(open(store, plain.length));
    expect(error).toBeInstanceOf(TruncatedError);
    expect(bytes).toEqual(plain.subarray(0, 4 * SEGMENT));
  });

  it('errors with TamperedError when data is appended, and when the last segment is swapped for a non-final one', async () => {
    const plain = content(4 * SEGMENT + 10);
    const sealed = await seal(plain);
    const appended = await drain(open(new FakePayload(Uint8Array.from([...sealed, 0])), plain.length));
    expect(appended.error).toBeInstanceOf(TamperedError);
    // The same length, but the final segment sealed as non-final: the final flag is checked.
    const fake = Uint8Array.from(sealed);
    const wrongFlag = await encryptSegment(key, 4, false, plain.subarray(4 * SEGMENT));
    fake.set(wrongFlag, 4 * SEALED_SEGMENT);
    const flagged = await drain(open(new FakePayload(fake), plain.length));
    expect(flagged.error).toBeInstanceOf(TamperedError);
    expect(flagged.bytes).toEqual(plain.subarray(0, 4 * SEGMENT));
  });

  it('reads no further than the reader wants (back-pressure) and cancels the GET on cancel', async () => {
    const plain = content(200 * SEGMENT);
    let served = 0;
    const store = new FakePayload(await seal(plain));
    const counting: FetchLike = async (input, init) => {
      const res = await store.fetch(input, init);
      const reader = res.body?.getReader();
      const body = new ReadableStream<Uint8Array>({
        async pull(c) {
          const r = await reader?.read();
          if (r === undefined || r.done) {
            c.close();
            return;
          }
          served += r.value.length;
          c.enqueue(r.value);
        },
        cancel: (reason) => reader?.cancel(reason),
      });
      return new Response(body, { status: res.status, headers: res.headers });
    };
    const stream = openPayloadStream({
      grants,
      contentKey: key,
      segmentSize: SEGMENT,
      plainBytes: plain.length,
      payloadDigest: signedDigest(plain.length),
      fetch: counting,
      retry: FAST_RETRY,
    });
    const reader = stream.getReader();
    await reader.read();
    await new Promise((r) => setTimeout(r, 50));
    // A few segments ahead at most (decryptions in flight + queue + stream buffers), far from all 200.
    expect(served).toBeLessThan(30 * SEALED_SEGMENT);
    await reader.cancel();
  });

  // A key holder (any recipient) can seal other content of the same size under
  // the same content key: every segment's GCM tag is valid. Only the payload
  // digest in the signed manifest tells it apart.
  it('errors with TamperedError at the end when a key holder re-sealed the payload, and never delivers it whole', async () => {
    const plain = content(9 * SEGMENT + 500);
    await seal(plain); // what the owner signed
    const forged = Uint8Array.from(plain);
    forged[9 * SEGMENT + 7] = (forged[9 * SEGMENT + 7] ?? 0) ^ 0x55; // one byte of the last segment
    const store = new FakePayload(await seal(forged, { record: false }));
    const { bytes, error } = await drain(open(store, plain.length));
    expect(error).toBeInstanceOf(TamperedError);
    expect((error as TamperedError).message).toBe('The file’s content does not match what its owner signed.');
    // The final segment (where the forgery sits) is held back: the output is never complete.
    expect(bytes).toEqual(plain.subarray(0, 9 * SEGMENT));
  });

  it('keeps the segment hashes across a dropped connection: re-sealed bytes served after the drop are refused at the end', async () => {
    const plain = content(7 * SEGMENT + 1);
    const honest = await seal(plain);
    const forged = Uint8Array.from(plain);
    forged[5 * SEGMENT] = (forged[5 * SEGMENT] ?? 0) ^ 1;
    const resealed = await seal(forged, { record: false });
    const store: FakePayload = new FakePayload(honest, (n) => {
      if (n === 1) store.bytes = resealed; // the resumed GET serves the key holder's payload
      return n === 0 ? { dropAfter: 3 * SEALED_SEGMENT + 200 } : {};
    });
    const { bytes, error } = await drain(open(store, plain.length));
    expect(store.ranges).toHaveLength(2);
    expect(store.ranges[1]).toBe(`${3 * SEALED_SEGMENT}-${sealedSize(plain.length, SEGMENT) - 1}`);
    expect(error).toBeInstanceOf(TamperedError);
    expect(bytes.length).toBe(7 * SEGMENT);
    expect(bytes.subarray(0, 3 * SEGMENT)).toEqual(plain.subarray(0, 3 * SEGMENT));
  });
});
