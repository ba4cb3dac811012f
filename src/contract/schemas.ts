/**
 * Every request and response body of the token endpoint, as zod schemas
 * (docs/CONTRACTS.md §2). The server validates requests with these and its
 * tests validate every answer with them; the app validates every answer
 * with the same schemas, so the two sides cannot drift apart.
 */
// First: the contract's schemas may be bundled into a chunk that runs before main.ts's body (zod-jitless.ts says why).
import './zod-jitless.ts';
import { z } from 'zod';

/** A user or file id: exactly 32 lowercase hex characters. */
export const HEX_ID = /^[0-9a-f]{32}$/;
/** A user or file id in a path or body. */
export const hexId = z.string().regex(HEX_ID);

/** Standard base64 of at most `maxBytes` bytes (small key material only; file bytes never pass the API). */
export function base64Bytes(maxBytes: number) {
  return z
    .base64()
    .min(4)
    .max(Math.ceil(maxBytes / 3) * 4);
}

/** Largest public identity the directory accepts (two SPKIs and a signature are ~0.6 KB; with an ML-KEM-768 key, kind 3, ~1.8 KB). */
export const MAX_PUBLIC_IDENTITY_BYTES = 4096;
/** Largest recovery copy the directory accepts (two wrapped private keys are ~2.3 KB). */
export const MAX_RECOVERY_BYTES = 8192;
/** A key rotation statement ("SDRT" v2) is exactly this long. */
export const ROTATION_STATEMENT_BYTES = 133;
/** Most rotations one account may record. */
export const MAX_ROTATIONS = 64;
/**
 * Largest manifest the change log carries inline (issue 16): an owner's
 * manifest is about 1–2 KB, so practically every file's add event holds its
 * sealed manifest and a cold listing needs no storage read per file.
 */
export const MAX_INLINE_MANIFEST_BYTES = 16 * 1024;

/** Routes that take no query parameters. */
export const noQuery = z.object({}).strict();
/** Routes that take no body (an empty body or `{}`). */
export const noBody = z.object({}).strict();

// ---- requests ----

/** `POST /uploads`: the sealed sizes the client will commit (the server holds it to them). */
export const uploadBody = z
  .object({
    payloadBytes: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    manifestBytes: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
    /**
     * Re-seal: this upload is the caller's complete file `replaces` sealed
     * again under a new file key. Once it is complete, it takes that file's
     * place (the old one is deleted by the server, in the same change-log
     * append that adds the new one).
     */
    replaces: hexId.optional(),
  })
  .strict();

/** `GET /files` */
export const listQuery = z
  .object({
    cursor: z.string().min(1).max(4096).regex(/^[A-Za-z0-9_-]+$/).optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .strict();

/**
 * A place in a user's change log: `<log id>.<segment>.<byte offset>`. Not
 * secret (ids and offsets only); the server answers 410 for one it does not
 * know (a log rebuilt since), and the client then lists in full.
 */
export const changePosition = z.string().regex(/^[0-9a-f]{16}\.[0-9]{1,6}\.[0-9]{1,15}$/);

/** `GET /files/changes`: the events after `after` (from the start without it), at most `limit`. */
export const changesQuery = z
  .object({
    after: changePosition.optional(),
    limit: z.coerce.number().int().min(1).max(5000).default(1000),
  })
  .strict();

/** `POST /keys/public`: the public identity ("SDPI"), which the server verifies and writes once. */
export const publishBody = z.object({ publicIdentity: base64Bytes(MAX_PUBLIC_IDENTITY_BYTES) }).strict();

/** `POST /keys/public/rotate`: the new public identity and a statement signed by the current signing key. */
export const rotateBody = z
  .object({
    publicIdentity: base64Bytes(MAX_PUBLIC_IDENTITY_BYTES),
    statement: base64Bytes(ROTATION_STATEMENT_BYTES),
  })
  .strict();

/** `POST /keys/recovery`: the first recovery copy (written once). */
export const recoveryCreateBody = z.object({ recovery: base64Bytes(MAX_RECOVERY_BYTES) }).strict();

/** `POST /keys/recovery/replace`: a new recovery copy and the ETag of the copy it replaces. */
export const recoveryReplaceBody = z
  .object({
    recovery: base64Bytes(MAX_RECOVERY_BYTES),
    etag: z.string().min(1).max(200),
  })
  .strict();

/** An e-mail address as the directory keys it: trimmed; compared lowercased. */
export const emailAddress = z.string().trim().max(254).pipe(z.email());

/** `POST /users/lookup`: the address travels in the body, never in a URL (URLs end up in logs). */
export const lookupBody = z.object({ email: emailAddress }).strict();

// ---- responses ----

/** A SAS grant for one blob: the URL with its SAS query, when it expires, what it allows. */
export const grantSchema = z
  .object({
    url: z.url({ protocol: /^https?$/ }),
    expiresAt: z.iso.datetime({ offset: true }),
    permissions: z.enum(['r', 'rcw', 'cw', 'd']),
  })
  .strict();
/** A SAS grant for one blob. */
export type Grant = z.infer<typeof grantSchema>;

/** Grants for the two blobs of one file (upload, renew, read and delete answers share this shape). */
export const fileGrantsSchema = z.object({ fileId: hexId, payload: grantSchema, manifest: grantSchema }).strict();
/** Grants for a file's payload and manifest. */
export type FileGrants = z.infer<typeof fileGrantsSchema>;

/** One entry of `GET /files`. */
export const fileEntrySchema = z
  .object({
    fileId: hexId,
    payloadBytes: z.number().int().nonnegative(),
    manifestBytes: z.number().int().nonnegative(),
    /** When storage created the file's first blob (server clock). */
    createdAt: z.iso.datetime({ offset: true }),
    /** The manifest's ETag (the payload's while unfinished); changes if either is replaced. */
    etag: z.string(),
    complete: z.boolean(),
    /**
     * A short-lived read grant for the manifest of a complete file, so a
     * listing needs no read-grant call per file (issue 16). Absent for
     * unfinished uploads.
     */
    manifestRead: grantSchema.optional(),
  })
  .strict();
/** One entry of the owner's file list, as the server sees it (no names: those are sealed). */
export type FileEntry = z.infer<typeof fileEntrySchema>;

/** One page of `GET /files`. */
export const fileListSchema = z.object({ files: z.array(fileEntrySchema), next: z.string().nullable() }).strict();
/** One page of the owner's file list. */
export type FileListPage = z.infer<typeof fileListSchema>;

/** One event of the change log as `GET /files/changes` answers it. */
export const fileChangeSchema = z.discriminatedUnion('op', [
  z
    .object({
      op: z.literal('add'),
      fileId: hexId,
      payloadBytes: z.number().int().nonnegative(),
      manifestBytes: z.number().int().nonnegative(),
      createdAt: z.iso.datetime({ offset: true }),
      /** The manifest's ETag when the file was completed. */
      etag: z.string(),
      /** A short-lived read grant for the manifest, as `GET /files` carries. */
      manifestRead: grantSchema,
      /**
       * The sealed manifest as it was when the file was completed (base64;
       * absent when it was larger than {@link MAX_INLINE_MANIFEST_BYTES} or
       * logged before inlining). The listing opens and verifies it like one
       * read from storage; a later re-envelope (a link share) does not change
       * the metadata it shows.
       */
      manifest: base64Bytes(MAX_INLINE_MANIFEST_BYTES).optional(),
    })
    .strict(),
  z.object({ op: z.literal('delete'), fileId: hexId }).strict(),
]);
/** One event of the change log: a file added (complete) or deleted. */
export type FileChange = z.infer<typeof fileChangeSchema>;

/** `GET /files/changes`: events in log order, the position after the last, and whether the log has nothing more now. */
export const fileChangesSchema = z
  .object({ changes: z.array(fileChangeSchema), next: changePosition, exhausted: z.boolean() })
  .strict();
/** One page of the change log. */
export type FileChangesPage = z.infer<typeof fileChangesSchema>;

/** `POST /files/:fileId/complete`: the file as logged; `appended` is false when an earlier call logged it already. */
export const completeResponse = z.object({ fileId: hexId, etag: z.string(), appended: z.boolean() }).strict();

/** Whether the endpoint could reach one part it depends on, as `GET /health` reports it. */
export const reachability = z.enum(['ok', 'down']);

/**
 * `GET /health`: the endpoint answers (`status`), and whether it can reach
 * storage and the identity provider's signing keys, each on its own, so the
 * app can tell a person which part is down. `status` is `degraded` when
 * either is down.
 */
export const healthResponse = z
  .object({ status: z.enum(['ok', 'degraded']), storage: reachability, identity: reachability })
  .strict();
/** The body of `GET /health`. */
export type HealthReport = z.infer<typeof healthResponse>;

/** `GET /me` */
export const meResponse = z
  .object({ userId: hexId, email: z.string().nullable(), name: z.string().nullable() })
  .strict();

/** `POST /keys/public` and `POST /keys/public/rotate` */
export const publishedResponse = z.object({ userId: hexId }).strict();

/**
 * `POST /keys/public/:userId/read`: the current public identity and, oldest
 * first, every rotation statement that led to it (readers verify the chain).
 */
export const publicKeyResponse = z
  .object({
    userId: hexId,
    publicIdentity: base64Bytes(MAX_PUBLIC_IDENTITY_BYTES),
    rotations: z.array(base64Bytes(ROTATION_STATEMENT_BYTES)).max(MAX_ROTATIONS),
  })
  .strict();

/** `POST /keys/recovery/read`: the recovery copy and the ETag a replacement must name. */
export const recoveryResponse = z.object({ recovery: base64Bytes(MAX_RECOVERY_BYTES), etag: z.string().min(1) }).strict();

/** `POST /keys/recovery` and `POST /keys/recovery/replace`: the ETag of the copy now stored. */
export const recoveryWrittenResponse = z.object({ etag: z.string().min(1) }).strict();

/** `POST /users/lookup` */
export const lookupResponse = z.object({ userId: hexId, email: z.string() }).strict();

/** The body of every failure: a stable code and plain words safe to show a person. */
export const errorBody = z.object({ error: z.string().min(1), message: z.string().min(1) }).strict();
/** The body of every failure. */
export type ErrorBody = z.infer<typeof errorBody>;
