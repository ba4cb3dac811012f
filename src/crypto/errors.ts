/**
 * Every failure of the crypto core that a user can meet, one class each.
 *
 * Messages are fixed plain-language strings: they never carry key material,
 * plaintext, passphrases or attacker-chosen bytes.
 */

/** Base class of every error thrown on purpose by `src/crypto`. */
export class SealdropCryptoError extends Error {
  /** Stable machine-readable code, e.g. `tampered`; the UI maps it to a message. */
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Authentication failed: a flipped bit, a swapped or dropped segment, a moved or edited manifest. */
export class TamperedError extends SealdropCryptoError {
  constructor(message = 'The file failed its integrity check: it was damaged or tampered with.') {
    super('tampered', message);
  }
}

/** The sealed stream ended early: the final segment is missing. */
export class TruncatedError extends SealdropCryptoError {
  constructor(message = 'The file is incomplete: it ends before its last segment.') {
    super('truncated', message);
  }
}

/** None of the given identities could open any envelope of the file. */
export class WrongKeyError extends SealdropCryptoError {
  constructor(message = 'None of your keys can open this file.') {
    super('wrong-key', message);
  }
}

/** A passphrase did not open the passphrase envelope or recovery kit. */
export class WrongPassphraseError extends SealdropCryptoError {
  constructor(message = 'The passphrase is not correct.') {
    super('wrong-passphrase', message);
  }
}

/** The bytes declare a format version (or algorithm id) this code does not know. */
export class UnsupportedVersionError extends SealdropCryptoError {
  constructor(message = 'This file was made by a newer or unknown version of Sealdrop.') {
    super('unsupported-version', message);
  }
}

/** Stored key-derivation parameters exceed the safety caps (a hostile file could freeze the browser). */
export class KdfParamsTooHighError extends SealdropCryptoError {
  constructor(message = 'The file asks for more passphrase-hashing work than is safe to do.') {
    super('kdf-params-too-high', message);
  }
}

/** The bytes do not parse as the expected structure, or a value is out of its allowed range. */
export class MalformedError extends SealdropCryptoError {
  constructor(message = 'The data is not in the expected format.') {
    super('malformed', message);
  }
}

/** The manifest's signature is good, but the key that made it is not one the reader trusts for this file. */
export class UntrustedSignerError extends SealdropCryptoError {
  constructor(message = 'This file was not sealed by anyone you trust for it.') {
    super('untrusted-signer', message);
  }
}

/**
 * A post-quantum (hybrid) envelope is the reader's, but this platform has no
 * ML-KEM-768 (or the reader has no ML-KEM key on this device).
 */
export class PostQuantumUnsupportedError extends SealdropCryptoError {
  constructor(
    message = 'This file is protected with post-quantum keys, which this browser cannot use: open this in a browser that supports post-quantum keys.',
  ) {
    super('post-quantum-unsupported', message);
  }
}
