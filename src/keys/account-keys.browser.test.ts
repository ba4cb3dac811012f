import { afterEach, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { ApiError, ERROR_CODES, pathOf, ROUTES, type RouteContract } from '../contract/index.ts';
import { generateIdentityKeys, exportPublicIdentity, rsaIdentity, rsaRecipient, WrongPassphraseError, type KdfParams } from '../crypto/index.ts';
import {
  checkPublishedKey,
  readRecoveryCopy,
  replaceRecoveryCopy,
  keyStatus,
  loadUnlockedIdentity,
  restoreFromKit,
  restoreKeys,
  setupKeys,
  type AccountKeyOptions,
  type KeyApi,
  type SetupStep,
} from './account-keys.ts';
import { fromBase64, toBase64 } from './base64.ts';
import { AccountHasKeysError, NoRecoveryCopyError, ReauthRequiredError, RecoveryCopyChangedError, RecoveryCopyExistsError, RecoveryKitError } from './key-errors.ts';
import { createKeyStore, type KeyStore } from './key-store.ts';
import { recoveryKitText } from './recovery-kit.ts';

// Small enough to be quick, still above the crypto core's floor; the default stays N=2^17.
const TEST_KDF: KdfParams = { kdf: 'scrypt', logN: 10, r: 8, p: 1 };
const PASSPHRASE = 'lantern quiet marble oyster';

/**
 * The token endpoint's key routes for one signed-in user, in memory, with
 * the server's rules: bodies checked with the contract's schemas, the
 * recovery copy and the public identity written once (409).
 */
class FakeKeyServer implements KeyApi {
  recovery: Uint8Array | null = null;
  etag = 1;
  /** auth_time freshness, as the server would judge it from the token. */
  freshSignIn = true;
  readonly published = new Map<string, Uint8Array>();
  constructor(readonly userId: string) {}

  async post<T>(path: string, body: unknown, schema: z.ZodType<T>): Promise<T> {
    const is = (route: RouteContract, param?: string) => path === pathOf(route, param);
    const bytes = (b64: string): Uint8Array => fromBase64(b64) ?? new Uint8Array();
    let answer: unknown;
    if (is(ROUTES.readRecovery)) {
      if (this.recovery === null) throw new ApiError(404, 'not_found', 'none');
      answer = { recovery: toBase64(this.recovery), etag: `"${this.etag}"` };
    } else if (is(ROUTES.createRecovery)) {
      const { recovery } = ROUTES.createRecovery.body.parse(body);
      if (this.recovery !== null) throw new ApiError(409, ERROR_CODES.recoveryExists, 'exists');
      this.recovery = bytes(recovery);
      answer = { etag: `"${this.etag}"` };
    } else if (is(ROUTES.replaceRecovery)) {
      const { recovery, etag } = ROUTES.replaceRecovery.body.parse(body);
      if (!this.freshSignIn) throw new ApiError(401, ERROR_CODES.reauthRequired, 'again');
      if (this.recovery === null) throw new ApiError(404, 'not_found', 'none');
      if (etag !== `"${this.etag}"`) throw new ApiError(412, ERROR_CODES.stale, 'stale');
      this.recovery = bytes(recovery);
      this.etag += 1;
      answer = { etag: `"${this.etag}"` };
    } else if (is(ROUTES.publishKey)) {
      const { publicIdentity } = ROUTES.publishKey.body.parse(body);
      if (this.published.has(this.userId)) throw new ApiError(409, ERROR_CODES.publicKeyExists, 'exists');
      this.published.set(this.userId, bytes(publicIdentity));
      answer = { userId: this.userId };
    } else if (path.startsWith('/keys/public/') && path.endsWith('/read')) {
      const userId = path.split('/')[3] ?? '';
      const key = this.published.get(userId);
      if (key === undefined) throw new ApiError(404, 'not_found', 'none');
      answer = { userId, publicIdentity: toBase64(key), rotations: [] };
    } else {
      throw new Error(`unexpected path ${path}`);
    }
    return schema.parse(answer);
  }
}

const stores: KeyStore[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

function newUserId(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** A browser with its own IndexedDB database (the account's server copy is the FakeKeyServer). */
function device(): AccountKeyOptions & { store: KeyStore } {
  const store = createKeyStore(`test-device-${crypto.randomUUID()}`);
  stores.push(store);
  return { store, kdfParams: TEST_KDF, persist: async () => true };
}

describe('account keys: setup and restore', () => {
  it('sets up on one device, restores on a new one, and the new one opens what was sealed to the first', async () => {
    const userId = newUserId();
    const api = new FakeKeyServer(userId);
    const first = device();

    expect(await keyStatus(api, userId, first)).toBe('needs-setup');
    const steps: SetupStep[] = [];
    const setup = await setupKeys(api, userId, PASSPHRASE, (s) => steps.push(s), first);
    expect(steps).toEqual(['generating', 'protecting', 'uploading', 'saving']);
    expect(setup.identity.encrypt.privateKey.extractable).toBe(false);
    expect(setup.identity.sign.privateKey.extractable).toBe(false);
    expect(setup.identity.fingerprint).toMatch(/^\d{5}( \d{5}){7}$/);
    expect(api.recovery).toEqual(setup.recoveryBlob);
    expect(api.published.get(userId)).toEqual(setup.identity.publicIdentity);
    expect(await keyStatus(api, userId, first)).toBe('ready');

    const fileKey = crypto.getRandomValues(new Uint8Array(32));
    const context = new TextEncoder().encode('file-context');
    const stanza = await rsaRecipient(setup.identity.encrypt.publicKey).wrap(fileKey, context);

    const second = device();
    expect(await keyStatus(api, userId, second)).toBe('needs-restore');
    const restored = await restoreKeys(api, userId, PASSPHRASE, second);
    expect(restored.identity.fingerprint).toBe(setup.identity.fingerprint);
    expect(await keyStatus(api, userId, second)).toBe('ready');

    const reloaded = await loadUnlockedIdentity(userId, second);
    expect(reloaded).not.toBeNull();
    if (reloaded === null) return;
    await expect(crypto.subtle.exportKey('pkcs8', reloaded.encrypt.privateKey)).rejects.toThrow();
    expect(await rsaIdentity(reloaded.encrypt.privateKey).unwrap(stanza, context)).toEqual(fileKey);
  });

  it('a wrong passphrase throws WrongPassphraseError and stores nothing', async () => {
    const userId = newUserId();
    const api = new FakeKeyServer(userId);
    await setupKeys(api, userId, PASSPHRASE, undefined, device());
    const recoveryBefore = api.recovery;

    const second = device();
    await expect(restoreKeys(api, userId, 'lantern quiet marble oysters', second)).rejects.toBeInstanceOf(WrongPassphraseError);
    expect(await second.store.load(userId)).toBeNull();
    expect(api.recovery).toEqual(recoveryBefore);
    // The user can simply try again.
    expect((await restoreKeys(api, userId, PASSPHRASE, second)).identity.userId).toBe(userId);
  });

  it('a second device racing setup never overwrites the first copy', async () => {
    const userId = newUserId();
    const api = new FakeKeyServer(userId);
    const first = await setupKeys(api, userId, PASSPHRASE, undefined, device());
    const recovery = api.recovery;

    // Same passphrase: the late device adopts the first device's keys.
    const sameSecret = device();
    const adopted = await setupKeys(api, userId, PASSPHRASE, undefined, sameSecret);
    expect(adopted.identity.fingerprint).toBe(first.identity.fingerprint);

    // Another passphrase: refused, nothing stored, storage untouched.
    const otherSecret = device();
    await expect(setupKeys(api, userId, 'glacier tuba nostril pamphlet', undefined, otherSecret)).rejects.toBeInstanceOf(
      RecoveryCopyExistsError,
    );
    expect(await otherSecret.store.load(userId)).toBeNull();
    expect(api.recovery).toEqual(recovery);
    expect(api.published.get(userId)).toEqual(first.identity.publicIdentity);
  });

  it('restores from a kit file when the copy in storage is gone, and puts the copy back', async () => {
    const userId = newUserId();
    const api = new FakeKeyServer(userId);
    const setup = await setupKeys(api, userId, PASSPHRASE, undefined, device());
    const text = recoveryKitText({
      userId,
      email: 'ada@example.test',
      fingerprint: setup.identity.fingerprint,
      createdAt: new Date(),
      recoveryBlob: setup.recoveryBlob,
    });
    api.recovery = null;

    const fresh = device();
    // The copy in storage is lost but the keys are published: restore (from the kit), never set up new keys over them.
    expect(await keyStatus(api, userId, fresh)).toBe('needs-restore');
    await expect(setupKeys(api, userId, PASSPHRASE, undefined, fresh)).rejects.toBeInstanceOf(AccountHasKeysError);
    expect(api.recovery).toBeNull();
    await expect(restoreFromKit(api, userId, text, 'not the passphrase at all', fresh)).rejects.toBeInstanceOf(
      WrongPassphraseError,
    );
    expect(await fresh.store.load(userId)).toBeNull();
    const restored = await restoreFromKit(api, userId, text, PASSPHRASE, fresh);
    expect(restored.identity.fingerprint).toBe(setup.identity.fingerprint);
    expect(api.recovery).toEqual(setup.recoveryBlob);

    const stranger = newUserId();
    const error = await restoreFromKit(new FakeKeyServer(stranger), stranger, text, PASSPHRASE, device()).catch(
      (e: unknown) => e,
    );
    expect(error instanceof RecoveryKitError && error.code).toBe('kit-other-account');
  });

  it('refuses an old kit whose keys the account no longer uses', async () => {
    const userId = newUserId();
    const api = new FakeKeyServer(userId);
    const old = await setupKeys(api, userId, PASSPHRASE, undefined, device());
    const oldKit = recoveryKitText({ userId, email: null, fingerprint: old.identity.fingerprint, createdAt: new Date(), recoveryBlob: old.recoveryBlob });
    // The account started over with new keys (storage cleared, set up again).
    api.recovery = null;
    api.published.clear();
    await setupKeys(api, userId, PASSPHRASE, undefined, device());

    const fresh = device();
    const error = await restoreFromKit(api, userId, oldKit, PASSPHRASE, fresh).catch((e: unknown) => e);
    expect(error instanceof RecoveryKitError && error.code).toBe('kit-stale');
    expect(await fresh.store.load(userId)).toBeNull();
  });

  it('refuses to finish setup when another key is already published for the account', async () => {
    const userId = newUserId();
    const api = new FakeKeyServer(userId);
    api.published.set(userId, await exportPublicIdentity(await generateIdentityKeys()));
    const fresh = device();
    // Keys published with no copy in storage: refused before anything is made or written.
    await expect(setupKeys(api, userId, PASSPHRASE, undefined, fresh)).rejects.toBeInstanceOf(AccountHasKeysError);
    expect(api.recovery).toBeNull();
    expect(await fresh.store.load(userId)).toBeNull();
  });
});

describe('the start-up check of the published key', () => {
  it('says ours for our key, other for a replaced one, and publishes ours when none is', async () => {
    const userId = newUserId();
    const api = new FakeKeyServer(userId);
    const { identity } = await setupKeys(api, userId, PASSPHRASE, undefined, device());
    expect(await checkPublishedKey(api, identity)).toBe('ours');

    api.published.set(userId, await exportPublicIdentity(await generateIdentityKeys()));
    expect(await checkPublishedKey(api, identity)).toBe('other');

    // A published identity that fails its self-signature is not ours either.
    const tampered = identity.publicIdentity.slice();
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] ?? 0) ^ 1;
    api.published.set(userId, tampered);
    expect(await checkPublishedKey(api, identity)).toBe('other');

    api.published.clear();
    expect(await checkPublishedKey(api, identity)).toBe('ours');
    expect(api.published.get(userId)).toEqual(identity.publicIdentity);

    // Neither key nor copy in storage (the account was deleted elsewhere): nothing is published again.
    api.published.clear();
    api.recovery = null;
    expect(await checkPublishedKey(api, identity)).toBe('missing');
    expect(api.published.has(userId)).toBe(false);
  });
});

describe('replacing the recovery copy (the transport of a passphrase change)', () => {
  it('names the ETag it read; a stale one or a sign-in that is not fresh replaces nothing', async () => {
    const userId = newUserId();
    const api = new FakeKeyServer(userId);
    await expect(readRecoveryCopy(api)).rejects.toBeInstanceOf(NoRecoveryCopyError);
    const { recoveryBlob } = await setupKeys(api, userId, PASSPHRASE, undefined, device());
    const read = await readRecoveryCopy(api);
    expect(read.recoveryBlob).toEqual(recoveryBlob);

    const replacement = Uint8Array.of(...recoveryBlob.slice(0, 8), 1, 2, 3);
    api.freshSignIn = false;
    await expect(replaceRecoveryCopy(api, replacement, read.etag)).rejects.toBeInstanceOf(ReauthRequiredError);
    api.freshSignIn = true;
    await expect(replaceRecoveryCopy(api, replacement, '"stale"')).rejects.toBeInstanceOf(RecoveryCopyChangedError);
    expect(api.recovery).toEqual(recoveryBlob);

    const etag = await replaceRecoveryCopy(api, replacement, read.etag);
    expect(etag).not.toBe(read.etag);
    expect(api.recovery).toEqual(replacement);
    await expect(replaceRecoveryCopy(api, recoveryBlob, read.etag)).rejects.toBeInstanceOf(RecoveryCopyChangedError);
  });
});
