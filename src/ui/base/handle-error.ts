/**
 * The one place that turns any error into words for the user.
 *
 * Every typed failure from crypto, storage, the API client, sign-in and the
 * browser maps to a short title and what to do next. Raw messages of
 * unknown errors are never shown: they may hold a stack, storage XML or a
 * URL. Nothing here logs.
 */
import { ApiError, OfflineError, ServerUnreachableError, SessionExpiredError, UnexpectedResponseError } from '../../auth/api-client.ts';
import { SealdropCryptoError } from '../../crypto/errors.ts';
import { StorageError } from '../../storage/storage-error.ts';
import { SourceChangedError } from '../../storage/uploader.ts';

/** The families of failure the UI reacts to differently (e.g. sign in again, wait for the network). */
export type ErrorKind =
  | 'wrong-passphrase'
  | 'tampered'
  | 'wrong-key'
  | 'unsupported-version'
  | 'offline'
  | 'server-down'
  | 'storage-down'
  | 'identity-down'
  | 'quota'
  | 'session-expired'
  | 'too-large'
  | 'over-limit'
  | 'file-changed'
  | 'unsupported-browser'
  | 'post-quantum-unsupported'
  | 'not-found'
  | 'conflict'
  | 'forbidden'
  | 'rate-limited'
  | 'server'
  | 'cancelled'
  | 'unknown';

/** What the user reads: a headline and the next step. */
export interface UserMessage {
  kind: ErrorKind;
  title: string;
  action: string;
}

const MESSAGES: Record<ErrorKind, Omit<UserMessage, 'kind'>> = {
  'wrong-passphrase': {
    title: 'That passphrase is not right.',
    action: 'Check for typing mistakes and Caps Lock, then try again. Nothing was changed.',
  },
  tampered: {
    title: 'This file is damaged or has been tampered with.',
    action: 'Sealdrop refused to open it, and no partial copy was kept. If you have the original, upload it again.',
  },
  'wrong-key': {
    title: 'Your keys cannot open this file.',
    action: 'It was sealed for someone else, or with keys you no longer have.',
  },
  'unsupported-version': {
    title: 'This file was made by a newer version of Sealdrop.',
    action: 'Reload the page to get the latest version, then try again.',
  },
  offline: {
    title: 'You are offline.',
    action: 'Check your connection. Uploads continue on their own when you are back online.',
  },
  'server-down': {
    title: 'The server is not answering.',
    action: 'Your connection works; Sealdrop’s server does not. Uploads wait and continue on their own; try again in a moment.',
  },
  'storage-down': {
    title: 'Storage is not answering.',
    action: 'Your connection and Sealdrop’s server work; file storage does not. Uploads wait and continue on their own.',
  },
  'identity-down': {
    title: 'The sign-in service is not answering.',
    action: 'You stay signed in for now, but signing in again will fail until it is back.',
  },
  quota: {
    title: 'Storage is full.',
    action: 'Delete some files you no longer need, then try again.',
  },
  'session-expired': {
    title: 'Your session has expired.',
    action: 'Sign in again to continue. Your files are safe.',
  },
  'too-large': {
    title: 'This file is too large for this browser to save.',
    action: 'Try a browser that can save straight to disk, such as a current Chrome or Edge.',
  },
  'over-limit': {
    title: 'This file is larger than Sealdrop accepts.',
    action: 'Split it into smaller parts, or compress it, and upload those.',
  },
  'file-changed': {
    title: 'This file changed while it was being uploaded.',
    action: 'Add it again once it is saved and no app is writing to it.',
  },
  'unsupported-browser': {
    title: 'This browser lacks a feature Sealdrop needs.',
    action: 'Use a current version of Chrome, Edge, Firefox or Safari.',
  },
  'post-quantum-unsupported': {
    title: 'This file is protected with post-quantum keys, which this browser cannot use.',
    action: 'Open this in a browser that supports post-quantum keys (a current Chrome or Edge). Nothing was changed.',
  },
  'not-found': {
    title: 'This file is no longer there.',
    action: 'It may have been deleted on another device. Refresh the list.',
  },
  conflict: {
    title: 'Someone changed this at the same time.',
    action: 'Refresh the list and try again.',
  },
  forbidden: {
    title: 'You are not allowed to do that.',
    action: 'Sign out and in again. If it keeps happening, the file may belong to someone else.',
  },
  'rate-limited': {
    title: 'Too many requests at once.',
    action: 'Wait a minute, then try again.',
  },
  server: {
    title: 'The service had a temporary problem.',
    action: 'Try again in a moment.',
  },
  cancelled: {
    title: 'Cancelled.',
    action: 'Nothing more to do.',
  },
  unknown: {
    title: 'Something went wrong.',
    action: 'Try again. If it keeps happening, reload the page.',
  },
};

/** Returns the plain-words message for `kind`. */
export function messageFor(kind: ErrorKind): UserMessage {
  return { kind, ...MESSAGES[kind] };
}

/**
 * Returns what to tell the user about `error`, whatever was thrown.
 *
 * Never throws, and never copies text out of an unknown error.
 */
export function handleError(error: unknown): UserMessage {
  return messageFor(classify(error));
}

function classify(error: unknown): ErrorKind {
  if (error instanceof SealdropCryptoError) return fromCryptoCode(error.code);
  if (error instanceof StorageError) return fromStorageKind(error.kind);
  if (error instanceof SessionExpiredError) return 'session-expired';
  // Only the browser's own word, or our origin failing too, makes it "offline".
  if (error instanceof ServerUnreachableError) return isOffline() ? 'offline' : 'server-down';
  if (error instanceof OfflineError) return 'offline';
  if (error instanceof UnexpectedResponseError) return 'server';
  if (error instanceof ApiError) return fromStatus(error.status);
  if (error instanceof SourceChangedError) return 'file-changed';
  if (error instanceof DOMException) return fromDomException(error.name);
  if (error instanceof Error) {
    const byName = fromName(error.name);
    if (byName !== undefined) return byName;
    const status = statusOf(error);
    if (status !== undefined) return fromStatus(status);
    // fetch() rejects with a bare TypeError when the network is down.
    if (error instanceof TypeError && isOffline()) return 'offline';
  }
  return isOffline() ? 'offline' : 'unknown';
}

function fromCryptoCode(code: string): ErrorKind {
  switch (code) {
    case 'wrong-passphrase':
      return 'wrong-passphrase';
    case 'wrong-key':
      return 'wrong-key';
    case 'unsupported-version':
      return 'unsupported-version';
    case 'post-quantum-unsupported':
      return 'post-quantum-unsupported';
    // A file we cannot parse, that ends early or asks for absurd KDF work was damaged or made hostile.
    case 'tampered':
    case 'truncated':
    case 'malformed':
    case 'kdf-params-too-high':
      return 'tampered';
    default:
      return 'unknown';
  }
}

function fromStorageKind(kind: StorageError['kind']): ErrorKind {
  switch (kind) {
    case 'expired-grant':
      return 'session-expired';
    case 'forbidden':
      return 'forbidden';
    case 'not-found':
      return 'not-found';
    case 'conflict':
      return 'conflict';
    case 'quota':
      return 'quota';
    case 'network':
      return isOffline() ? 'offline' : 'storage-down';
    case 'server':
      return 'server';
    case 'too-large':
      return 'too-large';
    case 'bad-response':
      return 'server';
    case 'unsupported':
      return 'unsupported-browser';
  }
}

function fromDomException(name: string): ErrorKind {
  switch (name) {
    case 'AbortError':
      return 'cancelled';
    case 'QuotaExceededError':
      return 'quota';
    case 'NotSupportedError':
      return 'unsupported-browser';
    // A missing WebCrypto algorithm or IndexedDB in a private window.
    case 'NotFoundError':
    case 'InvalidStateError':
      return 'unsupported-browser';
    case 'OperationError':
      return 'tampered';
    default:
      return isOffline() ? 'offline' : 'unknown';
  }
}

/** Errors recognised by name: MSAL's (loaded on demand, so not imported here) and aborts from other realms. */
function fromName(name: string): ErrorKind | undefined {
  switch (name) {
    case 'InteractionRequiredAuthError':
      return 'session-expired';
    case 'AbortError':
      return 'cancelled';
    case 'UnsupportedBrowserError':
      return 'unsupported-browser';
    default:
      return undefined;
  }
}

function statusOf(error: Error): number | undefined {
  const status: unknown = Reflect.get(error, 'status');
  return typeof status === 'number' && Number.isInteger(status) ? status : undefined;
}

function fromStatus(status: number): ErrorKind {
  if (status === 401) return 'session-expired';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not-found';
  if (status === 409 || status === 412) return 'conflict';
  if (status === 413) return 'over-limit';
  if (status === 507) return 'quota';
  if (status === 429) return 'rate-limited';
  if (status >= 500) return 'server';
  return 'unknown';
}

function isOffline(): boolean {
  return typeof navigator !== 'undefined' && navigator.onLine === false;
}
