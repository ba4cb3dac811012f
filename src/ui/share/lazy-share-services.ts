/**
 * The link-share and person-share services, loaded on first use. "My files"
 * only needs to know that sharing exists (a button, a tab); the code behind
 * it (src/sharing/link-share.ts and person-share.ts, the contact store,
 * their schemas) loads when a dialog, "Shared with me" or the contacts list
 * first calls a method, so it stays out of the first screen's JavaScript
 * (issue 19, app shell size). Every method behaves as share-services.ts's
 * and person-services.ts's; a failed load rejects the call with the
 * import's error, and the next call tries again.
 */
import type { UnlockedIdentity } from '../../keys/account-keys.ts';
import type { ContactStore } from '../../keys/contacts.ts';
import type { GrantApi } from '../../storage/grants.ts';
import type { PersonShareServices } from './person-services.ts';
import type { LinkShareServices } from './share-services.ts';

/** Returns `load` that imports once and, after a failed import, tries again on the next call. */
function once<T>(importer: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | null = null;
  return () => {
    loading ??= importer().catch((error: unknown) => {
      loading = null;
      throw error;
    });
    return loading;
  };
}

/** Returns link-share services for `api` and `identity` whose code loads on the first call; links are written for `origin`. */
export function lazyLinkShareServices(api: GrantApi, identity: UnlockedIdentity, origin: string): LinkShareServices {
  const load = once(() => import('./share-services.ts').then((m) => m.createLinkShareServices(api, identity, origin)));
  return {
    create: (fileId, options) => load().then((s) => s.create(fileId, options)),
    list: (fileId) => load().then((s) => s.list(fileId)),
    revoke: (share) => load().then((s) => s.revoke(share)),
  };
}

/** Returns person-share services for `api` and `identity` whose code loads on the first call; links are written for `origin`. */
export function lazyPersonShareServices(api: GrantApi, identity: UnlockedIdentity, origin: string): PersonShareServices {
  const load = once(() => import('./person-services.ts').then((m) => m.createPersonShareServices(api, identity, origin)));
  const contacts: ContactStore = {
    list: () => load().then((s) => s.contacts.list()),
    get: (userId) => load().then((s) => s.contacts.get(userId)),
    observe: (published) => load().then((s) => s.contacts.observe(published)),
    markVerified: (userId) => load().then((s) => s.contacts.markVerified(userId)),
    acceptChange: (userId) => load().then((s) => s.contacts.acceptChange(userId)),
    forget: (userId) => load().then((s) => s.contacts.forget(userId)),
  };
  return {
    find: (email) => load().then((s) => s.find(email)),
    share: (fileId, contact) => load().then((s) => s.share(fileId, contact)),
    list: (fileId) => load().then((s) => s.list(fileId)),
    revoke: (share) => load().then((s) => s.revoke(share)),
    sharedWithMe: () => load().then((s) => s.sharedWithMe()),
    openShared: (shareId, trustedSigner, opts) => load().then((s) => s.openShared(shareId, trustedSigner, opts)),
    contacts,
  };
}
