/**
 * The file list carries each complete file's manifest read grant (issue 16):
 * listing a drive costs one API call per page, never one per file. By
 * injection, storage in memory.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { fileListSchema, type FileEntry } from '../../../src/contract/index.ts';
import { deriveUserId } from '../auth/user-id.ts';
import { tokenBucketLimiter } from '../rate-limit.ts';
import { fileBlob } from '../storage/blob-layout.ts';
import { memoryStore, type MemoryStore } from '../../test-support/memory-store.ts';
import { call, TEST_DIRECTORY_KEY } from '../../test-support/test-api.ts';
import { createTestIssuer, TEST_ISSUER, testVerifier, type TestIssuer } from '../../test-support/test-issuer.ts';
import type { Api } from './api-types.ts';
import { createApi } from './app.ts';

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await createTestIssuer();
});

const NOW = new Date('2026-06-01T12:00:00Z');
const idOf = (sub: string): string => deriveUserId({ scheme: 'oidc', iss: TEST_ISSUER, sub });

function makeApi(): { api: Api; store: MemoryStore; audit: { action: unknown; blob: unknown }[] } {
  const store = memoryStore();
  const audit: { action: unknown; blob: unknown }[] = [];
  const api = createApi({
    verifyToken: testVerifier(issuer.keys),
    signer: { sign: (r) => Promise.resolve(`sv=2025-01-01&sp=${r.permissions}&sig=x`) },
    store,
    blobEndpoint: 'https://acct.blob.core.windows.net',
    container: 'sealdrop',
    sasMinutes: 15,
    maxFileBytes: 1_000_000,
    maxManifestBytes: 10_000,
    maxBodyBytes: 16 * 1024,
    directoryKey: TEST_DIRECTORY_KEY,
    userLimiter: tokenBucketLimiter({ perMinute: 10_000 }),
    ipLimiter: tokenBucketLimiter({ perMinute: 10_000 }),
    audit: (entry) => {
      if (entry.event === 'grant') audit.push({ action: entry.action, blob: entry.blob });
    },
    logError: (line) => {
      throw new Error(`unexpected server error: ${line}`);
    },
    now: () => NOW,
  });
  return { api, store, audit };
}

async function upload(api: Api, store: MemoryStore, token: string, user: string, opts: { manifest: boolean; manifestBytes?: number }): Promise<string> {
  const res = await call(api, 'POST', '/api/v1/uploads', { token, json: { payloadBytes: 4, manifestBytes: 5 } });
  const fileId = (res.json as { fileId: string }).fileId;
  store.put(fileBlob(user, fileId, 'payload'), new Uint8Array(4));
  if (opts.manifest) store.put(fileBlob(user, fileId, 'manifest'), new Uint8Array(opts.manifestBytes ?? 5));
  return fileId;
}

async function listAll(api: Api, token: string, limit: number): Promise<{ files: FileEntry[]; calls: number }> {
  const files: FileEntry[] = [];
  let cursor: string | null = null;
  let calls = 0;
  do {
    const q = new URLSearchParams({ limit: String(limit), ...(cursor === null ? {} : { cursor }) });
    const res = await call(api, 'GET', `/api/v1/files?${q.toString()}`, { token });
    calls++;
    expect(res.status).toBe(200);
    const page = fileListSchema.parse(res.json);
    files.push(...page.files);
    cursor = page.next;
  } while (cursor !== null);
  return { files, calls };
}

describe('GET /files', () => {
  it('hands out a read grant for the manifest of every complete file, and none for unfinished or swept ones', async () => {
    const { api, store, audit } = makeApi();
    const token = await issuer.mint('lia');
    const user = idOf('lia');
    const complete = [
      await upload(api, store, token, user, { manifest: true }),
      await upload(api, store, token, user, { manifest: true }),
      await upload(api, store, token, user, { manifest: true }),
    ];
    const unfinished = await upload(api, store, token, user, { manifest: false });
    const oversized = await upload(api, store, token, user, { manifest: true, manifestBytes: 6 });
    audit.length = 0;

    // Limit 2 blobs a page: files split across pages, the cursor's skip path runs too.
    const { files } = await listAll(api, token, 2);
    const byId = new Map(files.map((f) => [f.fileId, f]));
    expect(files.length).toBe(byId.size);
    expect([...byId.keys()].sort()).toEqual([...complete, unfinished].sort());
    for (const fileId of complete) {
      const grant = byId.get(fileId)?.manifestRead;
      expect(grant?.permissions).toBe('r');
      expect(grant?.url.startsWith(`https://acct.blob.core.windows.net/sealdrop/${fileBlob(user, fileId, 'manifest')}?`)).toBe(true);
      expect(grant?.url).toContain('sp=r&');
    }
    expect(byId.get(unfinished)?.manifestRead).toBeUndefined();
    expect(byId.has(oversized)).toBe(false);
    // Every grant is audited, and only manifests are granted.
    expect(audit.filter((a) => a.action === 'list-read').map((a) => a.blob).sort()).toEqual(complete.map((id) => fileBlob(user, id, 'manifest')).sort());
  });

  it('lists 250 files in one call of 1000 blobs (about 333 files a page at most)', async () => {
    const { api, store } = makeApi();
    const token = await issuer.mint('max');
    const user = idOf('max');
    for (let i = 0; i < 250; i++) await upload(api, store, token, user, { manifest: true });
    const { files, calls } = await listAll(api, token, 1000);
    expect(files.length).toBe(250);
    expect(calls).toBe(1);
    expect(files.every((f) => f.manifestRead !== undefined)).toBe(true);
  });
});
