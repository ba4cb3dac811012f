/**
 * Sender and receiver end to end against an in-memory blob service (a fake
 * `fetch` speaking the few REST calls we use), in Node and in Chromium:
 * round trips, in-order delivery under random latency, back-pressure and
 * tamper detection. The same paths against a real Azurite are tested in
 * server/storage-transport.test.ts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { ZodType } from 'zod';
import { generateIdentityKeys, TamperedError, type IdentityKeys } from '../crypto/index.ts';
import type { FetchLike } from './blob-rest.ts';
import type { GrantApi } from './grants.ts';
import { deleteFile, listDrive, openFileStream } from './receiver.ts';
import { resumeUpload, sendFile } from './sender.ts';
import { memoryUploadJournal } from './upload-journal.ts';
import { UploadQueue, type UploadItem } from './upload-queue.ts';
import { nextUploadRetry } from './upload-retry.ts';
import { randomUnit } from './retry.ts';
import { ApiError } from '../contract/index.ts';
import { StorageError } from './storage-error.ts';

const ORIGIN = 'https://fake.blob.test/sealdrop/';
const SEGMENT = 1024;

/** A tiny in-memory blob service: Put Block, Put Block List, Get Block List, Put Blob, ranged Get, Delete. */
class MemoryBlobService {
  readonly blobs = new Map<string, Uint8Array>();
  readonly staged = new Map<string, Map<string, Uint8Array>>();
  readonly requests: string[] = [];
  readonly deleted: string[] = [];
  latencyMs = 0;

  readonly fetch: FetchLike = async (input, init) => {
    const url = new URL(input);
    const name = url.pathname.slice(1);
    const comp = url.searchParams.get('comp');
    const method = init.method ?? 'GET';
    this.requests.push(`${method} ${comp ?? 'blob'}`);
    if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, randomUnit() * this.latencyMs));
    const body = init.body instanceof Blob ? new Uint8Array(await init.body.arrayBuffer()) : new Uint8Array();
    const headers = new Headers(init.headers);
    const exists = this.blobs.has(name);
    if (method === 'PUT' && comp === 'block') {
      const blocks = this.staged.get(name) ?? new Map<string, Uint8Array>();
      blocks.set(url.searchParams.get('blockid') ?? '', body);
      this.staged.set(name, blocks);
      return new Response(null, { status: 201 });
    }
    if (method === 'PUT' && comp === 'blocklist') {
      if (headers.get('If-None-Match') === '*' && exists) return new Response('', { status: 409, headers: { 'x-ms-error-code': 'BlobAlreadyExists' } });
      const ids = [...new TextDecoder().decode(body).matchAll(/<Latest>([^<]*)<\/Latest>/g)].map((m) => m[1] ?? '');
      const staged = this.staged.get(name) ?? new Map<string, Uint8Array>();
      const parts = ids.map((id) => staged.get(id));
      if (parts.some((p) => p === undefined)) return new Response('', { status: 400, headers: { 'x-ms-error-code': 'InvalidBlockList' } });
      this.blobs.set(name, await new Blob(parts.filter((p): p is Uint8Array<ArrayBuffer> => p !== undefined)).bytes());
      this.staged.delete(name);
      return new Response(null, { status: 201 });
    }
    if (method === 'GET' && comp === 'blocklist') {
      const list = [...(this.staged.get(name) ?? new Map<string, Uint8Array>())]
        .map(([id, b]) => `<Block><Name>${id}</Name><Size>${b.length}</Size></Block>`)
        .join('');
      return new Response(`<BlockList><CommittedBlocks /><UncommittedBlocks>${list}</UncommittedBlocks></BlockList>`, { status: 200 });
    }
    if (method === 'PUT') {
      if (headers.get('If-None-Match') === '*' && exists) return new Response('', { status: 409 });
      this.blobs.set(name, body);
      return new Response(null, { status: 201 });
    }
    const blob = this.blobs.get(name);
    if (method === 'DELETE') {
      this.deleted.push(name.split('/').pop() ?? '');
      return new Response(null, { status: this.blobs.delete(name) ? 202 : 404 });
    }
    if (blob === undefined) return new Response('', { status: 404 });
    const range = /^bytes=(\d+)-(\d+)$/.exec(headers.get('Range') ?? '');
    if (range === null) return new Response(new Blob([new Uint8Array(blob)]), { status: 200 });
    const start = Number(range[1]);
    const end = Math.min(Number(range[2]), blob.length - 1);
    if (start >= blob.length) return new Response('', { status: 416 });
    return new Response(new Blob([blob.slice(start, end + 1)]), {
      status: 206,
      headers: { 'Content-Range': `bytes ${start}-${end}/${blob.length}` },
    });
  };
}

/** The token endpoint's grant routes, minting fake URLs on the memory service. */
class FakeApi implements GrantApi {
  /** Upload ids whose renewal the server answers with 404 (nothing in progress under that id). */
  readonly forgotten = new Set<string>();
  readonly calls: string[] = [];
  constructor(private readonly store: MemoryBlobService) {}
  private grants(fileId: string, perms: [string, string]): unknown {
    const expiresAt = new Date(Date.now() + 600_000).toISOString();
    const g = (kind: string, permissions: string) => ({ url: `${ORIGIN}files/u/${fileId}/${kind}?sig=x`, expiresAt, permissions });
    return { fileId, payload: g('payload', perms[0]), manifest: g('manifest', perms[1]) };
  }
  post<T>(path: string, _body: unknown, schema: ZodType<T>): Promise<T> {
    const id = /^\/(?:uploads|files)\/([0-9a-f]{32})\//.exec(path)?.[1];
    this.calls.push(path.replace(/[0-9a-f]{32}/, ':id'));
    if (id !== undefined && this.forgotten.has(id)) return Promise.reject(new ApiError(404, 'not_found', 'There is no upload in progress with this id.'));
    const fileId = id ?? Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
    // The memory service does not check permissions; these are the ones the real routes grant.
    const perms: [string, string] = path.endsWith('/read') ? ['r', 'r'] : path.endsWith('/delete') ? ['d', 'd'] : ['rcw', 'cw'];
    return Promise.resolve(schema.parse(this.grants(fileId, perms)));
  }
  get<T>(_path: string, schema: ZodType<T>): Promise<T> {
    const ids = new Set([...this.store.blobs.keys()].map((k) => k.split('/')[3] ?? ''));
    const files = [...ids].map((fileId) => ({
      fileId,
      payloadBytes: this.store.blobs.get(`sealdrop/files/u/${fileId}/payload`)?.length ?? 0,
      manifestBytes: 1,
      createdAt: new Date().toISOString(),
      etag: '"x"',
      complete: this.store.blobs.has(`sealdrop/files/u/${fileId}/manifest`),
    }));
    return Promise.resolve(schema.parse({ files, next: null }));
  }
}

function content(size: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (i * 31 + (i >> 8)) & 0xff;
  return out;
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

let identity: IdentityKeys;
beforeAll(async () => {
  identity = await generateIdentityKeys();
});

async function upload(store: MemoryBlobService, bytes: Uint8Array<ArrayBuffer>): Promise<{ api: FakeApi; fileId: string }> {
  const api = new FakeApi(store);
  const { fileId } = await sendFile({
    api,
    userId: 'u',
    file: new File([bytes], 'notes.txt', { type: 'text/plain', lastModified: 1 }),
    identity,
    journal: memoryUploadJournal(),
    transport: { fetch: store.fetch, segmentSize: SEGMENT, segmentsPerBlock: 3 },
  });
  return { api, fileId };
}

describe('sender and receiver over an in-memory blob service', () => {
  it('round-trips a multi-block file in order despite random latency', async () => {
    const store = new MemoryBlobService();
    store.latencyMs = 15;
    const bytes = content(25 * SEGMENT + 17);
    const { api, fileId } = await upload(store, bytes);
    expect(store.requests.filter((r) => r === 'PUT block')).toHaveLength(9);
    const drive = await listDrive(api, identity, { transport: { fetch: store.fetch } });
    expect(drive.files).toMatchObject([{ fileId, status: 'ok', metadata: { name: 'notes.txt', size: bytes.length } }]);
    const opened = await openFileStream(api, fileId, identity, { transport: { fetch: store.fetch, parallel: 4 } });
    expect(await readAll(opened.stream)).toEqual(bytes);
  });

  it('respects back-pressure: no more ranged reads than the window until the reader reads', async () => {
    const store = new MemoryBlobService();
    const { api, fileId } = await upload(store, content(60 * SEGMENT));
    store.requests.length = 0;
    const opened = await openFileStream(api, fileId, identity, { transport: { fetch: store.fetch, parallel: 2 } });
    await new Promise((r) => setTimeout(r, 50));
    const ranged = (): number => store.requests.filter((r) => r === 'GET blob').length;
    expect(ranged()).toBeLessThanOrEqual(3); // manifest + at most 2 ranges prefetched
    const reader = opened.stream.getReader();
    await reader.read();
    await new Promise((r) => setTimeout(r, 50));
    expect(ranged()).toBeLessThan(1 + 20); // far from all 20 ranges while we hold back
    await reader.cancel();
  });

  it('errors the stream with TamperedError on a flipped byte, after delivering only authentic data', async () => {
    const store = new MemoryBlobService();
    const bytes = content(12 * SEGMENT);
    const { api, fileId } = await upload(store, bytes);
    const payload = store.blobs.get(`sealdrop/files/u/${fileId}/payload`);
    if (payload === undefined) throw new Error('payload missing');
    const at = 7 * (SEGMENT + 16) + 5;
    payload[at] = (payload[at] ?? 0) ^ 1;
    const opened = await openFileStream(api, fileId, identity, { transport: { fetch: store.fetch } });
    const reader = opened.stream.getReader();
    const got: Uint8Array[] = [];
    const failure = await (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return null;
        got.push(value);
      }
    })().catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(TamperedError);
    // Whatever was delivered before the error is a prefix of the real content.
    const delivered = await readAll(new Blob(got.map((g) => new Uint8Array(g))).stream());
    expect(delivered).toEqual(bytes.subarray(0, delivered.length));
    // Segments 0..6 are authentic and may arrive; nothing from segment 7 on.
    expect(delivered.length).toBeLessThanOrEqual(7 * SEGMENT);
  });

  it('deletes the manifest before the payload', async () => {
    const store = new MemoryBlobService();
    const { api, fileId } = await upload(store, content(SEGMENT));
    await deleteFile(api, fileId, { transport: { fetch: store.fetch } });
    expect(store.deleted).toEqual(['manifest', 'payload']);
    expect(store.blobs.size).toBe(0);
    expect((await listDrive(api, identity, { transport: { fetch: store.fetch } })).files).toEqual([]);
  });
});

describe('resumeUpload when the server has nothing to renew (404)', () => {
  it('starts over quietly under a new file id and a new key, and the new file downloads byte-identical', async () => {
    const store = new MemoryBlobService();
    const api = new FakeApi(store);
    const journal = memoryUploadJournal();
    const bytes = content(10 * SEGMENT + 3);
    const file = new File([bytes], 'minutes.txt', { type: 'text/plain', lastModified: 7 });
    const transport = { segmentSize: SEGMENT, segmentsPerBlock: 2, retry: { retries: 0, baseDelayMs: 1, maxDelayMs: 1 } };
    // Storage goes away after the first block: the upload fails and stays journaled.
    let blocks = 0;
    const failing: FetchLike = (input, init) => {
      if (new URL(input).searchParams.get('comp') === 'block' && ++blocks > 1) return Promise.reject(new TypeError('Failed to fetch'));
      return store.fetch(input, init);
    };
    const failure = await sendFile({ api, userId: 'u', file, identity, journal, transport: { ...transport, fetch: failing } }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(StorageError);
    const [record] = await journal.list('u');
    if (record === undefined) throw new Error('the failed upload was not journaled');

    api.forgotten.add(record.fileId);
    api.calls.length = 0;
    const started: string[] = [];
    const { fileId } = await resumeUpload({ api, identity, journal, record, file, transport: { ...transport, fetch: store.fetch }, onStarted: (id) => started.push(id) });

    expect(fileId).not.toBe(record.fileId);
    expect(started).toEqual([fileId]);
    expect(api.calls).toEqual(['/uploads/:id/renew', '/uploads']);
    expect(await journal.list('u')).toEqual([]);
    // A new key: the old upload's stored block is not part of the new payload.
    const oldBlock = store.staged.get(`sealdrop/files/u/${record.fileId}/payload`)?.values().next().value;
    const payload = store.blobs.get(`sealdrop/files/u/${fileId}/payload`);
    expect(oldBlock).toBeDefined();
    expect(payload?.subarray(0, oldBlock?.length)).not.toEqual(oldBlock);
    const opened = await openFileStream(api, fileId, identity, { transport: { fetch: store.fetch } });
    expect(await readAll(opened.stream)).toEqual(bytes);
  });

  it('still finishes an upload the server knows, sending only the missing blocks', async () => {
    const store = new MemoryBlobService();
    const api = new FakeApi(store);
    const journal = memoryUploadJournal();
    const bytes = content(10 * SEGMENT + 3);
    const file = new File([bytes], 'minutes.txt', { type: 'text/plain', lastModified: 7 });
    const transport = { segmentSize: SEGMENT, segmentsPerBlock: 2, retry: { retries: 0, baseDelayMs: 1, maxDelayMs: 1 } };
    let blocks = 0;
    const failing: FetchLike = (input, init) => {
      if (new URL(input).searchParams.get('comp') === 'block' && ++blocks > 2) return Promise.reject(new TypeError('Failed to fetch'));
      return store.fetch(input, init);
    };
    await sendFile({ api, userId: 'u', file, identity, journal, transport: { ...transport, fetch: failing } }).catch(() => undefined);
    const [record] = await journal.list('u');
    if (record === undefined) throw new Error('the failed upload was not journaled');
    store.requests.length = 0;
    const { fileId } = await resumeUpload({ api, identity, journal, record, file, transport: { ...transport, fetch: store.fetch } });
    expect(fileId).toBe(record.fileId);
    expect(store.requests.filter((r) => r === 'PUT block')).toHaveLength(6 - 2);
  });
});

describe('storage that lost acknowledged blocks (Azurite killed before saving them)', () => {
  it('fails the commit with a transient error, and the retry reads the block list back and sends only the lost blocks', async () => {
    const store = new MemoryBlobService();
    const api = new FakeApi(store);
    let crashed = false;
    const crashing: FetchLike = (input, init) => {
      const url = new URL(input);
      if (!crashed && init.method === 'PUT' && url.searchParams.get('comp') === 'blocklist') {
        crashed = true;
        // The restart keeps blocks 0-2 and loses the other two.
        const staged = store.staged.get(url.pathname.slice(1));
        for (const id of [...(staged?.keys() ?? [])].slice(3)) staged?.delete(id);
      }
      return store.fetch(input, init);
    };
    const queue = new UploadQueue({
      api,
      userId: 'u',
      identity,
      journal: memoryUploadJournal(),
      transport: { fetch: crashing, segmentSize: SEGMENT, segmentsPerBlock: 2, retry: { retries: 0, baseDelayMs: 1, maxDelayMs: 1 } },
    });
    const settled = (): Promise<UploadItem> =>
      new Promise((resolve) => {
        const stop = queue.subscribe((items) => {
          const item = items[0];
          if (item?.status !== 'failed' && item?.status !== 'done') return;
          queueMicrotask(() => stop());
          resolve(item);
        });
      });
    const bytes = content(9 * SEGMENT + 5); // 5 blocks
    const id = queue.add(new File([bytes], 'lost.bin', { lastModified: 3 }));
    const failed = await settled();
    expect(failed.error).toMatchObject({ kind: 'bad-response', status: 400, storageCode: 'InvalidBlockList' });
    expect(nextUploadRetry(failed.error, 0)).not.toBeNull();

    store.requests.length = 0;
    queue.retry(id);
    const done = await settled();
    expect(done.status).toBe('done');
    expect(store.requests.filter((r) => r === 'GET blocklist')).toHaveLength(1);
    expect(store.requests.filter((r) => r === 'PUT block')).toHaveLength(2);
    const opened = await openFileStream(api, done.fileId ?? '', identity, { transport: { fetch: store.fetch } });
    expect(await readAll(opened.stream)).toEqual(bytes);
  });
});

describe('UploadQueue', () => {
  it('runs at most two files at once, cancels on request and finishes the rest', async () => {
    const store = new MemoryBlobService();
    store.latencyMs = 10;
    const api = new FakeApi(store);
    const queue = new UploadQueue({
      api,
      userId: 'u',
      identity,
      journal: memoryUploadJournal(),
      transport: { fetch: store.fetch, segmentSize: SEGMENT, segmentsPerBlock: 2 },
    });
    let peak = 0;
    const finished = new Promise<void>((resolve) => {
      queue.subscribe((items) => {
        peak = Math.max(peak, items.filter((i) => i.status === 'uploading').length);
        if (items.length === 4 && items.every((i) => i.status === 'done' || i.status === 'cancelled' || i.status === 'failed')) resolve();
      });
    });
    const ids = [1, 2, 3, 4].map((n) => queue.add(new File([content(n * 5 * SEGMENT)], `f${n}.bin`, { lastModified: n })));
    queue.cancel(ids[3] ?? ''); // still queued: cancelled without starting
    await finished;
    expect(peak).toBeLessThanOrEqual(2);
    expect(queue.items.map((i) => i.status)).toEqual(['done', 'done', 'done', 'cancelled']);
    const done = queue.items[2];
    expect(done?.progress.bytesDone).toBe(15 * SEGMENT);
    const drive = await listDrive(api, identity, { transport: { fetch: store.fetch } });
    expect(drive.files.map((f) => (f.status === 'ok' ? f.metadata.name : '')).sort()).toEqual(['f1.bin', 'f2.bin', 'f3.bin']);
  });
});
