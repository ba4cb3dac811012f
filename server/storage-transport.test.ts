/**
 * The storage transport (src/storage) against a real Azurite: seal-and-upload
 * and download-and-open round trips, resume after a crash, no overwrite,
 * tampering and truncation, grant renewal and retry on network errors.
 *
 * The token endpoint is replaced by a small fake that mints blob-scoped SAS
 * URLs the way CONTRACTS §2 describes, so these tests depend only on the
 * storage code and Azurite. Lives in server/ because it needs Node to start
 * Azurite.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BlobSASPermissions,
  BlobServiceClient,
  generateBlobSASQueryParameters,
  StorageSharedKeyCredential,
  type ContainerClient,
} from '@azure/storage-blob';
import type { ZodType } from 'zod';
import { generateIdentityKeys, TamperedError, TruncatedError, type IdentityKeys } from '../src/crypto/index.ts';
import { startAzurite, prepareStorage, type AzuriteHandle } from './local/azurite.ts';
import { putBlob, putBlockList, type FetchLike } from '../src/storage/blob-rest.ts';
import { blockIdsOf } from '../src/storage/uploader.ts';
import { planBlocks } from '../src/storage/block-plan.ts';
import { ApiError, fileGrantsSchema, pathOf, ROUTES } from '../src/contract/index.ts';
import type { GrantApi } from '../src/storage/grants.ts';
import { StorageError } from '../src/storage/storage-error.ts';
import { readAll } from '../src/crypto/test-streams.ts';
import { memoryUploadJournal } from '../src/storage/upload-journal.ts';
import { pendingUploads, resumeUpload, sendFile } from '../src/storage/sender.ts';
import { deleteFile, listDrive, openFileStream } from '../src/storage/receiver.ts';

const CONTAINER = 'sealdrop';
const USER = 'a'.repeat(32);
const SEGMENT = 4096;
const PER_BLOCK = 4; // 16 KiB blocks: many blocks from small files
const FAST_RETRY = { retries: 3, baseDelayMs: 5, maxDelayMs: 20 };

let azurite: AzuriteHandle;
let container: ContainerClient;
let credential: StorageSharedKeyCredential;
let identity: IdentityKeys;

/** A stand-in for the token endpoint: same routes and answer shapes, SAS minted with the account key. */
class FakeTokenEndpoint implements GrantApi {
  calls: string[] = [];
  /** Lifetime of the next grants in ms (negative: already expired). */
  lifetimeMs = 10 * 60_000;
  /** When set, a renewal restores normal lifetimes (an expired first grant, a good renewal). */
  renewalHeals = false;
  private readonly uploads = new Set<string>();

  private grant(blob: string, permissions: string): { url: string; expiresAt: string; permissions: string } {
    const now = Date.now();
    const expiresOn = new Date(now + this.lifetimeMs);
    const sas = generateBlobSASQueryParameters(
      {
        containerName: CONTAINER,
        blobName: blob,
        permissions: BlobSASPermissions.parse(permissions),
        startsOn: new Date(Math.min(now, expiresOn.getTime()) - 15 * 60_000),
        expiresOn,
      },
      credential,
    ).toString();
    return { url: `${container.url}/${blob}?${sas}`, expiresAt: expiresOn.toISOString(), permissions };
  }

  private fileGrants(fileId: string, payload: string, manifest: string): unknown {
    const base = `files/${USER}/${fileId}`;
    return { fileId, payload: this.grant(`${base}/payload`, payload), manifest: this.grant(`${base}/manifest`, manifest) };
  }

  post<T>(path: string, body: unknown, schema: ZodType<T>): Promise<T> {
    this.calls.push(`POST ${path}`);
    let answer: unknown;
    let m: RegExpExecArray | null;
    if (path === '/uploads') {
      const fileId = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('hex');
      this.uploads.add(fileId);
      answer = this.fileGrants(fileId, 'rcw', 'cw');
      void body;
    } else if ((m = /^\/uploads\/([0-9a-f]{32})\/renew$/.exec(path)) !== null && this.uploads.has(m[1] ?? '')) {
      if (this.renewalHeals) this.lifetimeMs = 10 * 60_000;
      answer = this.fileGrants(m[1] ?? '', 'rcw', 'cw');
    } else if ((m = /^\/files\/([0-9a-f]{32})\/read$/.exec(path)) !== null) {
      answer = this.fileGrants(m[1] ?? '', 'r', 'r');
    } else if ((m = /^\/files\/([0-9a-f]{32})\/delete$/.exec(path)) !== null) {
      answer = this.fileGrants(m[1] ?? '', 'd', 'd');
    } else if ((m = /^\/files\/([0-9a-f]{32})\/complete$/.exec(path)) !== null) {
      // This fake keeps no change log: completing is acknowledged and listings walk (below).
      answer = { fileId: m[1] ?? '', etag: '"fake"', appended: true };
    } else {
      return Promise.reject(new Error(`fake endpoint: no route for POST ${path}`));
    }
    return Promise.resolve(schema.parse(answer));
  }

  async get<T>(path: string, schema: ZodType<T>): Promise<T> {
    this.calls.push(`GET ${path}`);
    // An endpoint without a change log, as an older server: the listing falls back to walking pages.
    if (path.startsWith('/files/changes')) throw new ApiError(404, 'not_found', 'Not found.');
    // The listing asks for pages (`/files?limit=…`); this fake answers everything in one.
    if (new URL(path, 'http://fake.invalid').pathname !== '/files') throw new Error(`fake endpoint: no route for GET ${path}`);
    const files = new Map<string, { payloadBytes: number; manifestBytes: number; createdAt: string; etag: string; manifest: boolean }>();
    for await (const blob of container.listBlobsFlat({ prefix: `files/${USER}/` })) {
      const [, , fileId, kind] = blob.name.split('/');
      if (fileId === undefined) continue;
      const entry = files.get(fileId) ?? { payloadBytes: 0, manifestBytes: 0, createdAt: '', etag: '', manifest: false };
      if (kind === 'payload') {
        entry.payloadBytes = blob.properties.contentLength ?? 0;
        entry.createdAt = (blob.properties.createdOn ?? new Date()).toISOString();
        entry.etag = blob.properties.etag ?? '';
      } else {
        entry.manifestBytes = blob.properties.contentLength ?? 0;
        entry.manifest = true;
      }
      files.set(fileId, entry);
    }
    const list = [...files].map(([fileId, f]) => ({
      fileId,
      payloadBytes: f.payloadBytes,
      manifestBytes: f.manifestBytes,
      createdAt: f.createdAt,
      etag: f.etag,
      complete: f.manifest,
    }));
    return schema.parse({ files: list, next: null });
  }
}

/** Deterministic test content (not random: reproducible failures). */
function content(size: number, seed = 1): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

function fileOf(bytes: Uint8Array<ArrayBuffer>, name = 'report.pdf', lastModified = 1_700_000_000_000): File {
  return new File([bytes], name, { type: 'application/pdf', lastModified });
}

/** Counts requests by kind and can fail chosen ones with a network error. */
function recordingFetch(failWhen?: (url: string, init: RequestInit, n: number) => boolean): FetchLike & { log: string[] } {
  const log: string[] = [];
  const f = async (url: string, init: RequestInit): Promise<Response> => {
    const comp = /[?&]comp=([a-z]+)/.exec(url)?.[1] ?? 'blob';
    const kind = `${init.method ?? 'GET'} ${comp}`;
    log.push(kind);
    if (failWhen?.(url, init, log.length) === true) throw new TypeError('fetch failed');
    return fetch(url, init);
  };
  return Object.assign(f, { log });
}

const transport = (fetchImpl?: FetchLike) => ({
  segmentSize: SEGMENT,
  segmentsPerBlock: PER_BLOCK,
  retry: FAST_RETRY,
  ...(fetchImpl !== undefined ? { fetch: fetchImpl } : {}),
});

beforeAll(async () => {
  azurite = await startAzurite({ inMemory: true });
  credential = new StorageSharedKeyCredential(azurite.accountName, azurite.accountKey);
  await prepareStorage({ ...azurite, container: CONTAINER, corsOrigins: [] });
  container = new BlobServiceClient(azurite.blobEndpoint, credential).getContainerClient(CONTAINER);
  identity = await generateIdentityKeys();
});

afterAll(async () => {
  await azurite.stop();
});

describe('seal, upload, download, open', () => {
  for (const size of [0, 1, SEGMENT, PER_BLOCK * SEGMENT, 10 * PER_BLOCK * SEGMENT + 777]) {
    it(`round-trips ${size} bytes byte for byte`, async () => {
      const api = new FakeTokenEndpoint();
      const bytes = content(size, size + 7);
      const progress: number[] = [];
      const { fileId } = await sendFile({
        api,
        userId: USER,
        file: fileOf(bytes),
        relativePath: 'reports/2024/report.pdf',
        identity,
        journal: memoryUploadJournal(),
        transport: transport(),
        onProgress: (p) => progress.push(p.bytesDone),
      });
      expect(progress.at(-1)).toBe(size);

      const drive = await listDrive(api, identity);
      const entry = drive.files.find((f) => f.fileId === fileId);
      expect(entry?.status).toBe('ok');
      if (entry?.status === 'ok') {
        expect(entry.metadata).toMatchObject({ name: 'report.pdf', type: 'application/pdf', size, relativePath: 'reports/2024/report.pdf' });
      }
      const opened = await openFileStream(api, fileId, identity, { transport: { parallel: 3 } });
      expect(await readAll(opened.stream)).toEqual(bytes);
    });
  }

  it('keeps a bounded number of Put Blocks in flight and commits once', async () => {
    const api = new FakeTokenEndpoint();
    let inFlight = 0;
    let peak = 0;
    const counting: FetchLike = async (url, init) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      try {
        return await fetch(url, init);
      } finally {
        inFlight--;
      }
    };
    await sendFile({
      api,
      userId: USER,
      file: fileOf(content(20 * PER_BLOCK * SEGMENT)),
      identity,
      journal: memoryUploadJournal(),
      transport: { ...transport(counting), parallel: 3 },
    });
    expect(peak).toBeLessThanOrEqual(3);
    expect(peak).toBeGreaterThan(1);
  });
});

describe('resume after a crash', () => {
  it('uploads only the missing blocks and yields an identical file', async () => {
    const api = new FakeTokenEndpoint();
    const journal = memoryUploadJournal();
    const bytes = content(12 * PER_BLOCK * SEGMENT + 100, 42);
    const blocks = planBlocks(bytes.length, SEGMENT, PER_BLOCK);
    // The "crash": after 5 blocks the network is gone for good.
    let blocksSent = 0;
    const crashing = recordingFetch((url, init) => /comp=block&/.test(url) && init.method === 'PUT' && ++blocksSent > 5);
    await expect(
      sendFile({ api, userId: USER, file: fileOf(bytes), identity, journal, transport: { ...transport(crashing), parallel: 1, retry: { ...FAST_RETRY, retries: 0 } } }),
    ).rejects.toMatchObject({ kind: 'network' });

    const [record, ...others] = await pendingUploads(USER, journal);
    expect(others).toHaveLength(0);
    expect(record).toBeDefined();
    if (record === undefined) return;
    expect((await listDrive(api, identity)).unfinished.map((u) => u.fileId)).not.toContain(record.fileId); // nothing committed yet

    const resuming = recordingFetch();
    const { fileId } = await resumeUpload({ api, record, file: fileOf(bytes), identity, journal, transport: transport(resuming) });
    expect(fileId).toBe(record.fileId);
    expect(resuming.log.filter((k) => k === 'PUT block')).toHaveLength(blocks.length - 5);
    expect(resuming.log.filter((k) => k === 'PUT blocklist')).toHaveLength(1);
    expect(await pendingUploads(USER, journal)).toHaveLength(0);

    const opened = await openFileStream(api, fileId, identity);
    expect(await readAll(opened.stream)).toEqual(bytes);
  });

  it('resumes a crash between commit and manifest without committing again', async () => {
    const api = new FakeTokenEndpoint();
    const journal = memoryUploadJournal();
    const bytes = content(3 * PER_BLOCK * SEGMENT, 5);
    const noManifest = recordingFetch((url, init) => init.method === 'PUT' && /\/manifest\?/.test(url));
    await expect(
      sendFile({ api, userId: USER, file: fileOf(bytes), identity, journal, transport: { ...transport(noManifest), retry: { ...FAST_RETRY, retries: 0 } } }),
    ).rejects.toMatchObject({ kind: 'network' });
    const [record] = await pendingUploads(USER, journal);
    if (record === undefined) throw new Error('journal record missing');
    expect((await listDrive(api, identity)).unfinished.map((u) => u.fileId)).toContain(record.fileId);

    const resuming = recordingFetch();
    await resumeUpload({ api, record, file: fileOf(bytes), identity, journal, transport: transport(resuming) });
    expect(resuming.log).not.toContain('PUT block');
    expect(resuming.log).not.toContain('PUT blocklist');
    expect(await readAll((await openFileStream(api, record.fileId, identity)).stream)).toEqual(bytes);
  });

  it('starts over with a new file id when the file picked again differs', async () => {
    const api = new FakeTokenEndpoint();
    const journal = memoryUploadJournal();
    const bytes = content(4 * PER_BLOCK * SEGMENT, 9);
    let n = 0;
    const crashing = recordingFetch((url, init) => /comp=block&/.test(url) && init.method === 'PUT' && ++n > 1);
    await expect(
      sendFile({ api, userId: USER, file: fileOf(bytes), identity, journal, transport: { ...transport(crashing), parallel: 1, retry: { ...FAST_RETRY, retries: 0 } } }),
    ).rejects.toBeInstanceOf(StorageError);
    const [record] = await pendingUploads(USER, journal);
    if (record === undefined) throw new Error('journal record missing');
    const edited = content(bytes.length, 10); // same size, different content and time
    const { fileId } = await resumeUpload({
      api,
      record,
      file: fileOf(edited, 'report.pdf', 1_800_000_000_000),
      identity,
      journal,
      transport: transport(),
    });
    expect(fileId).not.toBe(record.fileId);
    expect(await readAll((await openFileStream(api, fileId, identity)).stream)).toEqual(edited);
    expect(await pendingUploads(USER, journal)).toHaveLength(0);
  });
});

describe('never overwrite', () => {
  it('refuses a second commit and a second manifest with a conflict', async () => {
    const api = new FakeTokenEndpoint();
    const bytes = content(2 * PER_BLOCK * SEGMENT);
    const { fileId } = await sendFile({ api, userId: USER, file: fileOf(bytes), identity, journal: memoryUploadJournal(), transport: transport() });
    const grants = await api.post(pathOf(ROUTES.renewUpload, fileId), undefined, fileGrantsSchema);
    const ids = blockIdsOf(planBlocks(bytes.length, SEGMENT, PER_BLOCK));
    await expect(putBlockList(grants.payload.url, ids, { ifNoneMatch: '*' })).rejects.toMatchObject({ kind: 'conflict', status: 409 });
    await expect(putBlob(grants.manifest.url, new Blob(['x']), { ifNoneMatch: '*' })).rejects.toMatchObject({ kind: 'conflict' });
    // And the file is unchanged.
    expect(await readAll((await openFileStream(api, fileId, identity)).stream)).toEqual(bytes);
  });
});

describe('tampering and truncation', () => {
  async function uploaded(size: number): Promise<{ api: FakeTokenEndpoint; fileId: string; sealed: Buffer }> {
    const api = new FakeTokenEndpoint();
    const { fileId } = await sendFile({ api, userId: USER, file: fileOf(content(size, 3)), identity, journal: memoryUploadJournal(), transport: transport() });
    const sealed = await container.getBlockBlobClient(`files/${USER}/${fileId}/payload`).downloadToBuffer();
    return { api, fileId, sealed };
  }
  async function replacePayload(fileId: string, bytes: Uint8Array): Promise<void> {
    await container.getBlockBlobClient(`files/${USER}/${fileId}/payload`).uploadData(bytes);
  }

  it('errors with TamperedError when one ciphertext byte is flipped', async () => {
    const { api, fileId, sealed } = await uploaded(6 * PER_BLOCK * SEGMENT);
    const bad = Uint8Array.from(sealed);
    const at = Math.floor(bad.length / 2);
    bad[at] = (bad[at] ?? 0) ^ 0x01;
    await replacePayload(fileId, bad);
    const opened = await openFileStream(api, fileId, identity);
    await expect(readAll(opened.stream)).rejects.toBeInstanceOf(TamperedError);
  });

  it('errors with TruncatedError when the last segment is cut off', async () => {
    const { api, fileId, sealed } = await uploaded(6 * PER_BLOCK * SEGMENT + 100);
    await replacePayload(fileId, Uint8Array.from(sealed.subarray(0, sealed.length - (100 + 16))));
    await expect(readAll((await openFileStream(api, fileId, identity)).stream)).rejects.toBeInstanceOf(TruncatedError);
  });

  it('errors with TruncatedError when the payload ends mid-segment', async () => {
    const { api, fileId, sealed } = await uploaded(6 * PER_BLOCK * SEGMENT + 100);
    await replacePayload(fileId, Uint8Array.from(sealed.subarray(0, sealed.length - 50)));
    await expect(readAll((await openFileStream(api, fileId, identity)).stream)).rejects.toBeInstanceOf(TruncatedError);
  });

  it('errors with TamperedError when data is appended', async () => {
    const { api, fileId, sealed } = await uploaded(2 * PER_BLOCK * SEGMENT);
    await replacePayload(fileId, Uint8Array.from([...sealed, 1, 2, 3]));
    await expect(readAll((await openFileStream(api, fileId, identity)).stream)).rejects.toBeInstanceOf(TamperedError);
  });

  it('errors with TamperedError when two blocks are swapped', async () => {
    const { api, fileId, sealed } = await uploaded(4 * SEGMENT);
    const s = SEGMENT + 16;
    const swapped = Buffer.concat([sealed.subarray(s, 2 * s), sealed.subarray(0, s), sealed.subarray(2 * s)]);
    await replacePayload(fileId, swapped);
    await expect(readAll((await openFileStream(api, fileId, identity)).stream)).rejects.toBeInstanceOf(TamperedError);
  });

  it('lists a file whose manifest was damaged as damaged, never hides it', async () => {
    const { api, fileId } = await uploaded(SEGMENT);
    const manifest = container.getBlockBlobClient(`files/${USER}/${fileId}/manifest`);
    const bytes = Uint8Array.from(await manifest.downloadToBuffer());
    const at = bytes.length - 3;
    bytes[at] = (bytes[at] ?? 0) ^ 0x80;
    await manifest.uploadData(bytes);
    const entry = (await listDrive(api, identity)).files.find((f) => f.fileId === fileId);
    expect(entry).toMatchObject({ status: 'damaged' });
    await expect(openFileStream(api, fileId, identity)).rejects.toBeInstanceOf(TamperedError);
  });
});

describe('grants, retries, delete', () => {
  it('renews an expired grant and finishes', async () => {
    const api = new FakeTokenEndpoint();
    api.lifetimeMs = -60_000; // the first grants are already expired
    api.renewalHeals = true;
    const bytes = content(3 * PER_BLOCK * SEGMENT, 11);
    const { fileId } = await sendFile({ api, userId: USER, file: fileOf(bytes), identity, journal: memoryUploadJournal(), transport: transport() });
    expect(api.calls.filter((c) => c.endsWith('/renew')).length).toBeGreaterThanOrEqual(1);
    expect(await readAll((await openFileStream(api, fileId, identity)).stream)).toEqual(bytes);
  });

  it('fails with a refused grant when renewal does not help', async () => {
    const api = new FakeTokenEndpoint();
    api.lifetimeMs = -60_000; // every grant, renewed or not, is expired
    await expect(
      sendFile({ api, userId: USER, file: fileOf(content(100)), identity, journal: memoryUploadJournal(), transport: transport() }),
    ).rejects.toMatchObject({ kind: expect.stringMatching(/^(forbidden|expired-grant)$/) });
  });

  it('retries Put Block and ranged GET after a network error', async () => {
    const api = new FakeTokenEndpoint();
    const failures = new Set<number>();
    const flaky = recordingFetch((url, init, n) => {
      // Fail the 3rd request (a Put Block) and the first ranged GET once each.
      const fail = (n === 3 || (init.method === 'GET' && !/comp=/.test(url) && failures.size === 1)) && !failures.has(n);
      if (fail) failures.add(n);
      return fail;
    });
    const bytes = content(5 * PER_BLOCK * SEGMENT, 13);
    const { fileId } = await sendFile({ api, userId: USER, file: fileOf(bytes), identity, journal: memoryUploadJournal(), transport: transport(flaky) });
    const opened = await openFileStream(api, fileId, identity, { transport: { fetch: flaky, retry: FAST_RETRY } });
    expect(await readAll(opened.stream)).toEqual(bytes);
    expect(failures.size).toBe(2);
  });

  // A file of one block goes as one Put Blob, a larger one as Put Blocks (one at a time here): either gives up after the same limit.
  it.each([
    { shape: 'one Put Blob', bytes: 100, request: 'PUT blob' },
    { shape: 'Put Blocks', bytes: 3 * PER_BLOCK * SEGMENT, request: 'PUT block' },
  ])('gives up with a network error after the retry limit ($shape)', async ({ bytes, request }) => {
    const api = new FakeTokenEndpoint();
    const dead = recordingFetch((url, init) => init.method === 'PUT' && new URL(url).pathname.endsWith('/payload'));
    await expect(
      sendFile({ api, userId: USER, file: fileOf(content(bytes)), identity, journal: memoryUploadJournal(), transport: { ...transport(dead), parallel: 1 } }),
    ).rejects.toMatchObject({ kind: 'network' });
    expect(dead.log.filter((k) => k === request)).toHaveLength(FAST_RETRY.retries + 1);
  });

  it('cancels an upload and forgets its journal record', async () => {
    const api = new FakeTokenEndpoint();
    const journal = memoryUploadJournal();
    const stop = new AbortController();
    const slow: FetchLike = async (url, init) => {
      stop.abort(new DOMException('cancelled by the user', 'AbortError'));
      return fetch(url, init);
    };
    await expect(
      sendFile({ api, userId: USER, file: fileOf(content(8 * PER_BLOCK * SEGMENT)), identity, journal, signal: stop.signal, transport: transport(slow) }),
    ).rejects.toMatchObject({ name: 'AbortError' });
    expect(await pendingUploads(USER, journal)).toHaveLength(0);
  });

  it('deletes manifest and payload', async () => {
    const api = new FakeTokenEndpoint();
    const { fileId } = await sendFile({ api, userId: USER, file: fileOf(content(SEGMENT * 3)), identity, journal: memoryUploadJournal(), transport: transport() });
    await deleteFile(api, fileId);
    expect(await container.getBlockBlobClient(`files/${USER}/${fileId}/payload`).exists()).toBe(false);
    expect(await container.getBlockBlobClient(`files/${USER}/${fileId}/manifest`).exists()).toBe(false);
    expect((await listDrive(api, identity)).files.map((f) => f.fileId)).not.toContain(fileId);
    await deleteFile(api, fileId); // already gone: still fine
  });
});
