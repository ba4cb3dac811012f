/**
 * The contact store in a real browser's IndexedDB: pin on first use, a
 * change signed by the old key is "rotated", anything else "unexplained",
 * nothing changes the pin until accepted; verified, forget, a forged
 * identity is never pinned.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { exportPublicIdentity, generateIdentityKeys, signRotation, TamperedError, type IdentityKeys } from '../crypto/index.ts';
import { contactStore, forgetContacts } from './contacts.ts';

const ACCOUNT = 'a'.repeat(32);
const BOB = 'b'.repeat(32);
let bobOld: IdentityKeys;
let bobNew: IdentityKeys;
let oldId: Uint8Array;
let newId: Uint8Array;
let dbCounter = 0;
const freshStore = () => contactStore(ACCOUNT, `contacts-test-${Date.now()}-${dbCounter++}`);

beforeAll(async () => {
  [bobOld, bobNew] = await Promise.all([generateIdentityKeys(), generateIdentityKeys()]);
  [oldId, newId] = await Promise.all([exportPublicIdentity(bobOld), exportPublicIdentity(bobNew)]);
}, 60_000);

const published = (publicIdentity: Uint8Array, rotations: Uint8Array[] = []) => ({ userId: BOB, email: 'bob@example.com', publicIdentity, rotations });

describe('contacts', () => {
  it('pins the first identity seen, unverified, and sees it again as the same', async () => {
    const store = freshStore();
    const first = await store.observe(published(oldId));
    expect(first.judgement.kind).toBe('new');
    expect(first.contact.verified).toBe(false);
    expect((await store.observe(published(oldId))).judgement.kind).toBe('same');
    expect((await store.list()).map((c) => c.email)).toEqual(['bob@example.com']);
  });

  it('a change signed by the pinned key is "rotated"; the pin stays until accepted, and accepting carries the verified mark, saying how', async () => {
    const store = freshStore();
    await store.observe(published(oldId));
    await store.markVerified(BOB);
    const statement = await signRotation({ oldIdentity: oldId, newIdentity: newId, oldSigningKey: bobOld.sign.privateKey });
    const seen = await store.observe(published(newId, [statement]));
    expect(seen.judgement.kind).toBe('rotated');
    const contact = await store.get(BOB);
    expect(contact?.pending?.change).toBe('rotated');
    expect(contact?.publicIdentity).toEqual(oldId);
    expect(await store.acceptChange(BOB)).toBe(true);
    const accepted = await store.get(BOB);
    expect(accepted?.publicIdentity).toEqual(newId);
    expect(accepted?.verified).toBe(true);
    expect(accepted?.verifiedVia).toBe('rotation');
    expect(accepted?.pending).toBeNull();
  });

  it('an unexplained change accepted, or a rotation of a contact never verified, leaves the new pin unverified', async () => {
    const store = freshStore();
    await store.observe(published(oldId));
    await store.markVerified(BOB);
    expect((await store.get(BOB))?.verifiedVia).toBe('compared');
    await store.observe(published(newId));
    expect(await store.acceptChange(BOB)).toBe(true);
    expect((await store.get(BOB))?.verified).toBe(false);
    expect((await store.get(BOB))?.verifiedVia).toBeUndefined();

    const other = freshStore();
    await other.observe(published(oldId));
    const statement = await signRotation({ oldIdentity: oldId, newIdentity: newId, oldSigningKey: bobOld.sign.privateKey });
    await other.observe(published(newId, [statement]));
    expect(await other.acceptChange(BOB)).toBe(true);
    expect((await other.get(BOB))?.verified).toBe(false);
  });

  it('a change without a statement by the pinned key, or with one by another key, is "unexplained"', async () => {
    const store = freshStore();
    await store.observe(published(oldId));
    expect((await store.observe(published(newId))).judgement.kind).toBe('unexplained');
    // Signed by the NEW key (what someone who replaced the key could make): explains nothing.
    const forged = await signRotation({ oldIdentity: newId, newIdentity: oldId, oldSigningKey: bobNew.sign.privateKey });
    expect((await store.observe(published(newId, [forged]))).judgement.kind).toBe('unexplained');
    expect((await store.get(BOB))?.pending?.change).toBe('unexplained');
  });

  it('a chain of rotations since the pin is "rotated" when the server gives the identities in between, each step signed by the key it leaves', async () => {
    const bobThird = await generateIdentityKeys();
    const thirdId = await exportPublicIdentity(bobThird);
    const first = await signRotation({ oldIdentity: oldId, newIdentity: newId, oldSigningKey: bobOld.sign.privateKey });
    const second = await signRotation({ oldIdentity: newId, newIdentity: thirdId, oldSigningKey: bobNew.sign.privateKey });
    const store = freshStore();
    await store.observe(published(oldId));
    // Without the identity in between, the second step cannot be checked: unexplained (a false alarm, never a silent accept).
    expect((await store.observe(published(thirdId, [first, second]))).judgement.kind).toBe('unexplained');
    expect((await store.observe({ ...published(thirdId, [first, second]), formerIdentities: [oldId, newId] })).judgement.kind).toBe('rotated');
    // The list shorter than the statements (rotations from before the server kept them): no chain.
    expect((await store.observe({ ...published(thirdId, [first, second]), formerIdentities: [newId] })).judgement.kind).toBe('unexplained');
    // A middle identity the server made up (its own key, signing the last step): the first statement does not name it.
    const madeUp = await exportPublicIdentity(bobThird);
    const fakeStep = await signRotation({ oldIdentity: madeUp, newIdentity: thirdId, oldSigningKey: bobThird.sign.privateKey });
    expect((await store.observe({ ...published(thirdId, [first, fakeStep]), formerIdentities: [oldId, madeUp] })).judgement.kind).toBe('unexplained');
    // A last step signed by the new key instead of the one it leaves: unexplained.
    const selfSigned = await signRotation({ oldIdentity: thirdId, newIdentity: newId, oldSigningKey: bobThird.sign.privateKey });
    expect((await store.observe({ ...published(thirdId, [first, selfSigned]), formerIdentities: [oldId, newId] })).judgement.kind).toBe('unexplained');
    // Pinned at the middle identity: the chain starts there.
    const middle = freshStore();
    await middle.observe(published(newId));
    expect((await middle.observe({ ...published(thirdId, [first, second]), formerIdentities: [oldId, newId] })).judgement.kind).toBe('rotated');
  }, 60_000);

  it('refuses an identity whose self-signature fails (TamperedError) and stores nothing', async () => {
    const store = freshStore();
    const broken = Uint8Array.from(oldId);
    broken[broken.length - 1] = (broken[broken.length - 1] ?? 0) ^ 1;
    await expect(store.observe(published(broken))).rejects.toBeInstanceOf(TamperedError);
    expect(await store.get(BOB)).toBeNull();
  });

  it('forgets a contact; the next sighting pins afresh; forgetContacts clears all', async () => {
    const name = `contacts-test-forget-${Date.now()}`;
    const store = contactStore(ACCOUNT, name);
    await store.observe(published(oldId));
    await store.forget(BOB);
    expect(await store.get(BOB)).toBeNull();
    expect((await store.observe(published(newId))).judgement.kind).toBe('new');
    await forgetContacts(name);
    expect(await store.list()).toEqual([]);
    // Another account's contacts are not mixed in.
    expect(await contactStore('c'.repeat(32), name).list()).toEqual([]);
  });
});
