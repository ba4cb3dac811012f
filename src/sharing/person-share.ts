/**
 * Sharing with a person, both sides (issue 17, Deliver 2, 3 and 6):
 *
 * - the owner finds a person by e-mail (directory lookup, then their
 *   published identity, whose self-signature is checked), wraps the file
 *   key to their RSA-OAEP key in a new envelope, re-signs the manifest and
 *   has the server write it with If-Match (a 412 re-reads and tries again,
 *   so two devices never drop each other's change), which also records the
 *   share and puts a pointer in the person's inbox; lists and revokes;
 * - the recipient lists their inbox (one API call per page, manifests read
 *   with the grants it carries), opens a file with their own private key
 *   and accepts it only when it is signed by the key pinned for the sender.
 *
 * The link the owner sends names the share only; the key is in the
 * manifest, wrapped to the recipient.
 */
import {
  ApiError,
  PEOPLE_ERROR_CODES,
  PEOPLE_ROUTES,
  ROTATION_ROUTES,
  ROUTES,
  inboxPageSchema,
  keyHistoryResponse,
  lookupResponse,
  pathOf,
  personShareListSchema,
  personShareReadSchema,
  personShareSchema,
  publicKeyResponse,
  revokedPersonShareSchema,
  type InboxEntry,
  type PersonShare,
  type PersonShareRead,
} from '../contract/index.ts';
import {
  SealdropCryptoError,
  STANZA_RSA_OAEP,
  importPublicIdentity,
  openManifest,
  reEnvelope,
  rsaRecipient,
  type FileMetadata,
  type Stanza,
} from '../crypto/index.ts';
import type { UnlockedIdentity } from '../keys/account-keys.ts';
import type { Contact, ContactStore, IdentityJudgement, PublishedIdentity } from '../keys/contacts.ts';
import { getBlob, getBlobWithEtag } from '../storage/blob-rest.ts';
import { openPayloadFromGrants } from '../storage/receiver.ts';
import { GrantKeeper, apiPaths, fileGrantsSchema, type GrantApi } from '../storage/grants.ts';
import { ownerIdentities, readerIdentities } from '../storage/owner-keys.ts';
import type { TransferProgress } from '../storage/progress.ts';
import { StorageError } from '../storage/storage-error.ts';

export type { PersonShare, InboxEntry };

/** Query parameter of the link the owner sends: `<origin>/?received=<shareId>`. */
export const RECEIVED_PARAM = 'received';
/** How often a share or revoke re-reads the manifest after a 412 before giving up. */
const WRITE_ATTEMPTS = 4;
const TAG_BYTES = 16;

function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

function fromBase64(b64: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

function envelopeTag(stanza: Stanza): string {
  return Array.from(stanza.body.subarray(0, TAG_BYTES), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The link the owner sends to the recipient: it names the share, nothing secret. */
export function receivedLink(origin: string, shareId: string): string {
  return `${origin.replace(/\/+$/, '')}/?${RECEIVED_PARAM}=${shareId}`;
}

/** A person found in the directory, their identity's self-signature checked. */
export interface FoundPerson extends PublishedIdentity {
  /** Fingerprint of the identity published now (8 groups of 5 digits). */
  fingerprint: string;
}

/** Nobody with this address has published a key. */
export class PersonNotFoundError extends Error {
  override readonly name = 'PersonNotFoundError';
  constructor() {
    super('Nobody with this address uses Sealdrop yet (or they have not set up their keys). Check the spelling, or send a link instead.');
  }
}

/**
 * Looks a person up by e-mail: the directory's user id, then their
 * published identity and rotation statements. Throws PersonNotFoundError,
 * the crypto core's TamperedError / MalformedError when the identity's
 * self-signature or bytes are bad, and the API client's errors.
 */
export async function findPerson(api: GrantApi, email: string): Promise<FoundPerson> {
  let userId: string;
  let address: string;
  try {
    ({ userId, email: address } = await api.post(pathOf(ROUTES.lookupUser), { email: email.trim() }, lookupResponse));
  } catch (error) {
    if (error instanceof ApiError && (error.status === 404 || error.status === 400)) throw new PersonNotFoundError();
    throw error;
  }
  const published = await readPublished(api, userId, address);
  const { fingerprint } = await importPublicIdentity(published.publicIdentity);
  return { ...published, fingerprint };
}

/**
 * A user's published identity and rotations, by user id; after two or more
 * rotations also the identities they replaced, so a chain since a pin can
 * be checked (src/keys/contacts.ts). Throws the API client's errors.
 */
export async function readPublished(api: GrantApi, userId: string, email: string): Promise<PublishedIdentity> {
  const key = await api.post(pathOf(ROUTES.readPublicKey, userId), undefined, publicKeyResponse);
  const published = { userId, email, publicIdentity: fromBase64(key.publicIdentity), rotations: key.rotations.map(fromBase64) };
  if (key.rotations.length < 2) return published;
  const history = await api.post(pathOf(ROTATION_ROUTES.readKeyHistory, userId), undefined, keyHistoryResponse);
  return { ...published, formerIdentities: history.formerIdentities.map(fromBase64) };
}

/** The person's key changed and the user has not accepted the change: nothing is shared until they do. */
export class ContactChangedError extends Error {
  override readonly name = 'ContactChangedError';
  constructor() {
    super('This person’s key changed since you last shared with them. Look at the warning and accept the new key first.');
  }
}

async function ownManifest(api: GrantApi, fileId: string): Promise<{ bytes: Uint8Array; etag: string }> {
  const grants = await api.post(apiPaths.read(fileId), undefined, fileGrantsSchema);
  return getBlobWithEtag(grants.manifest.url);
}

function isStale(error: unknown): boolean {
  return error instanceof ApiError && error.status === 412;
}

/**
 * Shares the owner's file with the pinned contact: their envelope added,
 * the manifest re-signed by the owner and written with If-Match (a 412
 * re-reads and tries again), the server's record and inbox pointer made.
 * Throws ContactChangedError when the contact has an unaccepted change,
 * ApiError (409 already shared, 404 no such person or file, 412 after
 * several tries), StorageError, or the crypto errors of opening the manifest.
 */
export async function shareWithPerson(api: GrantApi, identity: UnlockedIdentity, fileId: string, contact: Contact): Promise<PersonShare> {
  if (contact.pending !== null) throw new ContactChangedError();
  const { encrypt } = await importPublicIdentity(contact.publicIdentity);
  for (let attempt = 1; ; attempt++) {
    const current = await ownManifest(api, fileId);
    const { manifest, added } = await reEnvelope(current.bytes, ownerIdentities(identity), { fileId, signer: identity.sign, change: { add: [rsaRecipient(encrypt)] } });
    const stanza = added[0];
    if (stanza === undefined) throw new Error('The envelope was not added.');
    try {
      return await api.post(
        pathOf(PEOPLE_ROUTES.createPersonShare, fileId),
        { manifest: toBase64(manifest), manifestEtag: current.etag, recipientEmail: contact.email, recipientId: contact.userId, envelopeTag: envelopeTag(stanza) },
        personShareSchema,
      );
    } catch (error) {
      // Another device changed the manifest meanwhile: start again from its version, never over it.
      if (!isStale(error) || attempt >= WRITE_ATTEMPTS) throw error;
    }
  }
}

/** The people a file of the owner's is shared with, oldest first. Throws the API client's errors. */
export async function listPeople(api: GrantApi, fileId: string): Promise<PersonShare[]> {
  return (await api.get(pathOf(PEOPLE_ROUTES.listPersonShares, fileId), personShareListSchema)).people;
}

/**
 * Revokes a person's access: their envelope is taken out of the manifest
 * (re-signed, If-Match, 412 re-read and retried) and the server deletes the
 * record and the inbox pointer, so their next read is refused. Throws the
 * API client's errors, StorageError, or the crypto errors of opening the
 * manifest.
 */
export async function revokePerson(api: GrantApi, identity: UnlockedIdentity, share: PersonShare): Promise<void> {
  const theirs = (s: Stanza): boolean => s.typeId === STANZA_RSA_OAEP && envelopeTag(s) === share.envelopeTag;
  for (let attempt = 1; ; attempt++) {
    let body: object = {};
    try {
      const current = await ownManifest(api, share.fileId);
      const { manifest } = await reEnvelope(current.bytes, ownerIdentities(identity), { fileId: share.fileId, signer: identity.sign, change: { remove: theirs } });
      if (manifest.length < current.bytes.length) body = { manifest: toBase64(manifest), manifestEtag: current.etag };
    } catch (error) {
      // The file is gone: revoking the record is all there is to do.
      if (!(error instanceof StorageError && error.kind === 'not-found') && !(error instanceof ApiError && error.status === 404)) throw error;
    }
    try {
      await api.post(pathOf(PEOPLE_ROUTES.revokePersonShare, share.shareId), body, revokedPersonShareSchema);
      return;
    } catch (error) {
      if (error instanceof ApiError && error.code === PEOPLE_ERROR_CODES.notShared) return;
      if (!isStale(error) || attempt >= WRITE_ATTEMPTS) throw error;
    }
  }
}

// --- the recipient's side -------------------------------------------------

/** What the recipient knows of a sender: the contact pinned for them and how the published key compares. */
export interface Sender {
  userId: string;
  email: string;
  contact: Contact;
  judgement: IdentityJudgement;
}

/** A file shared with the user. */
export type SharedFile =
  | {
      status: 'ok';
      shareId: string;
      fileId: string;
      createdAt: string;
      sender: Sender;
      metadata: FileMetadata;
      /** Fingerprint of the key that sealed it: the sender's pinned key. */
      sealedBy: string;
    }
  | { status: 'damaged'; shareId: string; fileId: string; createdAt: string; sender: Sender | null; problem: string };

/** The file can no longer be opened: the owner revoked the share or deleted the file. */
export class ShareWithdrawnError extends Error {
  override readonly name = 'ShareWithdrawnError';
  constructor() {
    super('This file is no longer shared with you: its owner withdrew it or deleted it. Ask them to share it again.');
  }
}

/**
 * The sender of an inbox entry: their published identity observed in the
 * contact store (pinned on first sight; a change noted, never adopted).
 * Throws the API client's errors and the crypto core's import errors.
 */
export async function observeSender(api: GrantApi, contacts: ContactStore, ownerId: string, email: string | null): Promise<Sender> {
  const known = await contacts.get(ownerId);
  const published = await readPublished(api, ownerId, email ?? known?.email ?? 'unknown address');
  const { contact, judgement } = await contacts.observe(published);
  return { userId: ownerId, email: contact.email, contact, judgement };
}

async function describeShared(identity: UnlockedIdentity, entry: InboxEntry, sender: Sender | null, manifest: Uint8Array): Promise<SharedFile> {
  const base = { shareId: entry.shareId, fileId: entry.fileId, createdAt: entry.createdAt };
  if (sender === null) return { status: 'damaged', ...base, sender, problem: 'The sender’s key could not be checked.' };
  try {
    // Only the key pinned for the sender may have sealed it.
    const opened = await openManifest(manifest, readerIdentities(identity), { fileId: entry.fileId, trustedSigners: new Set([sender.contact.fingerprint]) });
    return { status: 'ok', ...base, sender, metadata: opened.metadata, sealedBy: opened.signer.fingerprint };
  } catch (error) {
    if (error instanceof SealdropCryptoError) {
      const problem = error.code === 'untrusted-signer' ? `Not sealed with the key you pinned for ${sender.email}.` : error.message;
      return { status: 'damaged', ...base, sender, problem };
    }
    throw error;
  }
}

/**
 * Every file shared with the user: inbox pages (one API call each, the
 * manifests read with the grants they carry), one key read per sender, each
 * manifest opened and checked against the sender's pinned key. A file that
 * fails is listed as damaged with the reason. Throws the API client's
 * errors and StorageError.
 */
export async function listSharedWithMe(api: GrantApi, identity: UnlockedIdentity, contacts: ContactStore): Promise<SharedFile[]> {
  const entries: InboxEntry[] = [];
  let cursor: string | null = null;
  do {
    const path: string = cursor === null ? pathOf(PEOPLE_ROUTES.inbox) : pathOf(PEOPLE_ROUTES.inbox, undefined, { cursor });
    const page: { entries: InboxEntry[]; next: string | null } = await api.get(path, inboxPageSchema);
    entries.push(...page.entries);
    cursor = page.next;
  } while (cursor !== null);
  const senders = new Map<string, Promise<Sender | null>>();
  const senderOf = (e: InboxEntry): Promise<Sender | null> => {
    let found = senders.get(e.ownerId);
    if (found === undefined) {
      found = observeSender(api, contacts, e.ownerId, e.ownerEmail).catch((error: unknown) => {
        if (error instanceof SealdropCryptoError || (error instanceof ApiError && error.status === 404)) return null;
        throw error;
      });
      senders.set(e.ownerId, found);
    }
    return found;
  };
  const files = await Promise.all(
    entries.map(async (entry) => {
      const sender = await senderOf(entry);
      let manifest: Uint8Array;
      try {
        manifest = await getBlob(entry.manifestRead.url);
      } catch (error) {
        if (error instanceof StorageError && error.kind === 'not-found') {
          return { status: 'damaged' as const, shareId: entry.shareId, fileId: entry.fileId, createdAt: entry.createdAt, sender, problem: 'Its owner deleted it.' };
        }
        throw error;
      }
      return describeShared(identity, entry, sender, manifest);
    }),
  );
  return files.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}

/** A shared file, opened and authenticated. */
export interface OpenedSharedFile {
  metadata: FileMetadata;
  sealedBy: string;
  /** The plaintext; errors with TamperedError / TruncatedError when the payload fails authentication. */
  stream: ReadableStream<Uint8Array>;
}

async function readGrants(api: GrantApi, shareId: string): Promise<PersonShareRead> {
  try {
    return await api.post(pathOf(PEOPLE_ROUTES.readPersonShare, shareId), undefined, personShareReadSchema);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) throw new ShareWithdrawnError();
    throw error;
  }
}

/**
 * Opens a file shared with the user: read grants (only the named recipient
 * gets them), the manifest opened with the user's private key and accepted
 * only when signed by one of `trustedSigners` (the sender's pinned key),
 * then the payload streamed and decrypted. Throws ShareWithdrawnError when
 * the share was revoked or the file deleted, UntrustedSignerError,
 * TamperedError / WrongKeyError / MalformedError, the API client's errors,
 * StorageError.
 */
export async function openSharedFile(
  api: GrantApi,
  identity: UnlockedIdentity,
  shareId: string,
  trustedSigners: ReadonlySet<string>,
  opts: { signal?: AbortSignal; onProgress?: (p: TransferProgress) => void } = {},
): Promise<OpenedSharedFile & { ownerId: string }> {
  const grants = await readGrants(api, shareId);
  let manifest: Uint8Array;
  try {
    manifest = await getBlob(grants.manifest.url);
  } catch (error) {
    if (error instanceof StorageError && error.kind === 'not-found') throw new ShareWithdrawnError();
    throw error;
  }
  const opened = await openManifest(manifest, readerIdentities(identity), { fileId: grants.fileId, trustedSigners });
  const keeper = new GrantKeeper(grants, () => readGrants(api, shareId));
  const stream = openPayloadFromGrants(keeper, opened, opts);
  return { metadata: opened.metadata, sealedBy: opened.signer.fingerprint, ownerId: grants.ownerId, stream };
}
