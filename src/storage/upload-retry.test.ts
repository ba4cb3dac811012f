import { describe, expect, test, vi } from 'vitest';
import { TamperedError, WrongKeyError } from '../crypto/errors.ts';
import { StorageError } from './storage-error.ts';
import { SourceChangedError } from './uploader.ts';
import { isTransientFailure, nextUploadRetry, UPLOAD_RETRY_POLICY } from './upload-retry.ts';

function named(name: string): Error {
  const error = new Error('raw detail');
  error.name = name;
  return error;
}

function withStatus(status: number): Error {
  return Object.assign(new Error('raw detail'), { status });
}

describe('isTransientFailure', () => {
  const transient: [string, unknown][] = [
    ['storage unreachable', new StorageError('network')],
    ['storage 5xx', new StorageError('server', { status: 503 })],
    ['storage answered nonsense', new StorageError('bad-response')],
    ['storage 429', new StorageError('bad-response', { status: 429 })],
    ['storage lost acknowledged blocks', new StorageError('bad-response', { status: 400, storageCode: 'InvalidBlockList' })],
    ['API client offline', named('OfflineError')],
    ['API answered nonsense', named('UnexpectedResponseError')],
    ['API 429', withStatus(429)],
    ['API 502', withStatus(502)],
  ];
  const lasting: [string, unknown][] = [
    ['storage full', new StorageError('quota', { status: 507 })],
    ['grant refused', new StorageError('forbidden', { status: 403 })],
    ['expired grant', new StorageError('expired-grant', { status: 403 })],
    ['blob gone', new StorageError('not-found', { status: 404 })],
    ['storage refused a malformed request', new StorageError('bad-response', { status: 400, storageCode: 'InvalidHeaderValue' })],
    ['session expired', named('SessionExpiredError')],
    ['MSAL needs the person', named('InteractionRequiredAuthError')],
    ['API 401', withStatus(401)],
    ['API 413', withStatus(413)],
    ['tampered', new TamperedError()],
    ['wrong key', new WrongKeyError()],
    ['file changed', new SourceChangedError()],
    ['cancelled', new DOMException('stopped', 'AbortError')],
    ['browser quota', new DOMException('full', 'QuotaExceededError')],
  ];

  test.each(transient)('retries %s, online or not', (_label, error) => {
    expect(isTransientFailure(error, true)).toBe(true);
    expect(isTransientFailure(error, false)).toBe(true);
  });

  test.each(lasting)('does not retry %s, online or not', (_label, error) => {
    expect(isTransientFailure(error, true)).toBe(false);
    expect(isTransientFailure(error, false)).toBe(false);
  });

  test.each([
    ['a bare TypeError from fetch', new TypeError('Failed to fetch')],
    ['a plain error', new Error('raw detail')],
    ['an unnamed DOM failure', new DOMException('gone', 'NetworkError')],
    ['a string', 'boom'],
  ])('retries %s only while the browser is offline', (_label, error) => {
    expect(isTransientFailure(error, false)).toBe(true);
    expect(isTransientFailure(error, true)).toBe(false);
  });
});

describe('nextUploadRetry', () => {
  const quick = (delayMs: number) => ({ delayMs, waitingForStorage: false });

  test('retries quickly after 1, 2, 4 and 8 s', () => {
    const error = new StorageError('network');
    expect([0, 1, 2, 3].map((retries) => nextUploadRetry(error, retries, UPLOAD_RETRY_POLICY, { random: () => 0 }))).toEqual([
      quick(1000),
      quick(2000),
      quick(4000),
      quick(8000),
    ]);
  });

  test('then waits for storage without end, at growing pauses capped at 30 s, never failing a transient outage', () => {
    const error = new StorageError('server', { status: 503 });
    const floor = [4, 5, 6, 7, 8, 50, 10_000].map((retries) => nextUploadRetry(error, retries, UPLOAD_RETRY_POLICY, { random: () => 0 }));
    const ceiling = [4, 5, 6, 7, 8, 50, 10_000].map((retries) => nextUploadRetry(error, retries, UPLOAD_RETRY_POLICY, { random: () => 0.999_999 }));
    // Equal jitter: between half the ceiling and the ceiling (5, 10, 20, then 30 s).
    expect(floor.map((r) => r?.delayMs)).toEqual([2500, 5000, 10_000, 15_000, 15_000, 15_000, 15_000]);
    expect(ceiling.map((r) => r?.delayMs)).toEqual([5000, 10_000, 20_000, 30_000, 30_000, 30_000, 30_000]);
    expect([...floor, ...ceiling].every((r) => r?.waitingForStorage === true)).toBe(true);
  });

  test('takes its jitter from the given random source, by default the CSPRNG', () => {
    const error = new StorageError('network');
    expect(nextUploadRetry(error, 4, UPLOAD_RETRY_POLICY, { random: () => 0.5 })?.delayMs).toBe(3750);
    const spy = vi.spyOn(crypto, 'getRandomValues');
    const drawn = nextUploadRetry(error, 6)?.delayMs ?? 0;
    expect(spy).toHaveBeenCalled();
    spy.mockRestore();
    expect(drawn).toBeGreaterThanOrEqual(10_000);
    expect(drawn).toBeLessThanOrEqual(20_000);
  });

  test.each([
    ['storage unreachable', new StorageError('network')],
    ['storage 503', new StorageError('server', { status: 503 })],
    ['storage 429', new StorageError('bad-response', { status: 429 })],
    ['blocks lost by a restarted storage', new StorageError('bad-response', { status: 400, storageCode: 'InvalidBlockList' })],
    ['the endpoint unreachable', named('OfflineError')],
    ['the endpoint 502', withStatus(502)],
    ['the endpoint 429', withStatus(429)],
  ])('keeps waiting after 1000 tries of %s', (_label, error) => {
    expect(nextUploadRetry(error, 1000, UPLOAD_RETRY_POLICY, { online: true, random: () => 0 })).toEqual({ delayMs: 15_000, waitingForStorage: true });
  });

  test.each([
    ['storage 403', new StorageError('forbidden', { status: 403 })],
    ['storage 413', new StorageError('too-large', { status: 413 })],
    ['storage full', new StorageError('quota', { status: 507 })],
    ['another storage 400', new StorageError('bad-response', { status: 400, storageCode: 'InvalidHeaderValue' })],
    ['the endpoint 413', withStatus(413)],
    ['the endpoint 403', withStatus(403)],
    ['tampered', new TamperedError()],
  ])('never retries %s, even first', (_label, error) => {
    expect(nextUploadRetry(error, 0, UPLOAD_RETRY_POLICY, { online: true })).toBeNull();
  });

  test('follows a given policy', () => {
    const policy = { retries: 2, baseDelayMs: 10, waitBaseDelayMs: 100, maxDelayMs: 150 };
    expect(nextUploadRetry(withStatus(503), 1, policy)).toEqual(quick(20));
    expect(nextUploadRetry(withStatus(503), 2, policy, { random: () => 0 })).toEqual({ delayMs: 50, waitingForStorage: true });
    expect(nextUploadRetry(withStatus(503), 9, policy, { random: () => 0 })).toEqual({ delayMs: 75, waitingForStorage: true });
  });
});
