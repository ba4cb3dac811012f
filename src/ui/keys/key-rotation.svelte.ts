/**
 * "Rotate my keys" as a rune class with verbs (issue 20 item 3): the
 * passphrase, then the key steps (src/keys/key-rotation.ts: prepare,
 * publish), then every file re-sealed in the background with progress
 * (src/storage/rotate-files.ts), then the former keys deleted. One instance
 * per page ({@link keyRotation}), so the work goes on while the person looks
 * at their files, and {@link KeyRotationRunner.resume} picks it up after a
 * reload from the journal in IndexedDB.
 */
import type { ApiClient } from '../../auth/api-client.ts';
import type { UnlockedIdentity } from '../../keys/account-keys.ts';
import { ReauthRequiredError } from '../../keys/key-errors.ts';
import {
  finishKeyRotation,
  formerOwnerKeys,
  prepareKeyRotation,
  publishKeyRotation,
  rotatingIdentity,
  type KeyRotationOptions,
} from '../../keys/key-rotation.ts';
import { defaultRotationJournal, type RotationJournalRecord } from '../../keys/rotation-journal.ts';
import { rotateDriveFiles } from '../../storage/rotate-files.ts';
import { recordActivity } from '../activity/activity.svelte.ts';
import { keyErrorMessage } from './key-setup.svelte.ts';

/** Where a rotation on this device stands. */
export type RotationPhase = 'idle' | 'preparing' | 'publishing' | 'files' | 'done' | 'failed';

/** The page's rotation: state for the keys page, verbs for it and for the account flow. */
export class KeyRotationRunner {
  phase = $state<RotationPhase>('idle');
  passphrase = $state('');
  visible = $state(false);
  /** Files re-sealed so far, and in all. */
  done = $state(0);
  total = $state(0);
  error = $state<string | null>(null);
  /** True after the server asked for a fresh sign-in: the page offers "Sign in again". */
  needsSignIn = $state(false);
  /** Files that could not be re-sealed (damaged), in plain words. */
  problems = $state<string[]>([]);

  #api: ApiClient | null = null;
  #record: RotationJournalRecord | null = null;
  #onIdentity: ((identity: UnlockedIdentity) => void) | null = null;
  #running = false;
  readonly #opts: KeyRotationOptions;

  constructor(opts: KeyRotationOptions = {}) {
    this.#opts = opts;
  }

  /** Whether a rotation is underway (its file step may be running in the background). */
  get busy(): boolean {
    return this.phase === 'preparing' || this.phase === 'publishing' || this.phase === 'files';
  }

  /**
   * At start: a rotation journaled on this device goes on where it stopped.
   * Resolves the identity the app should use now: the new keys (with the
   * former ones for files not re-sealed yet) once published, else `identity`.
   * Never throws (a journal that cannot be read leaves things as they are).
   */
  async resume(api: ApiClient, identity: UnlockedIdentity, onIdentity: (identity: UnlockedIdentity) => void): Promise<UnlockedIdentity> {
    this.#api = api;
    this.#onIdentity = onIdentity;
    const record = await (this.#opts.journal ?? defaultRotationJournal()).load(identity.userId).catch(() => null);
    if (record === null) return identity;
    this.#record = record;
    void this.#run();
    return record.phase === 'files' ? rotatingIdentity(record) : identity;
  }

  /** Starts a rotation with the passphrase typed; never throws (failures land in `error`). */
  async start(api: ApiClient, identity: UnlockedIdentity, onIdentity: (identity: UnlockedIdentity) => void): Promise<void> {
    if (this.busy) return;
    if (this.passphrase === '') {
      this.error = 'Type your recovery passphrase.';
      return;
    }
    this.#api = api;
    this.#onIdentity = onIdentity;
    this.phase = 'preparing';
    this.error = null;
    try {
      this.#record = await prepareKeyRotation(api, identity, this.passphrase, this.#opts);
      this.passphrase = '';
    } catch (error) {
      this.phase = 'idle';
      this.error = keyErrorMessage(error);
      return;
    }
    // Publishing and re-sealing go on in the background, with progress on the keys page.
    void this.#run();
  }

  /** Signs in again (when the server asked) and goes on. */
  async signInAndRetry(confirmIdentity: () => Promise<boolean>): Promise<void> {
    if (!(await confirmIdentity())) {
      this.error = 'You did not sign in again, so your keys were not changed yet. Nothing is lost: try again when you are ready.';
      return;
    }
    await this.#run();
  }

  /** Tries again after a failure (e.g. offline). */
  retry(): Promise<void> {
    return this.#run();
  }

  /** Shows or hides the passphrase text. */
  toggleVisible(): void {
    this.visible = !this.visible;
  }

  /** Publish (if not yet), then the files, then finish; failures land in `error` and the journal stays. */
  async #run(): Promise<void> {
    const api = this.#api;
    if (this.#running || this.#record === null || api === null) return;
    this.#running = true;
    this.error = null;
    this.needsSignIn = false;
    try {
      let record = this.#record;
      if (record.phase === 'prepared') {
        this.phase = 'publishing';
        record = await publishKeyRotation(api, record, this.#opts);
        this.#record = record;
        recordActivity({ kind: 'key-change', detail: 'Keys rotated; files being re-sealed for the new keys' });
        this.#onIdentity?.(rotatingIdentity(record));
      }
      this.phase = 'files';
      const journal = this.#opts.journal ?? defaultRotationJournal();
      const userId = record.userId;
      const next = rotatingIdentity(record);
      const result = await rotateDriveFiles(api, {
        former: formerOwnerKeys(record),
        next: { encrypt: next.encrypt, sign: next.sign, driveKey: next.driveKey },
        done: await journal.doneFiles(userId),
        onFileDone: (fileId) => journal.markDone(userId, fileId),
        onProgress: (p) => {
          this.done = p.done;
          this.total = p.total;
        },
      });
      this.problems = result.problems.map((p) => p.problem);
      await finishKeyRotation(userId, this.#opts);
      this.#record = null;
      const { formerKeys: _former, ...identity } = next;
      this.#onIdentity?.(identity);
      recordActivity({ kind: 'key-change', detail: 'Key rotation finished; former keys deleted from this device' });
      this.phase = 'done';
    } catch (error) {
      this.needsSignIn = error instanceof ReauthRequiredError;
      this.error = this.needsSignIn ? 'For your safety, sign in again to confirm it is you; then the change of your keys goes on.' : keyErrorMessage(error);
      this.phase = 'failed';
    } finally {
      this.#running = false;
    }
  }
}

/** The page's one rotation runner. */
export const keyRotation = new KeyRotationRunner();
