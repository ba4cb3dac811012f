/**
 * The wire contract of link shares (docs/CONTRACTS.md §2.1): the owner
 * creates, lists and revokes links to one of their files; anyone holding a
 * link asks for short-lived read grants. The link secret and any passphrase
 * never appear here: they live in the link's `#fragment` and in the
 * browser; the server sees only the share id in the path.
 */
import { z } from 'zod';
import type { RouteContract } from './routes.ts';
import { base64Bytes, grantSchema, hexId, noBody, noQuery } from './schemas.ts';

/** Largest manifest a share request may carry (base64 in a JSON body, under the endpoint's body cap). */
export const MAX_SHARE_MANIFEST_BYTES = 11 * 1024;
/** Shortest and longest lifetime of a link, in seconds (one minute to 30 days). */
export const SHARE_LIFETIME_SECONDS = { min: 60, max: 30 * 24 * 3600 } as const;
/** Most downloads a link may be limited to. */
export const MAX_SHARE_DOWNLOADS = 1000;

/** Error codes of the share routes (410 for a link that can no longer be used, 404 for one that never existed). */
export const SHARE_ERROR_CODES = {
  expired: 'link_expired',
  usedUp: 'link_used_up',
  revoked: 'link_revoked',
  notFound: 'link_not_found',
} as const;

/** A new manifest that the server writes in place of the current one (If-Match on `manifestEtag`). */
const manifestChange = {
  /** The re-enveloped, re-signed manifest (FORMAT.md §9.4). */
  manifest: base64Bytes(MAX_SHARE_MANIFEST_BYTES),
  /** The ETag of the manifest the client re-enveloped; a changed manifest answers 412. */
  manifestEtag: z.string().min(1).max(128),
};

/** `POST /files/:fileId/shares` */
export const createShareBody = z
  .object({
    ...manifestChange,
    expiresInSeconds: z.number().int().min(SHARE_LIFETIME_SECONDS.min).max(SHARE_LIFETIME_SECONDS.max),
    maxDownloads: z.number().int().min(1).max(MAX_SHARE_DOWNLOADS).nullable(),
    /** The first 16 bytes of the added envelope's body, hex: lets the owner find it again to remove it. Not secret (it is in the manifest). */
    envelopeTag: z.string().regex(/^[0-9a-f]{32}$/),
  })
  .strict();

/** `POST /shares/:shareId/revoke`: optionally the manifest without the link's envelope. */
export const revokeShareBody = z.union([noBody, z.object(manifestChange).strict()]);

/** One link as its owner sees it. */
export const shareEntrySchema = z
  .object({
    shareId: hexId,
    fileId: hexId,
    createdAt: z.iso.datetime({ offset: true }),
    expiresAt: z.iso.datetime({ offset: true }),
    maxDownloads: z.number().int().min(1).nullable(),
    downloads: z.number().int().nonnegative(),
    revoked: z.boolean(),
    envelopeTag: z.string().regex(/^[0-9a-f]{32}$/),
    /** What a recipient meets now. */
    state: z.enum(['active', 'expired', 'used_up', 'revoked']),
  })
  .strict();
/** One link share, as its owner sees it. */
export type ShareEntry = z.infer<typeof shareEntrySchema>;

/** `GET /files/:fileId/shares` */
export const shareListSchema = z.object({ shares: z.array(shareEntrySchema) }).strict();

/** `POST /shares/:shareId/read`: read-only grants for the file's two blobs, and the file id the manifest must carry. */
export const shareReadSchema = z.object({ fileId: hexId, manifest: grantSchema, payload: grantSchema }).strict();
/** The answer to an anonymous share read. */
export type ShareRead = z.infer<typeof shareReadSchema>;

function define<Q extends z.ZodType, B extends z.ZodType, R extends z.ZodType>(r: RouteContract<Q, B, R>): RouteContract<Q, B, R> {
  return r;
}

/** The share routes, by name (mounted beside ROUTES). */
export const SHARE_ROUTES = {
  createShare: define({ method: 'POST', path: '/files/:fileId/shares', auth: true, query: noQuery, body: createShareBody, status: 201, response: shareEntrySchema }),
  listShares: define({ method: 'GET', path: '/files/:fileId/shares', auth: true, query: noQuery, body: noBody, status: 200, response: shareListSchema }),
  revokeShare: define({ method: 'POST', path: '/shares/:shareId/revoke', auth: true, query: noQuery, body: revokeShareBody, status: 200, response: shareEntrySchema }),
  readShare: define({ method: 'POST', path: '/shares/:shareId/read', auth: false, query: noQuery, body: noBody, status: 200, response: shareReadSchema }),
} as const;
