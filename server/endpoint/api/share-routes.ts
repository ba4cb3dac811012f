/**
 * Link shares (src/contract/shares.ts, docs/CONTRACTS.md §2.1). The server
 * picks the share id and alone writes its record, `shares/<shareId>` (JSON:
 * owner, file, expiry, download limit, count, revoked; no secret), plus an
 * empty index blob `share-index/<ownerId>/<fileId>/<shareId>` for the owner's
 * list. An anonymous read gets read-only grants for the file's two blobs only
 * while the link is unexpired, unrevoked and under its limit; each read takes
 * one use, counted with If-Match so two readers can never both take the last.
 */
import { Buffer } from 'node:buffer';
import { z } from 'zod';
import { ERROR_CODES, SHARE_ERROR_CODES, SHARE_ROUTES, type ShareEntry } from '../../../src/contract/index.ts';
import type { Caller } from '../auth/token-verifier.ts';
import { fileBlob, newFileId } from '../storage/blob-layout.ts';
import { ApiError } from './api-error.ts';
import {
  breaksDeclaration,
  decodeBase64,
  fileState,
  mustCaller,
  route,
  storeReplacedManifest,
  sweep,
  type FileState,
  type Route,
  type RouteServices,
} from './routes.ts';

const HEX32 = /^[0-9a-f]{32}$/;

/** `shares/<shareId>`: the record only the server writes. */
export function shareBlob(shareId: string): string {
  if (!HEX32.test(shareId)) throw new Error('Refusing to build a blob name from a malformed share id.');
  return `shares/${shareId}`;
}

/** `share-index/<ownerId>/<fileId>/`: where the owner's links to one file are listed. */
export function shareIndexPrefix(ownerId: string, fileId: string): string {
  if (!HEX32.test(ownerId) || !HEX32.test(fileId)) throw new Error('Refusing to build a blob name from a malformed id.');
  return `share-index/${ownerId}/${fileId}/`;
}

/** `share-index/<ownerId>/`: every link the owner made, to any file (account deletion removes them all). */
export function ownerShareIndexPrefix(ownerId: string): string {
  if (!HEX32.test(ownerId)) throw new Error('Refusing to build a blob name from a malformed id.');
  return `share-index/${ownerId}/`;
}

/** The share id of a name listed under `share-index/<ownerId>/`, or null for anything else. */
export function shareIdOfIndexBlob(ownerId: string, name: string): string | null {
  const rest = name.startsWith(ownerShareIndexPrefix(ownerId)) ? name.slice(ownerShareIndexPrefix(ownerId).length).split('/') : [];
  return rest.length === 2 && HEX32.test(rest[0] ?? '') && HEX32.test(rest[1] ?? '') ? (rest[1] ?? null) : null;
}

const shareRecord = z
  .object({
    v: z.literal(1),
    ownerId: z.string().regex(HEX32),
    fileId: z.string().regex(HEX32),
    createdAt: z.iso.datetime(),
    expiresAt: z.iso.datetime(),
    maxDownloads: z.number().int().min(1).nullable(),
    downloads: z.number().int().nonnegative(),
    revoked: z.boolean(),
    envelopeTag: z.string().regex(HEX32),
  })
  .strict();
type ShareRecord = z.infer<typeof shareRecord>;

const MAX_RECORD_BYTES = 2048;
/** How often a read retries its If-Match count before giving up (another reader won each time). */
const COUNT_ATTEMPTS = 8;
/** Bytes of a manifest the server compares when it is replaced: header (57), lp16 signer (2 + 91), payload digest (32). */
const MANIFEST_FIXED_PREFIX = 57 + 2 + 91 + 32;

function encodeRecord(r: ShareRecord): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(r));
}

async function readRecord(services: RouteServices, shareId: string): Promise<{ record: ShareRecord; etag: string } | null> {
  const blob = await services.store.readSmall(shareBlob(shareId), MAX_RECORD_BYTES);
  if (blob === null) return null;
  let json: unknown = null;
  try {
    json = JSON.parse(new TextDecoder().decode(blob.bytes));
  } catch {
    // Falls through to the schema check.
  }
  const parsed = shareRecord.safeParse(json);
  if (!parsed.success) throw new Error('A share record in storage is malformed.');
  return { record: parsed.data, etag: blob.etag };
}

function stateOf(r: ShareRecord, now: Date): ShareEntry['state'] {
  if (r.revoked) return 'revoked';
  if (Date.parse(r.expiresAt) <= now.getTime()) return 'expired';
  if (r.maxDownloads !== null && r.downloads >= r.maxDownloads) return 'used_up';
  return 'active';
}

function entryOf(shareId: string, r: ShareRecord, now: Date): ShareEntry {
  const { v: _v, ownerId: _o, ...rest } = r;
  return { shareId, ...rest, state: stateOf(r, now) };
}

const linkNotFound = (): ApiError => new ApiError(404, SHARE_ERROR_CODES.notFound, 'There is no shared file at this link.');

/** A complete file of `ownerId`, or null (it is swept when it broke its declaration). */
export async function completeFile(services: RouteServices, ownerId: string, fileId: string): Promise<FileState | null> {
  const state = await fileState(services.store, ownerId, fileId);
  if (breaksDeclaration(state)) {
    await sweep(services, ownerId, fileId, state);
    return null;
  }
  return state.manifest === undefined ? null : state;
}

/**
 * Writes `bytes` as the owner's manifest in place of the one with ETag
 * `etag` (If-Match), after checking that only the envelopes changed: the
 * same magic, header, signer and payload digest as the manifest stored now.
 * Written by storeReplacedManifest (declaration grown first, a change-log
 * event after). Throws 400 for another file's or a reshaped manifest, 413 over
 * the size cap, 412 when the manifest changed meanwhile.
 */
export async function replaceManifest(services: RouteServices, c: Caller, fileId: string, state: FileState, bytes: Uint8Array, etag: string): Promise<void> {
  if (bytes.length > services.maxManifestBytes) throw new ApiError(413, 'manifest_too_large', `A file's manifest can be at most ${services.maxManifestBytes} bytes.`);
  const name = fileBlob(c.userId, fileId, 'manifest');
  const current = await services.store.readSmall(name, services.maxManifestBytes);
  if (current === null) throw linkFileGone();
  // A listing gives the ETag without quotes, a read with them: compare the value.
  if (unquote(current.etag) !== unquote(etag)) throw new ApiError(412, ERROR_CODES.stale, 'The file changed since you opened it. Reload and try again.');
  const prefix = (b: Uint8Array): Buffer => Buffer.from(b.subarray(0, MANIFEST_FIXED_PREFIX));
  if (bytes.length <= MANIFEST_FIXED_PREFIX || !prefix(bytes).equals(prefix(current.bytes))) {
    throw new ApiError(400, 'invalid_manifest', 'This manifest is not the same file with other readers.');
  }
  if (state.declared === undefined) throw linkFileGone();
  await storeReplacedManifest(services, c.userId, fileId, state.declared, current.etag, bytes);
}

const unquote = (etag: string): string => etag.replace(/^(?:W\/)?"(.*)"$/, '$1');

const linkFileGone = (): ApiError => new ApiError(404, 'not_found', 'You have no complete file with this id.');

/** The owner's record of `shareId`, or 404 (also for another user's link: its existence is not disclosed). */
async function ownedRecord(services: RouteServices, c: Caller, shareId: string): Promise<{ record: ShareRecord; etag: string }> {
  const found = await readRecord(services, shareId);
  if (found === null || found.record.ownerId !== c.userId) throw linkNotFound();
  return found;
}

/** The share routes, in the order of SHARE_ROUTES. */
export const shareRoutes: Route[] = [
  route(SHARE_ROUTES.createShare, async ({ caller, param: fileId, body, services }) => {
    const c = mustCaller(caller);
    const state = await completeFile(services, c.userId, fileId);
    if (state === null) throw linkFileGone();
    await replaceManifest(services, c, fileId, state, decodeBase64(body.manifest), body.manifestEtag);
    const now = services.now();
    const record: ShareRecord = {
      v: 1,
      ownerId: c.userId,
      fileId,
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + body.expiresInSeconds * 1000).toISOString(),
      maxDownloads: body.maxDownloads,
      downloads: 0,
      revoked: false,
      envelopeTag: body.envelopeTag,
    };
    // 128 random bits: a collision is not expected, but If-None-Match makes one fail rather than overwrite.
    const shareId = newFileId();
    if ((await services.store.createIfAbsent(shareBlob(shareId), encodeRecord(record), 'application/json')) === null) {
      throw new Error('A fresh share id was already taken.');
    }
    await services.store.createIfAbsent(`${shareIndexPrefix(c.userId, fileId)}${shareId}`, new Uint8Array(), 'application/octet-stream');
    return entryOf(shareId, record, now);
  }),

  route(SHARE_ROUTES.listShares, async ({ caller, param: fileId, services }) => {
    const c = mustCaller(caller);
    const prefix = shareIndexPrefix(c.userId, fileId);
    const shares: ShareEntry[] = [];
    let continuationToken: string | undefined;
    do {
      const page = await services.store.list(prefix, { maxPageSize: 100, ...(continuationToken === undefined ? {} : { continuationToken }) });
      for (const b of page.blobs) {
        const shareId = b.name.slice(prefix.length);
        if (!HEX32.test(shareId)) continue;
        const found = await readRecord(services, shareId);
        // The index is the owner's own; a record that is gone or not theirs is skipped, never shown.
        if (found === null || found.record.ownerId !== c.userId || found.record.fileId !== fileId) continue;
        shares.push(entryOf(shareId, found.record, services.now()));
      }
      continuationToken = page.continuationToken ?? undefined;
    } while (continuationToken !== undefined);
    shares.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    return { shares };
  }),

  route(SHARE_ROUTES.revokeShare, async ({ caller, param: shareId, body, services }) => {
    const c = mustCaller(caller);
    for (let attempt = 0; attempt < COUNT_ATTEMPTS; attempt++) {
      const { record, etag } = await ownedRecord(services, c, shareId);
      if ('manifest' in body && attempt === 0) {
        const state = await completeFile(services, c.userId, record.fileId);
        if (state !== null) await replaceManifest(services, c, record.fileId, state, decodeBase64(body.manifest), body.manifestEtag);
      }
      const next = { ...record, revoked: true };
      if ((await services.store.replaceIfMatch(shareBlob(shareId), encodeRecord(next), 'application/json', etag)) !== null) {
        return entryOf(shareId, next, services.now());
      }
    }
    throw new ApiError(409, 'busy', 'This link is being used right now. Try again in a moment.');
  }),

  route(SHARE_ROUTES.readShare, async ({ param: shareId, services }) => {
    for (let attempt = 0; attempt < COUNT_ATTEMPTS; attempt++) {
      const found = await readRecord(services, shareId);
      if (found === null) throw linkNotFound();
      const { record, etag } = found;
      const state = stateOf(record, services.now());
      if (state === 'revoked') throw new ApiError(410, SHARE_ERROR_CODES.revoked, 'The owner has withdrawn this link.');
      if (state === 'expired') throw new ApiError(410, SHARE_ERROR_CODES.expired, 'This link has expired.');
      if (state === 'used_up') throw new ApiError(410, SHARE_ERROR_CODES.usedUp, 'This link has been used as many times as its owner allowed.');
      if ((await completeFile(services, record.ownerId, record.fileId)) === null) throw linkNotFound();
      const next = { ...record, downloads: record.downloads + 1 };
      // If-Match: of two readers racing for the last use, one write fails and that reader re-reads the count.
      if ((await services.store.replaceIfMatch(shareBlob(shareId), encodeRecord(next), 'application/json', etag)) === null) continue;
      const grant = (part: 'manifest' | 'payload') =>
        services.grant({ userId: `link:${shareId}`, action: 'link-read', blobName: fileBlob(record.ownerId, record.fileId, part), permissions: 'r' });
      const [manifest, payload] = await Promise.all([grant('manifest'), grant('payload')]);
      return { fileId: record.fileId, manifest, payload };
    }
    throw new ApiError(409, 'busy', 'This link is being used right now. Try again in a moment.');
  }),
];
