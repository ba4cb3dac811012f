/**
 * `resealFile` (src/sharing/reseal.ts) end to end in Node: the real client
 * code (download pipeline, upload pipeline, link shares) against the real
 * API and a real Azurite. A re-seal ends the file's links, opens
 * byte-identical under a new key with only the owner's envelopes, and keeps
 * its name; cut off during the upload, it leaves the old file whole and
 * can be done again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ZodType } from 'zod';
import { ApiError, errorBody } from '../src/contract/index.ts';
import { generateIdentityKeys, STANZA_RSA_OAEP, type IdentityKeys } from '../src/crypto/index.ts';
import { parseManifest } from '../src/crypto/manifest.ts';
import { readAll } from '../src/crypto/test-streams.ts';
import { createLinkShare, fetchLinkShare, LinkRefusedError } from '../src/sharing/link-share.ts';
import { parseShareLink } from '../src/sharing/link-text.ts';
import { resealFile, type ResealProgress } from '../src/sharing/reseal.ts';
import { getBlob } from '../src/storage/blob-rest.ts';
import { apiPaths, fileGrantsSchema, type GrantApi } from '../src/storage/grants.ts';
import { listDrive, openFileStream } from '../src/storage/receiver.ts';
import { sendFile } from '../src/storage/sender.ts';
import { memoryUploadJournal } from '../src/storage/upload-journal.ts';
import { startAzurite, type AzuriteHandle } from './local/azurite.ts';
import { call, createTestApi, type TestApi } from './test-support/test-api.ts';
import { createTestIssuer, type TestIssuer } from './test-support/test-issuer.ts';

const ORIGIN = 'http://127.0.0.1:17101';
const SEGMENT = 4096;
const transport = { segmentSize: SEGMENT, segmentsPerBlock: 2, retry: { retries: 1, baseDelayMs: 5, maxDelayMs: 10 } };

let azurite: AzuriteHandle;
let issuer: TestIssuer;
let t: TestApi;
let owner: IdentityKeys;
let api: GrantApi;

/** A GrantApi over the injected API, as the app's client is over HTTP. */
function apiFor(token: string): GrantApi {
  const send = async <T>(method: string, path: string, body: unknown, schema: ZodType<T>): Promise<T> => {
    const res = await call(t.api, method, `/api/v1${path}`, { token, ...(body === undefined ? {} : { json: body }) });
    if (res.status >= 400) {
      const e = errorBody.parse(res.json);
      throw new ApiError(res.status, e.error, e.message);
    }
    return schema.parse(res.json);
  };
  return { get: (path, schema) => send('GET', path, undefined, schema), post: (path, body, schema) => send('POST', path, body, schema) };
}

/** Seeded bytes (a small xorshift), so a failure can be replayed. */
function seededBytes(seed: number, length: number): Uint8Array<ArrayBuffer> {
  console.log(`reseal-flow seed: ${seed}`);
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

beforeAll(async () => {
  [azurite, issuer] = await Promise.all([startAzurite({ inMemory: true, port: 0 }), createTestIssuer()]);
  t = await createTestApi(azurite, issuer, { container: 'sealdrop' });
  owner = await generateIdentityKeys();
  api = apiFor(await issuer.mint('reseal-flow', { email: 'reseal-flow@example.com', email_verified: true }));
}, 120_000);

afterAll(async () => {
  await azurite?.stop();
});

async function upload(bytes: Uint8Array<ArrayBuffer>, name: string): Promise<string> {
  const file = new File([bytes], name, { type: 'application/octet-stream', lastModified: 1_700_000_000_000 });
  const { fileId } = await sendFile({ api, identity: owner, userId: 'u', file, journal: memoryUploadJournal(), transport });
  return fileId;
}

async function plaintextOf(fileId: string): Promise<{ bytes: Uint8Array; name: string; lastModified: number }> {
  const opened = await openFileStream(api, fileId, owner);
  return { bytes: await readAll(opened.stream), name: opened.metadata.name, lastModified: opened.metadata.lastModified };
}

describe('resealFile', () => {
  it('ends the links, and the file opens byte-identical under a new key with only the owner’s envelope', async () => {
    const bytes = seededBytes(0x5eed01, 3 * SEGMENT + 123);
    const oldId = await upload(bytes, 'report.pdf');
    const { link } = await createLinkShare(api, owner, oldId, { expiresInSeconds: 3600, maxDownloads: null }, ORIGIN);
    const parsed = parseShareLink(link);
    // The link works before.
    await fetchLinkShare(`${ORIGIN}/api/v1`, parsed.shareId, (input, init) => fetchViaApi(input, init));

    const phases: ResealProgress['phase'][] = [];
    const result = await resealFile(api, owner, oldId, { transport, onProgress: (p) => void (phases.includes(p.phase) || phases.push(p.phase)) });
    expect(result.endedShares).toBe(1);
    expect(result.fileId).not.toBe(oldId);
    expect(phases).toEqual(['ending-shares', 'downloading', 'uploading']);

    const reopened = await plaintextOf(result.fileId);
    expect(reopened.bytes).toEqual(bytes);
    expect(reopened.name).toBe('report.pdf');
    expect(reopened.lastModified).toBe(1_700_000_000_000);
    // The new manifest holds the owner's RSA envelope only: no link envelope survives.
    const grants = await api.post(apiPaths.read(result.fileId), undefined, fileGrantsSchema);
    const stanzas = parseManifest(await getBlob(grants.manifest.url)).stanzas;
    expect(stanzas.map((s) => s.typeId)).toEqual([STANZA_RSA_OAEP]);

    await expect(fetchLinkShare(`${ORIGIN}/api/v1`, parsed.shareId, (input, init) => fetchViaApi(input, init))).rejects.toThrow(LinkRefusedError);
    await expect(openFileStream(api, oldId, owner)).rejects.toMatchObject({ name: 'ApiError', status: 404 });
    const listing = await listDrive(api, owner);
    const ids = listing.files.map((f) => f.fileId);
    expect(ids).toContain(result.fileId);
    expect(ids).not.toContain(oldId);
  });

  it('cut off during the upload, leaves the old file whole (and at most one unfinished upload); re-sealing again works', async () => {
    const bytes = seededBytes(0x5eed02, 5 * SEGMENT + 7);
    const oldId = await upload(bytes, 'notes.txt');
    const stop = new AbortController();
    const cut = new Error('connection lost');
    const attempt = resealFile(api, owner, oldId, {
      transport,
      signal: stop.signal,
      onProgress: (p) => {
        if (p.phase === 'uploading' && p.bytesDone > 0) stop.abort(cut);
      },
    });
    await expect(attempt).rejects.toBe(cut);

    expect((await plaintextOf(oldId)).bytes).toEqual(bytes);
    const listing = await listDrive(api, owner);
    expect(listing.files.map((f) => f.fileId)).toContain(oldId);
    // The cut upload is listed as unfinished if a block of it reached storage first, never as a file.
    expect(listing.unfinished.length).toBeLessThanOrEqual(1);
    expect(listing.files.filter((f) => f.status === 'ok' && f.metadata.name === 'notes.txt').map((f) => f.fileId)).toEqual([oldId]);

    const again = await resealFile(api, owner, oldId, { transport });
    expect((await plaintextOf(again.fileId)).bytes).toEqual(bytes);
    const after = await listDrive(api, owner);
    expect(after.files.map((f) => f.fileId)).not.toContain(oldId);
  });
});

/** The anonymous link route, through the injected API (the link code's fetch seam). */
async function fetchViaApi(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
  const res = await call(t.api, init?.method ?? 'GET', url.pathname);
  return new Response(JSON.stringify(res.json), { status: res.status, headers: { 'content-type': 'application/json' } });
}
