/**
 * What a signed-in person needs before "My files": who the server says they
 * are (`GET /me`), then whether this device holds their keys, must restore
 * them from the recovery copy, or must set them up for the first time.
 */
import type { ApiClient } from '../auth/api-client.ts';
import { fetchMe, type Me } from '../auth/auth-setup.ts';
import { lastAccount, rememberAccount } from '../auth/last-account.ts';
import { addDriveKey, checkPublishedKey, keyStatus, loadUnlockedIdentity, type PublishedKeyState, type UnlockedIdentity } from '../keys/account-keys.ts';
import { DriveKeyRefusedError } from '../keys/key-errors.ts';
import { rotatedFromThisDevice } from '../keys/rotation-notice.ts';
import { forgetListCache } from '../storage/list-cache.ts';
import { keyRotation } from './keys/key-rotation.svelte.ts';
import { signedInAccount } from './auth/signed-in-account.svelte.ts';
import { handleError, type UserMessage } from './base/handle-error.ts';

/** Where the signed-in person stands. */
export type AccountPhase = 'checking' | 'failed' | 'needs-setup' | 'needs-restore' | 'ready';

/** The steps between sign-in and "My files", as a rune class with verbs. */
export class AccountFlow {
  phase = $state<AccountPhase>('checking');
  me = $state.raw<Me | null>(null);
  identity = $state.raw<UnlockedIdentity | null>(null);
  problem = $state<UserMessage | null>(null);
  /** Whether the key published for this account is this device's; null until checked (or when the check could not run). */
  publishedKey = $state<PublishedKeyState | 'rotated' | null>(null);
  /** Why the account's drive key was refused (a copy not signed by this account's key), in plain words; null when all is well. */
  driveKeyProblem = $state<string | null>(null);
  /**
   * Opened offline: the server was not asked; `me` is the last account seen
   * online on this device and `identity` the keys unlocked here.
   * {@link reconnect} confirms both when the connection is back.
   */
  offline = $state(false);
  readonly #api: ApiClient;

  constructor(api: ApiClient) {
    this.#api = api;
  }

  /** Asks the server who we are and looks for the keys; never throws (a failure sets `problem`). */
  async check(): Promise<void> {
    this.phase = 'checking';
    this.problem = null;
    try {
      const me = await fetchMe(this.#api);
      this.me = me;
      signedInAccount.userId = me.userId;
      this.offline = false;
      void rememberAccount(me).catch(() => undefined);
      const status = await keyStatus(this.#api, me.userId);
      if (status === 'ready') {
        const identity = await loadUnlockedIdentity(me.userId);
        if (identity === null) {
          this.phase = 'needs-restore';
          return;
        }
        this.keysReady(identity);
        return;
      }
      this.phase = status;
    } catch (error) {
      const problem = handleError(error);
      // No answer at all (offline, or a network with no way out): open from this device if it can.
      if ((problem.kind === 'offline' || problem.kind === 'server-down') && (await this.#openOffline())) return;
      this.problem = problem;
      this.phase = 'failed';
    }
  }

  /**
   * The connection is back: a flow that failed checks again; one opened
   * offline asks the server in the background and stays on "My files" (its
   * uploads go on) when the server names the same person.
   */
  async reconnect(): Promise<void> {
    if (this.phase === 'failed') return this.check();
    if (!this.offline) return;
    try {
      const me = await fetchMe(this.#api);
      if (me.userId !== this.me?.userId) return this.check();
      this.offline = false;
      void rememberAccount(me).catch(() => undefined);
      if (this.identity !== null) void this.#checkPublishedKey(this.identity);
    } catch {
      // Still no answer: stay offline; the next `online` event tries again.
    }
  }

  /** Opens "My files" from this device alone: the last account seen online, and its keys unlocked here. */
  async #openOffline(): Promise<boolean> {
    const me = await lastAccount().catch(() => null);
    if (me === null) return false;
    const identity = await loadUnlockedIdentity(me.userId).catch(() => null);
    if (identity === null) return false;
    this.me = me;
    signedInAccount.userId = me.userId;
    this.identity = identity;
    this.offline = true;
    this.phase = 'ready';
    return true;
  }

  /** The key pages call this once the keys are unlocked on this device. */
  keysReady(identity: UnlockedIdentity): void {
    void this.#ready(identity);
  }

  /**
   * Adds the account's drive key first when this device has none yet (an
   * account made before drive keys, or a fetch that failed): once, before
   * "My files", so the listing starts with it. A refused copy is said
   * loudly (driveKeyProblem); any other failure waits for the next start.
   * Files open with the RSA key either way.
   */
  async #ready(identity: UnlockedIdentity): Promise<void> {
    let ready = identity;
    if (identity.driveKey === null) {
      this.phase = 'checking';
      try {
        ready = await addDriveKey(this.#api, identity);
      } catch (error) {
        if (error instanceof DriveKeyRefusedError) this.driveKeyProblem = error.message;
      }
    }
    // A key rotation journaled on this device goes on (after a reload): it says which keys to use now.
    ready = await keyRotation.resume(this.#api, ready, (next) => this.useIdentity(next));
    this.identity = ready;
    this.phase = 'ready';
    void this.#checkPublishedKey(ready);
  }

  /** This device's keys changed (a rotation here published new ones): the app uses them from now on. */
  useIdentity(identity: UnlockedIdentity): void {
    this.identity = identity;
    this.publishedKey = 'ours';
  }

  /**
   * After another device rotated the keys (publishedKey 'rotated'): leads to
   * the restore page, which restores the new keys from the recovery copy
   * with the passphrase and replaces the former ones on this device.
   */
  async restoreRotatedKeys(): Promise<void> {
    this.publishedKey = null;
    // The cached list was opened with the former keys (the re-sealed files showed as damaged): list afresh.
    await forgetListCache().catch(() => undefined);
    this.phase = 'needs-restore';
  }

  /**
   * Compares the published public key with this device's, so a replaced key
   * is said loudly (see PublishedKeyAlert). A failed check (offline) stays
   * silent: the next start checks again.
   */
  async #checkPublishedKey(identity: UnlockedIdentity): Promise<void> {
    // This device is changing the keys itself: the runner says when the new ones are published.
    if (keyRotation.busy) return;
    try {
      const state = await checkPublishedKey(this.#api, identity);
      // Not ours: if this device's key signed the change, the owner rotated the keys on another device.
      this.publishedKey = state === 'other' && (await rotatedFromThisDevice(this.#api, identity)) ? 'rotated' : state;
    } catch {
      this.publishedKey = null;
    }
  }
}
