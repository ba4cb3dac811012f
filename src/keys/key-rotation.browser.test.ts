/**
 * Key rotation, the key side (issue 20 item 3), against an in-memory token
 * endpoint with the server's rules: prepare keeps everything in the journal
 * before anything is published; publish replaces the recovery copy, the
 * public identity (with a statement the old key signed) and the drive-key
 * copy, and goes on where it stopped after a failure; the journal's file
 * list survives a reopen (a reload) and finishing deletes it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { ApiError, ERROR_CODES, pathOf, ROUTES, type RouteContract } from '../contract/index.ts';
import { openDriveKeyCopy, openManifest, restoreBackup, restoreIdentity, rsaIdentity, rsaRecipient, samePublicKeys, verifyRotation, WrongKeyError, WrongPassphraseError, type KdfParams } from '../crypto/index.ts';
import { sealForTest } from '../crypto/test-seal.ts';
import { setupKeys, loadUnlockedIdentity, restoreKeys, type KeyApi, type UnlockedIdentity } from './account-keys.ts';
import { dropKeptFormerKeys } from './former-keys.ts';
import { fromBase64, toBase64 } from './base64.ts';
import { ReauthRequiredError } from './key-errors.ts';
import { createKeyStore, type KeyStore } from './key-store.ts';
import { finishKeyRotation, prepareKeyRotation, publishKeyRotation, rotatingIdentity } from './key-rotation.ts';
import { createRotationJournal, type RotationJournal } from './rotation-journal.ts';
import { rotatedFromThisDevice } from './rotation-notice.ts';

const TEST_KDF: KdfParams = { kdf: 'scrypt', logN: 10, r: 8, p: 1 };
const PASSPHRASE = 'lantern quiet marble oyster';

/** The key routes of one user in memory (write-once keys, If-Match recovery, rotation by statement). */
class FakeKeyServer implements KeyApi {
  recovery: Uint8Array | null = null;
  etag = 1;
  freshSignIn = true;
  published: Uint8Array | null = null;
  rotations: Uint8Array[] = [];
  drive: Uint8Array | null = null;
  /** Fails the next rotate call as a lost connection would (after the server did the work, when `afterWork`). */
  failRotate: 'before' | 'after' | null = null;
  constructor(readonly userId: string) {}

  async post<T>(path: string, body: unknown, schema: z.ZodType<T>): Promise<T> {
    const is = (route: RouteContract, param?: string) => path === pathOf(route, param);
    const bytes = (b64: string): Uint8Array => fromBase64(b64) ?? new Uint8Array();
    let answer: unknown;
    if (is(ROUTES.readRecovery)) {
      if (this.recovery === null) throw new ApiError(404, 'not_found', 'none');
      answer = { recovery: toBase64(this.recovery), etag: `"${this.etag}"` };
    } else if (is(ROUTES.createRecovery)) {
      if (this.recovery !== null) throw new ApiError(409, ERROR_CODES.recoveryExists, 'exists');
      this.recovery = bytes(ROUTES.createRecovery.body.parse(body).recovery);
      answer = { etag: `"${this.etag}"` };
    } else if (is(ROUTES.replaceRecovery)) {
      const { recovery, etag } = ROUTES.replaceRecovery.body.parse(body);
      if (!this.freshSignIn) throw new ApiError(401, ERROR_CODES.reauthRequired, 'again');
      if (etag !== `"${this.etag}"`) throw new ApiError(412, ERROR_CODES.stale, 'stale');
      this.recovery = bytes(recovery);
      this.etag += 1;
      answer = { etag: `"${this.etag}"` };
    } else if (is(ROUTES.publishKey)) {
      if (this.published !== null) throw new ApiError(409, ERROR_CODES.publicKeyExists, 'exists');
      this.published = bytes(ROUTES.publishKey.body.parse(body).publicIdentity);
      answer = { userId: this.userId };
    } else if (is(ROUTES.rotateKey)) {
      const parsed = ROUTES.rotateKey.body.parse(body);
      if (this.failRotate === 'before') {
        this.failRotate = null;
        throw new TypeError('Failed to fetch');
      }
      if (this.published === null) throw new ApiError(404, 'not_found', 'none');
      try {
        await verifyRotation(bytes(parsed.statement), this.published, bytes(parsed.publicIdentity));
      } catch {
        throw new ApiError(403, 'invalid_rotation', 'refused');
      }
      this.rotations.push(bytes(parsed.statement));
      this.published = bytes(parsed.publicIdentity);
      if (this.failRotate === 'after') {
        this.failRotate = null;
        throw new TypeError('Failed to fetch');
      }
      answer = { userId: this.userId };
    } else if (is(ROUTES.readPublicKey, this.userId)) {
      if (this.published === null) throw new ApiError(404, 'not_found', 'none');
      answer = { userId: this.userId, publicIdentity: toBase64(this.published), rotations: this.rotations.map(toBase64) };
    } else if (is(ROUTES.createDriveKey)) {
      // The server's rule, simplified: written once per published key.
      const copy = bytes(ROUTES.createDriveKey.body.parse(body).driveKey);
      if (this.drive !== null && this.driveFor === this.published) throw new ApiError(409, ERROR_CODES.driveKeyExists, 'exists');
      this.drive = copy;
      this.driveFor = this.published;
      answer = { userId: this.userId };
    } else if (is(ROUTES.readDriveKey)) {
      if (this.drive === null) throw new ApiError(404, 'not_found', 'none');
      answer = { driveKey: toBase64(this.drive) };
    } else {
      throw new Error(`unexpected path ${path}`);
    }
    return schema.parse(answer);
  }
  driveFor: Uint8Array | null = null;
}

const opened: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

function fresh(): { store: KeyStore; journal: RotationJournal; userId: string } {
  const store = createKeyStore(`test-keys-${crypto.randomUUID()}`);
  const journal = createRotationJournal(`test-rotation-${crypto.randomUUID()}`);
  opened.push(store, journal);
  const userId = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
  return { store, journal, userId };
}

async function account(): Promise<{ server: FakeKeyServer; identity: UnlockedIdentity; store: KeyStore; journal: RotationJournal; userId: string }> {
  const f = fresh();
  const server = new FakeKeyServer(f.userId);
  const { identity } = await setupKeys(server, f.userId, PASSPHRASE, undefined, { store: f.store, kdfParams: TEST_KDF, persist: async () => false });
  return { server, identity, ...f };
}

describe('key rotation', () => {
  it('refuses a wrong passphrase and journals nothing', async () => {
    const a = await account();
    await expect(prepareKeyRotation(a.server, a.identity, 'not the passphrase', { journal: a.journal, kdfParams: TEST_KDF })).rejects.toBeInstanceOf(
      WrongPassphraseError,
    );
    expect(await a.journal.load(a.userId)).toBeNull();
  }, 30_000);

  it('journals new keys before publishing, then publishes them with a statement the old key signed', async () => {
    const a = await account();
    const before = a.server.published;
    const record = await prepareKeyRotation(a.server, a.identity, PASSPHRASE, { journal: a.journal, kdfParams: TEST_KDF });
    expect(a.server.published).toBe(before);
    expect(record.next.encrypt.privateKey.extractable).toBe(false);
    expect(record.next.sign.privateKey.extractable).toBe(false);
    expect((await a.journal.load(a.userId))?.phase).toBe('prepared');
    // A second start while one is underway is refused.
    await expect(prepareKeyRotation(a.server, a.identity, PASSPHRASE, { journal: a.journal, kdfParams: TEST_KDF })).rejects.toThrow(
      'A change of your keys is already underway on this device.',
    );

    // The server wants a fresh sign-in: nothing published, the journal stays.
    a.server.freshSignIn = false;
    await expect(publishKeyRotation(a.server, record, { journal: a.journal, store: a.store })).rejects.toBeInstanceOf(ReauthRequiredError);
    expect(a.server.published).toBe(before);
    a.server.freshSignIn = true;

    // The connection drops after the server rotated: calling again recognises its own work.
    a.server.failRotate = 'after';
    await expect(publishKeyRotation(a.server, record, { journal: a.journal, store: a.store })).rejects.toThrow('Failed to fetch');
    const reloaded = await a.journal.load(a.userId);
    if (reloaded === null) throw new Error('the journal is gone');
    const published = await publishKeyRotation(a.server, reloaded, { journal: a.journal, store: a.store });
    expect(published.phase).toBe('files');

    if (a.server.published === null || before === null) throw new Error('nothing published');
    expect(a.server.published).toEqual(record.next.publicIdentity);
    const fingerprints = await verifyRotation(a.server.rotations[0] ?? new Uint8Array(), before, a.server.published);
    expect(fingerprints).toEqual({ oldFingerprint: a.identity.fingerprint, newFingerprint: record.next.fingerprint });
    // The recovery copy opens to the new keys with the same passphrase; the drive-key copy opens with them.
    const restored = await restoreIdentity(a.server.recovery ?? new Uint8Array(), PASSPHRASE);
    expect(await samePublicKeys(restored, record.next)).toBe(true);
    await expect(openDriveKeyCopy(a.server.drive ?? new Uint8Array(), record.next)).resolves.toBeInstanceOf(CryptoKey);
    // This device now holds the new keys; the journal holds the former ones until the files are done.
    const stored = await loadUnlockedIdentity(a.userId, { store: a.store });
    expect(stored?.fingerprint).toBe(record.next.fingerprint);
    const former = rotatingIdentity(published).formerKeys[0]?.verify;
    if (former === undefined) throw new Error('no former keys');
    const spki = async (k: CryptoKey) => new Uint8Array(await crypto.subtle.exportKey('spki', k));
    expect(await spki(former)).toEqual(await spki(a.identity.sign.publicKey));
    // Another device holding the former keys sees a change its own key signed; the new keys are not "rotated from" themselves.
    expect(await rotatedFromThisDevice(a.server, a.identity)).toBe(true);
    expect(await rotatedFromThisDevice(a.server, rotatingIdentity(published))).toBe(false);
  }, 30_000);

  it('keeps the files done across a reopen of the journal (a reload) and forgets everything when finished', async () => {
    const a = await account();
    const record = await prepareKeyRotation(a.server, a.identity, PASSPHRASE, { journal: a.journal, kdfParams: TEST_KDF });
    await a.journal.markDone(a.userId, 'aa'.repeat(16));
    await a.journal.markDone(a.userId, 'bb'.repeat(16));
    await a.journal.close();
    expect([...(await a.journal.doneFiles(a.userId))].sort()).toEqual(['aa'.repeat(16), 'bb'.repeat(16)]);
    expect((await a.journal.load(a.userId))?.next.fingerprint).toBe(record.next.fingerprint);
    await finishKeyRotation(a.userId, { journal: a.journal });
    expect(await a.journal.load(a.userId)).toBeNull();
    expect(await a.journal.doneFiles(a.userId)).toEqual(new Set());
  }, 30_000);

  it('keeps the former encryption key: here after publishing, on a device restored afterwards, until the user drops it', async () => {
    const a = await account();
    const fileId = 'ee'.repeat(16);
    // A file someone else sealed for the account's key of before the rotation (a person share or a request link).
    const sender = await sealForTest({
      fileId,
      plaintext: new Uint8Array(2),
      metadata: { name: 'from-a-friend.txt', lastModified: 1 },
      recipients: [rsaRecipient(a.identity.encrypt.publicKey)],
      signer: a.identity.sign,
      segmentSize: 1024,
    });
    const opens = async (identity: UnlockedIdentity) => (await openManifest(sender.manifest, [identity.encrypt.privateKey, ...(identity.retiredKeys ?? [])].map((k) => rsaIdentity(k)), { fileId })).metadata.name;

    const record = await prepareKeyRotation(a.server, a.identity, PASSPHRASE, { journal: a.journal, kdfParams: TEST_KDF });
    expect(record.kept).toHaveLength(1);
    expect(record.kept[0]?.privateKey.extractable).toBe(false);
    const published = await publishKeyRotation(a.server, record, { journal: a.journal, store: a.store });
    expect(await opens(rotatingIdentity(published))).toBe('from-a-friend.txt');
    await finishKeyRotation(a.userId, { journal: a.journal });
    const here = await loadUnlockedIdentity(a.userId, { store: a.store });
    if (here === null) throw new Error('no keys on this device');
    expect(here.retiredKeys).toHaveLength(1);
    expect(await opens(here)).toBe('from-a-friend.txt');
    // The recovery copy in storage keeps it (FORMAT.md §11.3).
    expect((await restoreBackup(a.server.recovery ?? new Uint8Array(), PASSPHRASE)).former).toHaveLength(1);

    // A second device restores the new keys and the former one.
    const other = fresh();
    opened.push(other.store);
    const restored = await restoreKeys(a.server, a.userId, PASSPHRASE, { store: other.store, persist: async () => false });
    expect(restored.identity.fingerprint).toBe(record.next.fingerprint);
    expect(await opens(restored.identity)).toBe('from-a-friend.txt');

    // Dropping them: the copy keeps none, this device forgets them, a later restore has none; the file no longer opens.
    const dropped = await dropKeptFormerKeys(a.server, here, PASSPHRASE, { store: a.store, kdfParams: TEST_KDF });
    expect(dropped.retiredKeys).toEqual([]);
    expect((await loadUnlockedIdentity(a.userId, { store: a.store }))?.retiredKeys).toEqual([]);
    expect((await restoreBackup(a.server.recovery ?? new Uint8Array(), PASSPHRASE)).former).toEqual([]);
    await expect(opens(dropped)).rejects.toBeInstanceOf(WrongKeyError);
    const later = fresh();
    opened.push(later.store);
    const again = await restoreKeys(a.server, a.userId, PASSPHRASE, { store: later.store, persist: async () => false });
    await expect(opens(again.identity)).rejects.toBeInstanceOf(WrongKeyError);
    // The device restored before keeps its copy until it restores again: restoring there now follows the recovery copy.
    await restoreKeys(a.server, a.userId, PASSPHRASE, { store: other.store, persist: async () => false });
    expect((await loadUnlockedIdentity(a.userId, { store: other.store }))?.retiredKeys).toEqual([]);
  }, 60_000);

  it('refuses to drop the former keys with a wrong passphrase, and keeps them', async () => {
    const a = await account();
    const record = await prepareKeyRotation(a.server, a.identity, PASSPHRASE, { journal: a.journal, kdfParams: TEST_KDF });
    await publishKeyRotation(a.server, record, { journal: a.journal, store: a.store });
    const here = await loadUnlockedIdentity(a.userId, { store: a.store });
    if (here === null) throw new Error('no keys on this device');
    await expect(dropKeptFormerKeys(a.server, here, 'not the passphrase', { store: a.store, kdfParams: TEST_KDF })).rejects.toBeInstanceOf(WrongPassphraseError);
    a.server.freshSignIn = false;
    await expect(dropKeptFormerKeys(a.server, here, PASSPHRASE, { store: a.store, kdfParams: TEST_KDF })).rejects.toBeInstanceOf(ReauthRequiredError);
    expect((await loadUnlockedIdentity(a.userId, { store: a.store }))?.retiredKeys).toHaveLength(1);
    expect((await restoreBackup(a.server.recovery ?? new Uint8Array(), PASSPHRASE)).former).toHaveLength(1);
  }, 60_000);
});
