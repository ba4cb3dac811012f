/**
 * The text of a link share: `<origin>/s/<shareId>#v=1&k=<secret>&p=<0|1>`.
 *
 * - `shareId`: 32 lowercase hex characters, chosen by the server; the only
 *   part a server ever sees (it is in the path).
 * - the fragment (after `#`, which browsers never send to a server):
 *   exactly three parameters, in this order: `v` the link version (`1`),
 *   `k` the 32-byte link secret as 43 characters of unpadded base64url
 *   (FORMAT.md §7.3), `p` whether a passphrase is needed too (`1`) or not
 *   (`0`, the secret alone opens the typeId-3 envelope; `1`: typeId 5, §7.6).
 *
 * The parser is strict: anything else is refused with a LinkTextError saying
 * what is wrong, never with a guess.
 */
import { LINK_SECRET_TEXT_LENGTH, MalformedError, decodeLinkSecret, encodeLinkSecret } from '../crypto/index.ts';

/** The only link version this app writes and reads. */
export const LINK_VERSION = 1;
/** Path prefix of the public share page. */
export const SHARE_PATH_PREFIX = '/s/';
/** Longest fragment accepted (with its `#`): `#v=1&k=` + 43 + `&p=1` is 54 characters. */
export const MAX_FRAGMENT_LENGTH = 54;

/** Why a link was refused. */
export type LinkTextProblem = 'malformed' | 'truncated' | 'too-long' | 'wrong-version' | 'extra-parameter';

const MESSAGES: Record<LinkTextProblem, string> = {
  malformed: 'This link is damaged: it is not a Sealdrop share link.',
  truncated: 'This link is incomplete: part of it was cut off when it was copied.',
  'too-long': 'This link is too long: something was added to it after it was made.',
  'wrong-version': 'This link was made by a different version of Sealdrop and cannot be opened here.',
  'extra-parameter': 'This link carries something a Sealdrop link never has; it may have been altered.',
};

/** A share link that cannot be used; `problem` says why, the message says it in plain words. */
export class LinkTextError extends Error {
  override readonly name = 'LinkTextError';
  constructor(readonly problem: LinkTextProblem) {
    super(MESSAGES[problem]);
  }
}

/** What a share link carries. */
export interface ShareLink {
  shareId: string;
  secret: Uint8Array;
  passphrase: boolean;
}

const SHARE_ID = /^[0-9a-f]{32}$/;

/** Returns the fragment (with `#`) for a link secret and its passphrase flag. Throws RangeError for a secret that is not 32 bytes. */
export function linkFragment(secret: Uint8Array, passphrase: boolean): string {
  return `#v=${LINK_VERSION}&k=${encodeLinkSecret(secret)}&p=${passphrase ? 1 : 0}`;
}

/** Returns the full link text for `origin` (e.g. `https://sealdrop.example`). Throws RangeError on a share id that is not 32 lowercase hex. */
export function shareLinkText(origin: string, link: ShareLink): string {
  if (!SHARE_ID.test(link.shareId)) throw new RangeError('A share id is 32 lowercase hex characters.');
  return `${origin.replace(/\/+$/, '')}${SHARE_PATH_PREFIX}${link.shareId}${linkFragment(link.secret, link.passphrase)}`;
}

/** Returns the share id of a `/s/<id>` path, or null when the path is not a share page. Throws LinkTextError for a share path with a bad id. */
export function shareIdOfPath(pathname: string): string | null {
  if (!pathname.startsWith(SHARE_PATH_PREFIX)) return null;
  const id = pathname.slice(SHARE_PATH_PREFIX.length);
  if (id.length < 32 && /^[0-9a-f]*$/.test(id)) throw new LinkTextError('truncated');
  if (id.length > 32 && SHARE_ID.test(id.slice(0, 32))) throw new LinkTextError('too-long');
  if (!SHARE_ID.test(id)) throw new LinkTextError('malformed');
  return id;
}

/**
 * Reads the fragment of a share link (with or without its leading `#`).
 * Throws LinkTextError: `too-long` over {@link MAX_FRAGMENT_LENGTH};
 * `extra-parameter` for a parameter other than v, k, p or one given twice;
 * `truncated` when parameters or secret characters are missing;
 * `wrong-version` for a `v` other than 1; `malformed` for anything else
 * (wrong order, a secret that is not canonical base64url, a flag other than 0 / 1).
 */
export function parseLinkFragment(fragment: string): { secret: Uint8Array; passphrase: boolean } {
  const text = fragment.startsWith('#') ? fragment.slice(1) : fragment;
  if (text.length + 1 > MAX_FRAGMENT_LENGTH) throw new LinkTextError('too-long');
  if (text.length === 0) throw new LinkTextError('truncated');
  const parts = text.split('&').map((p) => {
    const at = p.indexOf('=');
    return at === -1 ? { name: p, value: null } : { name: p.slice(0, at), value: p.slice(at + 1) };
  });
  const names = parts.map((p) => p.name);
  if (names.some((n) => n !== 'v' && n !== 'k' && n !== 'p') || new Set(names).size !== names.length) {
    throw new LinkTextError('extra-parameter');
  }
  const [v, k, p] = parts;
  if (v === undefined || v.name !== 'v' || v.value === null || !/^[0-9]{1,3}$/.test(v.value)) {
    throw new LinkTextError(v === undefined || (v.name === 'v' && (v.value === null || v.value === '')) ? 'truncated' : 'malformed');
  }
  if (Number(v.value) !== LINK_VERSION) throw new LinkTextError('wrong-version');
  if (k === undefined) throw new LinkTextError('truncated');
  if (k.name !== 'k' || k.value === null) throw new LinkTextError(k.value === null && k.name === 'k' ? 'truncated' : 'malformed');
  if (k.value.length < LINK_SECRET_TEXT_LENGTH && /^[A-Za-z0-9_-]*$/.test(k.value)) throw new LinkTextError('truncated');
  let secret: Uint8Array;
  try {
    secret = decodeLinkSecret(k.value);
  } catch (error) {
    if (error instanceof MalformedError) throw new LinkTextError('malformed');
    throw error;
  }
  if (p === undefined || (p.name === 'p' && (p.value === null || p.value === ''))) throw new LinkTextError('truncated');
  if (p.name !== 'p' || (p.value !== '0' && p.value !== '1')) throw new LinkTextError('malformed');
  return { secret, passphrase: p.value === '1' };
}

/** Reads a whole link (`https://host/s/<id>#…`, or a path with its fragment). Throws LinkTextError as shareIdOfPath / parseLinkFragment do. */
export function parseShareLink(link: string): ShareLink {
  const hashAt = link.indexOf('#');
  if (hashAt === -1) throw new LinkTextError('truncated');
  if (link.slice(0, hashAt).includes('?')) throw new LinkTextError('extra-parameter');
  let pathname: string;
  try {
    pathname = new URL(link.slice(0, hashAt), 'http://localhost').pathname;
  } catch {
    throw new LinkTextError('malformed');
  }
  const shareId = shareIdOfPath(pathname);
  if (shareId === null) throw new LinkTextError('malformed');
  return { shareId, ...parseLinkFragment(link.slice(hashAt)) };
}
