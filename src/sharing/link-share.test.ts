import { describe, expect, it } from 'vitest';
import { ApiError, OfflineError, UnexpectedResponseError } from '../contract/index.ts';
import { LinkRefusedError, readShareGrants } from './link-share.ts';

const SHARE = '0123456789abcdef0123456789abcdef';
const grant = { url: 'https://blob.example/c/files/a/b/manifest?sig=x', expiresAt: '2026-12-02T00:15:00.000Z', permissions: 'r' };

function answering(status: number, body: unknown): { fetch: typeof fetch; calls: { url: string; init: RequestInit | undefined }[] } {
  const calls: { url: string; init: RequestInit | undefined }[] = [];
  const fetchFn = (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    calls.push({ url: String(input), init });
    return Promise.resolve(new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } }));
  };
  return { fetch: fetchFn, calls };
}

describe('readShareGrants', () => {
  it('asks with the share id only: no body, no credentials, no referrer', async () => {
    const { fetch, calls } = answering(200, { fileId: SHARE, manifest: grant, payload: grant });
    const grants = await readShareGrants('/api/v1/', SHARE, fetch);
    expect(grants.fileId).toBe(SHARE);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.url).toBe(`/api/v1/shares/${SHARE}/read`);
    expect(calls[0]?.init).toEqual({ method: 'POST', credentials: 'omit', referrerPolicy: 'no-referrer' });
  });

  it.each([
    ['link_expired', 410, 'expired', 'This link has expired. Ask the person who sent it for a new one.'],
    ['link_used_up', 410, 'used-up', 'This link has been used as many times as its owner allowed. Ask for a new one.'],
    ['link_revoked', 410, 'revoked', 'The owner has withdrawn this link.'],
    ['link_not_found', 404, 'not-found', 'There is no shared file at this link. It may have been deleted.'],
  ])('%s → LinkRefusedError(%s)', async (code, status, reason, message) => {
    const { fetch } = answering(status, { error: code, message: 'server words' });
    const error: unknown = await readShareGrants('/api/v1', SHARE, fetch).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LinkRefusedError);
    expect(error instanceof LinkRefusedError ? [error.reason, error.message] : null).toEqual([reason, message]);
  });

  it('passes other refusals on as ApiError, a bad answer as UnexpectedResponseError, no answer as OfflineError', async () => {
    const limited = await readShareGrants('/api/v1', SHARE, answering(429, { error: 'rate_limited', message: 'Slow down.' }).fetch).catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(ApiError);
    expect(limited instanceof ApiError ? [limited.status, limited.code] : null).toEqual([429, 'rate_limited']);
    await expect(readShareGrants('/api/v1', SHARE, answering(200, { fileId: SHARE }).fetch)).rejects.toBeInstanceOf(UnexpectedResponseError);
    const offline = () => Promise.reject(new TypeError('Failed to fetch'));
    await expect(readShareGrants('/api/v1', SHARE, offline)).rejects.toBeInstanceOf(OfflineError);
  });
});
