import { afterEach, describe, expect, test, vi } from 'vitest';
import { handleError, messageFor, type ErrorKind } from './handle-error.ts';
import {
  KdfParamsTooHighError,
  MalformedError,
  PostQuantumUnsupportedError,
  TamperedError,
  TruncatedError,
  UnsupportedVersionError,
  WrongKeyError,
  WrongPassphraseError,
} from '../../crypto/errors.ts';
import { StorageError } from '../../storage/storage-error.ts';
import { SourceChangedError } from '../../storage/uploader.ts';
import { isTransientFailure } from '../../storage/upload-retry.ts';
import { ApiError, OfflineError, ServerUnreachableError, SessionExpiredError, UnexpectedResponseError } from '../../auth/api-client.ts';

function named(name: string, message = 'raw detail'): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

function withStatus(status: number): Error {
  return Object.assign(new Error('<?xml version="1.0"?><Error><Code>X</Code></Error>'), { status });
}

describe('handleError', () => {
  const cases: [string, unknown, ErrorKind][] = [
    ['wrong passphrase', new WrongPassphraseError(), 'wrong-passphrase'],
    ['tampered file', new TamperedError(), 'tampered'],
    ['truncated file', new TruncatedError(), 'tampered'],
    ['malformed file', new MalformedError(), 'tampered'],
    ['hostile KDF parameters', new KdfParamsTooHighError(), 'tampered'],
    ['wrong key', new WrongKeyError(), 'wrong-key'],
    ['newer format', new UnsupportedVersionError(), 'unsupported-version'],
    ['post-quantum envelope, browser without ML-KEM', new PostQuantumUnsupportedError(), 'post-quantum-unsupported'],
    ['storage not answering (browser online)', new StorageError('network'), 'storage-down'],
    ['endpoint not answering (browser online)', new ServerUnreachableError(), 'server-down'],
    ['storage full', new StorageError('quota', { status: 507 }), 'quota'],
    ['expired grant', new StorageError('expired-grant', { status: 403 }), 'session-expired'],
    ['too large for the fallback', new StorageError('too-large'), 'too-large'],
    ['browser lacks a feature', new StorageError('unsupported'), 'unsupported-browser'],
    ['storage 5xx', new StorageError('server', { status: 503 }), 'server'],
    ['gone', new StorageError('not-found', { status: 404 }), 'not-found'],
    ['session expired (auth)', new SessionExpiredError(), 'session-expired'],
    ['offline (api client)', new OfflineError(), 'offline'],
    ['API answered nonsense', new UnexpectedResponseError('/files'), 'server'],
    ['API 413 (over the size limit)', new ApiError(413, 'too_large', 'raw detail'), 'over-limit'],
    ['API 404', new ApiError(404, 'not_found', 'raw detail'), 'not-found'],
    ['API 429', new ApiError(429, 'rate_limited', 'raw detail'), 'rate-limited'],
    ['file changed while uploading', new SourceChangedError(), 'file-changed'],
    ['MSAL needs the person again', named('InteractionRequiredAuthError'), 'session-expired'],
    ['unsupported browser (feature check)', named('UnsupportedBrowserError'), 'unsupported-browser'],
    ['API 401', withStatus(401), 'session-expired'],
    ['API 413', withStatus(413), 'over-limit'],
    ['API 429', withStatus(429), 'rate-limited'],
    ['API 500', withStatus(500), 'server'],
    ['abort', new DOMException('stopped', 'AbortError'), 'cancelled'],
    ['quota exceeded in the browser', new DOMException('full', 'QuotaExceededError'), 'quota'],
    ['a string', 'boom', 'unknown'],
    ['undefined', undefined, 'unknown'],
    ['a plain error', new Error('at foo (bar.js:1:2)'), 'unknown'],
  ];

  test.each(cases)('%s', (_label, error, kind) => {
    expect(handleError(error)).toEqual(messageFor(kind));
  });

  test('never repeats the raw message of an error', () => {
    for (const [, error] of cases) {
      const message = handleError(error);
      const text = `${message.title} ${message.action}`;
      expect(text).not.toContain('raw detail');
      expect(text).not.toContain('<?xml');
      expect(text).not.toContain('bar.js');
    }
  });

  test('every kind has a title and an action in plain words', () => {
    for (const [, , kind] of cases) {
      const message = messageFor(kind);
      expect(message.title.length).toBeGreaterThan(5);
      expect(message.action.length).toBeGreaterThan(5);
    }
  });
});

describe('handleError and the upload retry policy', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  // "Uploads continue on their own" (offline) and "try again in a moment" must be true of what storage retries.
  const temporary = new Set<ErrorKind>(['offline', 'server-down', 'storage-down', 'server', 'rate-limited']);
  const errors: unknown[] = [
    new StorageError('network'),
    new StorageError('server', { status: 503 }),
    new StorageError('bad-response'),
    new StorageError('quota', { status: 507 }),
    new StorageError('expired-grant', { status: 403 }),
    new OfflineError(),
    new ServerUnreachableError(),
    new UnexpectedResponseError('/files'),
    new SessionExpiredError(),
    new ApiError(429, 'rate_limited', 'raw detail'),
    new ApiError(503, 'unavailable', 'raw detail'),
    new ApiError(413, 'too_large', 'raw detail'),
    new TamperedError(),
    new SourceChangedError(),
    named('InteractionRequiredAuthError'),
    withStatus(500),
    withStatus(401),
    new DOMException('stopped', 'AbortError'),
    new DOMException('gone', 'NetworkError'),
    new TypeError('Failed to fetch'),
    new Error('at foo (bar.js:1:2)'),
    'boom',
  ];

  test.each([true, false])('storage retries exactly what the words call temporary (online: %s)', (online) => {
    vi.stubGlobal('navigator', { onLine: online });
    for (const error of errors) {
      expect.soft(isTransientFailure(error), String(error)).toBe(temporary.has(handleError(error).kind));
    }
  });
});

describe('handleError tells offline, server and storage apart', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  test('storage failing while the browser is online is "Storage is not answering", never "You are offline"', () => {
    vi.stubGlobal('navigator', { onLine: true });
    expect(handleError(new StorageError('network')).title).toBe('Storage is not answering.');
    expect(handleError(new ServerUnreachableError()).title).toBe('The server is not answering.');
    expect(handleError(new OfflineError()).title).toBe('You are offline.');
  });

  test('anything failing while the browser is offline is "You are offline"', () => {
    vi.stubGlobal('navigator', { onLine: false });
    expect(handleError(new StorageError('network')).title).toBe('You are offline.');
    expect(handleError(new ServerUnreachableError()).title).toBe('You are offline.');
  });
});
