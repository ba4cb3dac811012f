/**
 * "Download the recovery kit again" on the keys page, as a rune class: the
 * passphrase (to check the kit before it is offered; see
 * src/keys/recovery-kit-again.ts for why), then the kit file and the
 * printable page.
 */
import { rebuildRecoveryKit } from '../../keys/recovery-kit-again.ts';
import type { KeyApi, UnlockedIdentity } from '../../keys/account-keys.ts';
import { recoveryKitFile, recoveryKitPrintData, type RecoveryKitPrintData } from '../../keys/recovery-kit.ts';
import { keyErrorMessage } from './key-setup.svelte.ts';

/** What the flow needs from the page. */
export interface RecoveryKitAgainProps {
  api: KeyApi;
  identity: UnlockedIdentity;
  email: string | null;
}

/** The form's state and verbs. */
export class RecoveryKitAgainFlow {
  passphrase = $state('');
  visible = $state(false);
  phase = $state<'editing' | 'working' | 'ready'>('editing');
  error = $state<string | null>(null);
  /** Object URL of the kit file once it is ready. */
  kitUrl = $state<string | null>(null);
  printData = $state.raw<RecoveryKitPrintData | null>(null);

  readonly #props: RecoveryKitAgainProps;
  readonly #rebuild: typeof rebuildRecoveryKit;

  constructor(props: RecoveryKitAgainProps, rebuild: typeof rebuildRecoveryKit = rebuildRecoveryKit) {
    this.#props = props;
    this.#rebuild = rebuild;
  }

  /** Checks the copy in storage with the passphrase and makes the kit; never throws. Resolves true when it is ready. */
  async submit(): Promise<boolean> {
    if (this.phase === 'working') return false;
    if (this.passphrase === '') {
      this.error = 'Type your recovery passphrase: the kit is checked with it before you save it.';
      return false;
    }
    this.phase = 'working';
    this.error = null;
    try {
      const kit = await this.#rebuild(this.#props.api, this.#props.identity, this.#props.email, this.passphrase);
      this.release();
      this.kitUrl = URL.createObjectURL(recoveryKitFile(kit));
      this.printData = await recoveryKitPrintData(kit);
      this.passphrase = '';
      this.phase = 'ready';
      return true;
    } catch (error) {
      this.phase = 'editing';
      this.error = keyErrorMessage(error);
      return false;
    }
  }

  /** Shows or hides the passphrase text. */
  toggleVisible(): void {
    this.visible = !this.visible;
  }

  /** Frees the kit's object URL (call when the page goes away). */
  release(): void {
    if (this.kitUrl !== null) URL.revokeObjectURL(this.kitUrl);
    this.kitUrl = null;
  }
}
