/**
 * The handlers of `/api/v1`, one per route of the wire contract
 * (src/contract/routes.ts, docs/CONTRACTS.md §2). Handlers receive validated
 * input and a verified caller; they decide every blob name themselves.
 */
import { Buffer } from 'node:buffer';
import { webcrypto } from 'node:crypto';
import type { z } from 'zod';
import {
  ACCOUNT_ERROR_CODES,
  ERROR_CODES,
  MAX_INLINE_MANIFEST_BYTES,
  MAX_ROTATIONS,
  ROUTES,
  type RouteContract,
} from '../../../src/contract/index.ts';
import type { AuditSink } from '../audit-log.ts';
import type { Caller } from '../auth/token-verifier.ts';
import type { HealthCheck } from '../health.ts';
import { checkDriveKeyCopy } from '../keys/drive-key-copy.ts';
import { checkPublicIdentity, checkRotation, KeyProofError } from '../keys/public-identity.ts';
import {
  accountDeletionBlob,
  declarationBlob,
  directoryBlob,
  driveKeyBlob,
  fileBlob,
  filePrefix,
  loggedMarkerBlob,
  newFileId,
  normalizeEmail,
  parseFileBlobName,
  publicKeyBlob,
  recoveryBlob,
  formerIdentityBlob,
  resealedFromBlob,
  rotationBlob,
  rotationsPrefix,
  userFilesPrefix,
  type NameKey,
} from '../storage/blob-layout.ts';
import type { BlobStore, ListedBlob } from '../storage/blob-store.ts';
import { ApiError, notFound } from './api-error.ts';
import { appendChanges, readChanges, type ChangeLogContext, type ChangeRecord } from './change-log.ts';
import type { Grant, GrantIssuer } from './grants.ts';
import { directoryEntry, listCursor } from './server-schemas.ts';

/** What handlers may use. */
export interface RouteServices {
  store: BlobStore;
  grant: GrantIssuer;
  maxFileBytes: number;
  maxManifestBytes: number;
  /** Keys directory and recovery blob names. */
  nameKey: NameKey;
  now: () => Date;
  /** Storage and identity-provider reachability for `/health` (cached, never rejects). */
  health: HealthCheck;
  /** Blocks after which a change-log segment is full (below storage's 50,000; tests make it small). */
  changeLogSegmentBlocks: number;
  /** Receives audit lines that are not grants (account deletion). */
  audit: AuditSink;
  /** How much one `POST /account/delete` call removes at most: blobs, and milliseconds spent (tests make them small). */
  accountDeletion: { blobsPerCall: number; msPerCall: number };
}

/** A handler's answer: status and a JSON-serialisable body. */
export interface RouteResult {
  status: number;
  body: unknown;
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

type Handler<Q extends z.ZodType, B extends z.ZodType, R extends z.ZodType> = (input: {
  caller: Caller | null;
  param: string;
  query: z.output<Q>;
  body: z.output<B>;
  services: RouteServices;
}) => Promise<z.input<R>>;

/** Binds a handler to its contract route; the answer's status is the contract's. */
export function route<Q extends z.ZodType, B extends z.ZodType, R extends z.ZodType>(contract: RouteContract<Q, B, R>, handle: Handler<Q, B, R>): Route {
  return {
    method: contract.method,
    path: contract.path,
    auth: contract.auth,
    async run({ caller, param, query, body, services }) {
      const q = contract.query.safeParse(query);
      if (!q.success) throw new ApiError(400, 'invalid_query', `The query is not valid: ${describeIssue(q.error)}`);
      const b = contract.body.safeParse(body);
      if (!b.success) throw new ApiError(400, 'invalid_body', `The request body is not valid: ${describeIssue(b.error)}`);
      return { status: contract.status, body: await handle({ caller, param, query: q.data, body: b.data, services }) };
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

export function mustCaller(caller: Caller | null): Caller {
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

/** What the listing shows of one file: its parts and the sizes the server recorded when it granted the upload. */
export interface FileState {
  payload?: ListedBlob;
  manifest?: ListedBlob;
  declared?: { name: string; payloadBytes: number; manifestBytes: number };
  /** A re-seal upload's marker: once complete, this file takes `oldFileId`'s place (see finishReseal). */
  from?: { name: string; oldFileId: string };
}

/** Every blob of one file (committed or, for the payload, only uncommitted blocks). */
export async function fileState(store: BlobStore, userId: string, fileId: string): Promise<FileState> {
  const { blobs } = await store.list(filePrefix(userId, fileId), { maxPageSize: 10, includeUncommitted: true });
  const state: FileState = {};
  for (const b of blobs) addToState(state, userFilesPrefix(userId), b, fileId);
  return state;
}

function addToState(state: FileState, prefix: string, blob: ListedBlob, onlyFileId?: string): string | null {
  const parsed = parseFileBlobName(prefix, blob.name);
  if (parsed === null || (onlyFileId !== undefined && parsed.fileId !== onlyFileId)) return null;
  if (parsed.part === 'declared') {
    // Two declarations exist for a moment while a share grows the manifest (share-routes.ts): the larger one holds.
    const prev = state.declared;
    if (prev === undefined || parsed.payloadBytes + parsed.manifestBytes > prev.payloadBytes + prev.manifestBytes) {
      state.declared = { name: blob.name, payloadBytes: parsed.payloadBytes, manifestBytes: parsed.manifestBytes };
    }
  }
  else if (parsed.part === 'from') state.from = { name: blob.name, oldFileId: parsed.oldFileId };
  else state[parsed.part] = blob;
  return parsed.fileId;
}

/**
 * True when a file holds more than its upload grant declared, or has parts
 * but no declaration (the server writes the declaration before it grants,
 * and removes it when it grants deletion). SAS cannot cap a blob's size, so
 * this is where the cap is enforced.
 */
export function breaksDeclaration(state: FileState): boolean {
  if (state.payload === undefined && state.manifest === undefined) return false;
  if (state.declared === undefined) return true;
  return (
    (state.payload?.contentLength ?? 0) > state.declared.payloadBytes || (state.manifest?.contentLength ?? 0) > state.declared.manifestBytes
  );
}

/** Deletes every blob of a file that broke its declaration: it is never listed or granted again. */
export async function sweep(services: RouteServices, userId: string, fileId: string, state: FileState): Promise<void> {
  const logged = (await services.store.stat(loggedMarkerBlob(userId, fileId))) !== null;
  await Promise.all([
    services.store.delete(fileBlob(userId, fileId, 'payload')),
    services.store.delete(fileBlob(userId, fileId, 'manifest')),
    ...(state.declared === undefined ? [] : [services.store.delete(state.declared.name)]),
  ]);
  // Readers of the change log learn it is gone too.
  if (logged) await logDeletion(services, userId, fileId);
}

/** The change log of `userId`, seeded (when it has none) from one walk of their files. */
function changeLog(services: RouteServices, userId: string): ChangeLogContext {
  return { store: services.store, userId, segmentBlocks: services.changeLogSegmentBlocks, walk: () => walkFiles(services, userId) };
}

/** Appends a delete event and forgets the file's marker. */
async function logDeletion(services: RouteServices, userId: string, fileId: string): Promise<void> {
  await appendChanges(changeLog(services, userId), [{ op: 'delete', fileId, at: services.now().toISOString() }]);
  await services.store.delete(loggedMarkerBlob(userId, fileId));
}

/** An add record for a complete file that keeps its declaration. */
function addRecord(fileId: string, state: FileState, now: Date): Extract<ChangeRecord, { op: 'add' }> {
  const { payloadBytes, manifestBytes, createdAt, etag } = toEntry(fileId, state, now);
  return { op: 'add', fileId, payloadBytes, manifestBytes, createdAt, etag };
}

/**
 * Appends an add event for a file whose manifest was replaced (a key
 * rotation re-seals it): listings from the log then take the new manifest
 * (inline when small) under its new ETag, as a second add of the same file.
 */
export async function logManifestReplaced(services: RouteServices, userId: string, fileId: string): Promise<void> {
  const state = await fileState(services.store, userId, fileId);
  if (state.manifest === undefined || state.declared === undefined) return;
  const record = addRecord(fileId, state, services.now());
  const inline = await inlineManifest(services, userId, fileId, record);
  if (inline !== null) record.manifest = inline;
  await appendChanges(changeLog(services, userId), [record]);
}

/**
 * The one step that writes a file's replaced manifest (a link or person
 * share added or revoked, a key rotation): `bytes` in place of the manifest
 * whose ETag is `currentEtag` (If-Match), the declaration grown first when
 * the manifest grows (so listings never sweep the file) and the old one
 * dropped after, then an add event in the change log, so other devices'
 * lists take the new manifest. The caller has checked what may change.
 * Returns the new ETag. Throws 412 `stale_etag` when the manifest changed
 * meanwhile (nothing is written then).
 */
export async function storeReplacedManifest(
  services: RouteServices,
  userId: string,
  fileId: string,
  declared: NonNullable<FileState['declared']>,
  currentEtag: string,
  bytes: Uint8Array,
): Promise<string> {
  let grown: string | null = null;
  if (bytes.length > declared.manifestBytes) {
    grown = declarationBlob(userId, fileId, { payloadBytes: declared.payloadBytes, manifestBytes: bytes.length });
    await services.store.createIfAbsent(grown, new Uint8Array(), 'application/octet-stream');
  }
  const written = await services.store.replaceIfMatch(fileBlob(userId, fileId, 'manifest'), bytes, 'application/octet-stream', currentEtag);
  if (written === null) {
    if (grown !== null) await services.store.delete(grown);
    throw new ApiError(412, ERROR_CODES.stale, 'The file changed since you opened it. Reload and try again.');
  }
  if (grown !== null) await services.store.delete(declared.name);
  await logManifestReplaced(services, userId, fileId);
  return written;
}

/**
 * The switch of a re-seal (an upload granted with `replaces`,
 * docs/CONTRACTS.md §2): the new file `fileId` is complete (its manifest is
 * stored), so the file it replaces goes. Its declaration is deleted first:
 * from then on nobody gets a grant for it (the owner, a link or a person)
 * and listings sweep it. Then ONE change-log append adds the new file and
 * deletes the old one, so no reader of the log ever lists both or neither;
 * then the old blobs go, and the marker last. Every step can run again, so
 * a switch cut off midway is finished by the next call (complete again, or
 * a listing that meets the marker). Returns whether it appended the new
 * file's add event (false when an earlier call did).
 */
export async function finishReseal(
  services: RouteServices,
  userId: string,
  fileId: string,
  state: FileState & { from: NonNullable<FileState['from']> },
  logged: boolean,
): Promise<boolean> {
  const oldId = state.from.oldFileId;
  const old = await fileState(services.store, userId, oldId);
  if (old.declared !== undefined) await services.store.delete(old.declared.name);
  const records: ChangeRecord[] = [];
  if (!logged) {
    const record = addRecord(fileId, state, services.now());
    const inline = await inlineManifest(services, userId, fileId, record);
    if (inline !== null) record.manifest = inline;
    records.push(record);
  }
  if (old.payload !== undefined || old.manifest !== undefined) records.push({ op: 'delete', fileId: oldId, at: services.now().toISOString() });
  if (records.length > 0) await appendChanges(changeLog(services, userId), records);
  if (!logged) await services.store.createIfAbsent(loggedMarkerBlob(userId, fileId), new Uint8Array(), 'application/octet-stream');
  await Promise.all([
    services.store.delete(fileBlob(userId, oldId, 'manifest')),
    services.store.delete(fileBlob(userId, oldId, 'payload')),
    services.store.delete(loggedMarkerBlob(userId, oldId)),
  ]);
  await services.store.delete(state.from.name);
  return !logged;
}

/**
 * The file's sealed manifest for its add event (base64), so a cold listing
 * reads manifests from the log instead of one storage GET each (issue 16).
 * Null when it is too large to inline, or was replaced since the listing
 * that made `record` (the event then carries none and the client reads it).
 */
async function inlineManifest(services: RouteServices, userId: string, fileId: string, record: { manifestBytes: number; etag: string }): Promise<string | null> {
  if (record.manifestBytes > MAX_INLINE_MANIFEST_BYTES) return null;
  const read = await services.store.readSmall(fileBlob(userId, fileId, 'manifest'), MAX_INLINE_MANIFEST_BYTES);
  // Storage's listing spells ETags unquoted, its downloads quoted.
  const unquoted = (etag: string): string => etag.replaceAll('"', '');
  return read !== null && unquoted(read.etag) === unquoted(record.etag) ? encodeBase64(read.bytes) : null;
}

/**
 * Every complete, declared file of a user as add records: the seed of a
 * change log for a drive that is older than its log. One walk of storage's
 * listing (files breaking their declaration are left to the listing's sweep).
 */
async function walkFiles(services: RouteServices, userId: string): Promise<ChangeRecord[]> {
  const prefix = userFilesPrefix(userId);
  const states = new Map<string, FileState>();
  let token: string | undefined;
  do {
    const page = await services.store.list(prefix, { maxPageSize: 5000, includeUncommitted: true, ...(token === undefined ? {} : { continuationToken: token }) });
    for (const blob of page.blobs) {
      const state: FileState = {};
      const fileId = addToState(state, prefix, blob);
      if (fileId !== null) states.set(fileId, { ...states.get(fileId), ...state });
    }
    token = page.continuationToken ?? undefined;
  } while (token !== undefined);
  const now = services.now();
  const records: ChangeRecord[] = [];
  for (const [fileId, state] of states) {
    if (state.manifest !== undefined && !breaksDeclaration(state)) records.push(addRecord(fileId, state, now));
  }
  // Oldest first, as if the log had been kept all along.
  return records.sort((a, b) => (a.op === 'add' && b.op === 'add' ? a.createdAt.localeCompare(b.createdAt) : 0));
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

function toEntry(fileId: string, { payload, manifest }: FileState, now: Date) {
  // Storage reports a creation time and an ETag for every listed blob; the
  // SDK types them optional, so fall back rather than break the contract.
  const created = payload?.createdOn ?? manifest?.createdOn ?? now;
  return {
    fileId,
    payloadBytes: payload?.contentLength ?? 0,
    manifestBytes: manifest?.contentLength ?? 0,
    createdAt: created.toISOString(),
    // The manifest is what makes a file; its ETag changes if it is ever replaced.
    etag: manifest?.etag ?? payload?.etag ?? '',
    complete: manifest !== undefined,
  };
}

export function decodeBase64(b64: string): Uint8Array {
  // The contract's schema has already checked the alphabet and length.
  return new Uint8Array(Buffer.from(b64, 'base64'));
}

function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}

/** How recent a sign-in must be for a passphrase change (RFC 9470's max_age). */
export const REAUTH_MAX_AGE_SECONDS = 300;

/** Throws 401 `reauth_required` unless the caller signed in interactively within {@link REAUTH_MAX_AGE_SECONDS}. */
export function requireFreshSignIn(caller: Caller, now: Date): void {
  const age = caller.authTime === null ? Infinity : now.getTime() / 1000 - caller.authTime;
  // A little slack for clock skew in the future direction only.
  if (!(age <= REAUTH_MAX_AGE_SECONDS && age >= -60)) {
    throw new ApiError(401, ERROR_CODES.reauthRequired, 'Sign in again to confirm it is you, then try once more.', {
      'www-authenticate': `Bearer error="insufficient_user_authentication", max_age=${REAUTH_MAX_AGE_SECONDS}`,
    });
  }
}

async function checkedIdentity(bytes: Uint8Array) {
  try {
    return await checkPublicIdentity(bytes);
  } catch (err) {
    if (err instanceof KeyProofError) throw new ApiError(400, 'invalid_public_key', err.message);
    throw err;
  }
}

/**
 * Throws 409 `account_deleting` while the caller's account is being deleted
 * (docs/CONTRACTS.md §2.3): a key published or a file uploaded then would
 * outlive the account.
 */
async function refuseWhileDeleting(services: RouteServices, userId: string): Promise<void> {
  if ((await services.store.stat(accountDeletionBlob(userId))) !== null) {
    throw new ApiError(409, ACCOUNT_ERROR_CODES.deleting, 'This account is being deleted. Finish deleting it, then sign up again if you wish.');
  }
}

/** Whether a stored drive-key copy names the RSA key of the published identity as its recipient (docs/FORMAT.md §10.5). */
async function wrappedToPublished(copy: Uint8Array, publishedIdentity: Uint8Array): Promise<boolean> {
  const { encryptSpki } = await checkPublicIdentity(publishedIdentity);
  const recipient = Buffer.from(await webcrypto.subtle.digest('SHA-256', new Uint8Array(encryptSpki)));
  return Buffer.from(copy.subarray(5, 37)).equals(recipient);
}

/** Public identities and recovery copies are tiny; anything bigger in storage is not ours. */
const MAX_KEY_BLOB_BYTES = 16 * 1024;

function startsWithMagic(bytes: Uint8Array, magic: string): boolean {
  return bytes.length > magic.length && magic.split('').every((c, i) => bytes[i] === c.charCodeAt(0));
}

/** The handlers, in the order of the contract's route table. */
export const routes: Route[] = [
  route(ROUTES.health, ({ services }) => services.health()),

  route(ROUTES.me, ({ caller }) => {
    const c = mustCaller(caller);
    return Promise.resolve({ userId: c.userId, email: c.email, name: c.name });
  }),

  route(ROUTES.createUpload, async ({ caller, body, services }) => {
    const c = mustCaller(caller);
    if (body.payloadBytes > services.maxFileBytes) {
      throw new ApiError(413, 'file_too_large', `Files can be at most ${services.maxFileBytes} bytes once sealed.`);
    }
    if (body.manifestBytes > services.maxManifestBytes) {
      throw new ApiError(413, 'manifest_too_large', `A file's manifest can be at most ${services.maxManifestBytes} bytes.`);
    }
    await refuseWhileDeleting(services, c.userId);
    if (body.replaces !== undefined) {
      // Only a complete file of the caller's can be re-sealed.
      const old = await fileState(services.store, c.userId, body.replaces);
      if (old.manifest === undefined || breaksDeclaration(old)) throw notFound('You have no complete file with this id to re-seal.');
    }
    const fileId = newFileId();
    const { payloadBytes, manifestBytes } = body;
    // Recorded before any grant exists, so every file's parts have a declaration to be held to.
    await services.store.createIfAbsent(declarationBlob(c.userId, fileId, { payloadBytes, manifestBytes }), new Uint8Array(), 'application/octet-stream');
    if (body.replaces !== undefined) await services.store.createIfAbsent(resealedFromBlob(c.userId, fileId, body.replaces), new Uint8Array(), 'application/octet-stream');
    return fileGrants(services, c.userId, fileId, 'upload', 'rcw', 'cw');
  }),

  route(ROUTES.renewUpload, async ({ caller, param, services }) => {
    const c = mustCaller(caller);
    const state = await fileState(services.store, c.userId, param);
    if (state.manifest !== undefined) throw new ApiError(409, 'upload_complete', 'This upload is already complete; it cannot be written again.');
    if (state.payload === undefined || state.declared === undefined) throw notFound('There is no upload in progress with this id.');
    return fileGrants(services, c.userId, param, 'upload-renew', 'rcw', 'cw');
  }),

  route(ROUTES.listFiles, async ({ caller, query, services }) => {
    const c = mustCaller(caller);
    const prefix = userFilesPrefix(c.userId);
    const cursor = decodeCursor(query.cursor);
    const page = await services.store.list(prefix, {
      maxPageSize: query.limit,
      includeUncommitted: true,
      ...(cursor.t !== null ? { continuationToken: cursor.t } : {}),
    });

    // Names sort as .../<fileId>/declared-…, …/manifest, …/payload, so one
    // file's blobs are adjacent; only the last file of a page can be split,
    // and it is then read whole here and skipped on the next page.
    const groups = new Map<string, FileState>();
    let lastId: string | null = null;
    for (const blob of page.blobs) {
      const state: FileState = {};
      const fileId = addToState(state, prefix, blob);
      if (fileId === null) continue;
      lastId = fileId;
      if (fileId === cursor.skip) continue;
      groups.set(fileId, { ...groups.get(fileId), ...state });
    }
    let skip: string | null = null;
    const lastName = page.blobs.at(-1)?.name;
    if (page.continuationToken !== null && lastId !== null && lastName !== fileBlob(c.userId, lastId, 'payload')) {
      // The file may go on in the next page(s): judge it whole, now, and skip it until its blobs end.
      if (lastId !== cursor.skip) groups.set(lastId, await fileState(services.store, c.userId, lastId));
      skip = lastId;
    }

    // A re-seal whose switch was cut off (its complete call never came): finish it now, so the
    // list never shows the file twice; the file it replaced is left out of this page.
    const replaced = new Set<string>();
    for (const [fileId, state] of groups) {
      if (state.from === undefined || state.manifest === undefined || breaksDeclaration(state)) continue;
      const logged = (await services.store.stat(loggedMarkerBlob(c.userId, fileId))) !== null;
      await finishReseal(services, c.userId, fileId, { ...state, from: state.from }, logged);
      replaced.add(state.from.oldFileId);
    }

    const files = [];
    for (const [fileId, state] of groups) {
      if (replaced.has(fileId)) continue;
      if (breaksDeclaration(state)) {
        await sweep(services, c.userId, fileId, state);
        continue;
      }
      // A declaration alone is an upload granted but not started: nothing to show.
      if (state.payload === undefined && state.manifest === undefined) continue;
      const entry = toEntry(fileId, state, services.now());
      // The same checks as the read route passed just above (declared sizes,
      // manifest present), so the listing can carry the manifest's read
      // grant: signing is a local HMAC, and the client then needs no API
      // call per file. Only the manifest: the payload is granted on download.
      if (entry.complete) {
        const manifestRead = await services.grant({ userId: c.userId, action: 'list-read', blobName: fileBlob(c.userId, fileId, 'manifest'), permissions: 'r' });
        files.push({ ...entry, manifestRead });
      } else {
        files.push(entry);
      }
    }
    return { files, next: page.continuationToken === null ? null : encodeCursor({ t: page.continuationToken, skip }) };
  }),

  route(ROUTES.fileChanges, async ({ caller, query, services }) => {
    const c = mustCaller(caller);
    const read = await readChanges(changeLog(services, c.userId), query.after, query.limit);
    const changes = await Promise.all(
      read.records.map(async (r) => {
        if (r.op === 'delete') return { op: 'delete' as const, fileId: r.fileId };
        // The file was complete and declared when logged; the grant is the
        // listing's (read, manifest only). A file deleted since has a later
        // delete event, and its grant reads nothing.
        const manifestRead = await services.grant({ userId: c.userId, action: 'list-read', blobName: fileBlob(c.userId, r.fileId, 'manifest'), permissions: 'r' });
        const { fileId, payloadBytes, manifestBytes, createdAt, etag, manifest } = r;
        return { op: 'add' as const, fileId, payloadBytes, manifestBytes, createdAt, etag, manifestRead, ...(manifest === undefined ? {} : { manifest }) };
      }),
    );
    return { changes, next: read.next, exhausted: read.exhausted };
  }),

  route(ROUTES.completeFile, async ({ caller, param, services }) => {
    const c = mustCaller(caller);
    // One listing of the file's blobs says whether it is complete, declared and logged already.
    const { blobs } = await services.store.list(filePrefix(c.userId, param), { maxPageSize: 10, includeUncommitted: true });
    const state: FileState = {};
    for (const b of blobs) addToState(state, userFilesPrefix(c.userId), b, param);
    const logged = blobs.some((b) => b.name === loggedMarkerBlob(c.userId, param));
    if (breaksDeclaration(state)) {
      await sweep(services, c.userId, param, state);
      throw notFound('You have no complete file with this id.');
    }
    if (state.declared === undefined) throw notFound('You have no file with this id.');
    if (state.manifest === undefined) {
      throw new ApiError(409, ERROR_CODES.uploadIncomplete, 'This upload has no description (manifest) yet; finish it first.');
    }
    const record = addRecord(param, state, services.now());
    if (state.from !== undefined) {
      const appended = await finishReseal(services, c.userId, param, { ...state, from: state.from }, logged);
      return { fileId: param, etag: record.etag, appended };
    }
    if (logged) return { fileId: param, etag: record.etag, appended: false };
    const inline = await inlineManifest(services, c.userId, param, record);
    if (inline !== null) record.manifest = inline;
    // Append first, then mark: a failure in between appends again next time (harmless), never loses the event.
    await appendChanges(changeLog(services, c.userId), [record]);
    await services.store.createIfAbsent(loggedMarkerBlob(c.userId, param), new Uint8Array(), 'application/octet-stream');
    return { fileId: param, etag: record.etag, appended: true };
  }),

  route(ROUTES.readFile, async ({ caller, param, services }) => {
    const c = mustCaller(caller);
    const state = await fileState(services.store, c.userId, param);
    if (breaksDeclaration(state)) {
      await sweep(services, c.userId, param, state);
      throw notFound('You have no complete file with this id.');
    }
    if (state.manifest === undefined) throw notFound('You have no complete file with this id.');
    return fileGrants(services, c.userId, param, 'read', 'r', 'r');
  }),

  route(ROUTES.deleteFile, async ({ caller, param, services }) => {
    const c = mustCaller(caller);
    const state = await fileState(services.store, c.userId, param);
    if (state.declared !== undefined) await services.store.delete(state.declared.name);
    // An unfinished re-seal deleted by its owner never takes the old file's place.
    if (state.from !== undefined) await services.store.delete(state.from.name);
    if (state.payload === undefined && state.manifest === undefined) throw notFound('You have no file with this id.');
    // From here the file is gone for every listing: the log says so before the client deletes the blobs.
    await logDeletion(services, c.userId, param);
    // Without its declaration the file is swept by the next listing, even if the client never deletes it.
    return fileGrants(services, c.userId, param, 'delete', 'd', 'd');
  }),

  route(ROUTES.publishKey, async ({ caller, body, services }) => {
    const c = mustCaller(caller);
    const bytes = decodeBase64(body.publicIdentity);
    await checkedIdentity(bytes);
    await refuseWhileDeleting(services, c.userId);
    if (c.email !== null) {
      // First claim wins, and only for addresses the issuer vouches for
      // (Caller.email): a later token carrying the same address for a
      // different user never silently redirects lookups.
      const entry = new TextEncoder().encode(JSON.stringify({ userId: c.userId }));
      await services.store.createIfAbsent(directoryBlob(c.email, services.nameKey), entry, 'application/json');
    }
    // Written once: replacing a published key needs a rotation statement.
    const etag = await services.store.createIfAbsent(publicKeyBlob(c.userId), bytes, 'application/octet-stream');
    if (etag === null) {
      throw new ApiError(409, ERROR_CODES.publicKeyExists, 'A public key is already published for this account; it can only be rotated.');
    }
    return { userId: c.userId };
  }),

  route(ROUTES.rotateKey, async ({ caller, body, services }) => {
    const c = mustCaller(caller);
    const current = await services.store.readSmall(publicKeyBlob(c.userId), MAX_KEY_BLOB_BYTES);
    if (current === null) throw notFound('This account has no published key to rotate; publish one first.');
    const next = decodeBase64(body.publicIdentity);
    await checkedIdentity(next);
    const currentIdentity = await checkPublicIdentity(current.bytes);
    try {
      await checkRotation(decodeBase64(body.statement), { bytes: current.bytes, identity: currentIdentity }, next);
    } catch (err) {
      if (err instanceof KeyProofError) throw new ApiError(403, 'invalid_rotation', err.message);
      throw err;
    }
    const existing = await services.store.list(rotationsPrefix(c.userId), { maxPageSize: MAX_ROTATIONS + 1 });
    if (existing.blobs.length >= MAX_ROTATIONS) throw new ApiError(409, 'too_many_rotations', 'This account has rotated its keys too often.');
    // The statement goes first, numbered: a concurrent rotation loses on the name (409) or on the key's ETag (412).
    const statementName = rotationBlob(c.userId, existing.blobs.length + 1);
    if ((await services.store.createIfAbsent(statementName, decodeBase64(body.statement), 'application/octet-stream')) === null) {
      throw new ApiError(409, 'rotation_conflict', 'Another key change happened at the same time. Reload and try again.');
    }
    if ((await services.store.replaceIfMatch(publicKeyBlob(c.userId), next, 'application/octet-stream', current.etag)) === null) {
      await services.store.delete(statementName);
      throw new ApiError(412, ERROR_CODES.stale, 'The published key changed meanwhile. Reload and try again.');
    }
    // The identity just replaced, beside its statement, so readers can follow a chain of rotations
    // (POST /keys/public/:userId/history). Written after the change: one left over by a failed
    // attempt with this number is replaced; one missing only stops readers following a chain.
    const formerName = formerIdentityBlob(c.userId, existing.blobs.length + 1);
    await services.store.delete(formerName);
    await services.store.createIfAbsent(formerName, current.bytes, 'application/octet-stream');
    return { userId: c.userId };
  }),

  route(ROUTES.readPublicKey, async ({ param, services }) => {
    const key = await services.store.readSmall(publicKeyBlob(param), MAX_KEY_BLOB_BYTES);
    if (key === null) throw notFound('This person has not published a key yet.');
    const listed = await services.store.list(rotationsPrefix(param), { maxPageSize: MAX_ROTATIONS });
    const rotations = await Promise.all(
      listed.blobs.map(async (b) => {
        const blob = await services.store.readSmall(b.name, 1024);
        if (blob === null) throw new Error('A rotation statement vanished while being read.');
        return encodeBase64(blob.bytes);
      }),
    );
    return { userId: param, publicIdentity: encodeBase64(key.bytes), rotations };
  }),

  route(ROUTES.createRecovery, async ({ caller, body, services }) => {
    const c = mustCaller(caller);
    const bytes = decodeBase64(body.recovery);
    if (!startsWithMagic(bytes, 'SDBK')) throw new ApiError(400, 'invalid_recovery', 'This is not a Sealdrop recovery copy.');
    await refuseWhileDeleting(services, c.userId);
    // Written once: a stolen sign-in token cannot replace or destroy the only server-side backup.
    const etag = await services.store.createIfAbsent(recoveryBlob(c.userId, services.nameKey), bytes, 'application/octet-stream');
    if (etag === null) {
      throw new ApiError(409, ERROR_CODES.recoveryExists, 'A recovery copy already exists for this account; change it with your passphrase.');
    }
    return { etag };
  }),

  route(ROUTES.readRecovery, async ({ caller, services }) => {
    const c = mustCaller(caller);
    const blob = await services.store.readSmall(recoveryBlob(c.userId, services.nameKey), MAX_KEY_BLOB_BYTES);
    if (blob === null) throw notFound('This account has no recovery copy yet.');
    return { recovery: encodeBase64(blob.bytes), etag: blob.etag };
  }),

  route(ROUTES.replaceRecovery, async ({ caller, body, services }) => {
    const c = mustCaller(caller);
    requireFreshSignIn(c, services.now());
    const bytes = decodeBase64(body.recovery);
    if (!startsWithMagic(bytes, 'SDBK')) throw new ApiError(400, 'invalid_recovery', 'This is not a Sealdrop recovery copy.');
    const name = recoveryBlob(c.userId, services.nameKey);
    // If-Match in storage: the copy replaced is exactly the one the client read and unlocked.
    const etag = await services.store.replaceIfMatch(name, bytes, 'application/octet-stream', body.etag);
    if (etag === null) {
      if ((await services.store.stat(name)) === null) throw notFound('This account has no recovery copy yet.');
      throw new ApiError(412, ERROR_CODES.stale, 'The recovery copy changed since you opened it. Reload and try again.');
    }
    return { etag };
  }),

  route(ROUTES.createDriveKey, async ({ caller, body, services }) => {
    const c = mustCaller(caller);
    const published = await services.store.readSmall(publicKeyBlob(c.userId), MAX_KEY_BLOB_BYTES);
    if (published === null) throw new ApiError(409, ERROR_CODES.publicKeyMissing, 'Publish your public key before storing a drive key.');
    const bytes = decodeBase64(body.driveKey);
    try {
      await checkDriveKeyCopy(bytes, await checkPublicIdentity(published.bytes));
    } catch (err) {
      if (err instanceof KeyProofError) throw new ApiError(400, 'invalid_drive_key', err.message);
      throw err;
    }
    await refuseWhileDeleting(services, c.userId);
    // Written once: a stolen sign-in token cannot swap the key every later upload is wrapped to.
    if ((await services.store.createIfAbsent(driveKeyBlob(c.userId), bytes, 'application/octet-stream')) === null) {
      // The one exception: a copy wrapped to a key the account no longer publishes (its keys were
      // rotated, which only the old signing key can do) is replaced by one for the published key.
      const stored = await services.store.readSmall(driveKeyBlob(c.userId), MAX_KEY_BLOB_BYTES);
      const stale = stored !== null && !(await wrappedToPublished(stored.bytes, published.bytes));
      if (!stale || (await services.store.replaceIfMatch(driveKeyBlob(c.userId), bytes, 'application/octet-stream', stored.etag)) === null) {
        throw new ApiError(409, ERROR_CODES.driveKeyExists, 'A drive key is already stored for this account.');
      }
    }
    return { userId: c.userId };
  }),

  route(ROUTES.readDriveKey, async ({ caller, services }) => {
    const c = mustCaller(caller);
    const blob = await services.store.readSmall(driveKeyBlob(c.userId), MAX_KEY_BLOB_BYTES);
    if (blob === null) throw notFound('This account has no drive key yet.');
    return { driveKey: encodeBase64(blob.bytes) };
  }),

  route(ROUTES.lookupUser, async ({ body, services }) => {
    const blob = await services.store.readSmall(directoryBlob(body.email, services.nameKey), 1024);
    if (blob === null) throw notFound('No Sealdrop user has published a key for this address.');
    let json: unknown = null;
    try {
      json = JSON.parse(new TextDecoder().decode(blob.bytes));
    } catch {
      // Falls through to the schema check below.
    }
    const entry = directoryEntry.safeParse(json);
    if (!entry.success) throw new Error('A directory entry in storage is malformed.');
    return { userId: entry.data.userId, email: normalizeEmail(body.email) };
  }),
];
