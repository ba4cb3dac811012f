/**
 * File requests ("send me files", src/contract/requests.ts,
 * docs/CONTRACTS.md §2.2). The server picks the request id and alone writes
 * its record, `requests/<requestId>` (JSON: owner, expiry, size cap, bytes
 * and files granted so far, revoked; no secret, no label), plus an empty
 * index blob `request-index/<ownerId>/<requestId>` for the owner's list.
 *
 * An anonymous sender holding the link may read the owner's public identity
 * and ask for upload grants, only while the request is unexpired, unrevoked
 * and under its cap. Each upload grant is for a fresh file id under
 * `received/<ownerId>/<fileId>/` (never for an existing blob: nothing else
 * can be written with it), and its declared sealed size is taken from the
 * cap first, with If-Match, so two senders can never both take the last
 * bytes. As for the owner's own uploads, the declaration blob holds the
 * file to its sizes: a file that outgrew it is never listed or granted.
 */
import { Buffer } from 'node:buffer';
import { z } from 'zod';
import { MAX_REQUEST_FILES, REQUEST_ERROR_CODES, REQUEST_ROUTES, type ReceivedEntry, type RequestEntry } from '../../../src/contract/index.ts';
import type { Caller } from '../auth/token-verifier.ts';
import { newFileId, parseFileBlobName, publicKeyBlob } from '../storage/blob-layout.ts';
import type { ListedBlob } from '../storage/blob-store.ts';
import { ApiError, notFound } from './api-error.ts';
import { mustCaller, route, type Route, type RouteServices } from './routes.ts';

const HEX32 = /^[0-9a-f]{32}$/;

function checked(id: string): string {
  if (!HEX32.test(id)) throw new Error('Refusing to build a blob name from a malformed id.');
  return id;
}

/** `requests/<requestId>`: the record only the server writes. */
export function requestBlob(requestId: string): string {
  return `requests/${checked(requestId)}`;
}

/** `request-index/<ownerId>/`: every request the owner made. */
export function requestIndexPrefix(ownerId: string): string {
  return `request-index/${checked(ownerId)}/`;
}

/** The request id of a name listed under `request-index/<ownerId>/`, or null for anything else. */
export function requestIdOfIndexBlob(ownerId: string, name: string): string | null {
  const prefix = requestIndexPrefix(ownerId);
  const rest = name.startsWith(prefix) ? name.slice(prefix.length) : '';
  return HEX32.test(rest) ? rest : null;
}

/** `received/<ownerId>/`: every file sent to the owner through a request. */
export function receivedPrefix(ownerId: string): string {
  return `received/${checked(ownerId)}/`;
}

/** `received/<ownerId>/<fileId>/<part>`. */
export function receivedBlob(ownerId: string, fileId: string, part: 'payload' | 'manifest' | `declared-${number}-${number}`): string {
  return `${receivedPrefix(ownerId)}${checked(fileId)}/${part}`;
}

const requestRecord = z
  .object({
    v: z.literal(1),
    ownerId: z.string().regex(HEX32),
    createdAt: z.iso.datetime(),
    expiresAt: z.iso.datetime(),
    maxBytes: z.number().int().positive(),
    usedBytes: z.number().int().nonnegative(),
    files: z.number().int().nonnegative(),
    revoked: z.boolean(),
  })
  .strict();
type RequestRecord = z.infer<typeof requestRecord>;

const MAX_RECORD_BYTES = 2048;
const MAX_IDENTITY_BYTES = 16 * 1024;
/** How often a grant retries its If-Match count before giving up (another sender won each time). */
const COUNT_ATTEMPTS = 8;

const encode = (r: RequestRecord): Uint8Array => new TextEncoder().encode(JSON.stringify(r));

async function readRecord(services: RouteServices, requestId: string): Promise<{ record: RequestRecord; etag: string } | null> {
  const blob = await services.store.readSmall(requestBlob(requestId), MAX_RECORD_BYTES);
  if (blob === null) return null;
  let json: unknown = null;
  try {
    json = JSON.parse(new TextDecoder().decode(blob.bytes));
  } catch {
    // Falls through to the schema check.
  }
  const parsed = requestRecord.safeParse(json);
  if (!parsed.success) throw new Error('A request record in storage is malformed.');
  return { record: parsed.data, etag: blob.etag };
}

function stateOf(r: RequestRecord, now: Date): RequestEntry['state'] {
  if (r.revoked) return 'revoked';
  if (Date.parse(r.expiresAt) <= now.getTime()) return 'expired';
  if (r.usedBytes >= r.maxBytes || r.files >= MAX_REQUEST_FILES) return 'full';
  return 'open';
}

function entryOf(requestId: string, r: RequestRecord, now: Date): RequestEntry {
  const { v: _v, ownerId: _o, ...rest } = r;
  return { requestId, ...rest, state: stateOf(r, now) };
}

const requestNotFound = (): ApiError => new ApiError(404, REQUEST_ERROR_CODES.notFound, 'There is no file request at this link.');

/** Throws the plain 410 / 413 a sender meets when the request no longer takes files. */
function refuseClosed(r: RequestRecord, now: Date): void {
  const state = stateOf(r, now);
  if (state === 'revoked') throw new ApiError(410, REQUEST_ERROR_CODES.revoked, 'The person who asked for files has closed this request.');
  if (state === 'expired') throw new ApiError(410, REQUEST_ERROR_CODES.expired, 'This file request has expired.');
  if (state === 'full') throw new ApiError(413, REQUEST_ERROR_CODES.capReached, 'This file request has taken all the files it can.');
}

/** The owner's record of `requestId`, or 404 (also for another user's request: its existence is not disclosed). */
async function ownedRecord(services: RouteServices, c: Caller, requestId: string): Promise<{ record: RequestRecord; etag: string }> {
  const found = await readRecord(services, requestId);
  if (found === null || found.record.ownerId !== c.userId) throw requestNotFound();
  return found;
}

/** One received file's blobs. */
interface ReceivedState {
  payload?: ListedBlob;
  manifest?: ListedBlob;
  declared?: { name: string; payloadBytes: number; manifestBytes: number };
}

function addReceived(groups: Map<string, ReceivedState>, prefix: string, blob: ListedBlob): void {
  const parsed = parseFileBlobName(prefix, blob.name);
  // Received files are never re-sealed: a re-seal marker here is not ours.
  if (parsed === null || parsed.part === 'from') return;
  const state = groups.get(parsed.fileId) ?? {};
  if (parsed.part === 'declared') state.declared = { name: blob.name, payloadBytes: parsed.payloadBytes, manifestBytes: parsed.manifestBytes };
  else state[parsed.part] = blob;
  groups.set(parsed.fileId, state);
}

/** True when the file holds more than it declared, or has parts without a declaration. */
function breaksDeclaration(s: ReceivedState): boolean {
  if (s.payload === undefined && s.manifest === undefined) return false;
  if (s.declared === undefined) return true;
  return (s.payload?.contentLength ?? 0) > s.declared.payloadBytes || (s.manifest?.contentLength ?? 0) > s.declared.manifestBytes;
}

async function receivedState(services: RouteServices, ownerId: string, fileId: string): Promise<ReceivedState> {
  const prefix = receivedPrefix(ownerId);
  const { blobs } = await services.store.list(`${prefix}${checked(fileId)}/`, { maxPageSize: 10, includeUncommitted: true });
  const groups = new Map<string, ReceivedState>();
  for (const b of blobs) addReceived(groups, prefix, b);
  return groups.get(fileId) ?? {};
}

async function sweepReceived(services: RouteServices, ownerId: string, fileId: string, s: ReceivedState): Promise<void> {
  await Promise.all([
    services.store.delete(receivedBlob(ownerId, fileId, 'payload')),
    services.store.delete(receivedBlob(ownerId, fileId, 'manifest')),
    ...(s.declared === undefined ? [] : [services.store.delete(s.declared.name)]),
  ]);
}

/** Lists every blob name under `prefix`, page by page. */
async function listAll(services: RouteServices, prefix: string, includeUncommitted = false): Promise<ListedBlob[]> {
  const all: ListedBlob[] = [];
  let continuationToken: string | undefined;
  do {
    const page = await services.store.list(prefix, { maxPageSize: 500, includeUncommitted, ...(continuationToken === undefined ? {} : { continuationToken }) });
    all.push(...page.blobs);
    continuationToken = page.continuationToken ?? undefined;
  } while (continuationToken !== undefined);
  return all;
}

/** The request routes, in the order of REQUEST_ROUTES. */
export const requestRoutes: Route[] = [
  route(REQUEST_ROUTES.createRequest, async ({ caller, body, services }) => {
    const c = mustCaller(caller);
    // A sender seals to the published key: without one there is nothing to seal to.
    if ((await services.store.stat(publicKeyBlob(c.userId))) === null) {
      throw new ApiError(409, REQUEST_ERROR_CODES.noKey, 'Set up your keys before asking for files.');
    }
    const now = services.now();
    const record: RequestRecord = {
      v: 1,
      ownerId: c.userId,
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + body.expiresInSeconds * 1000).toISOString(),
      maxBytes: body.maxBytes,
      usedBytes: 0,
      files: 0,
      revoked: false,
    };
    const requestId = newFileId();
    if ((await services.store.createIfAbsent(requestBlob(requestId), encode(record), 'application/json')) === null) {
      throw new Error('A fresh request id was already taken.');
    }
    await services.store.createIfAbsent(`${requestIndexPrefix(c.userId)}${requestId}`, new Uint8Array(), 'application/octet-stream');
    return entryOf(requestId, record, now);
  }),

  route(REQUEST_ROUTES.listRequests, async ({ caller, services }) => {
    const c = mustCaller(caller);
    const prefix = requestIndexPrefix(c.userId);
    const requests: RequestEntry[] = [];
    for (const b of await listAll(services, prefix)) {
      const requestId = b.name.slice(prefix.length);
      if (!HEX32.test(requestId)) continue;
      const found = await readRecord(services, requestId);
      // The index is the owner's own; a record that is gone or not theirs is skipped, never shown.
      if (found === null || found.record.ownerId !== c.userId) continue;
      requests.push(entryOf(requestId, found.record, services.now()));
    }
    requests.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    return { requests };
  }),

  route(REQUEST_ROUTES.revokeRequest, async ({ caller, param: requestId, services }) => {
    const c = mustCaller(caller);
    for (let attempt = 0; attempt < COUNT_ATTEMPTS; attempt++) {
      const { record, etag } = await ownedRecord(services, c, requestId);
      const next = { ...record, revoked: true };
      if ((await services.store.replaceIfMatch(requestBlob(requestId), encode(next), 'application/json', etag)) !== null) {
        return entryOf(requestId, next, services.now());
      }
    }
    throw new ApiError(409, 'busy', 'This request is being used right now. Try again in a moment.');
  }),

  route(REQUEST_ROUTES.openRequest, async ({ param: requestId, services }) => {
    const found = await readRecord(services, requestId);
    if (found === null) throw requestNotFound();
    const { record } = found;
    refuseClosed(record, services.now());
    const identity = await services.store.readSmall(publicKeyBlob(record.ownerId), MAX_IDENTITY_BYTES);
    if (identity === null) throw requestNotFound();
    return {
      publicIdentity: Buffer.from(identity.bytes).toString('base64'),
      expiresAt: record.expiresAt,
      maxBytes: record.maxBytes,
      usedBytes: record.usedBytes,
    };
  }),

  route(REQUEST_ROUTES.uploadToRequest, async ({ param: requestId, body, services }) => {
    const size = body.payloadBytes + body.manifestBytes;
    if (body.payloadBytes > services.maxFileBytes) {
      throw new ApiError(413, 'file_too_large', `Files can be at most ${services.maxFileBytes} bytes once sealed.`);
    }
    for (let attempt = 0; attempt < COUNT_ATTEMPTS; attempt++) {
      const found = await readRecord(services, requestId);
      if (found === null) throw requestNotFound();
      const { record, etag } = found;
      refuseClosed(record, services.now());
      if (record.usedBytes + size > record.maxBytes) {
        throw new ApiError(413, REQUEST_ERROR_CODES.capReached, `This file does not fit: the request takes ${record.maxBytes - record.usedBytes} more bytes.`);
      }
      const next = { ...record, usedBytes: record.usedBytes + size, files: record.files + 1 };
      // If-Match: of two senders racing for the last bytes, one write fails and that sender re-reads the count.
      if ((await services.store.replaceIfMatch(requestBlob(requestId), encode(next), 'application/json', etag)) === null) continue;
      const fileId = newFileId();
      const owner = record.ownerId;
      await services.store.createIfAbsent(receivedBlob(owner, fileId, `declared-${body.payloadBytes}-${body.manifestBytes}`), new Uint8Array(), 'application/octet-stream');
      const grant = (part: 'payload' | 'manifest') =>
        services.grant({ userId: `request:${requestId}`, action: 'request-upload', blobName: receivedBlob(owner, fileId, part), permissions: 'cw' });
      const [payload, manifest] = await Promise.all([grant('payload'), grant('manifest')]);
      return { fileId, payload, manifest };
    }
    throw new ApiError(409, 'busy', 'This request is being used right now. Try again in a moment.');
  }),

  route(REQUEST_ROUTES.listReceived, async ({ caller, services }) => {
    const c = mustCaller(caller);
    const prefix = receivedPrefix(c.userId);
    const groups = new Map<string, ReceivedState>();
    for (const b of await listAll(services, prefix, true)) addReceived(groups, prefix, b);
    const files: ReceivedEntry[] = [];
    for (const [fileId, s] of groups) {
      if (breaksDeclaration(s)) {
        await sweepReceived(services, c.userId, fileId, s);
        continue;
      }
      // Only finished files: a sender still uploading (or who gave up) shows nothing.
      if (s.manifest === undefined || s.payload === undefined) continue;
      const manifestRead = await services.grant({ userId: c.userId, action: 'received-list', blobName: receivedBlob(c.userId, fileId, 'manifest'), permissions: 'r' });
      files.push({
        fileId,
        createdAt: (s.manifest.createdOn ?? services.now()).toISOString(),
        payloadBytes: s.payload.contentLength,
        manifestBytes: s.manifest.contentLength,
        manifestRead,
      });
    }
    files.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    return { files };
  }),

  route(REQUEST_ROUTES.readReceived, async ({ caller, param: fileId, services }) => {
    const c = mustCaller(caller);
    const s = await receivedState(services, c.userId, fileId);
    if (breaksDeclaration(s)) {
      await sweepReceived(services, c.userId, fileId, s);
      throw notFound('You have no received file with this id.');
    }
    if (s.manifest === undefined || s.payload === undefined) throw notFound('You have no received file with this id.');
    const grant = (part: 'payload' | 'manifest') =>
      services.grant({ userId: c.userId, action: 'received-read', blobName: receivedBlob(c.userId, fileId, part), permissions: 'r' });
    const [payload, manifest] = await Promise.all([grant('payload'), grant('manifest')]);
    return { fileId, payload, manifest };
  }),

  route(REQUEST_ROUTES.deleteReceived, async ({ caller, param: fileId, services }) => {
    const c = mustCaller(caller);
    const s = await receivedState(services, c.userId, fileId);
    if (s.payload === undefined && s.manifest === undefined) throw notFound('You have no received file with this id.');
    // Without its declaration the file is swept by the next listing, even if the client never deletes it.
    if (s.declared !== undefined) await services.store.delete(s.declared.name);
    const grant = (part: 'payload' | 'manifest') =>
      services.grant({ userId: c.userId, action: 'received-delete', blobName: receivedBlob(c.userId, fileId, part), permissions: 'd' });
    const [payload, manifest] = await Promise.all([grant('payload'), grant('manifest')]);
    return { fileId, payload, manifest };
  }),
];


