/**
 * The wire contract of a key rotation's file step (issue 20 item 3;
 * docs/CONTRACTS.md §2.4): after the owner published new keys with a signed
 * rotation statement (`POST /keys/public/rotate`), each of their manifests
 * is re-sealed for the new keys in the browser (docs/FORMAT.md §10.6) and
 * written here in place of the one read, with If-Match on its ETag. The
 * payload is never sent again.
 */
import { z } from 'zod';
import type { RouteContract } from './routes.ts';
import { base64Bytes, hexId, MAX_PUBLIC_IDENTITY_BYTES, MAX_ROTATIONS, noBody, noQuery } from './schemas.ts';
import { MAX_SHARE_MANIFEST_BYTES } from './shares.ts';

/** `POST /files/:fileId/manifest/rotate` */
export const rotateManifestBody = z
  .object({
    /** The manifest re-sealed for the new keys and signed by the new signing key. */
    manifest: base64Bytes(MAX_SHARE_MANIFEST_BYTES),
    /** The ETag of the manifest the client read; a changed manifest answers 412. */
    manifestEtag: z.string().min(1).max(128),
  })
  .strict();

/** `POST /files/:fileId/manifest/rotate`: the file and its manifest's new ETag. */
export const rotatedManifestResponse = z.object({ fileId: hexId, etag: z.string().min(1).max(128) }).strict();

/**
 * `POST /keys/public/:userId/history`: the identities a user's rotations
 * replaced, oldest first (`formerIdentities[i]` is the one the i-th
 * statement of `POST /keys/public/:userId/read` rotates away from), so a
 * reader can check a chain of rotations from the identity it pinned. The
 * server is not trusted for them: each is checked by its hash in the
 * statements. Rotations made before the server kept them are missing (the
 * list is then shorter than the statements, and readers follow no chain).
 */
export const keyHistoryResponse = z
  .object({ userId: hexId, formerIdentities: z.array(base64Bytes(MAX_PUBLIC_IDENTITY_BYTES)).max(MAX_ROTATIONS) })
  .strict();

function define<Q extends z.ZodType, B extends z.ZodType, R extends z.ZodType>(r: RouteContract<Q, B, R>): RouteContract<Q, B, R> {
  return r;
}

/** The rotation routes, by name (mounted beside ROUTES). */
export const ROTATION_ROUTES = {
  rotateManifest: define({
    method: 'POST',
    path: '/files/:fileId/manifest/rotate',
    auth: true,
    query: noQuery,
    body: rotateManifestBody,
    status: 200,
    response: rotatedManifestResponse,
  }),
  readKeyHistory: define({
    method: 'POST',
    path: '/keys/public/:userId/history',
    auth: true,
    query: noQuery,
    body: noBody,
    status: 200,
    response: keyHistoryResponse,
  }),
} as const;
