/**
 * Contacts: the public identities this device has pinned, per signed-in
 * account, in IndexedDB (`sealdrop-contacts`).
 *
 * What it holds is public data only: a contact's user id, e-mail address,
 * published identity bytes, fingerprint, whether the user marked it
 * verified, and a later identity seen but not yet accepted. No private key
 * and no file name, so it is not sealed at rest (the list cache is, because
 * it holds names). Someone who can write this device's IndexedDB could
 * change a pin or a "verified" mark; such a person can also change the app.
 *
 * The first identity seen for a person is pinned (trust on first use). A
 * different one later is never used silently: `judgeIdentity` says whether
 * the old key signed the change ("rotated by its owner") or not ("changed,
 * not explained"), and sharing with that person waits until the user
 * accepts it (`acceptChange`).
 */
import { openDB, type IDBPDatabase } from 'idb';
import { z } from 'zod';
import { fingerprint as identityFingerprint, importPublicIdentity, verifyRotation } from '../crypto/index.ts';

const DB_NAME = 'sealdrop-contacts';
const STORE = 'contacts';
const DB_VERSION = 1;

const HEX32 = /^[0-9a-f]{32}$/;
const bytes = z.instanceof(Uint8Array);

const contactSchema = z
  .object({
    /** `<account>/<contact user id>`: the record's key. */
    id: z.string(),
    /** The signed-in account this contact belongs to. */
    account: z.string().regex(HEX32),
    userId: z.string().regex(HEX32),
    email: z.string().min(1).max(320),
    /** The pinned public identity. */
    publicIdentity: bytes,
    fingerprint: z.string(),
    /** The user compared fingerprints out of band and said they match. */
    verified: z.boolean(),
    /**
     * How the mark came: `compared` (the user compared this key's digits) or
     * `rotation` (the user had verified the key before, and that key signed
     * the change to this one; carried over by acceptChange). Absent on
     * records written before this field existed (read as `compared`).
     */
    verifiedVia: z.enum(['compared', 'rotation']).optional(),
    pinnedAt: z.number(),
    /** A different published identity, seen and not yet accepted. */
    pending: z
      .object({ publicIdentity: bytes, fingerprint: z.string(), change: z.enum(['rotated', 'unexplained']) })
      .strict()
      .nullable(),
  })
  .strict();

/** A pinned contact. */
export type Contact = z.infer<typeof contactSchema>;

/** How a published identity compares with the pinned one. */
export type IdentityJudgement =
  /** Nobody pinned yet for this person. */
  | { kind: 'new' }
  /** The pinned identity, unchanged. */
  | { kind: 'same' }
  /** Another identity, with a rotation statement signed by the pinned key. */
  | { kind: 'rotated' }
  /** Another identity, and nothing signed by the pinned key explains it. */
  | { kind: 'unexplained' };

/** What the directory says about a person now. */
export interface PublishedIdentity {
  userId: string;
  email: string;
  publicIdentity: Uint8Array;
  /** Rotation statements the server keeps for this person (FORMAT.md §10.4), oldest first. */
  rotations: Uint8Array[];
  /**
   * The identities those rotations replaced, oldest first, when the server
   * keeps them (`formerIdentities[i]` is the one `rotations[i]` rotates
   * away from; docs/CONTRACTS.md §2.4): what lets a chain of rotations since
   * the pin be checked. Absent: only a single step is recognised.
   */
  formerIdentities?: Uint8Array[] | undefined;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * Compares `published` with the pinned `contact` (or none). A change counts
 * as rotated when one statement, verified with the pinned identity's
 * signing key, names exactly the pinned and the published identity; or,
 * when the server gives the identities the rotations replaced, when an
 * unbroken chain of statements leads from the pinned identity to the
 * published one, each verified with the signing key of the identity it
 * leaves (FORMAT.md §10.4). Anything else is unexplained. Never throws for a
 * bad statement: it just explains nothing.
 */
export async function judgeIdentity(contact: Contact | null, published: PublishedIdentity): Promise<IdentityJudgement> {
  if (contact === null) return { kind: 'new' };
  if (sameBytes(contact.publicIdentity, published.publicIdentity)) return { kind: 'same' };
  for (const statement of published.rotations) {
    if (await verifies(statement, contact.publicIdentity, published.publicIdentity)) return { kind: 'rotated' };
  }
  return (await chainFromPin(contact.publicIdentity, published)) ? { kind: 'rotated' } : { kind: 'unexplained' };
}

async function verifies(statement: Uint8Array, from: Uint8Array, to: Uint8Array): Promise<boolean> {
  try {
    await verifyRotation(statement, from, to);
    return true;
  } catch {
    // Another rotation, or a forged one: it explains nothing.
    return false;
  }
}

/** Whether rotations[k..] chain from `pinned` (= formerIdentities[k]) through every later identity to the published one. */
async function chainFromPin(pinned: Uint8Array, published: PublishedIdentity): Promise<boolean> {
  const former = published.formerIdentities ?? [];
  if (former.length !== published.rotations.length) return false;
  const start = former.findIndex((id) => sameBytes(id, pinned));
  if (start < 0) return false;
  for (let i = start; i < former.length; i++) {
    const from = former[i];
    const to = former[i + 1] ?? published.publicIdentity;
    const statement = published.rotations[i];
    if (from === undefined || statement === undefined || !(await verifies(statement, from, to))) return false;
  }
  return true;
}

/** The contacts of one signed-in account on this device. Every method rejects with ContactStoreError when IndexedDB fails. */
export interface ContactStore {
  /** Every contact, by e-mail address. */
  list(): Promise<Contact[]>;
  /** The contact for `userId`, or null. */
  get(userId: string): Promise<Contact | null>;
  /**
   * Records what the directory publishes for a person now: pins it when
   * nobody is pinned (unverified), notes it as a pending change when it
   * differs from the pin, or clears a stale pending change when it matches
   * the pin again. Returns the contact and the judgement. Throws the import
   * errors of the crypto core (TamperedError, MalformedError) when the
   * identity's self-signature or bytes are bad: nothing is stored then.
   */
  observe(published: PublishedIdentity): Promise<{ contact: Contact; judgement: IdentityJudgement }>;
  /** Marks the contact verified (after comparing fingerprints); false when there is no such contact. */
  markVerified(userId: string): Promise<boolean>;
  /**
   * Pins the pending identity in place of the old one. A verified mark is
   * carried over only when the change is a rotation signed by the verified
   * key (then `verifiedVia` is `rotation`); otherwise the new pin is
   * unverified. False when there is nothing pending.
   */
  acceptChange(userId: string): Promise<boolean>;
  /** Forgets the contact: the next share with them pins afresh. */
  forget(userId: string): Promise<void>;
}

/** IndexedDB failed; the message is plain words. */
export class ContactStoreError extends Error {
  override readonly name = 'ContactStoreError';
  constructor() {
    super('This browser could not open its contact list (IndexedDB). Private browsing can cause this.');
  }
}

let shared: Promise<IDBPDatabase> | null = null;
function open(dbName: string): Promise<IDBPDatabase> {
  const opening = openDB(dbName, DB_VERSION, {
    upgrade(database) {
      database.createObjectStore(STORE, { keyPath: 'id' }).createIndex('account', 'account');
    },
  }).catch(() => {
    if (dbName === DB_NAME) shared = null;
    throw new ContactStoreError();
  });
  return opening;
}

/** Returns the contact store of `account` (tests pass their own database name). */
export function contactStore(account: string, dbName: string = DB_NAME): ContactStore {
  if (!HEX32.test(account)) throw new RangeError('An account id is 32 lowercase hex characters.');
  const db = (): Promise<IDBPDatabase> => (dbName === DB_NAME ? (shared ??= open(dbName)) : open(dbName));
  const key = (userId: string): string => `${account}/${userId}`;
  const parse = (value: unknown): Contact | null => {
    const parsed = contactSchema.safeParse(value);
    // A damaged record is dropped from view, never trusted; observe() pins afresh over it.
    return parsed.success && parsed.data.account === account ? parsed.data : null;
  };
  const get = async (userId: string): Promise<Contact | null> => parse(await (await db()).get(STORE, key(userId)).catch(failed));
  const put = async (contact: Contact): Promise<void> => {
    await (await db()).put(STORE, contactSchema.parse(contact)).catch(failed);
  };

  return {
    async list() {
      const all: unknown[] = await (await db()).getAllFromIndex(STORE, 'account', account).catch(failed);
      return all.flatMap((v) => parse(v) ?? []).sort((a, b) => a.email.localeCompare(b.email));
    },
    get,
    async observe(published) {
      // The self-signature first: a forged identity is never pinned or noted.
      const imported = await importPublicIdentity(published.publicIdentity);
      const current = await get(published.userId);
      const judgement = await judgeIdentity(current, published);
      let contact: Contact;
      if (current === null) {
        contact = {
          id: key(published.userId),
          account,
          userId: published.userId,
          email: published.email,
          publicIdentity: Uint8Array.from(published.publicIdentity),
          fingerprint: imported.fingerprint,
          verified: false,
          pinnedAt: Date.now(),
          pending: null,
        };
      } else if (judgement.kind === 'same') {
        contact = { ...current, email: published.email, pending: null };
      } else {
        const change = judgement.kind === 'rotated' ? 'rotated' : 'unexplained';
        contact = { ...current, pending: { publicIdentity: Uint8Array.from(published.publicIdentity), fingerprint: await identityFingerprint(published.publicIdentity), change } };
      }
      await put(contact);
      return { contact, judgement };
    },
    async markVerified(userId) {
      const current = await get(userId);
      if (current === null) return false;
      await put({ ...current, verified: true, verifiedVia: 'compared' });
      return true;
    },
    async acceptChange(userId) {
      const current = await get(userId);
      if (current?.pending == null) return false;
      // The old key's own signature vouches for the new one: what the user verified carries over, and says how.
      const carried = current.verified && current.pending.change === 'rotated';
      const { verifiedVia: _was, ...rest } = current;
      await put({
        ...rest,
        publicIdentity: current.pending.publicIdentity,
        fingerprint: current.pending.fingerprint,
        verified: carried,
        ...(carried ? { verifiedVia: 'rotation' as const } : {}),
        pinnedAt: Date.now(),
        pending: null,
      });
      return true;
    },
    async forget(userId) {
      await (await db()).delete(STORE, key(userId)).catch(failed);
    },
  };
}

function failed(): never {
  throw new ContactStoreError();
}

/** Deletes every contact of every account on this device ("forget my keys"). */
export async function forgetContacts(dbName: string = DB_NAME): Promise<void> {
  const database = await open(dbName);
  await database.clear(STORE).catch(failed);
}
