import { describe, expect, it, vi } from 'vitest';
import {
  blockListXml,
  deleteBlob,
  getRange,
  getRangeStream,
  parseBlockListXml,
  putBlock,
  putBlockList,
  type FetchLike,
  UPLOAD_STALL_MS,
} from './blob-rest.ts';
import { redactUrl, StorageError } from './storage-error.ts';

const SAS_URL = 'https://acct.blob.core.windows.net/sealdrop/files/u/f/payload?sv=2025-01-05&sig=SECRET%2Bsig';

function answering(status: number, body = '', headers: Record<string, string> = {}): FetchLike & { seen: { url: string; init: RequestInit }[] } {
  const seen: { url: string; init: RequestInit }[] = [];
  const f: FetchLike = (url, init) => {
    seen.push({ url, init });
    return Promise.resolve(new Response(status === 204 ? null : body, { status, headers }));
  };
  return Object.assign(f, { seen });
}

describe('Get Block List parsing', () => {
  it('reads committed and uncommitted blocks', () => {
    const xml = `<?xml version="1.0" encoding="utf-8"?><BlockList><CommittedBlocks><Block><Name>YmxrLTAwMDAwMA==</Name><Size>4194368</Size></Block></CommittedBlocks><UncommittedBlocks><Block><Name>YmxrLTAwMDAwMQ==</Name><Size>10</Size></Block><Block><Name>YmxrLTAwMDAwMg==</Name><Size>20</Size></Block></UncommittedBlocks></BlockList>`;
    expect(parseBlockListXml(xml)).toEqual({
      committed: [{ name: 'YmxrLTAwMDAwMA==', size: 4194368 }],
      uncommitted: [
        { name: 'YmxrLTAwMDAwMQ==', size: 10 },
        { name: 'YmxrLTAwMDAwMg==', size: 20 },
      ],
    });
  });

  it('accepts empty and self-closing sections and whitespace', () => {
    const xml = `<BlockList>\n  <CommittedBlocks />\n  <UncommittedBlocks>\n    <Block>\n      <Name>YQ==</Name>\n      <Size>1</Size>\n    </Block>\n  </UncommittedBlocks>\n</BlockList>`;
    expect(parseBlockListXml(xml)).toEqual({ committed: [], uncommitted: [{ name: 'YQ==', size: 1 }] });
  });

  it('rejects something that is not a block list', () => {
    expect(() => parseBlockListXml('<Error><Code>Oops</Code></Error>')).toThrow(StorageError);
  });
});

describe('requests', () => {
  it('puts a block with a Blob body, its id in the query and no x-ms-version', async () => {
    const f = answering(201);
    await putBlock(SAS_URL, 'YmxrLTAwMDAwMA==', new Blob(['abc']), { fetch: f });
    const { url, init } = f.seen[0] ?? { url: '', init: {} };
    expect(url).toBe(`${SAS_URL}&comp=block&blockid=YmxrLTAwMDAwMA%3D%3D`);
    expect(init.method).toBe('PUT');
    expect(init.body).toBeInstanceOf(Blob);
    expect(new Headers(init.headers).has('x-ms-version')).toBe(false);
  });

  it('commits with If-None-Match: * and maps 409 to a conflict without leaking the SAS', async () => {
    const f = answering(409, '<Error><Code>BlobAlreadyExists</Code></Error>', { 'x-ms-error-code': 'BlobAlreadyExists' });
    const error = await putBlockList(SAS_URL, ['YQ=='], { ifNoneMatch: '*', fetch: f }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageError);
    expect(error).toMatchObject({ kind: 'conflict', status: 409, storageCode: 'BlobAlreadyExists' });
    expect(String(error)).not.toContain('SECRET');
    expect(new Headers(f.seen[0]?.init.headers).get('If-None-Match')).toBe('*');
    expect(blockListXml(['YQ==', 'Yg=='])).toContain('<BlockList><Latest>YQ==</Latest><Latest>Yg==</Latest></BlockList>');
  });

  it.each([
    [403, 'Signature not valid in the specified time frame', 'expired-grant'],
    [403, '<Code>AuthorizationPermissionMismatch</Code>', 'forbidden'],
    [404, '', 'not-found'],
    [413, '', 'too-large'],
    [500, '', 'server'],
    [503, '', 'server'],
    [400, '', 'bad-response'],
  ])('maps %i (%s) to %s', async (status, body, kind) => {
    await expect(putBlock(SAS_URL, 'YQ==', new Blob(['x']), { fetch: answering(status, body) })).rejects.toMatchObject({ kind });
  });

  it('maps a 429 or a throttling 503 to a retryable server error carrying the Retry-After pause', async () => {
    const busy = await putBlock(SAS_URL, 'YQ==', new Blob(['x']), { fetch: answering(429, '', { 'retry-after': '2' }) }).catch((e: unknown) => e);
    expect(busy).toMatchObject({ kind: 'server', status: 429, retryAfterMs: 2000, message: 'Storage is busy. Try again in a moment.' });
    const throttled = await putBlock(SAS_URL, 'YQ==', new Blob(['x']), {
      fetch: answering(503, '', { 'retry-after': '7', 'x-ms-error-code': 'ServerBusy' }),
    }).catch((e: unknown) => e);
    expect(throttled).toMatchObject({ kind: 'server', status: 503, retryAfterMs: 7000, storageCode: 'ServerBusy' });
    const plain = await putBlock(SAS_URL, 'YQ==', new Blob(['x']), { fetch: answering(500) }).catch((e: unknown) => e);
    expect(plain).toMatchObject({ kind: 'server', retryAfterMs: undefined });
  });

  it('maps a thrown fetch to a network error with no URL in the message', async () => {
    const failing: FetchLike = () => Promise.reject(new TypeError(`Failed to fetch ${SAS_URL}`));
    const error = await putBlock(SAS_URL, 'YQ==', new Blob(['x']), { fetch: failing }).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'network' });
    expect(String(error)).not.toContain('sig=');
  });

  it('rethrows the abort reason untouched', async () => {
    const stop = new AbortController();
    const reason = new DOMException('cancelled', 'AbortError');
    stop.abort(reason);
    const f: FetchLike = () => Promise.reject(new TypeError('aborted'));
    await expect(putBlock(SAS_URL, 'YQ==', new Blob(['x']), { fetch: f, signal: stop.signal })).rejects.toBe(reason);
  });

  it('reads a range and checks Content-Range', async () => {
    const ok = answering(206, 'abcd', { 'Content-Range': 'bytes 10-13/100' });
    expect(await getRange(SAS_URL, 10, 13, { fetch: ok })).toEqual({ bytes: new TextEncoder().encode('abcd'), totalSize: 100 });
    expect(new Headers(ok.seen[0]?.init.headers).get('Range')).toBe('bytes=10-13');
    // Chromium's HTTP cache answers a repeated range with no Content-Range.
    expect(ok.seen[0]?.init.cache).toBe('no-store');
    // A 200 means the server ignored the range: never mistake it for the range.
    await expect(getRange(SAS_URL, 10, 13, { fetch: answering(200, 'abcd') })).rejects.toMatchObject({ kind: 'bad-response' });
    // A body that does not match the announced range.
    await expect(getRange(SAS_URL, 10, 13, { fetch: answering(206, 'abc', { 'Content-Range': 'bytes 10-13/100' }) })).rejects.toMatchObject({
      kind: 'bad-response',
    });
    await expect(getRange(SAS_URL, 10, 13, { fetch: answering(416) })).rejects.toMatchObject({ status: 416 });
  });

  it('turns a connection lost mid-body into a retryable network error', async () => {
    const broken: FetchLike = () =>
      Promise.resolve(
        new Response(new ReadableStream({ start: (c) => c.error(new TypeError('connection reset')) }), {
          status: 206,
          headers: { 'Content-Range': 'bytes 0-3/4' },
        }),
      );
    await expect(getRange(SAS_URL, 0, 3, { fetch: broken })).rejects.toMatchObject({ kind: 'network' });
  });

  it('streams a ranged read after checking its Content-Range', async () => {
    const ok = answering(206, 'abcd', { 'Content-Range': 'bytes 10-13/100' });
    const stream = await getRangeStream(SAS_URL, 10, 99, { fetch: ok });
    expect(stream).toMatchObject({ length: 4, totalSize: 100 });
    expect(new Headers(ok.seen[0]?.init.headers).get('Range')).toBe('bytes=10-99');
    expect(ok.seen[0]?.init.cache).toBe('no-store');
    const parts: Uint8Array[] = [];
    for (let chunk = await stream.read(); chunk !== null; chunk = await stream.read()) parts.push(chunk);
    expect(new TextDecoder().decode(await new Blob(parts.map((p) => new Uint8Array(p))).arrayBuffer())).toBe('abcd');
    await expect(getRangeStream(SAS_URL, 10, 13, { fetch: answering(200, 'abcd') })).rejects.toMatchObject({ kind: 'bad-response' });
    // A range that does not start where we asked, ends past it, or is missing.
    for (const header of ['bytes 0-3/100', 'bytes 10-20/100', '']) {
      const headers: Record<string, string> = header === '' ? {} : { 'Content-Range': header };
      await expect(getRangeStream(SAS_URL, 10, 13, { fetch: answering(206, 'abcd', headers) })).rejects.toMatchObject({ kind: 'bad-response' });
    }
    await expect(getRangeStream(SAS_URL, 10, 13, { fetch: answering(416) })).rejects.toMatchObject({ status: 416 });
  });

  it('turns a connection lost mid-stream into a retryable network error that does not name the URL', async () => {
    const broken: FetchLike = () =>
      Promise.resolve(
        new Response(new ReadableStream({ start: (c) => c.error(new TypeError(`connection reset for ${SAS_URL}`)) }), {
          status: 206,
          headers: { 'Content-Range': 'bytes 0-3/4' },
        }),
      );
    const stream = await getRangeStream(SAS_URL, 0, 3, { fetch: broken });
    const error = await stream.read().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageError);
    expect(error).toMatchObject({ kind: 'network' });
    expect(error instanceof Error ? error.message : 'not an error').not.toContain('SECRET');
  });

  it('deletes, and treats an already-missing blob as gone', async () => {
    expect(await deleteBlob(SAS_URL, { fetch: answering(202) })).toBe(true);
    expect(await deleteBlob(SAS_URL, { fetch: answering(404) })).toBe(false);
    await expect(deleteBlob(SAS_URL, { fetch: answering(403) })).rejects.toMatchObject({ kind: 'forbidden' });
  });

  it('redacts query strings from URLs', () => {
    expect(redactUrl(SAS_URL)).toBe('https://acct.blob.core.windows.net/sealdrop/files/u/f/payload');
    expect(redactUrl('https://x/y#frag')).toBe('https://x/y');
  });
});

describe('an upload that stalls', () => {
  /** An XMLHttpRequest that sends nothing until the test says so. */
  class StalledXhr {
    static last: StalledXhr | null = null;
    upload: { onprogress: ((e: { loaded: number }) => void) | null } = { onprogress: null };
    onreadystatechange: (() => void) | null = null;
    onload: (() => void) | null = null;
    onerror: (() => void) | null = null;
    onabort: (() => void) | null = null;
    ontimeout: (() => void) | null = null;
    aborted = false;
    constructor() {
      StalledXhr.last = this;
    }
    open(): void {}
    send(): void {}
    abort(): void {
      this.aborted = true;
      this.onabort?.();
    }
  }

  it(`is aborted as a network error after ${UPLOAD_STALL_MS} ms without progress, and not before`, async () => {
    vi.useFakeTimers();
    vi.stubGlobal('XMLHttpRequest', StalledXhr);
    try {
      const sent: number[] = [];
      const put = putBlock(SAS_URL, 'YQ==', new Blob([new Uint8Array(10)]), { onSent: (n) => sent.push(n) });
      const outcome = put.then(
        () => 'resolved',
        (e: unknown) => e,
      );
      const xhr = StalledXhr.last;
      if (xhr === null) throw new Error('no request was made');
      await vi.advanceTimersByTimeAsync(UPLOAD_STALL_MS - 1);
      xhr.upload.onprogress?.({ loaded: 4 }); // bytes moved: the watch starts again
      await vi.advanceTimersByTimeAsync(UPLOAD_STALL_MS - 1);
      expect(xhr.aborted).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      expect(xhr.aborted).toBe(true);
      const error = await outcome;
      expect(error).toBeInstanceOf(StorageError);
      expect((error as StorageError).kind).toBe('network');
      expect(sent).toEqual([4]);
    } finally {
      vi.unstubAllGlobals();
      vi.useRealTimers();
    }
  });
});
