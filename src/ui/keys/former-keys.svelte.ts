/**
 * "Drop my former keys" as a rune class with verbs (issue 20 item 3): the
 * recovery passphrase, a fresh sign-in when the server asks for one, and
 * the result in plain words. The work is src/keys/former-keys.ts.
 */
import type { KeyApi, UnlockedIdentity } from '../../keys/account-keys.ts';
import { dropKeptFormerKeys } from '../../keys/former-keys.ts';
import { ReauthRequiredError } from '../../keys/key-errors.ts';
import { recordActivity } from '../activity/activity.svelte.ts';
import { keyErrorMessage } from './key-setup.svelte.ts';

/** The operation the flow runs (the real one by default; tests pass a fake). */
export type DropFormerKeys = typeof dropKeptFormerKeys;

/** What the flow needs from the page. */
export interface DropFormerKeysProps {
  api: KeyApi;
  identity: UnlockedIdentity;
  confirmIdentity: () => Promise<boolean>;
  onIdentityChanged: (identity: UnlockedIdentity) => void;
}

/** The form's state and verbs. */
export class DropFormerKeysFlow {
  passphrase = $state('');
  visible = $state(false);
  phase = $state<'idle' | 'asking' | 'working' | 'done'>('idle');
  error = $state<string | null>(null);
  needsSignIn = $state(false);

  readonly #props: DropFormerKeysProps;
  readonly #drop: DropFormerKeys;

  constructor(props: DropFormerKeysProps, drop: DropFormerKeys = dropKeptFormerKeys) {
    this.#props = props;
    this.#drop = drop;
  }

  /** Shows the passphrase form. */
  ask(): void {
    this.phase = 'asking';
    this.error = null;
  }

  /** Hides the form, dropping nothing. */
  cancel(): void {
    this.phase = 'idle';
    this.passphrase = '';
    this.error = null;
    this.needsSignIn = false;
  }

  /** Drops the former keys; never throws (failures land in `error`). Resolves true on success. */
  async submit(): Promise<boolean> {
    if (this.phase === 'working') return false;
    if (this.passphrase === '') {
      this.error = 'Type your recovery passphrase.';
      return false;
    }
    this.phase = 'working';
    this.error = null;
    try {
      const identity = await this.#drop(this.#props.api, this.#props.identity, this.passphrase);
      this.passphrase = '';
      this.needsSignIn = false;
      this.phase = 'done';
      recordActivity({ kind: 'key-change', detail: 'Former keys dropped from the recovery copy and this device' });
      this.#props.onIdentityChanged(identity);
      return true;
    } catch (error) {
      this.phase = 'asking';
      this.needsSignIn = error instanceof ReauthRequiredError;
      this.error = this.needsSignIn ? 'For your safety, sign in again to confirm it is you; then your former keys are dropped.' : keyErrorMessage(error);
      return false;
    }
  }

  /** Signs in again (when the server asked) and tries once more. */
  async signInAndRetry(): Promise<boolean> {
    if (!(await this.#props.confirmIdentity())) {
      this.error = 'You did not sign in again, so your former keys were kept.';
      return false;
    }
    return this.submit();
  }

  /** Shows or hides the passphrase text. */
  toggleVisible(): void {
    this.visible = !this.visible;
  }
}
