/**
 * What the share dialog needs: link shares of the signed-in owner's files,
 * bound to their API client and unlocked keys (src/sharing does the work).
 */
import type { UnlockedIdentity } from '../../keys/account-keys.ts';
import { createLinkShare, listLinkShares, revokeLinkShare, type NewLinkOptions, type ShareEntry } from '../../sharing/link-share.ts';
import type { GrantApi } from '../../storage/grants.ts';

export type { NewLinkOptions, ShareEntry };

/** Link shares of one owner's files. Every method throws the API client's, storage's or crypto's typed errors. */
export interface LinkShareServices {
  /** Creates a link; returns its text (secret in the #fragment) and the server's record. */
  create(fileId: string, options: NewLinkOptions): Promise<{ link: string; share: ShareEntry }>;
  /** The file's links, oldest first. */
  list(fileId: string): Promise<ShareEntry[]>;
  /** Revokes a link (and takes its envelope out of the manifest). */
  revoke(share: ShareEntry): Promise<ShareEntry>;
}

/** Returns the link-share services for `api` and the owner's unlocked `identity`; links are written for `origin`. */
export function createLinkShareServices(api: GrantApi, identity: UnlockedIdentity, origin: string): LinkShareServices {
  return {
    create: (fileId, options) => createLinkShare(api, identity, fileId, options, origin),
    list: (fileId) => listLinkShares(api, fileId),
    revoke: (share) => revokeLinkShare(api, identity, share),
  };
}
