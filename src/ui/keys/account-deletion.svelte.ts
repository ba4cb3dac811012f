/**
 * "Delete my account" as a rune class with verbs: the person types their
 * e-mail address (or, without one, the words shown) to confirm; the server
 * removes everything it holds for the account, page by page, with progress;
 * then this device forgets the account and the person is signed out. A
 * deletion cut part-way can be carried on with one click, and a stale
 * sign-in is answered with a fresh one, as for a passphrase change.
 */
import { deleteAccountOnServer } from '../../keys/account-deletion.ts';
import type { KeyApi } from '../../keys/account-keys.ts';
import { ReauthRequiredError } from '../../keys/key-errors.ts';
import { keyErrorMessage } from './key-setup.svelte.ts';
import { forgetAccountOnThisDevice } from './device-data.ts';

/** The words to type when the account has no e-mail address. */
export const DELETE_WORDS = 'delete my account';

/** What the flow needs from the page. */
export interface AccountDeletionProps {
  api: KeyApi;
  userId: string;
  /** The verified address the person types to confirm, or null (then {@link DELETE_WORDS}). */
  email: string | null;
  confirmIdentity: () => Promise<boolean>;
  /** Signs out (the page navigates away). */
  signOut: () => Promise<void>;
}

/** The operations the flow runs (the real ones by default; tests pass fakes). */
export interface AccountDeletionOps {
  deleteOnServer: typeof deleteAccountOnServer;
  forgetDevice: (userId: string) => Promise<void>;
}

const REAL_OPS: AccountDeletionOps = { deleteOnServer: deleteAccountOnServer, forgetDevice: forgetAccountOnThisDevice };

const normalise = (s: string): string => s.trim().toLowerCase();

/** The form's state and verbs. */
export class AccountDeletionFlow {
  typed = $state('');
  /** `idle`: the form; `deleting`: the server is removing blobs; `clearing`: this device forgets; `done`: signing out. */
  phase = $state<'idle' | 'deleting' | 'clearing' | 'done'>('idle');
  /** Blobs the server removed so far. */
  removed = $state(0);
  error = $state<string | null>(null);
  /** True after the server asked for a fresh sign-in: the page offers "Sign in again". */
  needsSignIn = $state(false);
  /** True once a deletion began and stopped before the end: the page offers to carry on. */
  interrupted = $state(false);

  readonly #props: AccountDeletionProps;
  readonly #ops: AccountDeletionOps;

  constructor(props: AccountDeletionProps, ops: AccountDeletionOps = REAL_OPS) {
    this.#props = props;
    this.#ops = ops;
  }

  /** What the person must type. */
  get expected(): string {
    return this.#props.email ?? DELETE_WORDS;
  }

  /** Whether what was typed confirms (case and outer spaces do not matter). */
  get confirmed(): boolean {
    return normalise(this.typed) === normalise(this.expected);
  }

  /** Deletes the account, then forgets it here and signs out; never throws (failures land in `error`). Resolves true on success. */
  async submit(): Promise<boolean> {
    if (this.phase !== 'idle') return false;
    if (!this.confirmed && !this.interrupted) {
      this.error = this.typed.trim() === '' ? `Type ${this.expected} to confirm.` : `That is not ${this.expected}. Type it exactly to confirm.`;
      return false;
    }
    this.phase = 'deleting';
    this.error = null;
    // A carried-on deletion counts on from what the stopped one removed.
    const before = this.removed;
    try {
      await this.#ops.deleteOnServer(this.#props.api, (n) => {
        this.removed = before + n;
        // Once a page is gone the deletion has begun: from here it can only be carried on.
        if (n > 0) this.interrupted = true;
      });
    } catch (error) {
      this.phase = 'idle';
      this.needsSignIn = error instanceof ReauthRequiredError;
      this.error = this.interrupted
        ? `Deleting stopped before the end (${this.removed} items removed so far). ${keyErrorMessage(error)} Carry on to finish: nothing is lost by stopping.`
        : keyErrorMessage(error);
      return false;
    }
    this.needsSignIn = false;
    this.phase = 'clearing';
    try {
      await this.#ops.forgetDevice(this.#props.userId);
    } catch {
      // The account is gone from the server either way; say what is left here rather than pretend.
      this.error = 'Your account is deleted, but this browser would not clear its own copy. Clear this site’s data in the browser settings.';
    }
    this.phase = 'done';
    await this.#props.signOut();
    return true;
  }

  /** Signs in again (when the server asked) and, if that worked, tries once more. */
  async signInAndRetry(): Promise<boolean> {
    const confirmed = await this.#props.confirmIdentity();
    if (!confirmed) {
      this.error = 'You did not sign in again, so your account was not deleted.';
      return false;
    }
    return this.submit();
  }
}
