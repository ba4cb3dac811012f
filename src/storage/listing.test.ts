/**
 * Listing at scale (issue 16) against a fake API and blob service: one API
 * call per page and none per file, manifests read with the grants the
 * listing carries, and the device cache's delta (only new or changed
 * manifests fetched, deleted files dropped, nothing dropped on a failed
 * listing).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { ZodType } from 'zod';
import { generateIdentityKeys, rsaRecipient, type IdentityKeys } from '../crypto/index.ts';
import { sealForTest } from '../crypto/test-seal.ts';
import type { FetchLike } from './blob-rest.ts';
import type { FileEntry, GrantApi } from './grants.ts';
import { cachedFor, memoryListCache, planListDelta, type CachedFile } from './list-cache.ts';
import { CACHE_LOAD_DEADLINE_MS, listDriveProgressive } from './listing.ts';
import type { DriveFile } from './receiver.ts';

const ORIGIN = 'https://fake.blob.test/sealdrop/';
const EXPIRES = new Date(Date.now() + 15 * 60_000).toISOString();

function hexId(n: number): string {
  return n.toString(16).padStart(32, '0');
}

/** A drive: sealed manifests by file id, listed a few files a page, counting every call. */
class FakeDrive implements GrantApi {
  readonly manifests = new Map<string, { bytes: Uint8Array; etag: string }>();
  readonly unfinished = new Set<string>();
  readonly calls: string[] = [];
  readonly blobGets: string[] = [];
  pageSize = 10;
  grantInListing = true;
  failPage: number | null = null;

  constructor(private readonly identity: IdentityKeys) {}

  async add(n: number, name = `file-${n}.txt`): Promise<string> {
    const fileId = hexId(n);
    const { manifest } = await sealForTest({
      fileId,
      plaintext: new Uint8Array(3),
      metadata: { name, type: 'text/plain', size: 3, lastModified: n },
      recipients: [rsaRecipient(this.identity.encrypt.publicKey)],
      signer: this.identity.sign,
    });
    const old = this.manifests.get(fileId);
    this.manifests.set(fileId, { bytes: manifest, etag: `"e${n}-${old === undefined ? 0 : Number(old.etag.split('-')[1]?.slice(0, -1)) + 1}"` });
    return fileId;
  }

  readonly fetch: FetchLike = (input) => {
    const fileId = new URL(input).pathname.split('/')[2] ?? '';
    this.blobGets.push(fileId);
    const m = this.manifests.get(fileId);
    return Promise.resolve(m === undefined ? new Response(null, { status: 404 }) : new Response(new Blob([m.bytes as Uint8Array<ArrayBuffer>]), { status: 200 }));
  };

  private grant(fileId: string) {
    return { url: `${ORIGIN}${fileId}/manifest?sig=x`, expiresAt: EXPIRES, permissions: 'r' as const };
  }

  get<T>(path: string, schema: ZodType<T>): Promise<T> {
    this.calls.push(`GET ${path.split('?')[0] ?? ''}`);
    const ids = [...new Set([...this.manifests.keys(), ...this.unfinished])].sort();
    const from = Number(new URLSearchParams(path.split('?')[1] ?? '').get('cursor')?.slice(1) ?? '0');
    if (this.failPage !== null && from / this.pageSize === this.failPage) return Promise.reject(new Error('page refused'));
    const slice = ids.slice(from, from + this.pageSize);
    const files = slice.map((fileId): FileEntry => {
      const m = this.manifests.get(fileId);
      const entry = { fileId, payloadBytes: 3, manifestBytes: m?.bytes.length ?? 0, createdAt: '2026-01-01T00:00:00.000Z', etag: m?.etag ?? '"p"', complete: m !== undefined };
      return m !== undefined && this.grantInListing ? { ...entry, manifestRead: this.grant(fileId) } : entry;
    });
    const next = from + this.pageSize < ids.length ? `c${from + this.pageSize}` : null;
    return Promise.resolve(schema.parse({ files, next }));
  }

  post<T>(path: string, _body: unknown, schema: ZodType<T>): Promise<T> {
    this.calls.push(`POST ${path}`);
    const fileId = path.split('/')[2] ?? '';
    return Promise.resolve(schema.parse({ fileId, payload: this.grant(fileId), manifest: this.grant(fileId) }));
  }

  reset(): void {
    this.calls.length = 0;
    this.blobGets.length = 0;
  }
}

let identity: IdentityKeys;
beforeAll(async () => {
  identity = await generateIdentityKeys();
});

async function drive(n: number): Promise<FakeDrive> {
  const d = new FakeDrive(identity);
  await Promise.all(Array.from({ length: n }, (_, i) => d.add(i + 1)));
  return d;
}

const names = (files: readonly { status: string }[]): string[] =>
  files.map((f) => (f.status === 'ok' ? (f as DriveFile).metadata.name : 'damaged')).sort();

describe('listDriveProgressive', () => {
  it('costs one API call per page and none per file, reading every manifest with the grant the listing carried', async () => {
    const d = await drive(25);
    const listing = await listDriveProgressive(d, identity, { transport: { fetch: d.fetch } });
    expect(listing.files).toHaveLength(25);
    expect(listing.files.every((f) => f.status === 'ok')).toBe(true);
    expect(d.calls).toEqual(['GET /files', 'GET /files', 'GET /files']);
    expect(d.blobGets.sort()).toEqual([...d.manifests.keys()].sort());
  });

  it('asks the read route only when the listing carries no grant (an older server)', async () => {
    const d = await drive(3);
    d.grantInListing = false;
    await listDriveProgressive(d, identity, { transport: { fetch: d.fetch } });
    expect(d.calls.filter((c) => c.startsWith('POST'))).toHaveLength(3);
  });

  it('reports progress while it fills, ending with every file', async () => {
    const d = await drive(25);
    const seen: number[] = [];
    await listDriveProgressive(d, identity, { transport: { fetch: d.fetch }, onProgress: (p) => seen.push(p.files.length) });
    // The first report comes with the first page, before the manifests are open; the last has every file.
    expect(seen[0]).toBeLessThan(25);
    expect(seen.at(-1)).toBe(25);
  });

  it('warm: fetches only new and changed manifests, drops deleted files from the cache', async () => {
    const d = await drive(25);
    const cache = memoryListCache();
    await listDriveProgressive(d, identity, { cache, transport: { fetch: d.fetch } });
    expect(cache.files.size).toBe(25);

    const added = [await d.add(101, 'new-a.txt'), await d.add(102, 'new-b.txt')];
    const changed = await d.add(5, 'renamed.txt');
    const deleted = hexId(7);
    d.manifests.delete(deleted);
    d.reset();

    const warm = await listDriveProgressive(d, identity, { cache, transport: { fetch: d.fetch } });
    expect(d.blobGets.sort()).toEqual([...added, changed].sort());
    expect(d.calls.every((c) => c === 'GET /files')).toBe(true);
    expect(warm.files).toHaveLength(26);
    expect(names(warm.files)).toContain('renamed.txt');
    expect(names(warm.files)).not.toContain('file-5.txt');
    expect(names(warm.files)).not.toContain('file-7.txt');
    expect(cache.files.has(deleted)).toBe(false);
    expect(cache.files.get(changed)?.file.metadata.name).toBe('renamed.txt');
    expect(cache.files.size).toBe(26);
  });

  it('drops nothing from the cache when a page fails, and throws that failure', async () => {
    const d = await drive(25);
    const cache = memoryListCache();
    await listDriveProgressive(d, identity, { cache, transport: { fetch: d.fetch } });
    d.failPage = 1;
    await expect(listDriveProgressive(d, identity, { cache, transport: { fetch: d.fetch } })).rejects.toThrow('page refused');
    expect(cache.files.size).toBe(25);
  });

  it('goes on cold when the cache never opens (a blocked IndexedDB never stalls the listing)', async () => {
    const d = await drive(3);
    const stuck = { ...memoryListCache(), load: () => new Promise<Map<string, CachedFile>>(() => undefined) };
    const started = Date.now();
    const listing = await listDriveProgressive(d, identity, { cache: stuck, transport: { fetch: d.fetch } });
    expect(listing.files).toHaveLength(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(CACHE_LOAD_DEADLINE_MS - 50);
  });

  it('never takes a cached name for a file whose manifest now fails (damaged, not cached)', async () => {
    const d = await drive(2);
    const cache = memoryListCache();
    await listDriveProgressive(d, identity, { cache, transport: { fetch: d.fetch } });
    const id = hexId(1);
    d.manifests.set(id, { bytes: new Uint8Array(40), etag: '"tampered"' });
    const again = await listDriveProgressive(d, identity, { cache, transport: { fetch: d.fetch } });
    expect(again.files.find((f) => f.fileId === id)?.status).toBe('damaged');
  });
});

describe('planListDelta', () => {
  const entry = (id: number, etag: string, complete = true): FileEntry => ({
    fileId: hexId(id),
    payloadBytes: 1,
    manifestBytes: 1,
    createdAt: '2026-01-01T00:00:00.000Z',
    etag,
    complete,
  });
  const cachedFile = (id: number, etag: string): CachedFile => ({
    etag,
    file: { status: 'ok', fileId: hexId(id), createdAt: '', payloadBytes: 1, metadata: { name: `f${id}`, type: '', size: 1, lastModified: 0 }, sealedBy: 'x' },
  });
  const cache = new Map([1, 2, 3, 4].map((i) => [hexId(i), cachedFile(i, `"${i}"`)]));

  it('reuses same-ETag files, fetches new and changed ones, drops files gone or no longer complete', () => {
    const delta = planListDelta([entry(1, '"1"'), entry(2, '"changed"'), entry(3, '"3"', false), entry(9, '"9"')], cache);
    expect(delta.reuse.map((c) => c.file.fileId)).toEqual([hexId(1)]);
    expect(delta.fetch.map((e) => e.fileId)).toEqual([hexId(2), hexId(9)]);
    expect(delta.drop.sort()).toEqual([hexId(3), hexId(4)]);
  });

  it('never reuses a record for an empty ETag', () => {
    const empty = new Map([[hexId(1), cachedFile(1, '')]]);
    expect(planListDelta([entry(1, '')], empty).fetch).toHaveLength(1);
    expect(cachedFor(entry(1, ''), empty)).toBeNull();
  });

  it('page by page, agrees with the whole-listing plan', () => {
    const listed = [entry(1, '"1"'), entry(2, '"x"'), entry(5, '"5"')];
    const delta = planListDelta(listed, cache);
    expect(listed.filter((e) => cachedFor(e, cache) !== null).map((e) => e.fileId)).toEqual(delta.reuse.map((c) => c.file.fileId));
  });
});
