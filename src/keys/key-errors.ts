/**
 * Failures of account key setup and restore that a user can meet, one class
 * each. Messages are plain words and never carry keys or passphrases.
 * (A wrong passphrase is the crypto core's `WrongPassphraseError`, rethrown
 * unchanged.)
 */

/** Base class of the errors thrown on purpose by `src/keys/account-keys.ts`. */
export class AccountKeysError extends Error {
  /** Stable machine-readable code the UI maps to a message or a next step. */
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * Setup found that this account already has a recovery copy (another device
 * finished setting up first) and the passphrase given here does not open it:
 * the user must restore with the passphrase chosen on that device.
 */
export class RecoveryCopyExistsError extends AccountKeysError {
  constructor() {
    super('recovery-exists', 'Your keys were already set up on another device. Enter the passphrase you chose there to restore them.');
  }
}

/** Restore found no recovery copy in storage for this account. */
export class NoRecoveryCopyError extends AccountKeysError {
  constructor() {
    super('no-recovery-copy', 'There is no copy of your keys in storage. Restore them from your recovery kit file.');
  }
}

/** A recovery kit file could not be read, or belongs to another account or to older keys. */
export class RecoveryKitError extends AccountKeysError {
  constructor(
    kind: 'unreadable' | 'other-account' | 'stale',
    message = kind === 'unreadable'
      ? 'This file is not a Sealdrop recovery kit, or it is damaged.'
      : kind === 'other-account'
        ? 'This recovery kit belongs to another account.'
        : 'This recovery kit holds older keys than the ones your account uses now.',
  ) {
    super(`kit-${kind}`, message);
  }
}

/** The server answered for another account than the one being set up (a mixed-up session). */
export class AccountMismatchError extends AccountKeysError {
  constructor() {
    super('account-mismatch', 'The server answered for a different account. Sign out, sign in again and retry.');
  }
}

/**
 * The public key the directory publishes for this account is not this
 * device's: someone may have replaced it, or the keys were changed on
 * another device. Senders would encrypt to the published key, so the user
 * must hear about it.
 */
export class PublishedKeyMismatchError extends AccountKeysError {
  constructor() {
    super(
      'published-key-mismatch',
      'The public key published for your account is not the one on this device. If you did not change your keys on another device, someone may have replaced it: do not share files until this is resolved.',
    );
  }
}

/** Changing the passphrase (or deleting the account) needs a sign-in from the last few minutes: sign in again, then retry. */
export class ReauthRequiredError extends AccountKeysError {
  /** `what`: the act to try once more, in words ("change your passphrase"). */
  constructor(what = 'change your passphrase') {
    super('reauth-required', `For your safety, sign in again to confirm it is you, then ${what} once more.`);
  }
}

/** The recovery copy changed since it was read (another device changed the passphrase): nothing was replaced. */
export class RecoveryCopyChangedError extends AccountKeysError {
  constructor() {
    super('recovery-changed', 'Your keys were changed on another device meanwhile. Nothing was replaced; reload and try again.');
  }
}

/** The server refused a key rotation: the statement is not signed by the published key, or another change came first. */
export class KeyRotationRefusedError extends AccountKeysError {
  constructor(message: string) {
    super('rotation-refused', message);
  }
}

/**
 * The drive-key copy the server handed out is refused (docs/FORMAT.md §10.5):
 * not signed by this account's signing key (`not-signed`: substituted or
 * damaged), wrapped to another key (`other-key`), or unreadable (`damaged`).
 * It is never used or saved: files stay sealed to the RSA key alone.
 */
export class DriveKeyRefusedError extends AccountKeysError {
  /** Why it was refused. */
  readonly reason: 'not-signed' | 'other-key' | 'damaged';
  constructor(reason: DriveKeyRefusedError['reason']) {
    super(
      'drive-key-refused',
      reason === 'not-signed'
        ? 'The drive key stored for your account is not signed by your key, so Sealdrop will not use it. Your files stay readable; if you did not expect this, someone may have tampered with your account’s keys.'
        : 'The drive key stored for your account cannot be used with the keys on this device, so Sealdrop will not use it. Your files stay readable.',
    );
    this.reason = reason;
  }
}

/** The recovery copy in storage holds other keys than this device's (changed on another device, or replaced): no kit is made from it. */
export class RecoveryCopyMismatchError extends AccountKeysError {
  constructor() {
    super(
      'recovery-copy-mismatch',
      'The copy of your keys in storage is not the keys on this device: they were changed on another device, or the copy was replaced. No kit was made. Reload Sealdrop and try again.',
    );
  }
}

/**
 * Setup found keys already published for this account while storage has no
 * copy of them (it was lost): new keys would leave every file sealed to the
 * old ones unreadable, so setup refuses and the keys are restored instead.
 */
export class AccountHasKeysError extends AccountKeysError {
  constructor() {
    super('account-has-keys', 'Your account already has keys, but the copy kept in storage is missing. Restore them from your recovery kit file.');
  }
}
