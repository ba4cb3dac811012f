/**
 * One schema per route input (path ids, query, body). Everything a client
 * sends is checked here before a handler sees it; blob names are then built
 * only from values that passed these checks.
 */
import { z } from 'zod';
import { HEX_ID } from '../storage/blob-layout.ts';

/** A user or file id in a path: exactly 32 lowercase hex chars (no decoding, so `%2e%2e` fails too). */
export const hexIdParam = z.string().regex(HEX_ID);

/** Routes that take no query parameters. */
export const noQuery = z.object({}).strict();
/** Routes that take no body (an empty body or `{}`). */
export const noBody = z.object({}).strict();

/** `POST /uploads` */
export const uploadBody = z
  .object({
    payloadBytes: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    manifestBytes: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  })
  .strict();

/** `GET /files` */
export const listQuery = z
  .object({
    cursor: z.string().min(1).max(4096).regex(/^[A-Za-z0-9_-]+$/).optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .strict();

/** `POST /keys/recovery` */
export const recoveryBody = z.object({ access: z.enum(['read', 'write']) }).strict();

/** `GET /users/lookup` */
export const lookupQuery = z.object({ email: z.string().trim().max(254).pipe(z.email()) }).strict();

/** What the server stores in a directory blob. */
export const directoryEntry = z.object({ userId: z.string().regex(HEX_ID) });

/** The listing cursor handed to clients: Azure's continuation plus a file id already returned. */
export const listCursor = z.object({
  t: z.string().min(1).max(3000).nullable(),
  skip: z.string().regex(HEX_ID).nullable(),
});
