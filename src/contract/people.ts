/**
 * The wire contract of sharing with a person (docs/CONTRACTS.md §2.2): the
 * owner adds an RSA-OAEP envelope for a directory user to the manifest and
 * the server records the share and puts a pointer in the recipient's inbox;
 * the recipient lists their inbox and asks for read grants, which only a
 * named recipient gets; the owner lists and revokes. No key, file name or
 * plaintext appears here: the envelope is inside the (sealed) manifest.
 */
import { z } from 'zod';
import type { RouteContract } from './routes.ts';
import { base64Bytes, grantSchema, hexId, noBody, noQuery } from './schemas.ts';
import { MAX_SHARE_MANIFEST_BYTES } from './shares.ts';

/** Most people one file may be shared with (a manifest holds at most 64 envelopes, the owner's among them). */
export const MAX_PEOPLE_PER_FILE = 60;
/** Most inbox entries one page of `GET /inbox` returns. */
export const INBOX_PAGE_SIZE = 100;

/** Error codes of the person-share routes. */
export const PEOPLE_ERROR_CODES = {
  /** No share with this id for this caller: never existed, revoked, or someone else's. */
  notShared: 'not_shared',
  alreadyShared: 'already_shared',
  noSuchPerson: 'no_such_person',
} as const;

const envelopeTag = z.string().regex(/^[0-9a-f]{32}$/);

/** `POST /files/:fileId/people`: the re-enveloped manifest and whom it is for. */
export const createPersonShareBody = z
  .object({
    /** The manifest with the recipient's envelope added, re-signed (FORMAT.md §9.4). */
    manifest: base64Bytes(MAX_SHARE_MANIFEST_BYTES),
    /** ETag of the manifest that was re-enveloped; a changed manifest answers 412. */
    manifestEtag: z.string().min(1).max(128),
    /** The recipient's e-mail as the directory knows it; the server checks it names `recipientId`. */
    recipientEmail: z.string().min(3).max(320),
    recipientId: hexId,
    /** First 16 bytes of the added envelope's body, hex (public: it is in the manifest). */
    envelopeTag,
  })
  .strict();

/** `POST /people-shares/:shareId/revoke`: optionally the manifest without the recipient's envelope. */
export const revokePersonShareBody = z.union([
  noBody,
  z.object({ manifest: base64Bytes(MAX_SHARE_MANIFEST_BYTES), manifestEtag: z.string().min(1).max(128) }).strict(),
]);

/** One person a file is shared with, as its owner sees it. */
export const personShareSchema = z
  .object({
    shareId: hexId,
    fileId: hexId,
    recipientId: hexId,
    recipientEmail: z.string(),
    createdAt: z.iso.datetime({ offset: true }),
    envelopeTag,
  })
  .strict();
/** One person a file is shared with. */
export type PersonShare = z.infer<typeof personShareSchema>;

/** `GET /files/:fileId/people` */
export const personShareListSchema = z.object({ people: z.array(personShareSchema) }).strict();

/** `POST /people-shares/:shareId/revoke` */
export const revokedPersonShareSchema = z.object({ shareId: hexId, revoked: z.literal(true) }).strict();

/** `GET /inbox?cursor=`: the query. */
export const inboxQuery = z.object({ cursor: z.string().min(1).max(2048).optional() }).strict();

/** One file shared with the caller; `manifestRead` lets the app open it without another API call. */
export const inboxEntrySchema = z
  .object({
    shareId: hexId,
    fileId: hexId,
    ownerId: hexId,
    /** The owner's address as their identity provider vouched for it when sharing, or null. */
    ownerEmail: z.string().nullable(),
    createdAt: z.iso.datetime({ offset: true }),
    manifestRead: grantSchema,
  })
  .strict();
/** One file shared with the caller. */
export type InboxEntry = z.infer<typeof inboxEntrySchema>;

/** `GET /inbox` */
export const inboxPageSchema = z.object({ entries: z.array(inboxEntrySchema), next: z.string().nullable() }).strict();

/** `POST /people-shares/:shareId/read`: read-only grants, for the named recipient only. */
export const personShareReadSchema = z
  .object({ shareId: hexId, fileId: hexId, ownerId: hexId, manifest: grantSchema, payload: grantSchema })
  .strict();
/** Read grants of a file shared with the caller. */
export type PersonShareRead = z.infer<typeof personShareReadSchema>;

function define<Q extends z.ZodType, B extends z.ZodType, R extends z.ZodType>(r: RouteContract<Q, B, R>): RouteContract<Q, B, R> {
  return r;
}

/** The person-share routes, by name (mounted beside ROUTES). */
export const PEOPLE_ROUTES = {
  createPersonShare: define({ method: 'POST', path: '/files/:fileId/people', auth: true, query: noQuery, body: createPersonShareBody, status: 201, response: personShareSchema }),
  listPersonShares: define({ method: 'GET', path: '/files/:fileId/people', auth: true, query: noQuery, body: noBody, status: 200, response: personShareListSchema }),
  revokePersonShare: define({ method: 'POST', path: '/people-shares/:shareId/revoke', auth: true, query: noQuery, body: revokePersonShareBody, status: 200, response: revokedPersonShareSchema }),
  readPersonShare: define({ method: 'POST', path: '/people-shares/:shareId/read', auth: true, query: noQuery, body: noBody, status: 200, response: personShareReadSchema }),
  inbox: define({ method: 'GET', path: '/inbox', auth: true, query: inboxQuery, body: noBody, status: 200, response: inboxPageSchema }),
} as const;
