/** Response shapes of docs/CONTRACTS.md §2, for tests to check answers against. */
import { z } from 'zod';

const hex32 = z.string().regex(/^[0-9a-f]{32}$/);

/** `{ url, expiresAt, permissions }` */
export const grantSchema = z.object({ url: z.url(), expiresAt: z.iso.datetime(), permissions: z.enum(['r', 'rcw', 'cw', 'd']) }).strict();
/** Uploads, renewals, read and delete grants. */
export const fileGrantsSchema = z.object({ fileId: hex32, payload: grantSchema, manifest: grantSchema }).strict();
/** `GET /files` */
export const listSchema = z
  .object({
    files: z.array(
      z
        .object({
          fileId: hex32,
          payloadBytes: z.number().int().min(0),
          manifestBytes: z.number().int().min(0),
          createdAt: z.iso.datetime().nullable(),
          etag: z.string().nullable(),
          complete: z.boolean(),
        })
        .strict(),
    ),
    next: z.string().nullable(),
  })
  .strict();
/** Every failure. */
export const errorSchema = z.object({ error: z.string().min(1), message: z.string().min(1) }).strict();
/** `POST /keys/public` and `POST /keys/public/:userId/read` */
export const keyGrantSchema = z.object({ userId: hex32, grant: grantSchema }).strict();
