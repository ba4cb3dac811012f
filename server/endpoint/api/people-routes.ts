/**
 * Sharing with a person (src/contract/people.ts, docs/CONTRACTS.md §2.2).
 * The server picks the share id and alone writes:
 *
 * - `people-shares/<shareId>`: the record (owner, file, recipient, the
 *   envelope's public tag; no key, no name);
 * - `people-index/<ownerId>/<fileId>/<recipientId>`: the owner's list of a
 *   file's people (its body is the share id; one share per person and file);
 * - `inbox/<recipientId>/<shareId>`: the pointer the recipient lists.
 *
 * A read grant for the owner's blobs goes only to the recipient the record
 * names, while the record exists; revoking deletes all three, so the
 * recipient's next read is refused (404, as for a share that never was).
 */
import { Buffer } from 'node:buffer';
import { z } from 'zod';
import { PEOPLE_ERROR_CODES, PEOPLE_ROUTES, MAX_PEOPLE_PER_FILE, INBOX_PAGE_SIZE, type PersonShare } from '../../../src/contract/index.ts';
import { directoryBlob, fileBlob, newFileId, normalizeEmail } from '../storage/blob-layout.ts';
import { ApiError } from './api-error.ts';
import { decodeBase64, mustCaller, route, type Route, type RouteServices } from './routes.ts';
import { directoryEntry } from './server-schemas.ts';
import { completeFile, replaceManifest } from './share-routes.ts';

const HEX32 = /^[0-9a-f]{32}$/;
const MAX_RECORD_BYTES = 2048;

function checkIds(...ids: string[]): void {
  if (!ids.every((id) => HEX32.test(id))) throw new Error('Refusing to build a blob name from a malformed id.');
}

/** `people-shares/<shareId>` */
export function personShareBlob(shareId: string): string {
  checkIds(shareId);
  return `people-shares/${shareId}`;
}

/** `people-index/<ownerId>/<fileId>/` */
export function peopleIndexPrefix(ownerId: string, fileId: string): string {
  checkIds(ownerId, fileId);
  return `people-index/${ownerId}/${fileId}/`;
}

/** `people-index/<ownerId>/`: every person share the owner made (account deletion removes them). */
export function ownerPeopleIndexPrefix(ownerId: string): string {
  checkIds(ownerId);
  return `people-index/${ownerId}/`;
}

/** `inbox/<userId>/`: the pointers to files shared with `userId`. */
export function inboxPrefix(userId: string): string {
  checkIds(userId);
  return `inbox/${userId}/`;
}

const personShareRecord = z
  .object({
    v: z.literal(1),
    ownerId: z.string().regex(HEX32),
    ownerEmail: z.string().nullable(),
    fileId: z.string().regex(HEX32),
    recipientId: z.string().regex(HEX32),
    recipientEmail: z.string(),
    createdAt: z.iso.datetime(),
    envelopeTag: z.string().regex(HEX32),
  })
  .strict();
type PersonShareRecord = z.infer<typeof personShareRecord>;

async function readRecord(services: RouteServices, shareId: string): Promise<PersonShareRecord | null> {
  const blob = await services.store.readSmall(personShareBlob(shareId), MAX_RECORD_BYTES);
  if (blob === null) return null;
  let json: unknown = null;
  try {
    json = JSON.parse(new TextDecoder().decode(blob.bytes));
  } catch {
    // Falls through to the schema check.
  }
  const parsed = personShareRecord.safeParse(json);
  if (!parsed.success) throw new Error('A person-share record in storage is malformed.');
  return parsed.data;
}

function entryOf(shareId: string, r: PersonShareRecord): PersonShare {
  return { shareId, fileId: r.fileId, recipientId: r.recipientId, recipientEmail: r.recipientEmail, createdAt: r.createdAt, envelopeTag: r.envelopeTag };
}

const notShared = (): ApiError => new ApiError(404, PEOPLE_ERROR_CODES.notShared, 'This file is not shared with you (any more).');
const fileGone = (): ApiError => new ApiError(404, 'not_found', 'You have no complete file with this id.');

/** The directory's user id for `email`, or null. */
async function directoryUser(services: RouteServices, email: string): Promise<string | null> {
  const blob = await services.store.readSmall(directoryBlob(email, services.nameKey), 1024);
  if (blob === null) return null;
  let json: unknown = null;
  try {
    json = JSON.parse(new TextDecoder().decode(blob.bytes));
  } catch {
    // Falls through to the schema check.
  }
  const entry = directoryEntry.safeParse(json);
  if (!entry.success) throw new Error('A directory entry in storage is malformed.');
  return entry.data.userId;
}

const cursorSchema = z.object({ t: z.string().min(1) }).strict();

function encodeCursor(token: string): string {
  return Buffer.from(JSON.stringify({ t: token })).toString('base64url');
}

function decodeCursor(cursor: string): string {
  let json: unknown = null;
  try {
    json = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    // Falls through to the schema check.
  }
  const parsed = cursorSchema.safeParse(json);
  if (!parsed.success) throw new ApiError(400, 'invalid_query', 'The query is not valid: cursor: not one this server gave.');
  return parsed.data.t;
}

/** The person-share routes, in the order of PEOPLE_ROUTES. */
export const peopleRoutes: Route[] = [
  route(PEOPLE_ROUTES.createPersonShare, async ({ caller, param: fileId, body, services }) => {
    const c = mustCaller(caller);
    if (body.recipientId === c.userId) throw new ApiError(400, 'invalid_body', 'Your own files are already yours; share with someone else.');
    // The recipient must be the directory's user for that address: a pointer never lands in an inbox the owner did not look up.
    if ((await directoryUser(services, body.recipientEmail)) !== body.recipientId) {
      throw new ApiError(404, PEOPLE_ERROR_CODES.noSuchPerson, 'No Sealdrop user has published a key for this address.');
    }
    const state = await completeFile(services, c.userId, fileId);
    if (state === null) throw fileGone();
    const index = `${peopleIndexPrefix(c.userId, fileId)}${body.recipientId}`;
    if ((await services.store.stat(index)) !== null) throw new ApiError(409, PEOPLE_ERROR_CODES.alreadyShared, 'This file is already shared with this person.');
    const existing = await services.store.list(peopleIndexPrefix(c.userId, fileId), { maxPageSize: MAX_PEOPLE_PER_FILE + 1 });
    if (existing.blobs.length >= MAX_PEOPLE_PER_FILE) throw new ApiError(409, 'too_many_people', `A file can be shared with at most ${MAX_PEOPLE_PER_FILE} people.`);
    await replaceManifest(services, c, fileId, state, decodeBase64(body.manifest), body.manifestEtag);
    const shareId = newFileId();
    const record: PersonShareRecord = {
      v: 1,
      ownerId: c.userId,
      ownerEmail: c.email === null ? null : normalizeEmail(c.email),
      fileId,
      recipientId: body.recipientId,
      recipientEmail: normalizeEmail(body.recipientEmail),
      createdAt: services.now().toISOString(),
      envelopeTag: body.envelopeTag,
    };
    // Record first, then the index and the inbox pointer: a pointer never names a record that is not there.
    if ((await services.store.createIfAbsent(personShareBlob(shareId), new TextEncoder().encode(JSON.stringify(record)), 'application/json')) === null) {
      throw new Error('A fresh share id was already taken.');
    }
    if ((await services.store.createIfAbsent(index, new TextEncoder().encode(shareId), 'text/plain')) === null) {
      await services.store.delete(personShareBlob(shareId));
      throw new ApiError(409, PEOPLE_ERROR_CODES.alreadyShared, 'This file is already shared with this person.');
    }
    await services.store.createIfAbsent(`${inboxPrefix(body.recipientId)}${shareId}`, new Uint8Array(), 'application/octet-stream');
    return entryOf(shareId, record);
  }),

  route(PEOPLE_ROUTES.listPersonShares, async ({ caller, param: fileId, services }) => {
    const c = mustCaller(caller);
    const prefix = peopleIndexPrefix(c.userId, fileId);
    const { blobs } = await services.store.list(prefix, { maxPageSize: MAX_PEOPLE_PER_FILE + 1 });
    const people: PersonShare[] = [];
    for (const b of blobs) {
      const index = await services.store.readSmall(b.name, 64);
      const shareId = index === null ? '' : new TextDecoder().decode(index.bytes);
      if (!HEX32.test(shareId)) continue;
      const record = await readRecord(services, shareId);
      // The index is the owner's own; a record that is gone or not theirs is skipped, never shown.
      if (record === null || record.ownerId !== c.userId || record.fileId !== fileId) continue;
      people.push(entryOf(shareId, record));
    }
    people.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    return { people };
  }),

  route(PEOPLE_ROUTES.revokePersonShare, async ({ caller, param: shareId, body, services }) => {
    const c = mustCaller(caller);
    const record = await readRecord(services, shareId);
    // Another user's share is answered like one that does not exist.
    if (record === null || record.ownerId !== c.userId) throw notShared();
    if ('manifest' in body) {
      const state = await completeFile(services, c.userId, record.fileId);
      if (state !== null) await replaceManifest(services, c, record.fileId, state, decodeBase64(body.manifest), body.manifestEtag);
    }
    // The record goes first: from this moment no read grant is issued.
    await services.store.delete(personShareBlob(shareId));
    await Promise.all([
      services.store.delete(`${inboxPrefix(record.recipientId)}${shareId}`),
      services.store.delete(`${peopleIndexPrefix(c.userId, record.fileId)}${record.recipientId}`),
    ]);
    return { shareId, revoked: true as const };
  }),

  route(PEOPLE_ROUTES.readPersonShare, async ({ caller, param: shareId, services }) => {
    const c = mustCaller(caller);
    const record = await readRecord(services, shareId);
    // Only the named recipient: anyone else (the owner included: they read their own file by its id) gets the same 404.
    if (record === null || record.recipientId !== c.userId) throw notShared();
    if ((await completeFile(services, record.ownerId, record.fileId)) === null) throw notShared();
    const grant = (part: 'manifest' | 'payload') =>
      services.grant({ userId: c.userId, action: 'shared-read', blobName: fileBlob(record.ownerId, record.fileId, part), permissions: 'r' });
    const [manifest, payload] = await Promise.all([grant('manifest'), grant('payload')]);
    return { shareId, fileId: record.fileId, ownerId: record.ownerId, manifest, payload };
  }),

  route(PEOPLE_ROUTES.inbox, async ({ caller, query, services }) => {
    const c = mustCaller(caller);
    const page = await services.store.list(inboxPrefix(c.userId), {
      maxPageSize: INBOX_PAGE_SIZE,
      ...(query.cursor === undefined ? {} : { continuationToken: decodeCursor(query.cursor) }),
    });
    const entries = [];
    for (const b of page.blobs) {
      const shareId = b.name.slice(inboxPrefix(c.userId).length);
      if (!HEX32.test(shareId)) continue;
      const record = await readRecord(services, shareId);
      // A pointer whose record is gone (revoked meanwhile) or names someone else is never shown.
      if (record === null || record.recipientId !== c.userId) continue;
      // The listing carries the manifest's read grant (the same rule as the read route), so opening costs no API call per file.
      if ((await completeFile(services, record.ownerId, record.fileId)) === null) continue;
      const manifestRead = await services.grant({ userId: c.userId, action: 'inbox-read', blobName: fileBlob(record.ownerId, record.fileId, 'manifest'), permissions: 'r' });
      entries.push({ shareId, fileId: record.fileId, ownerId: record.ownerId, ownerEmail: record.ownerEmail, createdAt: record.createdAt, manifestRead });
    }
    return { entries, next: page.continuationToken === null ? null : encodeCursor(page.continuationToken) };
  }),
];

/**
 * Account deletion of the owner of `indexName` (a blob under
 * `people-index/<ownerId>/`): deletes the share record it names first (the
 * recipient's grants stop), then the recipient's inbox pointer and the
 * index entry. Returns how many blobs it removed.
 */
export async function removePersonShareByIndex(services: RouteServices, indexName: string): Promise<number> {
  let removed = 0;
  const index = await services.store.readSmall(indexName, 64);
  const shareId = index === null ? '' : new TextDecoder().decode(index.bytes);
  if (HEX32.test(shareId)) {
    const record = await readRecord(services, shareId).catch(() => null);
    await services.store.delete(personShareBlob(shareId));
    removed++;
    if (record !== null) {
      await services.store.delete(`${inboxPrefix(record.recipientId)}${shareId}`);
      removed++;
    }
  }
  await services.store.delete(indexName);
  return removed + 1;
}
