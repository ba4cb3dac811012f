/**
 * "Change recovery passphrase" as a rune class with verbs: the current
 * passphrase, the new one typed twice with its strength, refusals in words,
 * and a fresh sign-in when the server asks for one (then it tries again).
 */
import { estimatePassphraseStrength, type PassphraseStrength } from '../../keys/passphrase-strength.ts';
import { changeRecoveryPassphrase } from '../../keys/passphrase-change.ts';
import { ReauthRequiredError } from '../../keys/key-errors.ts';
import type { KeyApi, UnlockedIdentity } from '../../keys/account-keys.ts';
import { keyErrorMessage } from './key-setup.svelte.ts';
import { recordActivity } from '../activity/activity.svelte.ts';

/** The operation the flow runs (the real one by default; tests pass a fake). */
export type ChangePassphrase = typeof changeRecoveryPassphrase;

/** What the flow needs from the page. */
export interface PassphraseChangeProps {
  api: KeyApi;
  identity: UnlockedIdentity;
  /** Asks the person to sign in again (a pop-up that must ask for their credentials); resolves true when they did. */
  confirmIdentity: () => Promise<boolean>;
}

/** The form's state and verbs. */
export class PassphraseChangeFlow {
  current = $state('');
  next = $state('');
  confirmation = $state('');
  visible = $state(false);
  phase = $state<'editing' | 'working' | 'done'>('editing');
  error = $state<string | null>(null);
  /** True after the server asked for a fresh sign-in: the page offers "Sign in again". */
  needsSignIn = $state(false);
  readonly strength: PassphraseStrength = $derived(estimatePassphraseStrength(this.next));
  /** Why "Change passphrase" would be refused now, in plain words; null when it may go ahead. */
  readonly refusal: string | null = $derived(this.#refusal());

  readonly #props: PassphraseChangeProps;
  readonly #change: ChangePassphrase;

  constructor(props: PassphraseChangeProps, change: ChangePassphrase = changeRecoveryPassphrase) {
    this.#props = props;
    this.#change = change;
  }

  /** Changes the passphrase; never throws (failures land in `error`). Resolves true on success. */
  async submit(): Promise<boolean> {
    if (this.phase === 'working') return false;
    if (this.refusal !== null) {
      this.error = this.refusal;
      return false;
    }
    this.phase = 'working';
    this.error = null;
    try {
      await this.#change(this.#props.api, this.#props.identity, this.current, this.next);
      this.current = '';
      this.next = '';
      this.confirmation = '';
      this.needsSignIn = false;
      this.phase = 'done';
      recordActivity({ kind: 'key-change', detail: 'Recovery passphrase changed' });
      return true;
    } catch (error) {
      this.phase = 'editing';
      this.needsSignIn = error instanceof ReauthRequiredError;
      this.error = keyErrorMessage(error);
      return false;
    }
  }

  /** Signs in again (when the server asked) and, if that worked, changes the passphrase once more. */
  async signInAndRetry(): Promise<boolean> {
    const confirmed = await this.#props.confirmIdentity();
    if (!confirmed) {
      this.error = 'You did not sign in again, so your passphrase was not changed.';
      return false;
    }
    return this.submit();
  }

  /** Starts over after a change (the form shows again, empty). */
  again(): void {
    this.phase = 'editing';
    this.error = null;
  }

  /** Shows or hides the passphrase text. */
  toggleVisible(): void {
    this.visible = !this.visible;
  }

  #refusal(): string | null {
    if (this.current === '') return 'Type your current recovery passphrase.';
    if (this.next === '') return 'Choose a new recovery passphrase.';
    if (!this.strength.acceptable) return `The new passphrase is too easy to guess (${this.strength.label.toLowerCase()}). ${this.strength.advice[0] ?? 'Add more unusual words.'}`;
    if (this.next === this.current) return 'The new passphrase is the same as the current one.';
    if (this.confirmation !== this.next) return this.confirmation === '' ? 'Type the new passphrase again to confirm it.' : 'The two new passphrases are not the same.';
    return null;
  }
}
