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
  UntrustedSignerError,
  PostQuantumUnsupportedError,
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
export { FORMAT_VERSION, MIN_SEGMENT_SIZE, MAX_SEGMENT_SIZE, MAX_PLAINTEXT_SIZE } from './format.ts';
export {
  DIGEST_LENGTH,
  segmentDigest,
  payloadDigest,
  payloadDigestFromSegmentDigests,
  PayloadHasher,
  PayloadVerifier,
  blockDigest,
} from './payload-digest.ts';
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
  encodeLinkSecret,
  decodeLinkSecret,
  LINK_SECRET_TEXT_LENGTH,
  type Stanza,
  type Recipient,
  type Identity,
} from './recipients.ts';
export { DEFAULT_KDF_PARAMS, DEFAULT_PBKDF2_PARAMS, KDF_LIMITS, checkKdfParams, type KdfParams } from './kdf.ts';
export { METADATA_LIMITS, METADATA_PADDING_UNIT, type FileMetadata } from './metadata.ts';
export {
  sealDraft,
  openDraft,
  finishManifest,
  manifestLengthFor,
  openManifest,
  type SealedDraft,
  type ManifestSigner,
} from './manifest.ts';
export { signingKeyFingerprint } from './fingerprint.ts';
export {
  generateIdentityKeys,
  exportPublicIdentity,
  importPublicIdentity,
  fingerprint,
  backupIdentity,
  restoreIdentity,
  restoreBackup,
  rewrapBackup,
  rotateBackup,
  dropFormerKeys,
  samePublicKeys,
  KEY_KIND_RSA_OAEP,
  KEY_KIND_ECDSA_P256,
  KEY_KIND_FORMER_RSA_OAEP,
  MAX_FORMER_KEYS,
  type IdentityKeys,
  type RestoredBackup,
} from './identity.ts';
export { signRotation, verifyRotation, rotationSignedBy, ROTATION_LENGTH } from './rotation.ts';
export {
  STANZA_LINK_PASSPHRASE,
  linkPassphraseRecipient,
  linkPassphraseIdentity,
} from './link-passphrase.ts';
export { reEnvelope, type EnvelopeChange } from './re-envelope.ts';
export { rotateManifest, type FormerOwnerKeys } from './rotate-manifest.ts';
export {
  STANZA_DRIVE_KEY,
  DRIVE_KEY_LENGTH,
  importDriveKey,
  isDriveKey,
  driveKeyRecipient,
  driveKeyIdentity,
  newDriveKey,
  openDriveKeyCopy,
  parseDriveKeyCopy,
  type DriveKeyCopyReader,
  type DriveKeyCopyWriter,
} from './drive-key.ts';
export { newEphemeralSigner } from './ephemeral-signer.ts';
export {
  POST_QUANTUM_SHARING_ENABLED,
  STANZA_HYBRID_MLKEM768_RSA,
  MLKEM768_PUBLIC_KEY_LENGTH,
  postQuantumSupported,
  generateMlKemKeyPair,
  exportMlKemPublicKey,
  importMlKemPublicKey,
  hybridRecipient,
  hybridIdentity,
  hybridBodyLength,
  type HybridPublicKeys,
  type HybridIdentityKeys,
} from './hybrid.ts';
