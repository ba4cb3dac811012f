/**
 * What the person-share dialog, "Shared with me" and the contacts list
 * need: src/sharing and src/keys bound to the signed-in user's API client,
 * unlocked keys and contact store.
 */
import type { UnlockedIdentity } from '../../keys/account-keys.ts';
import { contactStore, type Contact, type ContactStore, type IdentityJudgement } from '../../keys/contacts.ts';
import {
  findPerson,
  listPeople,
  listSharedWithMe,
  openSharedFile,
  receivedLink,
  revokePerson,
  shareWithPerson,
  type FoundPerson,
  type OpenedSharedFile,
  type PersonShare,
  type SharedFile,
} from '../../sharing/person-share.ts';
import type { GrantApi } from '../../storage/grants.ts';
import type { TransferProgress } from '../../storage/progress.ts';

export type { Contact, FoundPerson, IdentityJudgement, PersonShare, SharedFile };

/** Sharing with people, for one signed-in user. Every method throws the typed errors of src/sharing, src/keys, the API client or storage. */
export interface PersonShareServices {
  /** Looks a person up and records what they publish in the contacts (pinned on first use; a change noted). */
  find(email: string): Promise<{ person: FoundPerson; contact: Contact; judgement: IdentityJudgement }>;
  /** Shares the owner's file with a pinned contact; returns the record and the link to send them. */
  share(fileId: string, contact: Contact): Promise<{ share: PersonShare; link: string }>;
  /** The people a file is shared with. */
  list(fileId: string): Promise<PersonShare[]>;
  /** Takes a person's access away. */
  revoke(share: PersonShare): Promise<void>;
  /** Every file shared with the user. */
  sharedWithMe(): Promise<SharedFile[]>;
  /** Opens a file shared with the user, accepted only if sealed by `trustedSigner`. */
  openShared(shareId: string, trustedSigner: string, opts: { signal?: AbortSignal; onProgress?: (p: TransferProgress) => void }): Promise<OpenedSharedFile>;
  /** The contacts on this device. */
  readonly contacts: ContactStore;
}

/** Returns the person-share services for `api` and the unlocked `identity`; links are written for `origin`. */
export function createPersonShareServices(api: GrantApi, identity: UnlockedIdentity, origin: string): PersonShareServices {
  const contacts = contactStore(identity.userId);
  return {
    async find(email) {
      const person = await findPerson(api, email);
      const { contact, judgement } = await contacts.observe(person);
      return { person, contact, judgement };
    },
    async share(fileId, contact) {
      const share = await shareWithPerson(api, identity, fileId, contact);
      return { share, link: receivedLink(origin, share.shareId) };
    },
    list: (fileId) => listPeople(api, fileId),
    revoke: (share) => revokePerson(api, identity, share),
    sharedWithMe: () => listSharedWithMe(api, identity, contacts),
    openShared: (shareId, trustedSigner, opts) => openSharedFile(api, identity, shareId, new Set([trustedSigner]), opts),
    contacts,
  };
}
