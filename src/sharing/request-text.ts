/**
 * The text of a file request link: `<origin>/r/<requestId>#v=1&f=<fingerprint>[&l=<label>]`.
 *
 * - `requestId`: 32 lowercase hex characters, chosen by the server; the only
 *   part a server ever sees (it is in the path).
 * - the fragment (after `#`, which browsers never send to a server), in this
 *   order: `v` the link version (`1`); `f` the owner's key fingerprint, its
 *   40 digits without spaces (the sender's page checks the public key the
 *   server hands out against it, so the server cannot slip in another key);
 *   optionally `l`, a label the owner wrote (1–96 bytes of UTF-8 as unpadded
 *   base64url), shown to the sender and never to the server.
 *
 * The parser is strict: anything else is refused with a RequestLinkError
 * saying what is wrong, never with a guess.
 */

/** The only request-link version this app writes and reads. */
export const REQUEST_LINK_VERSION = 1;
/** Path prefix of the public request page. */
export const REQUEST_PATH_PREFIX = '/r/';
/** Most bytes of UTF-8 a label may have. */
export const MAX_LABEL_BYTES = 96;
/** Longest fragment accepted (with its `#`): `#v=1&f=` + 40 + `&l=` + 128. */
export const MAX_REQUEST_FRAGMENT_LENGTH = 7 + 40 + 3 + 128;

/** Why a request link was refused. */
export type RequestLinkProblem = 'malformed' | 'truncated' | 'too-long' | 'wrong-version' | 'extra-parameter';

const MESSAGES: Record<RequestLinkProblem, string> = {
  malformed: 'This link is damaged: it is not a Sealdrop file request link.',
  truncated: 'This link is incomplete: part of it was cut off when it was copied.',
  'too-long': 'This link is too long: something was added to it after it was made.',
  'wrong-version': 'This link was made by a different version of Sealdrop and cannot be used here.',
  'extra-parameter': 'This link carries something a Sealdrop request link never has; it may have been altered.',
};

/** A request link that cannot be used; `problem` says why, the message says it in plain words. */
export class RequestLinkError extends Error {
  override readonly name = 'RequestLinkError';
  constructor(readonly problem: RequestLinkProblem) {
    super(MESSAGES[problem]);
  }
}

/** What a request link carries. */
export interface RequestLink {
  requestId: string;
  /** The owner's fingerprint as 8 groups of 5 digits, space-separated (as signingKeyFingerprint writes it). */
  fingerprint: string;
  /** The owner's label, or null. */
  label: string | null;
}

const REQUEST_ID = /^[0-9a-f]{32}$/;
const DIGITS = /^[0-9]{40}$/;

function toBase64Url(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

/** Decodes canonical unpadded base64url, or returns null. */
function fromBase64Url(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return null;
  let binary: string;
  try {
    binary = atob(text.replaceAll('-', '+').replaceAll('_', '/') + '='.repeat((4 - (text.length % 4)) % 4));
  } catch {
    return null;
  }
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  // One spelling per label: unused bits must be zero.
  return toBase64Url(bytes) === text ? bytes : null;
}

/** Returns the 40 digits of a fingerprint, or throws RangeError when it is not 8 groups of 5 digits. */
function fingerprintDigits(fingerprint: string): string {
  const digits = fingerprint.replaceAll(' ', '');
  if (!DIGITS.test(digits) || !/^[0-9]{5}( [0-9]{5}){7}$/.test(fingerprint)) throw new RangeError('A fingerprint is 8 groups of 5 digits.');
  return digits;
}

/** Returns a label's UTF-8 bytes, or throws RangeError when it is empty, over MAX_LABEL_BYTES or not valid Unicode. */
function labelBytes(label: string): Uint8Array {
  if (/[\uD800-\uDFFF]/u.test(label)) throw new RangeError('A label must be valid text.');
  const bytes = new TextEncoder().encode(label);
  if (bytes.length === 0 || bytes.length > MAX_LABEL_BYTES) throw new RangeError(`A label is 1 to ${MAX_LABEL_BYTES} bytes.`);
  return bytes;
}

/** Returns the fragment (with `#`). Throws RangeError on a malformed fingerprint or label. */
export function requestFragment(fingerprint: string, label: string | null): string {
  const base = `#v=${REQUEST_LINK_VERSION}&f=${fingerprintDigits(fingerprint)}`;
  return label === null ? base : `${base}&l=${toBase64Url(labelBytes(label))}`;
}

/** Returns the full link text for `origin`. Throws RangeError on a request id that is not 32 lowercase hex, or a bad fingerprint or label. */
export function requestLinkText(origin: string, link: RequestLink): string {
  if (!REQUEST_ID.test(link.requestId)) throw new RangeError('A request id is 32 lowercase hex characters.');
  return `${origin.replace(/\/+$/, '')}${REQUEST_PATH_PREFIX}${link.requestId}${requestFragment(link.fingerprint, link.label)}`;
}

/** Returns the request id of a `/r/<id>` path, or null when the path is not a request page. Throws RequestLinkError for a request path with a bad id. */
export function requestIdOfPath(pathname: string): string | null {
  if (!pathname.startsWith(REQUEST_PATH_PREFIX)) return null;
  const id = pathname.slice(REQUEST_PATH_PREFIX.length);
  if (id.length < 32 && /^[0-9a-f]*$/.test(id)) throw new RequestLinkError('truncated');
  if (id.length > 32 && REQUEST_ID.test(id.slice(0, 32))) throw new RequestLinkError('too-long');
  if (!REQUEST_ID.test(id)) throw new RequestLinkError('malformed');
  return id;
}

/**
 * Reads the fragment of a request link (with or without its leading `#`).
 * Throws RequestLinkError: `too-long` over {@link MAX_REQUEST_FRAGMENT_LENGTH};
 * `extra-parameter` for a parameter other than v, f, l or one given twice;
 * `truncated` when v or f is missing or cut short; `wrong-version` for a
 * `v` other than 1; `malformed` for anything else (wrong order, a
 * fingerprint that is not 40 digits, a label that is not canonical
 * base64url of 1–96 bytes of valid UTF-8).
 */
export function parseRequestFragment(fragment: string): { fingerprint: string; label: string | null } {
  const text = fragment.startsWith('#') ? fragment.slice(1) : fragment;
  if (text.length + 1 > MAX_REQUEST_FRAGMENT_LENGTH) throw new RequestLinkError('too-long');
  if (text.length === 0) throw new RequestLinkError('truncated');
  const parts = text.split('&').map((p) => {
    const at = p.indexOf('=');
    return at === -1 ? { name: p, value: null } : { name: p.slice(0, at), value: p.slice(at + 1) };
  });
  const names = parts.map((p) => p.name);
  if (names.some((n) => n !== 'v' && n !== 'f' && n !== 'l') || new Set(names).size !== names.length) {
    throw new RequestLinkError('extra-parameter');
  }
  const [v, f, l] = parts;
  if (v === undefined || v.name !== 'v' || v.value === null || !/^[0-9]{1,3}$/.test(v.value)) {
    throw new RequestLinkError(v === undefined || (v.name === 'v' && (v.value === null || v.value === '')) ? 'truncated' : 'malformed');
  }
  if (Number(v.value) !== REQUEST_LINK_VERSION) throw new RequestLinkError('wrong-version');
  if (f === undefined || (f.name === 'f' && (f.value === null || f.value === ''))) throw new RequestLinkError('truncated');
  if (f.name !== 'f' || f.value === null) throw new RequestLinkError('malformed');
  if (f.value.length < 40 && /^[0-9]*$/.test(f.value)) throw new RequestLinkError('truncated');
  if (!DIGITS.test(f.value)) throw new RequestLinkError('malformed');
  const fingerprint = (f.value.match(/.{5}/g) ?? []).join(' ');
  if (l === undefined) return { fingerprint, label: null };
  if (l.name !== 'l' || l.value === null || l.value === '') throw new RequestLinkError(l.name === 'l' ? 'truncated' : 'malformed');
  const bytes = fromBase64Url(l.value);
  if (bytes === null || bytes.length === 0 || bytes.length > MAX_LABEL_BYTES) throw new RequestLinkError('malformed');
  let label: string;
  try {
    label = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new RequestLinkError('malformed');
  }
  return { fingerprint, label };
}

/** Reads a whole link (`https://host/r/<id>#…`, or a path with its fragment). Throws RequestLinkError as requestIdOfPath / parseRequestFragment do. */
export function parseRequestLink(link: string): RequestLink {
  const hashAt = link.indexOf('#');
  if (hashAt === -1) throw new RequestLinkError('truncated');
  if (link.slice(0, hashAt).includes('?')) throw new RequestLinkError('extra-parameter');
  let pathname: string;
  try {
    pathname = new URL(link.slice(0, hashAt), 'http://localhost').pathname;
  } catch {
    throw new RequestLinkError('malformed');
  }
  const requestId = requestIdOfPath(pathname);
  if (requestId === null) throw new RequestLinkError('malformed');
  return { requestId, ...parseRequestFragment(link.slice(hashAt)) };
}
