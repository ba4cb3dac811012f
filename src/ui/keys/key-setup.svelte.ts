/**
 * State of the key screens as rune classes with verbs: first-run setup
 * (passphrase → keys → recovery kit) and restore on a new device (from the
 * copy in storage, or from a kit file). Components read the fields and call
 * the verbs; all key work happens in `src/keys`.
 */
import { WrongPassphraseError } from '../../crypto/errors.ts';
import {
  restoreFromKit,
  restoreKeys,
  setupKeys,
  type AccountKeyOptions,
  type KeyApi,
  type SetupStep,
  type UnlockedIdentity,
} from '../../keys/account-keys.ts';
import { AccountKeysError, RecoveryCopyExistsError } from '../../keys/key-errors.ts';
import { KeyStoreError } from '../../keys/key-store.ts';
import { estimatePassphraseStrength, type PassphraseStrength } from '../../keys/passphrase-strength.ts';
import { recoveryKitFile, recoveryKitPrintData, type RecoveryKit, type RecoveryKitPrintData } from '../../keys/recovery-kit.ts';
import { handleError } from '../base/handle-error.ts';

/** What both key pages are given by the app. */
export interface KeyPageProps {
  /** The app's API client (or anything with its `post`). */
  api: KeyApi;
  /** The signed-in account's id, from `GET /api/v1/me`. */
  userId: string;
  /** The signed-in account's e-mail, for the recovery kit. */
  email: string | null;
  /** Called once the keys are unlocked on this device (after the kit step for a new setup). */
  onReady: (identity: UnlockedIdentity) => void;
  /** Overrides for tests and harnesses (key store, blob transport, KDF parameters). */
  options?: AccountKeyOptions;
}

/** The key operations the flows call; tests pass fakes. */
export interface KeyOperations {
  setupKeys: typeof setupKeys;
  restoreKeys: typeof restoreKeys;
  restoreFromKit: typeof restoreFromKit;
}

/** The real operations, from `src/keys`. */
const ACCOUNT_KEYS: KeyOperations = { setupKeys, restoreKeys, restoreFromKit };

/** The exact words shown when a passphrase does not open the keys. */
export const WRONG_PASSPHRASE_MESSAGE = 'That passphrase does not unlock your keys. Check it and try again.';

/** Progress words for each setup stage. */
export const SETUP_STEP_TEXT: Record<SetupStep, string> = {
  generating: 'Creating your keys…',
  protecting: 'Locking a copy of your keys with your passphrase…',
  uploading: 'Saving the locked copy to your storage…',
  saving: 'Keeping your keys in this browser…',
};

/** Returns plain words for a failure of key setup or restore; never copies text from an unknown error. */
export function keyErrorMessage(error: unknown): string {
  if (error instanceof WrongPassphraseError) return WRONG_PASSPHRASE_MESSAGE;
  if (error instanceof AccountKeysError || error instanceof KeyStoreError) return error.message;
  const message = handleError(error);
  return `${message.title} ${message.action}`;
}

/** First-run setup: choose the passphrase, make the keys, then offer the recovery kit. */
export class KeySetupFlow {
  /** `choose`: typing the passphrase; `working`: making keys; `kit`: offering the kit; `restore`: another device set up first. */
  phase = $state<'choose' | 'working' | 'kit' | 'restore'>('choose');
  passphrase = $state('');
  confirmation = $state('');
  /** Whether the passphrase fields show their text. */
  visible = $state(false);
  /** The stage being worked on while `phase` is `working`. */
  step = $state<SetupStep | null>(null);
  /** The last failure in plain words, or null. */
  error = $state<string | null>(null);
  /** False when the browser may evict our storage under pressure. */
  persisted = $state(true);
  /** Object URL of the kit file while the kit step shows. */
  kitUrl = $state<string | null>(null);
  /** Data of the printable page while the kit step shows. */
  printData = $state<RecoveryKitPrintData | null>(null);

  /** Strength of the passphrase as typed. */
  readonly strength: PassphraseStrength = $derived(estimatePassphraseStrength(this.passphrase));
  /** True when the confirmation differs from the passphrase (not while it is still a correct start of it). */
  readonly mismatch: boolean = $derived(
    this.confirmation !== '' &&
      this.confirmation !== this.passphrase &&
      (this.confirmation.length >= this.passphrase.length || !this.passphrase.startsWith(this.confirmation)),
  );
  /** True when "Create my keys" may be pressed. */
  readonly canSubmit: boolean = $derived(
    this.phase === 'choose' && this.strength.acceptable && this.confirmation === this.passphrase,
  );

  /** Why "Create my keys" would be refused now, in plain words; null when it may be pressed (or while working). */
  readonly refusal: string | null = $derived(this.#refusal());

  readonly #props: KeyPageProps;
  readonly #keys: Pick<KeyOperations, 'setupKeys'>;
  #identity: UnlockedIdentity | null = null;

  constructor(props: KeyPageProps, keys: Pick<KeyOperations, 'setupKeys'> = ACCOUNT_KEYS) {
    this.#props = props;
    this.#keys = keys;
  }

  #refusal(): string | null {
    if (this.phase !== 'choose') return null;
    if (this.passphrase === '') return 'Choose a recovery passphrase first.';
    if (!this.strength.acceptable) return `This passphrase is too easy to guess (${this.strength.label.toLowerCase()}). ${this.strength.advice[0] ?? 'Add more unusual words.'}`;
    if (this.confirmation === '') return 'Type the passphrase again to confirm it.';
    if (this.confirmation !== this.passphrase) return 'The two passphrases are not the same.';
    return null;
  }

  /** Shows or hides the passphrase text. */
  toggleVisible(): void {
    this.visible = !this.visible;
  }

  /** Makes the keys with the chosen passphrase. Never throws: failures land in `error` and return to `choose`. */
  async submit(): Promise<void> {
    if (!this.canSubmit) {
      // Said in words: a refusal that only greys a button out tells nobody why.
      if (this.refusal !== null) this.error = this.refusal;
      return;
    }
    const { api, userId, email, options } = this.#props;
    this.phase = 'working';
    this.error = null;
    try {
      const result = await this.#keys.setupKeys(api, userId, this.passphrase, (s) => (this.step = s), options);
      this.#identity = result.identity;
      this.persisted = result.persisted;
      const kit: RecoveryKit = {
        userId,
        email,
        fingerprint: result.identity.fingerprint,
        // A plain value written once into the kit, not reactive state.
        // eslint-disable-next-line svelte/prefer-svelte-reactivity
        createdAt: new Date(),
        recoveryBlob: result.recoveryBlob,
      };
      this.kitUrl = URL.createObjectURL(recoveryKitFile(kit));
      this.printData = await recoveryKitPrintData(kit);
      this.passphrase = '';
      this.confirmation = '';
      this.phase = 'kit';
    } catch (error) {
      this.phase = error instanceof RecoveryCopyExistsError ? 'restore' : 'choose';
      this.error = keyErrorMessage(error);
    } finally {
      this.step = null;
    }
  }

  /** The user has saved the kit: release it and hand the keys to the app. */
  finish(): void {
    if (this.#identity === null) return;
    this.dispose();
    this.#props.onReady(this.#identity);
  }

  /** Releases the kit's object URL (call when the page goes away). */
  dispose(): void {
    if (this.kitUrl !== null) URL.revokeObjectURL(this.kitUrl);
    this.kitUrl = null;
  }
}

/** Restore on a new device: the passphrase, and optionally a recovery kit file. */
export class KeyRestoreFlow {
  passphrase = $state('');
  visible = $state(false);
  working = $state(false);
  /** The last failure in plain words, or null. */
  error = $state<string | null>(null);
  /** True when the last failure was a wrong passphrase (the input is marked invalid). */
  wrongPassphrase = $state(false);
  /** Name of the chosen kit file, or null to use the copy in storage. */
  kitName = $state<string | null>(null);

  readonly #props: KeyPageProps;
  readonly #keys: Pick<KeyOperations, 'restoreKeys' | 'restoreFromKit'>;
  #kitText: string | null = null;

  constructor(props: KeyPageProps, keys: Pick<KeyOperations, 'restoreKeys' | 'restoreFromKit'> = ACCOUNT_KEYS) {
    this.#props = props;
    this.#keys = keys;
  }

  /** Shows or hides the passphrase text. */
  toggleVisible(): void {
    this.visible = !this.visible;
  }

  /** Uses a recovery kit file instead of the copy in storage; null goes back to storage. */
  async chooseKit(file: File | null): Promise<void> {
    this.error = null;
    this.wrongPassphrase = false;
    if (file === null) {
      this.#kitText = null;
      this.kitName = null;
      return;
    }
    // A kit is a few kilobytes; anything much larger is not one.
    if (file.size > 64 * 1024) {
      this.error = 'This file is not a Sealdrop recovery kit, or it is damaged.';
      return;
    }
    this.#kitText = await file.text();
    this.kitName = file.name;
  }

  /**
   * Restores the keys. Returns true when they are unlocked (and `onReady`
   * was called); false when it failed, with `error` set. Never throws.
   */
  async submit(): Promise<boolean> {
    if (this.working || this.passphrase === '') return false;
    const { api, userId, options, onReady } = this.#props;
    this.working = true;
    this.error = null;
    this.wrongPassphrase = false;
    try {
      const result =
        this.#kitText === null
          ? await this.#keys.restoreKeys(api, userId, this.passphrase, options)
          : await this.#keys.restoreFromKit(api, userId, this.#kitText, this.passphrase, options);
      this.passphrase = '';
      onReady(result.identity);
      return true;
    } catch (error) {
      this.wrongPassphrase = error instanceof WrongPassphraseError;
      this.error = keyErrorMessage(error);
      return false;
    } finally {
      this.working = false;
    }
  }
}
