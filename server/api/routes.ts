/**
 * The route table of `/api/v1` (docs/CONTRACTS.md §2): for each route its
 * method, path, schemas and handler. Handlers receive validated input and a
 * verified caller; they decide every blob name themselves.
 */
import { Buffer } from 'node:buffer';
import type { z } from 'zod';
import type { Caller } from '../auth/token-verifier.ts';
import {
  directoryBlob,
  fileBlob,
  filePrefix,
  newFileId,
  normalizeEmail,
  parseFileBlobName,
  publicKeyBlob,
  recoveryBlob,
  userFilesPrefix,
  type FilePart,
} from '../storage/blob-layout.ts';
import type { BlobStore, ListedBlob } from '../storage/blob-store.ts';
import { ApiError, notFound } from './api-error.ts';
import type { Grant, GrantIssuer } from './grants.ts';
import {
  directoryEntry,
  listCursor,
  listQuery,
  lookupQuery,
  noBody,
  noQuery,
  recoveryBody,
  uploadBody,
} from './schemas.ts';

/** What handlers may use. */
export interface RouteServices {
  store: BlobStore;
  grant: GrantIssuer;
  maxFileBytes: number;
  maxManifestBytes: number;
}

/** A handler's answer: status and a JSON-serialisable body. */
export interface RouteResult {
  status: number;
  body: unknown;
}

/** A route definition: schemas for its input and a handler receiving the validated values. */
interface RouteDefinition<Q extends z.ZodType, B extends z.ZodType> {
  method: 'GET' | 'POST';
  /** Path under `/api/v1`, with at most one `:param` segment (always a hex id). */
  path: string;
  auth: boolean;
  query: Q;
  body: B;
  handle(input: { caller: Caller | null; param: string; query: z.output<Q>; body: z.output<B>; services: RouteServices }): Promise<RouteResult>;
}

/** Unvalidated input, as the app extracted it from the request. */
export interface RawRouteInput {
  caller: Caller | null;
  /** Already checked to be a hex id when the path has a parameter. */
  param: string;
  query: Record<string, string>;
  body: unknown;
  services: RouteServices;
}

/** A route ready to run: `run` validates query and body (400 on failure) and calls the handler. */
export interface Route {
  method: 'GET' | 'POST';
  path: string;
  auth: boolean;
  run(input: RawRouteInput): Promise<RouteResult>;
}

function route<Q extends z.ZodType, B extends z.ZodType>(def: RouteDefinition<Q, B>): Route {
  return {
    method: def.method,
    path: def.path,
    auth: def.auth,
    run({ caller, param, query, body, services }) {
      const q = def.query.safeParse(query);
      if (!q.success) throw new ApiError(400, 'invalid_query', `The query is not valid: ${describeIssue(q.error)}`);
      const b = def.body.safeParse(body);
      if (!b.success) throw new ApiError(400, 'invalid_body', `The request body is not valid: ${describeIssue(b.error)}`);
      return def.handle({ caller, param, query: q.data, body: b.data, services });
    },
  };
}

function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue === undefined) return 'unknown problem.';
  const where = issue.path.length > 0 ? `${issue.path.map(String).join('.')}: ` : '';
  // zod's messages name the rule broken, never echo the value.
  return `${where}${issue.message}.`;
}

function mustCaller(caller: Caller | null): Caller {
  // The app only calls authenticated routes with a caller; this guards a wiring mistake.
  if (caller === null) throw new Error('Route needs a verified caller.');
  return caller;
}

async function fileGrants(
  services: RouteServices,
  userId: string,
  fileId: string,
  action: string,
  payload: Grant['permissions'],
  manifest: Grant['permissions'],
): Promise<{ fileId: string; payload: Grant; manifest: Grant }> {
  const [p, m] = await Promise.all([
    services.grant({ userId, action, blobName: fileBlob(userId, fileId, 'payload'), permissions: payload }),
    services.grant({ userId, action, blobName: fileBlob(userId, fileId, 'manifest'), permissions: manifest }),
  ]);
  return { fileId, payload: p, manifest: m };
}

/** Which of a file's two blobs exist, committed or (for the payload) still only uncommitted blocks. */
async function fileParts(store: BlobStore, userId: string, fileId: string): Promise<Set<FilePart>> {
  const prefix = filePrefix(userId, fileId);
  const { blobs } = await store.list(prefix, { maxPageSize: 10, includeUncommitted: true });
  const parts = new Set<FilePart>();
  for (const b of blobs) {
    const parsed = parseFileBlobName(userFilesPrefix(userId), b.name);
    if (parsed?.fileId === fileId) parts.add(parsed.part);
  }
  return parts;
}

function encodeCursor(c: z.output<typeof listCursor>): string {
  return Buffer.from(JSON.stringify(c), 'utf8').toString('base64url');
}

function decodeCursor(raw: string | undefined): z.output<typeof listCursor> {
  if (raw === undefined) return { t: null, skip: null };
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    json = null;
  }
  const parsed = listCursor.safeParse(json);
  if (!parsed.success) throw new ApiError(400, 'invalid_query', 'The listing cursor is not valid. Start again without one.');
  return parsed.data;
}

interface FileEntry {
  fileId: string;
  payloadBytes: number;
  manifestBytes: number;
  createdAt: string | null;
  etag: string | null;
  complete: boolean;
}

function toEntry(fileId: string, payload: ListedBlob | undefined, manifest: ListedBlob | undefined): FileEntry {
  const created = payload?.createdOn ?? manifest?.createdOn ?? null;
  return {
    fileId,
    payloadBytes: payload?.contentLength ?? 0,
    manifestBytes: manifest?.contentLength ?? 0,
    createdAt: created === null ? null : created.toISOString(),
    // The manifest is what makes a file; its ETag changes if it is ever replaced.
    etag: manifest?.etag ?? payload?.etag ?? null,
    complete: manifest !== undefined,
  };
}

/** The routes of `/api/v1`, in matching order. */
export const routes: Route[] = [
  route({
    method: 'GET',
    path: '/health',
    auth: false,
    query: noQuery,
    body: noBody,
    handle: () => Promise.resolve({ status: 200, body: { status: 'ok' } }),
  }),

  route({
    method: 'GET',
    path: '/me',
    auth: true,
    query: noQuery,
    body: noBody,
    handle: ({ caller }) => {
      const c = mustCaller(caller);
      return Promise.resolve({ status: 200, body: { userId: c.userId, email: c.email, name: c.name } });
    },
  }),

  route({
    method: 'POST',
    path: '/uploads',
    auth: true,
    query: noQuery,
    body: uploadBody,
    async handle({ caller, body, services }) {
      const c = mustCaller(caller);
      if (body.payloadBytes > services.maxFileBytes) {
        throw new ApiError(413, 'file_too_large', `Files can be at most ${services.maxFileBytes} bytes once sealed.`);
      }
      if (body.manifestBytes > services.maxManifestBytes) {
        throw new ApiError(413, 'manifest_too_large', `A file's manifest can be at most ${services.maxManifestBytes} bytes.`);
      }
      return { status: 201, body: await fileGrants(services, c.userId, newFileId(), 'upload', 'rcw', 'cw') };
    },
  }),

  route({
    method: 'POST',
    path: '/uploads/:fileId/renew',
    auth: true,
    query: noQuery,
    body: noBody,
    async handle({ caller, param, services }) {
      const c = mustCaller(caller);
      const parts = await fileParts(services.store, c.userId, param);
      if (parts.has('manifest')) throw new ApiError(409, 'upload_complete', 'This upload is already complete; it cannot be written again.');
      if (!parts.has('payload')) throw notFound('There is no upload in progress with this id.');
      return { status: 200, body: await fileGrants(services, c.userId, param, 'upload-renew', 'rcw', 'cw') };
    },
  }),

  route({
    method: 'GET',
    path: '/files',
    auth: true,
    query: listQuery,
    body: noBody,
    async handle({ caller, query, services }) {
      const c = mustCaller(caller);
      const prefix = userFilesPrefix(c.userId);
      const cursor = decodeCursor(query.cursor);
      const page = await services.store.list(prefix, {
        maxPageSize: query.limit,
        includeUncommitted: true,
        ...(cursor.t !== null ? { continuationToken: cursor.t } : {}),
      });

      // Names sort as .../<fileId>/manifest before .../<fileId>/payload, so
      // one file's blobs are adjacent; only the last file of a page can be
      // split from its payload, which then opens the next page.
      const groups = new Map<string, { payload?: ListedBlob; manifest?: ListedBlob }>();
      for (const blob of page.blobs) {
        const parsed = parseFileBlobName(prefix, blob.name);
        if (parsed === null || parsed.fileId === cursor.skip) continue;
        const g = groups.get(parsed.fileId) ?? {};
        g[parsed.part] = blob;
        groups.set(parsed.fileId, g);
      }
      const last = page.blobs.at(-1);
      const lastParsed = last === undefined ? null : parseFileBlobName(prefix, last.name);
      let skip: string | null = null;
      if (page.continuationToken !== null && lastParsed?.part === 'manifest') {
        const g = groups.get(lastParsed.fileId);
        if (g !== undefined) {
          g.payload = (await services.store.stat(fileBlob(c.userId, lastParsed.fileId, 'payload'))) ?? undefined;
          skip = lastParsed.fileId;
        }
      }
      const files = [...groups].map(([fileId, g]) => toEntry(fileId, g.payload, g.manifest));
      return {
        status: 200,
        body: { files, next: page.continuationToken === null ? null : encodeCursor({ t: page.continuationToken, skip }) },
      };
    },
  }),

  route({
    method: 'POST',
    path: '/files/:fileId/read',
    auth: true,
    query: noQuery,
    body: noBody,
    async handle({ caller, param, services }) {
      const c = mustCaller(caller);
      if ((await services.store.stat(fileBlob(c.userId, param, 'manifest'))) === null) {
        throw notFound('You have no complete file with this id.');
      }
      return { status: 200, body: await fileGrants(services, c.userId, param, 'read', 'r', 'r') };
    },
  }),

  route({
    method: 'POST',
    path: '/files/:fileId/delete',
    auth: true,
    query: noQuery,
    body: noBody,
    async handle({ caller, param, services }) {
      const c = mustCaller(caller);
      if ((await fileParts(services.store, c.userId, param)).size === 0) throw notFound('You have no file with this id.');
      return { status: 200, body: await fileGrants(services, c.userId, param, 'delete', 'd', 'd') };
    },
  }),

  route({
    method: 'POST',
    path: '/keys/public',
    auth: true,
    query: noQuery,
    body: noBody,
    async handle({ caller, services }) {
      const c = mustCaller(caller);
      if (c.email !== null) {
        // First claim wins: a later token carrying the same address for a
        // different user never silently redirects lookups (see THREAT-MODEL).
        const entry = new TextEncoder().encode(JSON.stringify({ userId: c.userId }));
        await services.store.createIfAbsent(directoryBlob(c.email), entry, 'application/json');
      }
      const grant = await services.grant({ userId: c.userId, action: 'publish-public-key', blobName: publicKeyBlob(c.userId), permissions: 'cw' });
      return { status: 200, body: { userId: c.userId, grant } };
    },
  }),

  route({
    method: 'POST',
    path: '/keys/public/:userId/read',
    auth: true,
    query: noQuery,
    body: noBody,
    async handle({ caller, param, services }) {
      const c = mustCaller(caller);
      const grant = await services.grant({ userId: c.userId, action: 'read-public-key', blobName: publicKeyBlob(param), permissions: 'r' });
      return { status: 200, body: { userId: param, grant } };
    },
  }),

  route({
    method: 'POST',
    path: '/keys/recovery',
    auth: true,
    query: noQuery,
    body: recoveryBody,
    async handle({ caller, body, services }) {
      const c = mustCaller(caller);
      const write = body.access === 'write';
      const grant = await services.grant({
        userId: c.userId,
        action: write ? 'write-recovery' : 'read-recovery',
        blobName: recoveryBlob(c.userId),
        permissions: write ? 'cw' : 'r',
      });
      return { status: 200, body: { grant } };
    },
  }),

  route({
    method: 'GET',
    path: '/users/lookup',
    auth: true,
    query: lookupQuery,
    body: noBody,
    async handle({ query, services }) {
      const bytes = await services.store.readSmall(directoryBlob(query.email), 1024);
      if (bytes === null) throw notFound('No Sealdrop user has published a key for this address.');
      let json: unknown = null;
      try {
        json = JSON.parse(new TextDecoder().decode(bytes));
      } catch {
        // Falls through to the schema check below.
      }
      const entry = directoryEntry.safeParse(json);
      if (!entry.success) throw new Error('A directory entry in storage is malformed.');
      return { status: 200, body: { userId: entry.data.userId, email: normalizeEmail(query.email) } };
    },
  }),
];

