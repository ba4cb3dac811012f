/**
 * Sealdrop's crypto core: the sealed format on WebCrypto, for the browser and
 * Node ≥ 20. Byte layout: docs/FORMAT.md. Seams: docs/CONTRACTS.md §3.
 */
export {
  SealdropCryptoError,
  TamperedError,
  TruncatedError,
  WrongKeyError,
  WrongPassphraseError,
  UnsupportedVersionError,
  KdfParamsTooHighError,
  MalformedError,
} from './errors.ts';
export {
  DEFAULT_SEGMENT_SIZE,
  TAG_LENGTH,
  segmentCount,
  sealedSize,
  plainSize,
  encryptSegment,
  decryptSegment,
  createSealStream,
  createOpenStream,
} from './stream.ts';
export { FORMAT_VERSION, MIN_SEGMENT_SIZE, MAX_SEGMENT_SIZE } from './format.ts';
export {
  STANZA_RSA_OAEP,
  STANZA_PASSPHRASE,
  STANZA_LINK_SECRET,
  LINK_SECRET_LENGTH,
  rsaRecipient,
  rsaIdentity,
  passphraseRecipient,
  passphraseIdentity,
  linkSecretRecipient,
  linkSecretIdentity,
  newLinkSecret,
  type Stanza,
  type Recipient,
  type Identity,
} from './recipients.ts';
export { DEFAULT_KDF_PARAMS, DEFAULT_PBKDF2_PARAMS, KDF_LIMITS, checkKdfParams, type KdfParams } from './kdf.ts';
export { METADATA_LIMITS, type FileMetadata } from './metadata.ts';
export { sealManifest, openManifest, type ManifestSigner } from './manifest.ts';
export { signingKeyFingerprint } from './fingerprint.ts';
export {
  generateIdentityKeys,
  exportPublicIdentity,
  importPublicIdentity,
  fingerprint,
  backupIdentity,
  restoreIdentity,
  samePublicKeys,
  type IdentityKeys,
} from './identity.ts';
