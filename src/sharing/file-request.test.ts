import { beforeAll, describe, expect, it } from 'vitest';
import { ApiError, OfflineError } from '../contract/index.ts';
import { exportPublicIdentity, fingerprint, generateIdentityKeys, newEphemeralSigner, type IdentityKeys } from '../crypto/index.ts';
import { RequestKeyMismatchError, RequestRefusedError, openFileRequest, sendToRequest, type OpenedRequest } from './file-request.ts';

const REQUEST = '0123456789abcdef0123456789abcdef';
let owner: IdentityKeys;
let identityB64: string;
let ownerFingerprint: string;
let other: string;

beforeAll(async () => {
  owner = await generateIdentityKeys();
  const bytes = await exportPublicIdentity(owner);
  identityB64 = btoa(String.fromCharCode(...bytes));
  ownerFingerprint = await fingerprint(bytes);
  other = await fingerprint(await exportPublicIdentity(await generateIdentityKeys()));
}, 120_000);

function answering(status: number, body: unknown): { fetch: typeof fetch; calls: { url: string; init: RequestInit | undefined }[] } {
  const calls: { url: string; init: RequestInit | undefined }[] = [];
  const fetchFn = (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    calls.push({ url: String(input), init });
    return Promise.resolve(new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } }));
  };
  return { fetch: fetchFn, calls };
}

const openAnswer = () => ({ publicIdentity: identityB64, expiresAt: '2026-12-09T00:00:00.000Z', maxBytes: 1000, usedBytes: 10 });

describe('openFileRequest', () => {
  it('accepts the owner’s key when its fingerprint is the link’s, asking with the request id only', async () => {
    const { fetch, calls } = answering(200, openAnswer());
    const opened = await openFileRequest('/api/v1/', REQUEST, ownerFingerprint, fetch);
    expect(opened).toMatchObject({ requestId: REQUEST, fingerprint: ownerFingerprint, maxBytes: 1000, usedBytes: 10 });
    expect(opened.ownerKey.algorithm.name).toBe('RSA-OAEP');
    expect(calls).toEqual([{ url: `/api/v1/requests/${REQUEST}/open`, init: { method: 'POST', credentials: 'omit', referrerPolicy: 'no-referrer' } }]);
  });

  it('refuses a key whose fingerprint is not the link’s (a swapped key) with RequestKeyMismatchError', async () => {
    const { fetch } = answering(200, openAnswer());
    const refused = openFileRequest('/api/v1', REQUEST, other, fetch);
    await expect(refused).rejects.toThrow(RequestKeyMismatchError);
    await expect(openFileRequest('/api/v1', REQUEST, other, fetch)).rejects.toThrow(/not the one in the link, so nothing was sent/);
  });

  it.each([
    ['request_expired', 410, 'expired', 'This file request has expired. Ask the person who sent it for a new one.'],
    ['request_revoked', 410, 'revoked', 'The person who asked for files has closed this request.'],
    ['request_not_found', 404, 'not-found', 'There is no file request at this link. It may have been deleted.'],
  ])('turns %s into a plain RequestRefusedError', async (code, status, reason, message) => {
    const { fetch } = answering(status, { error: code, message: 'server words' });
    const error = await openFileRequest('/api/v1', REQUEST, ownerFingerprint, fetch).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RequestRefusedError);
    expect((error as RequestRefusedError).reason).toBe(reason);
    expect((error as RequestRefusedError).message).toBe(message);
  });

  it('passes other refusals on as ApiError and a failed fetch as OfflineError', async () => {
    const { fetch } = answering(429, { error: 'rate_limited', message: 'Too many requests from your network. Please wait a moment.' });
    const limited = await openFileRequest('/api/v1', REQUEST, ownerFingerprint, fetch).catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(ApiError);
    expect((limited as ApiError).status).toBe(429);
    const offline = () => Promise.reject(new TypeError('Failed to fetch'));
    await expect(openFileRequest('/api/v1', REQUEST, ownerFingerprint, offline)).rejects.toThrow(OfflineError);
  });
});

describe('sendToRequest', () => {
  it('stops at a full request before touching storage, with the server’s words about what is left', async () => {
    const { fetch, calls } = answering(413, { error: 'request_cap_reached', message: 'This file does not fit: the request takes 296 more bytes.' });
    const request: OpenedRequest = { requestId: REQUEST, ownerKey: owner.encrypt.publicKey, fingerprint: ownerFingerprint, expiresAt: '2026-12-09T00:00:00.000Z', maxBytes: 1000, usedBytes: 704 };
    const file = new File([new Uint8Array(2000)], 'big.bin');
    const error = await sendToRequest({ apiBase: '/api/v1', request, signer: await newEphemeralSigner(), file, senderName: 'Ann', fetchFn: fetch }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RequestRefusedError);
    expect((error as RequestRefusedError).reason).toBe('full');
    expect((error as RequestRefusedError).message).toBe('This file does not fit: the request takes 296 more bytes.');
    // One call, carrying sizes only: no name, no sender name.
    expect(calls).toHaveLength(1);
    expect(calls[0]?.url).toBe(`/api/v1/requests/${REQUEST}/uploads`);
    const body = JSON.parse(String(calls[0]?.init?.body)) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['manifestBytes', 'payloadBytes']);
    expect(body.payloadBytes).toBeGreaterThan(2000);
  });
});
