/**
 * The wire contract of file requests ("send me files", docs/CONTRACTS.md
 * §2.2): the owner creates, lists and revokes request links; anyone holding
 * a link reads the owner's public key and asks for create-only upload
 * grants; the owner lists, reads and deletes what was received. The
 * fingerprint the sender checks, the optional label and every file name
 * never appear here: they live in the link's `#fragment` or sealed inside
 * the files.
 */
import { z } from 'zod';
import type { RouteContract } from './routes.ts';
import { base64Bytes, fileGrantsSchema, grantSchema, hexId, noBody, noQuery } from './schemas.ts';

/** Shortest and longest lifetime of a request link, in seconds (one minute to 30 days). */
export const REQUEST_LIFETIME_SECONDS = { min: 60, max: 30 * 24 * 3600 } as const;
/** Smallest and largest size cap of one request, in sealed bytes (payloads and manifests together). */
export const REQUEST_CAP_BYTES = { min: 1024, max: 10 * 1024 ** 3 } as const;
/** Most files one request accepts. */
export const MAX_REQUEST_FILES = 500;
/** Largest public identity the open route returns. */
export const MAX_REQUEST_IDENTITY_BYTES = 16 * 1024;

/** Error codes of the request routes (410 for a link that can no longer be used, 404 for one that never existed, 413 at the cap). */
export const REQUEST_ERROR_CODES = {
  expired: 'request_expired',
  revoked: 'request_revoked',
  notFound: 'request_not_found',
  capReached: 'request_cap_reached',
  noKey: 'request_owner_has_no_key',
} as const;

/** `POST /requests` */
export const createRequestBody = z
  .object({
    expiresInSeconds: z.number().int().min(REQUEST_LIFETIME_SECONDS.min).max(REQUEST_LIFETIME_SECONDS.max),
    maxBytes: z.number().int().min(REQUEST_CAP_BYTES.min).max(REQUEST_CAP_BYTES.max),
  })
  .strict();

/** One request link as its owner sees it. */
export const requestEntrySchema = z
  .object({
    requestId: hexId,
    createdAt: z.iso.datetime({ offset: true }),
    expiresAt: z.iso.datetime({ offset: true }),
    maxBytes: z.number().int().positive(),
    /** Sealed bytes granted so far (files started count, even if never finished). */
    usedBytes: z.number().int().nonnegative(),
    /** Uploads granted so far. */
    files: z.number().int().nonnegative(),
    revoked: z.boolean(),
    /** What a sender meets now. */
    state: z.enum(['open', 'expired', 'full', 'revoked']),
  })
  .strict();
/** One file request, as its owner sees it. */
export type RequestEntry = z.infer<typeof requestEntrySchema>;

/** `GET /requests` */
export const requestListSchema = z.object({ requests: z.array(requestEntrySchema) }).strict();

/** `POST /requests/:requestId/open`: what an anonymous sender learns. */
export const requestOpenSchema = z
  .object({
    /** The owner's published public identity (FORMAT.md §10.1), base64: the page checks it against the link's fingerprint. */
    publicIdentity: base64Bytes(MAX_REQUEST_IDENTITY_BYTES),
    expiresAt: z.iso.datetime({ offset: true }),
    maxBytes: z.number().int().positive(),
    usedBytes: z.number().int().nonnegative(),
  })
  .strict();
/** The answer to an anonymous request open. */
export type RequestOpen = z.infer<typeof requestOpenSchema>;

/** `POST /requests/:requestId/uploads`: the sealed sizes of one file (counted against the cap). */
export const requestUploadBody = z
  .object({
    payloadBytes: z.number().int().min(0).max(REQUEST_CAP_BYTES.max),
    manifestBytes: z.number().int().min(1).max(64 * 1024),
  })
  .strict();

/** One received file as its owner lists it (sizes and a read grant of its manifest; name and sender are sealed inside). */
export const receivedEntrySchema = z
  .object({
    fileId: hexId,
    createdAt: z.iso.datetime({ offset: true }),
    payloadBytes: z.number().int().nonnegative(),
    manifestBytes: z.number().int().positive(),
    manifestRead: grantSchema,
  })
  .strict();
/** One received file, as listed. */
export type ReceivedEntry = z.infer<typeof receivedEntrySchema>;

/** `GET /received` */
export const receivedListSchema = z.object({ files: z.array(receivedEntrySchema) }).strict();

function define<Q extends z.ZodType, B extends z.ZodType, R extends z.ZodType>(r: RouteContract<Q, B, R>): RouteContract<Q, B, R> {
  return r;
}

/** The request routes, by name (mounted beside ROUTES). */
export const REQUEST_ROUTES = {
  createRequest: define({ method: 'POST', path: '/requests', auth: true, query: noQuery, body: createRequestBody, status: 201, response: requestEntrySchema }),
  listRequests: define({ method: 'GET', path: '/requests', auth: true, query: noQuery, body: noBody, status: 200, response: requestListSchema }),
  revokeRequest: define({ method: 'POST', path: '/requests/:requestId/revoke', auth: true, query: noQuery, body: noBody, status: 200, response: requestEntrySchema }),
  openRequest: define({ method: 'POST', path: '/requests/:requestId/open', auth: false, query: noQuery, body: noBody, status: 200, response: requestOpenSchema }),
  uploadToRequest: define({ method: 'POST', path: '/requests/:requestId/uploads', auth: false, query: noQuery, body: requestUploadBody, status: 201, response: fileGrantsSchema }),
  listReceived: define({ method: 'GET', path: '/received', auth: true, query: noQuery, body: noBody, status: 200, response: receivedListSchema }),
  readReceived: define({ method: 'POST', path: '/received/:fileId/read', auth: true, query: noQuery, body: noBody, status: 200, response: fileGrantsSchema }),
  deleteReceived: define({ method: 'POST', path: '/received/:fileId/delete', auth: true, query: noQuery, body: noBody, status: 200, response: fileGrantsSchema }),
} as const;
