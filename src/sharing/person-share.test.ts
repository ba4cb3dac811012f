/**
 * Sharing with a person, the owner's side, against a fake API and storage:
 * a 412 (another device changed the manifest) re-reads and re-envelopes
 * from the newer version instead of writing over it; a contact with an
 * unaccepted key change is refused before anything is sent; revoking
 * removes exactly the recipient's envelope.
 */
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ZodType } from 'zod';
import { ApiError } from '../contract/index.ts';
import { exportPublicIdentity, fingerprint, generateIdentityKeys, openManifest, reEnvelope, rsaIdentity, rsaRecipient, WrongKeyError, type IdentityKeys } from '../crypto/index.ts';
import { parseManifest } from '../crypto/manifest.ts';
import { sealForTest } from '../crypto/test-seal.ts';
import type { UnlockedIdentity } from '../keys/account-keys.ts';
import type { Contact } from '../keys/contacts.ts';
import { ContactChangedError, revokePerson, shareWithPerson } from './person-share.ts';

const FILE_ID = 'f0112233445566778899aabbccddeeff';
const MANIFEST_URL = 'https://blob.test/sealdrop/manifest?sig=x';
let alice: IdentityKeys;
let bob: IdentityKeys;
let owner: UnlockedIdentity;
let contact: Contact;

beforeAll(async () => {
  [alice, bob] = await Promise.all([generateIdentityKeys(), generateIdentityKeys()]);
  const publicIdentity = await exportPublicIdentity(alice);
  owner = { userId: 'a'.repeat(32), encrypt: alice.encrypt, sign: alice.sign, publicIdentity, fingerprint: await fingerprint(publicIdentity), driveKey: null };
  const bobIdentity = await exportPublicIdentity(bob);
  contact = { id: `${'a'.repeat(32)}/${'b'.repeat(32)}`, account: 'a'.repeat(32), userId: 'b'.repeat(32), email: 'bob@example.com', publicIdentity: bobIdentity, fingerprint: await fingerprint(bobIdentity), verified: false, pinnedAt: 0, pending: null };
}, 60_000);

afterEach(() => {
  vi.unstubAllGlobals();
});

const grant = (url: string) => ({ url, expiresAt: new Date(Date.now() + 600_000).toISOString(), permissions: 'r' as const });

/** The stored manifest and its ETag, served to `fetch` as storage would. */
function storage(initial: Uint8Array) {
  const state = { bytes: initial, etag: '"v1"', version: 1 };
  vi.stubGlobal('fetch', (input: string | URL | Request) => {
    if (String(input instanceof Request ? input.url : input) !== MANIFEST_URL) return Promise.resolve(new Response(null, { status: 404 }));
    return Promise.resolve(new Response(new Blob([Uint8Array.from(state.bytes)]), { status: 200, headers: { etag: state.etag } }));
  });
  return {
    state,
    replace(bytes: Uint8Array) {
      state.bytes = bytes;
      state.version++;
      state.etag = `"v${state.version}"`;
    },
  };
}

function fakeApi(onPost: (path: string, body: Record<string, string>) => unknown) {
  const posts: string[] = [];
  return {
    posts,
    get<T>(): Promise<T> {
      return Promise.reject(new Error('not used'));
    },
    post<T>(path: string, body: unknown, schema: ZodType<T>): Promise<T> {
      posts.push(path);
      if (path.endsWith('/read')) return Promise.resolve(schema.parse({ fileId: FILE_ID, payload: grant('https://blob.test/sealdrop/payload'), manifest: grant(MANIFEST_URL) }));
      try {
        return Promise.resolve(schema.parse(onPost(path, (body ?? {}) as Record<string, string>)));
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
    },
  };
}

const decode = (b64: string): Uint8Array => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));

describe('shareWithPerson', () => {
  it('after a 412 re-reads the newer manifest and adds the envelope to that one, never over it', async () => {
    const first = await sealForTest({ fileId: FILE_ID, plaintext: new Uint8Array(10), recipients: [rsaRecipient(alice.encrypt.publicKey)], signer: alice.sign });
    const store = storage(first.manifest);
    // Another device's change: a second owner envelope, written meanwhile.
    const theirs = await reEnvelope(first.manifest, [rsaIdentity(alice.encrypt.privateKey)], { fileId: FILE_ID, signer: alice.sign, change: { add: [rsaRecipient(alice.encrypt.publicKey)] } });
    const written: Uint8Array[] = [];
    const api = fakeApi((path, body) => {
      if (body.manifestEtag !== store.state.etag) throw new ApiError(412, 'stale_etag', 'changed');
      written.push(decode(body.manifest ?? ''));
      return { shareId: 'c'.repeat(32), fileId: FILE_ID, recipientId: contact.userId, recipientEmail: contact.email, createdAt: new Date().toISOString(), envelopeTag: body.envelopeTag };
    });
    let raced = false;
    const post = api.post.bind(api);
    api.post = (path, body, schema) => {
      if (path.endsWith('/people') && !raced) {
        raced = true;
        store.replace(theirs.manifest);
      }
      return post(path, body, schema);
    };
    const share = await shareWithPerson(api, owner, FILE_ID, contact);
    expect(share.recipientId).toBe(contact.userId);
    expect(api.posts.filter((p) => p.endsWith('/people'))).toHaveLength(2);
    expect(written).toHaveLength(1);
    const result = written[0] ?? new Uint8Array();
    // Bob opens it, and the other device's envelope is still there (the manifest grew by two envelopes in all).
    const opened = await openManifest(result, [rsaIdentity(bob.encrypt.privateKey)], { fileId: FILE_ID, trustedSigners: new Set([owner.fingerprint]) });
    expect(opened.signer.fingerprint).toBe(owner.fingerprint);
    expect(result.length - first.manifest.length).toBe(2 * (theirs.manifest.length - first.manifest.length));
  });

  it('refuses a contact whose key changed and was not accepted, before any request', async () => {
    const api = fakeApi(() => ({}));
    const changed: Contact = { ...contact, pending: { publicIdentity: contact.publicIdentity, fingerprint: contact.fingerprint, change: 'unexplained' } };
    await expect(shareWithPerson(api, owner, FILE_ID, changed)).rejects.toBeInstanceOf(ContactChangedError);
    expect(api.posts).toEqual([]);
  });
});

describe('revokePerson', () => {
  it('removes exactly the recipient’s envelope and sends the manifest with the ETag it read', async () => {
    const sealed = await sealForTest({ fileId: FILE_ID, plaintext: new Uint8Array(10), recipients: [rsaRecipient(alice.encrypt.publicKey), rsaRecipient(bob.encrypt.publicKey)], signer: alice.sign });
    storage(sealed.manifest);
    const bobStanza = parseManifest(sealed.manifest).stanzas[1];
    const tag = Array.from(bobStanza?.body.subarray(0, 16) ?? [], (b) => b.toString(16).padStart(2, '0')).join('');
    let sent: Record<string, string> = {};
    const api = fakeApi((_path, body) => {
      sent = body;
      return { shareId: 'c'.repeat(32), revoked: true };
    });
    await revokePerson(api, owner, { shareId: 'c'.repeat(32), fileId: FILE_ID, recipientId: contact.userId, recipientEmail: contact.email, createdAt: new Date().toISOString(), envelopeTag: tag });
    expect(sent.manifestEtag).toBe('"v1"');
    const after = decode(sent.manifest ?? '');
    await expect(openManifest(after, [rsaIdentity(bob.encrypt.privateKey)], { fileId: FILE_ID })).rejects.toBeInstanceOf(WrongKeyError);
    expect((await openManifest(after, [rsaIdentity(alice.encrypt.privateKey)], { fileId: FILE_ID })).signer.fingerprint).toBe(owner.fingerprint);
  });
});
