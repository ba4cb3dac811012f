import { describe, expect, it } from 'vitest';
import { ServerUnreachableError } from '../../auth/api-client.ts';
import { ApiError } from '../../contract/index.ts';
import { ServiceStatus } from './service-status.svelte.ts';
import { diagnose } from './service-status.ts';

const ok = { status: 'ok', storage: 'ok', identity: 'ok' } as const;

describe('diagnose', () => {
  it('says offline only when the browser says so, or our own origin does not answer a storage failure either', () => {
    expect(diagnose('storage', false, ok)).toBe('offline');
    expect(diagnose('server', false, 'no-answer')).toBe('offline');
    expect(diagnose('storage', true, 'no-answer')).toBe('offline');
  });
  it('names the endpoint when only it fails', () => {
    expect(diagnose('server', true, 'no-answer')).toBe('server-down');
    expect(diagnose('server', true, 'error-answer')).toBe('server-down');
    expect(diagnose('server', true, ok)).toBeNull();
  });
  it('names storage or sign-in as the endpoint reports them', () => {
    expect(diagnose('server', true, { status: 'degraded', storage: 'down', identity: 'ok' })).toBe('storage-down');
    expect(diagnose('storage', true, { status: 'degraded', storage: 'down', identity: 'ok' })).toBe('storage-down');
    expect(diagnose('server', true, { status: 'degraded', storage: 'ok', identity: 'down' })).toBe('identity-down');
    expect(diagnose('storage', true, ok)).toBe('storage-down');
  });
});

describe('ServiceStatus', () => {
  it('turns a failed storage request and a degraded /health into "Storage is not answering", and clears when all is well', async () => {
    const answers = [{ status: 'degraded', storage: 'down', identity: 'ok' } as const, ok];
    const status = new ServiceStatus(() => Promise.resolve(answers.shift() ?? ok), () => true);
    await status.failed('storage');
    expect(status.problem?.title).toBe('Storage is not answering.');
    status.dismiss();
    expect(status.problem).toBeNull();
    await status.failed('server');
    expect(status.problem).toBeNull();
  });
  it('says the server is not answering when /health gets no answer after an endpoint failure', async () => {
    const status = new ServiceStatus(() => Promise.reject(new ServerUnreachableError()), () => true);
    await status.failed('server');
    expect(status.problem?.title).toBe('The server is not answering.');
    const erring = new ServiceStatus(() => Promise.reject(new ApiError(500, 'internal', 'x')), () => true);
    await erring.failed('server');
    expect(erring.problem?.kind).toBe('server-down');
  });
});
