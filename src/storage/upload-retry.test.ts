import { describe, expect, test } from 'vitest';
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
  test('waits 1, 2, 4 and 8 s, then gives up', () => {
    const error = new StorageError('network');
    const delays = [0, 1, 2, 3, 4].map((retries) => nextUploadRetry(error, retries));
    expect(delays).toEqual([1000, 2000, 4000, 8000, null]);
    expect(UPLOAD_RETRY_POLICY.retries).toBe(4);
  });

  test('never retries a lasting failure', () => {
    expect(nextUploadRetry(new TamperedError(), 0)).toBeNull();
  });

  test('follows a given policy', () => {
    expect(nextUploadRetry(withStatus(503), 1, { retries: 2, baseDelayMs: 10 })).toBe(20);
    expect(nextUploadRetry(withStatus(503), 2, { retries: 2, baseDelayMs: 10 })).toBeNull();
  });
});
