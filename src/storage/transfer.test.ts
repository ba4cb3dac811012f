/**
 * Sender and receiver end to end against an in-memory blob service (a fake
 * `fetch` speaking the few REST calls we use), in Node and in Chromium:
 * round trips, in-order delivery under random latency, back-pressure and
 * tamper detection. The same paths against a real Azurite are tested in
 * server/storage-transport.test.ts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { ZodType } from 'zod';
import {
  encryptSegment,
  generateIdentityKeys,
  openManifest,
  rsaIdentity,
  rsaRecipient,
  signingKeyFingerprint,
  UntrustedSignerError,
  segmentCount,
  TamperedError,
  type IdentityKeys,
} from '../crypto/index.ts';
import type { FetchLike } from './blob-rest.ts';
import type { GrantApi } from './grants.ts';
import { deleteFile, listDrive, openFileStream } from './receiver.ts';
import { RESTARTED_BECAUSE_CHANGED, resumeUpload, sendFile } from './sender.ts';
import { memoryUploadJournal, type UploadRecord } from './upload-journal.ts';
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
  /** Every Put Block that reached the service: blob name, block id, body. */
  readonly putBlocks: { name: string; blockId: string; body: Uint8Array }[] = [];
  /** Put Blocks accepted before the "network" is gone (503 to every later one); Infinity = never. */
  putBlocksAllowed = Infinity;
  /** Payload Put Blobs refused with 503 before one is taken. */
  refusePayloadPuts = 0;
  /** Payload Put Blobs stored whose answer is lost (503 after storing). */
  losePayloadAnswers = 0;
  /** Every payload Put Blob that reached the service: its body. */
  readonly payloadPuts: Uint8Array[] = [];
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
      if (this.putBlocks.length >= this.putBlocksAllowed) return new Response('', { status: 503 });
      this.putBlocks.push({ name, blockId: url.searchParams.get('blockid') ?? '', body });
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
      const payload = name.endsWith('/payload');
      if (payload && this.refusePayloadPuts > 0) {
        this.refusePayloadPuts--;
        return new Response('', { status: 503 });
      }
      if (headers.get('If-None-Match') === '*' && exists) return new Response('', { status: 409, headers: { 'x-ms-error-code': 'BlobAlreadyExists' } });
      if (payload) this.payloadPuts.push(body);
      this.blobs.set(name, body);
      if (payload && this.losePayloadAnswers > 0) {
        this.losePayloadAnswers--;
        return new Response('', { status: 503 });
      }
      return new Response(null, { status: 201 });
    }
    if (method === 'HEAD') {
      const found = this.blobs.get(name);
      return found === undefined ? new Response(null, { status: 404 }) : new Response(null, { status: 200, headers: { 'Content-Length': String(found.length) } });
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
    if (path.endsWith('/renew') && id !== undefined && this.store.blobs.has(`sealdrop/files/u/${id}/manifest`)) {
      return Promise.reject(new ApiError(409, 'upload_complete', 'This upload is already complete.'));
    }
    if (path.endsWith('/complete')) {
      if (!this.store.blobs.has(`sealdrop/files/u/${fileId}/manifest`)) return Promise.reject(new ApiError(409, 'upload_incomplete', 'No manifest yet.'));
      return Promise.resolve(schema.parse({ fileId, etag: '"x"', appended: true }));
    }
    // The memory service does not check permissions; these are the ones the real routes grant.
    const perms: [string, string] = path.endsWith('/read') ? ['r', 'r'] : path.endsWith('/delete') ? ['d', 'd'] : ['rcw', 'cw'];
    return Promise.resolve(schema.parse(this.grants(fileId, perms)));
  }
  get<T>(path: string, schema: ZodType<T>): Promise<T> {
    // A server without the change log: the listing walks (listing.test.ts covers the log).
    if (path.startsWith('/files/changes')) return Promise.reject(new ApiError(404, 'not_found', 'Not found.'));
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
  it('tells the change log a file is complete once its manifest is stored, and only then', async () => {
    const store = new MemoryBlobService();
    const api = new FakeApi(store);
    const seenAtComplete: boolean[] = [];
    const post = api.post.bind(api);
    api.post = (path, body, schema) => {
      if (path.endsWith('/complete')) seenAtComplete.push([...store.blobs.keys()].some((k) => k.endsWith('/manifest')));
      return post(path, body, schema);
    };
    await sendFile({ api, userId: 'u', file: new File([content(10)], 'a.txt', { lastModified: 1 }), identity, journal: memoryUploadJournal(), transport: { fetch: store.fetch, segmentSize: SEGMENT } });
    expect(api.calls).toEqual(['/uploads', '/files/:id/complete']);
    expect(seenAtComplete).toEqual([true]);
  });

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

  it('seals for the readers given, signed by the signer given; opening accepts only trusted signers and says who sealed', async () => {
    const [bob, carol] = await Promise.all([generateIdentityKeys(), generateIdentityKeys()]);
    const ownerFp = await signingKeyFingerprint(identity.sign.publicKey);
    const store = new MemoryBlobService();
    const api = new FakeApi(store);
    const bytes = content(3 * SEGMENT + 5);
    const send = (signer: IdentityKeys) =>
      sendFile({
        api,
        userId: 'u',
        file: new File([bytes], 'for-bob.txt', { lastModified: 1 }),
        identity,
        readers: [rsaRecipient(identity.encrypt.publicKey), rsaRecipient(bob.encrypt.publicKey)],
        signer: signer.sign,
        journal: memoryUploadJournal(),
        transport: { fetch: store.fetch, segmentSize: SEGMENT },
      });
    const { fileId } = await send(identity);
    const forBob = await openFileStream(api, fileId, bob, { trustedSigners: new Set([ownerFp]), transport: { fetch: store.fetch } });
    expect(forBob.sealedBy).toBe(ownerFp);
    expect(await readAll(forBob.stream)).toEqual(bytes);
    // Bob does not trust Carol: a file Carol signed is refused, though his key opens it.
    const { fileId: byCarol } = await send(carol);
    await expect(openFileStream(api, byCarol, bob, { trustedSigners: new Set([ownerFp]), transport: { fetch: store.fetch } })).rejects.toBeInstanceOf(UntrustedSignerError);
    // The owner's own drive, by default, accepts only the owner's seal.
    await expect(openFileStream(api, byCarol, identity, { transport: { fetch: store.fetch } })).rejects.toThrow('This file was not sealed with your key.');
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

describe('a payload that fits one request (one Put Blob)', () => {
  const NO_RETRY = { retries: 0, baseDelayMs: 1, maxDelayMs: 1 };
  const fileOf = (bytes: Uint8Array<ArrayBuffer>): File => new File([bytes], 'photo.jpg', { type: 'image/jpeg', lastModified: 1_700_000_000_000 });
  const payloadPuts = (store: MemoryBlobService): string[] => store.requests.filter((r) => r.startsWith('PUT'));

  it('goes up as one Put Blob and the manifest: no Put Block, no block list', async () => {
    const store = new MemoryBlobService();
    const api = new FakeApi(store);
    const bytes = content(5 * SEGMENT + 3);
    const { fileId } = await sendFile({ api, userId: 'u', file: fileOf(bytes), identity, journal: memoryUploadJournal(), transport: { fetch: store.fetch, segmentSize: SEGMENT } });
    expect(payloadPuts(store)).toEqual(['PUT blob', 'PUT blob']);
    expect(store.payloadPuts).toHaveLength(1);
    expect(api.calls).toEqual(['/uploads', '/files/:id/complete']);
    expect(await readAll((await openFileStream(api, fileId, identity, { transport: { fetch: store.fetch } })).stream)).toEqual(bytes);
  });

  it('an answer lost after storage took the payload: the retry meets 409 on a blob of the same length and goes on', async () => {
    const store = new MemoryBlobService();
    const api = new FakeApi(store);
    store.losePayloadAnswers = 1;
    const bytes = content(3 * SEGMENT);
    const { fileId } = await sendFile({
      api,
      userId: 'u',
      file: fileOf(bytes),
      identity,
      journal: memoryUploadJournal(),
      transport: { fetch: store.fetch, segmentSize: SEGMENT, retry: { retries: 2, baseDelayMs: 1, maxDelayMs: 1 } },
    });
    expect(store.payloadPuts).toHaveLength(1);
    expect(store.requests).toContain('HEAD blob');
    expect(await readAll((await openFileStream(api, fileId, identity, { transport: { fetch: store.fetch } })).stream)).toEqual(bytes);
  });

  it('resumes under the same file id: a Put Blob that never arrived is sent again as the very same ciphertext, journaled before the first try', async () => {
    const store = new MemoryBlobService();
    const api = new FakeApi(store);
    const journal = memoryUploadJournal();
    store.refusePayloadPuts = 1;
    const bytes = content(4 * SEGMENT + 9);
    await expect(
      sendFile({ api, userId: 'u', file: fileOf(bytes), identity, journal, transport: { fetch: store.fetch, segmentSize: SEGMENT, retry: NO_RETRY } }),
    ).rejects.toMatchObject({ kind: 'server' });
    const [record] = await journal.list('u');
    if (record === undefined) throw new Error('expected a journal record');
    expect(record.blockDigests).toHaveLength(1);
    expect(record.blockDigests[0]).not.toBeNull();
    const { fileId } = await resumeUpload({ api, record, file: fileOf(Uint8Array.from(bytes)), identity, journal, transport: { fetch: store.fetch, segmentSize: SEGMENT } });
    expect(fileId).toBe(record.fileId);
    expect(store.payloadPuts).toHaveLength(1);
    expect(await journal.list('u')).toEqual([]);
    expect(await readAll((await openFileStream(api, fileId, identity, { transport: { fetch: store.fetch } })).stream)).toEqual(bytes);
  });

  it('resumes after the payload was stored: only the manifest is sent, once the file proves to be the same bytes', async () => {
    const store = new MemoryBlobService();
    const api = new FakeApi(store);
    const journal = memoryUploadJournal();
    store.losePayloadAnswers = 1;
    const bytes = content(2 * SEGMENT);
    await expect(
      sendFile({ api, userId: 'u', file: fileOf(bytes), identity, journal, transport: { fetch: store.fetch, segmentSize: SEGMENT, retry: NO_RETRY } }),
    ).rejects.toMatchObject({ kind: 'server' });
    const [record] = await journal.list('u');
    if (record === undefined) throw new Error('expected a journal record');
    store.requests.length = 0;
    const { fileId } = await resumeUpload({ api, record, file: fileOf(Uint8Array.from(bytes)), identity, journal, transport: { fetch: store.fetch, segmentSize: SEGMENT } });
    expect(fileId).toBe(record.fileId);
    expect(store.requests.filter((r) => r.startsWith('PUT'))).toEqual(['PUT blob']);
    expect(store.payloadPuts).toHaveLength(1);
    expect(await readAll((await openFileStream(api, fileId, identity, { transport: { fetch: store.fetch } })).stream)).toEqual(bytes);
  });

  it('a stored payload whose file changed since starts over under a new key and file id', async () => {
    const store = new MemoryBlobService();
    const api = new FakeApi(store);
    const journal = memoryUploadJournal();
    store.losePayloadAnswers = 1;
    const bytes = content(2 * SEGMENT);
    await expect(
      sendFile({ api, userId: 'u', file: fileOf(bytes), identity, journal, transport: { fetch: store.fetch, segmentSize: SEGMENT, retry: NO_RETRY } }),
    ).rejects.toMatchObject({ kind: 'server' });
    const [record] = await journal.list('u');
    if (record === undefined) throw new Error('expected a journal record');
    const changed = Uint8Array.from(bytes);
    changed[100] = (changed[100] ?? 0) ^ 1;
    const notices: string[] = [];
    const { fileId } = await resumeUpload({
      api,
      record,
      file: fileOf(changed),
      identity,
      journal,
      transport: { fetch: store.fetch, segmentSize: SEGMENT },
      onRestarted: (n) => notices.push(n),
    });
    expect(fileId).not.toBe(record.fileId);
    expect(notices).toEqual([RESTARTED_BECAUSE_CHANGED]);
    expect(store.payloadPuts).toHaveLength(2);
    expect(store.payloadPuts[1]).not.toEqual(store.payloadPuts[0]);
    expect(await readAll((await openFileStream(api, fileId, identity, { transport: { fetch: store.fetch } })).stream)).toEqual(changed);
  });
});

describe('resume never reuses a nonce', () => {
  const PER_BLOCK = 3;
  const NO_RETRY = { retries: 0, baseDelayMs: 1, maxDelayMs: 1 };
  const fileOf = (bytes: Uint8Array<ArrayBuffer>): File => new File([bytes], 'ledger.bin', { type: '', lastModified: 1_700_000_000_000 });

  /** Uploads `bytes` until storage has taken `allowed` Put Blocks, then the network is gone; returns the journal with the record. */
  async function interrupted(store: MemoryBlobService, api: FakeApi, bytes: Uint8Array<ArrayBuffer>, allowed: number) {
    const journal = memoryUploadJournal();
    store.putBlocksAllowed = allowed;
    await expect(
      sendFile({
        api,
        userId: 'u',
        file: fileOf(bytes),
        identity,
        journal,
        transport: { fetch: store.fetch, segmentSize: SEGMENT, segmentsPerBlock: PER_BLOCK, retry: NO_RETRY, parallel: 2 },
      }),
    ).rejects.toMatchObject({ kind: 'server' });
    store.putBlocksAllowed = Infinity;
    const [record, ...others] = await journal.list('u');
    if (record === undefined || others.length > 0) throw new Error('expected one journal record');
    return { journal, record };
  }

  it('a file whose bytes changed (same name, size and date) starts over under a new key and file id; no Put Block reuses the old key', async () => {
    const store = new MemoryBlobService();
    const api = new FakeApi(store);
    const bytes = content(8 * PER_BLOCK * SEGMENT + 200);
    const { journal, record } = await interrupted(store, api, bytes, 3);
    const oldBlocks = store.putBlocks.filter((p) => p.name.includes(record.fileId));
    expect(oldBlocks).toHaveLength(3);
    // Journaled before sending: at least the blocks storage has, maybe the ones refused too.
    expect(record.blockDigests.filter((d) => d !== null).length).toBeGreaterThanOrEqual(3);

    // Block 1 changes; block 0 stays the same plaintext. Name, size and lastModified are unchanged.
    const changed = Uint8Array.from(bytes);
    changed[PER_BLOCK * SEGMENT + 10] = (changed[PER_BLOCK * SEGMENT + 10] ?? 0) ^ 0xff;
    const sentBefore = store.putBlocks.length;
    const notices: string[] = [];
    const started: string[] = [];
    const { fileId } = await resumeUpload({
      api,
      record,
      file: fileOf(changed),
      identity,
      journal,
      transport: { fetch: store.fetch, segmentSize: SEGMENT, segmentsPerBlock: PER_BLOCK },
      onRestarted: (n) => notices.push(n),
      onStarted: (id) => started.push(id),
    });

    expect(fileId).not.toBe(record.fileId);
    expect(started).toEqual([fileId]);
    expect(notices).toEqual([RESTARTED_BECAUSE_CHANGED]);
    const after = store.putBlocks.slice(sentBefore);
    // Not one Put Block for the old file id after the resume began.
    expect(after.filter((p) => p.name.includes(record.fileId))).toEqual([]);
    expect(after.every((p) => p.name.includes(fileId))).toBe(true);
    // A new file key: block 0's plaintext is unchanged, yet it seals to other bytes than under the old key.
    const oldFirst = oldBlocks.find((p) => p.blockId === after[0]?.blockId);
    const newFirst = after.find((p) => p.blockId === oldFirst?.blockId);
    expect(newFirst).toBeDefined();
    expect(newFirst?.body).not.toEqual(oldFirst?.body);
    expect(await journal.list('u')).toEqual([]);
    const opened = await openFileStream(api, fileId, identity, { transport: { fetch: store.fetch } });
    expect(await readAll(opened.stream)).toEqual(changed);
  });

  it('a file that changed only in a block sent but never stored still starts over (the journal is written before the Put Block)', async () => {
    const store = new MemoryBlobService();
    const api = new FakeApi(store);
    const bytes = content(8 * PER_BLOCK * SEGMENT);
    const { journal, record } = await interrupted(store, api, bytes, 1);
    const storedIds = new Set(store.putBlocks.map((p) => p.blockId));
    const journaled = record.blockDigests.flatMap((d, i) => (d === null ? [] : [i]));
    // A block that was sealed and journaled, but that storage refused.
    const refused = journaled.find((i) => ![...storedIds].some((id) => atob(id) === `blk-${String(i).padStart(6, '0')}`));
    if (refused === undefined) throw new Error('expected a journaled block storage does not hold');
    const changed = Uint8Array.from(bytes);
    changed[refused * PER_BLOCK * SEGMENT] = (changed[refused * PER_BLOCK * SEGMENT] ?? 0) ^ 1;
    const sentBefore = store.putBlocks.length;
    const { fileId } = await resumeUpload({
      api,
      record,
      file: fileOf(changed),
      identity,
      journal,
      transport: { fetch: store.fetch, segmentSize: SEGMENT, segmentsPerBlock: PER_BLOCK },
    });
    expect(fileId).not.toBe(record.fileId);
    expect(store.putBlocks.slice(sentBefore).filter((p) => p.name.includes(record.fileId))).toEqual([]);
    expect(await readAll((await openFileStream(api, fileId, identity, { transport: { fetch: store.fetch } })).stream)).toEqual(changed);
  });

  it('the same bytes resume under the same file id, re-sealing (not re-sending) the stored blocks', async () => {
    const store = new MemoryBlobService();
    const api = new FakeApi(store);
    const bytes = content(8 * PER_BLOCK * SEGMENT + 5);
    const { journal, record } = await interrupted(store, api, bytes, 3);
    const sentBefore = store.putBlocks.length;
    const notices: string[] = [];
    const { fileId } = await resumeUpload({
      api,
      record,
      file: fileOf(Uint8Array.from(bytes)),
      identity,
      journal,
      transport: { fetch: store.fetch, segmentSize: SEGMENT, segmentsPerBlock: PER_BLOCK },
      onRestarted: (n) => notices.push(n),
    });
    expect(fileId).toBe(record.fileId);
    expect(notices).toEqual([]);
    expect(store.putBlocks.slice(sentBefore)).toHaveLength(9 - 3);
    expect(await readAll((await openFileStream(api, fileId, identity, { transport: { fetch: store.fetch } })).stream)).toEqual(bytes);
  });

  it('a file that changes during the resume, after the check, is still never sent under the old key', async () => {
    const store = new MemoryBlobService();
    const api = new FakeApi(store);
    const bytes = content(8 * PER_BLOCK * SEGMENT);
    const { journal, record } = await interrupted(store, api, bytes, 1);
    const storedIds = new Set(store.putBlocks.map((p) => atob(p.blockId)));
    const refused = record.blockDigests.findIndex((d, i) => d !== null && !storedIds.has(`blk-${String(i).padStart(6, '0')}`));
    expect(refused).toBeGreaterThan(0);
    const blockBytes = PER_BLOCK * SEGMENT;
    const changed = Uint8Array.from(bytes);
    changed[refused * blockBytes] = (changed[refused * blockBytes] ?? 0) ^ 1;
    // Reads the original bytes for the check, then the changed ones when the block is sealed to be sent.
    let readsOfRefused = 0;
    class ChangingFile extends File {
      override slice(start?: number, end?: number, type?: string): Blob {
        if (start === refused * blockBytes && readsOfRefused++ >= 1) return new Blob([changed.slice(start, end)], { type });
        return super.slice(start, end, type);
      }
    }
    const sentBefore = store.putBlocks.length;
    const notices: string[] = [];
    const { fileId } = await resumeUpload({
      api,
      record,
      file: new ChangingFile([bytes], 'ledger.bin', { lastModified: 1_700_000_000_000 }),
      identity,
      journal,
      transport: { fetch: store.fetch, segmentSize: SEGMENT, segmentsPerBlock: PER_BLOCK, parallel: 1 },
      onRestarted: (n) => notices.push(n),
    });
    expect(readsOfRefused).toBeGreaterThanOrEqual(2);
    expect(fileId).not.toBe(record.fileId);
    expect(notices).toEqual([RESTARTED_BECAUSE_CHANGED]);
    const oldAfter = store.putBlocks.slice(sentBefore).filter((p) => p.name.includes(record.fileId));
    // Only blocks that sealed to their journaled digest may have gone out under the old key.
    expect(oldAfter.map((p) => atob(p.blockId))).not.toContain(`blk-${String(refused).padStart(6, '0')}`);
    expect(await journal.list('u')).toEqual([]);
  });

  it('UploadQueue shows the restart on the upload and follows the new file id', async () => {
    const store = new MemoryBlobService();
    const api = new FakeApi(store);
    const bytes = content(6 * PER_BLOCK * SEGMENT);
    const { journal, record } = await interrupted(store, api, bytes, 2);
    const changed = Uint8Array.from(bytes);
    changed[0] = (changed[0] ?? 0) ^ 1;
    const queue = new UploadQueue({ api, userId: 'u', identity, journal, transport: { fetch: store.fetch, segmentSize: SEGMENT, segmentsPerBlock: PER_BLOCK } });
    const done = new Promise<void>((resolve) => {
      queue.subscribe((items) => {
        if (items[0]?.status === 'done' || items[0]?.status === 'failed') resolve();
      });
    });
    queue.resume(record, fileOf(changed));
    await done;
    const item = queue.items[0];
    expect(item).toMatchObject({ status: 'done', notice: RESTARTED_BECAUSE_CHANGED });
    expect(item?.fileId).not.toBe(record.fileId);
    const opened = await openFileStream(api, item?.fileId ?? '', identity, { transport: { fetch: store.fetch } });
    expect(await readAll(opened.stream)).toEqual(changed);
  });
});

describe('a payload re-sealed by a key holder', () => {
  it('fails with the tamper message at the end and is never delivered whole', async () => {
    const store = new MemoryBlobService();
    const bytes = content(10 * SEGMENT + 99);
    const { api, fileId } = await upload(store, bytes);
    // Anyone the file is shared with holds its content key: seal other bytes of the same size under it.
    const manifest = store.blobs.get(`sealdrop/files/u/${fileId}/manifest`);
    if (manifest === undefined) throw new Error('manifest missing');
    const { contentKey } = await openManifest(manifest, [rsaIdentity(identity.encrypt.privateKey)], { fileId });
    const forged = Uint8Array.from(bytes);
    forged[3 * SEGMENT] = (forged[3 * SEGMENT] ?? 0) ^ 0x20;
    const count = segmentCount(forged.length, SEGMENT);
    const parts: Uint8Array<ArrayBuffer>[] = [];
    for (let i = 0; i < count; i++) parts.push(await encryptSegment(contentKey, i, i === count - 1, forged.subarray(i * SEGMENT, (i + 1) * SEGMENT)));
    store.blobs.set(`sealdrop/files/u/${fileId}/payload`, await new Blob(parts).bytes());

    const opened = await openFileStream(api, fileId, identity, { transport: { fetch: store.fetch } });
    const reader = opened.stream.getReader();
    let delivered = 0;
    const failure = await (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return null;
        delivered += value.length;
      }
    })().catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(TamperedError);
    expect((failure as TamperedError).message).toBe('The file’s content does not match what its owner signed.');
    expect(delivered).toBeLessThan(bytes.length);
  });
});

describe('resumeUpload of an upload whose manifest is stored (renew 409)', () => {
  it('makes the complete call again (it may have been lost) and forgets the journal record', async () => {
    const store = new MemoryBlobService();
    const api = new FakeApi(store);
    const journal = memoryUploadJournal();
    const kept: UploadRecord[] = [];
    const journaling = { ...journal, put: (r: UploadRecord) => (kept.push(structuredClone(r)), journal.put(r)) };
    const file = new File([content(10)], 'done.txt', { lastModified: 1 });
    const { fileId } = await sendFile({ api, userId: 'u', file, identity, journal: journaling, transport: { fetch: store.fetch, segmentSize: SEGMENT } });
    const record = kept.at(-1);
    if (record === undefined) throw new Error('the upload was not journaled');
    await journal.put(record); // the crash: the record outlived the finished upload
    api.calls.length = 0;
    const resumed = await resumeUpload({ api, identity, journal, record, file, transport: { fetch: store.fetch } });
    expect(resumed.fileId).toBe(fileId);
    expect(api.calls).toEqual(['/uploads/:id/renew', '/files/:id/complete']);
    expect(await journal.list('u')).toEqual([]);
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
    expect(api.calls).toEqual(['/uploads/:id/renew', '/uploads', '/files/:id/complete']);
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
