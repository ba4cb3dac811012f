/**
 * The `?received=<shareId>` of a link someone sent (src/sharing/person-share.ts):
 * read at app start, and kept in this tab's sessionStorage until the
 * signed-in view takes it, so a redirect sign-in that returns without the
 * query (or to another path) still opens "Shared with me" on it. A share id
 * names a share and holds no key: it is sent to the server anyway.
 */

import { RECEIVED_PARAM } from './received-param.ts';

/** sessionStorage key of the share id kept across a redirect sign-in. */
export const RECEIVED_KEY = 'sealdrop.received-share';
const SHARE_ID = /^[0-9a-f]{32}$/;

/** The part of `Storage` used here (tests pass a fake). */
export type KeptStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

/** Keeps the well-formed share id of `search` (a URL's query) in `storage`; anything else is ignored. */
export function keepReceivedShare(search: string, storage: KeptStorage | null): void {
  const id = new URLSearchParams(search).get(RECEIVED_PARAM);
  if (id !== null && SHARE_ID.test(id)) storage?.setItem(RECEIVED_KEY, id);
}

/**
 * The share id the signed-in view should open: the one in `search`, else
 * the one kept before the sign-in; either way the kept one is forgotten.
 * Null when there is none or it is malformed.
 */
export function takeReceivedShare(search: string, storage: KeptStorage | null): string | null {
  const fromUrl = new URLSearchParams(search).get(RECEIVED_PARAM);
  const kept = storage?.getItem(RECEIVED_KEY) ?? null;
  storage?.removeItem(RECEIVED_KEY);
  const id = fromUrl ?? kept;
  return id !== null && SHARE_ID.test(id) ? id : null;
}

/** This tab's sessionStorage, or null where there is none (or it is blocked). */
export function tabStorage(): KeptStorage | null {
  try {
    return typeof sessionStorage === 'undefined' ? null : sessionStorage;
  } catch {
    return null;
  }
}
