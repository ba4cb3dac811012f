/**
 * The manifest: header + signer key + payload digest + sealed metadata +
 * envelopes + key-commitment MAC, signed by the owner's ECDSA P-256 key
 * (docs/FORMAT.md §9). Sealing is split because the payload digest exists
 * only after the payload is sealed:
 *
 *   sealDraft → (seal the payload, collect segment digests) → finishManifest
 *
 * The draft (§9.3) is local bytes for the upload journal: with the owner's
 * own identity, openDraft recovers the keys to resume. openManifest
 * authenticates everything before returning a byte of metadata.
 */
import { ByteReader, ByteWriter, concatBytes, randomBytes, toBytes, type Bytes } from './bytes.ts';
import { MalformedError, SealdropCryptoError, TamperedError, UntrustedSignerError, WrongKeyError } from './errors.ts';
import { P256_SPKI_LENGTH, importVerifyKey, signingKeyFingerprint } from './fingerprint.ts';
import { FILE_KEY_LENGTH, HEADER_LENGTH, SALT_LENGTH, encodeHeader, fileIdBytes, labelled, readHeader, type Header } from './format.ts';
import {
  LABEL_CONTENT,
  LABEL_DRAFT_MAC,
  LABEL_HEADER_MAC,
  LABEL_METADATA,
  deriveSubkeyBytes,
  importAesGcmKey,
  importHmacKey,
} from './key-schedule.ts';
import { METADATA_PADDING_UNIT, decodeMetadata, encodeMetadata, type FileMetadata } from './metadata.ts';
import { DIGEST_LENGTH } from './payload-digest.ts';
import { STANZA_PASSPHRASE, type Identity, type Recipient, type Stanza } from './recipients.ts';
import { DEFAULT_SEGMENT_SIZE } from './stream.ts';

/** Label in front of the bytes the owner signs. */
export const LABEL_MANIFEST_SIGNATURE = 'sealdrop/v2/manifest';
/** Most envelopes one manifest may carry. */
export const MAX_STANZAS = 64;
/** Length of an IEEE P1363 ECDSA P-256 signature (r ‖ s). */
export const SIGNATURE_LENGTH = 64;
/** Length of the HMAC-SHA-256 key-commitment tag. */
export const MAC_LENGTH = 32;
/** Nonce and tag around the sealed metadata. */
const METADATA_NONCE_LENGTH = 12;
const GCM_TAG_LENGTH = 16;
/** A manifest is its draft minus the draft MAC plus lp16(signer) + digest + MAC + signature. */
const FINISH_OVERHEAD = -MAC_LENGTH + 2 + P256_SPKI_LENGTH + DIGEST_LENGTH + MAC_LENGTH + SIGNATURE_LENGTH;

const ECDSA_SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;

/** The owner's signing key pair (ECDSA P-256). */
export interface ManifestSigner {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
}

/**
 * A manifest before its payload exists: the bytes for the upload journal and
 * the keys to seal the payload and finish the manifest (same shape from
 * sealDraft and openDraft).
 */
export interface SealedDraft {
  /** The draft bytes (FORMAT.md §9.3): local only, never uploaded. */
  draft: Bytes;
  /** Non-extractable AES-256-GCM key of the payload segments. */
  contentKey: CryptoKey;
  /** Non-extractable HMAC key of the manifest's key-commitment MAC (finishManifest needs it). */
  macKey: CryptoKey;
  segmentSize: number;
  /** Exact length of the finished manifest, known before the payload is sealed. */
  manifestLength: number;
  metadata: FileMetadata;
}

function checkStanzas(stanzas: Stanza[]): void {
  if (stanzas.length < 1 || stanzas.length > MAX_STANZAS) throw new RangeError('A file needs 1 to 64 recipients.');
  if (stanzas.filter((s) => s.typeId === STANZA_PASSPHRASE).length > 1) {
    throw new RangeError('A file can have at most one passphrase.');
  }
}

/** The four sub-keys of a file (FORMAT.md §4); re-envelope.ts needs the MAC key. */
export async function subkeys(fileKey: Uint8Array, headerBytes: Bytes): Promise<{ content: CryptoKey; metadata: CryptoKey; mac: CryptoKey; draftMac: CryptoKey }> {
  const salt = headerBytes.subarray(25, 25 + SALT_LENGTH);
  const derive = (label: Parameters<typeof deriveSubkeyBytes>[2]): Promise<Bytes> => deriveSubkeyBytes(fileKey, salt, label, headerBytes);
  return {
    content: await importAesGcmKey(await derive(LABEL_CONTENT)),
    metadata: await importAesGcmKey(await derive(LABEL_METADATA)),
    mac: await importHmacKey(await derive(LABEL_HEADER_MAC)),
    draftMac: await importHmacKey(await derive(LABEL_DRAFT_MAC)),
  };
}

/** Everything that fixes a draft's bytes (test vectors build from this). */
export interface DraftParts {
  header: Header;
  fileKey: Uint8Array;
  metadata: FileMetadata;
  metadataNonce: Uint8Array;
  stanzas: Stanza[];
}

/**
 * Returns a draft made from explicit randomness (test vectors use this;
 * callers want sealDraft). Throws RangeError on invalid parts.
 */
export async function assembleDraft(parts: DraftParts): Promise<SealedDraft> {
  const { header, fileKey, stanzas } = parts;
  if (fileKey.length !== FILE_KEY_LENGTH) throw new RangeError('A file key is 32 bytes.');
  if (parts.metadataNonce.length !== METADATA_NONCE_LENGTH) throw new RangeError('A metadata nonce is 12 bytes.');
  checkStanzas(stanzas);
  const headerBytes = encodeHeader(header);
  const keys = await subkeys(fileKey, headerBytes);
  const nonce = toBytes(parts.metadataNonce);
  const sealedMeta = new Uint8Array(
    await crypto.subtle.encrypt({ name: 'AES-GCM', iv: nonce, additionalData: headerBytes }, keys.metadata, encodeMetadata(parts.metadata)),
  );
  const w = new ByteWriter().raw(headerBytes).lp16(concatBytes(nonce, sealedMeta)).u16(stanzas.length);
  for (const s of stanzas) w.u8(s.typeId).lp16(s.body);
  const body = w.bytes();
  const draftMac = new Uint8Array(await crypto.subtle.sign('HMAC', keys.draftMac, labelled(LABEL_DRAFT_MAC, body)));
  const draft = concatBytes(body, draftMac);
  return {
    draft,
    contentKey: keys.content,
    macKey: keys.mac,
    segmentSize: header.segmentSize,
    manifestLength: draft.length + FINISH_OVERHEAD,
    metadata: parts.metadata,
  };
}

/**
 * Returns the exact length of the finished manifest that sealDraft then
 * finishManifest would make for `metadata` and `recipients`, without
 * generating or wrapping any key (what the upload grant asks for before the
 * server names the file). Throws RangeError when a recipient's stanza has no
 * fixed length (`Recipient.stanzaLength`, e.g. a passphrase), on invalid
 * metadata, or on a recipient count outside 1–64.
 */
export function manifestLengthFor(opts: { metadata: FileMetadata; recipients: Recipient[] }): number {
  if (opts.recipients.length < 1 || opts.recipients.length > MAX_STANZAS) throw new RangeError('A file needs 1 to 64 recipients.');
  let stanzas = 0;
  for (const r of opts.recipients) {
    if (r.stanzaLength === undefined) throw new RangeError('This recipient cannot tell its envelope length before wrapping.');
    stanzas += 1 + 2 + r.stanzaLength; // type id, lp16 body
  }
  const sealedMetadata = METADATA_NONCE_LENGTH + encodeMetadata(opts.metadata).length + GCM_TAG_LENGTH;
  const draftLength = HEADER_LENGTH + 2 + sealedMetadata + 2 + stanzas + MAC_LENGTH;
  return draftLength + FINISH_OVERHEAD;
}

/**
 * Starts sealing a new file: a fresh random file key and salt, the metadata
 * padded and sealed, the file key wrapped for every recipient. Returns the
 * draft bytes (keep them in the upload journal to resume), the content key
 * for sealing the payload, the MAC key for finishManifest, the segment size
 * and the finished manifest's exact length. Throws RangeError on invalid
 * input (no recipients or more than 64, two passphrases, FileMetadata
 * limits, a fileId that is not 32 lowercase hex characters, a bad segment size).
 */
export async function sealDraft(opts: {
  fileId: string;
  metadata: FileMetadata;
  recipients: Recipient[];
  segmentSize?: number;
}): Promise<SealedDraft> {
  const header: Header = { segmentSize: opts.segmentSize ?? DEFAULT_SEGMENT_SIZE, fileId: opts.fileId, salt: randomBytes(SALT_LENGTH) };
  const headerBytes = encodeHeader(header);
  if (opts.recipients.length < 1 || opts.recipients.length > MAX_STANZAS) throw new RangeError('A file needs 1 to 64 recipients.');
  const fileKey = randomBytes(FILE_KEY_LENGTH);
  try {
    const stanzas = await Promise.all(opts.recipients.map((r) => r.wrap(fileKey, headerBytes)));
    return await assembleDraft({ header, fileKey, metadata: opts.metadata, metadataNonce: randomBytes(METADATA_NONCE_LENGTH), stanzas });
  } finally {
    fileKey.fill(0);
  }
}

/** A draft split into its fields, not yet authenticated. */
interface ParsedDraft {
  header: Header;
  headerBytes: Bytes;
  sealedMetadata: Bytes;
  stanzas: Stanza[];
  /** Header through the last envelope. */
  body: Bytes;
  draftMac: Bytes;
}

function readSealedMetadata(r: ByteReader): Bytes {
  const sealed = r.lp16().slice();
  const inner = sealed.length - METADATA_NONCE_LENGTH - GCM_TAG_LENGTH;
  if (inner < METADATA_PADDING_UNIT || inner % METADATA_PADDING_UNIT !== 0) {
    throw new MalformedError('The sealed metadata has an impossible length.');
  }
  return sealed;
}

function readStanzas(r: ByteReader): Stanza[] {
  const count = r.u16();
  if (count < 1 || count > MAX_STANZAS) throw new MalformedError('A manifest has 1 to 64 envelopes.');
  const stanzas: Stanza[] = [];
  for (let i = 0; i < count; i++) stanzas.push({ typeId: r.u8(), body: r.lp16().slice() });
  if (stanzas.filter((s) => s.typeId === STANZA_PASSPHRASE).length > 1) {
    throw new MalformedError('A manifest has at most one passphrase envelope.');
  }
  return stanzas;
}

function parseDraft(draft: Uint8Array): ParsedDraft {
  const r = new ByteReader(draft);
  const { header, bytes: headerBytes } = readHeader(r);
  const sealedMetadata = readSealedMetadata(r);
  const stanzas = readStanzas(r);
  const body = toBytes(draft).slice(0, r.offset);
  const draftMac = r.take(MAC_LENGTH).slice();
  r.end();
  return { header, headerBytes, sealedMetadata, stanzas, body, draftMac };
}

/** A manifest split into its fields, not yet authenticated. */
export interface ParsedManifest {
  header: Header;
  headerBytes: Bytes;
  signerSpki: Bytes;
  payloadDigest: Bytes;
  sealedMetadata: Bytes;
  stanzas: Stanza[];
  /** Everything the MAC covers: header through the last envelope. */
  macInput: Bytes;
  mac: Bytes;
  /** Everything the signature covers (before the label): header through the MAC. */
  signedBytes: Bytes;
  signature: Bytes;
}

/**
 * Splits manifest bytes into fields (FORMAT.md §9.1 step 1). Throws
 * MalformedError when they do not parse, UnsupportedVersionError for an
 * unknown version.
 */
export function parseManifest(manifest: Uint8Array): ParsedManifest {
  const r = new ByteReader(manifest);
  const { header, bytes: headerBytes } = readHeader(r);
  const signerSpki = r.lp16().slice();
  const payloadDigest = r.take(DIGEST_LENGTH).slice();
  const sealedMetadata = readSealedMetadata(r);
  const stanzas = readStanzas(r);
  const macStart = r.offset;
  const mac = r.take(MAC_LENGTH).slice();
  const signatureStart = r.offset;
  const signature = r.take(SIGNATURE_LENGTH).slice();
  r.end();
  const all = toBytes(manifest);
  return {
    header,
    headerBytes,
    signerSpki,
    payloadDigest,
    sealedMetadata,
    stanzas,
    macInput: all.slice(0, macStart),
    mac,
    signedBytes: all.slice(0, signatureStart),
    signature,
  };
}

/**
 * Returns the finished manifest: the draft's header, metadata and envelopes
 * with the signer's key and the payload digest, the key-commitment MAC over
 * all of it, and the signer's ECDSA signature over that and the MAC.
 * Throws RangeError when the payload digest is not 32 bytes, the draft does
 * not parse, or the signer's key pair does not match.
 */
export async function finishManifest(
  draft: Pick<SealedDraft, 'draft' | 'macKey'>,
  opts: { payloadDigest: Uint8Array; signer: ManifestSigner },
): Promise<Bytes> {
  if (opts.payloadDigest.length !== DIGEST_LENGTH) throw new RangeError('A payload digest is 32 bytes.');
  let d: ParsedDraft;
  try {
    d = parseDraft(draft.draft);
  } catch {
    throw new RangeError('The draft does not parse.');
  }
  const spki = new Uint8Array(await crypto.subtle.exportKey('spki', opts.signer.publicKey));
  if (spki.length !== P256_SPKI_LENGTH) throw new RangeError('The signer must be an ECDSA P-256 key.');
  return writeSignedManifest(
    { headerBytes: d.headerBytes, signerSpki: spki, payloadDigest: opts.payloadDigest, sealedMetadata: d.sealedMetadata, stanzas: d.stanzas },
    { macKey: draft.macKey, signer: opts.signer, verifyKey: opts.signer.publicKey },
  );
}

/**
 * Writes a finished manifest (§9): `header ‖ lp16(signerSpki) ‖ payload
 * digest ‖ lp16(sealed metadata) ‖ u16 count ‖ envelopes`, its MAC under the
 * file's header-MAC key, and the signature by `signer`, checked with
 * `verifyKey` before it is returned (sealing, re-enveloping §9.4 and a
 * rotation §10.6 all end here). Throws RangeError when the signature does
 * not verify (a signing pair that does not match).
 */
export async function writeSignedManifest(
  fields: { headerBytes: Uint8Array; signerSpki: Uint8Array; payloadDigest: Uint8Array; sealedMetadata: Uint8Array; stanzas: readonly Stanza[] },
  keys: { macKey: CryptoKey; signer: ManifestSigner; verifyKey: CryptoKey },
): Promise<Bytes> {
  const w = new ByteWriter().raw(fields.headerBytes).lp16(fields.signerSpki).raw(fields.payloadDigest).lp16(fields.sealedMetadata).u16(fields.stanzas.length);
  for (const s of fields.stanzas) w.u8(s.typeId).lp16(s.body);
  const macInput = w.bytes();
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', keys.macKey, macInput));
  const signed = concatBytes(macInput, mac);
  const message = labelled(LABEL_MANIFEST_SIGNATURE, signed);
  const signature = new Uint8Array(await crypto.subtle.sign(ECDSA_SIGN, keys.signer.privateKey, message));
  if (!(await crypto.subtle.verify(ECDSA_SIGN, keys.verifyKey, signature, message))) {
    throw new RangeError('The signing key pair does not match.');
  }
  return concatBytes(signed, signature);
}

/**
 * Returns the file key from the first stanza an identity opens, trying each
 * identity in the given order on every stanza in manifest order (identities
 * outer). A thrown error is remembered and reported only if nothing opens
 * (FORMAT.md §7.4); see openManifest for the errors.
 */
export async function unwrapFileKey(stanzas: Stanza[], identities: Identity[], context: Bytes): Promise<Uint8Array> {
  let firstError: unknown;
  for (const identity of identities) {
    for (const stanza of stanzas) {
      try {
        const fileKey = await identity.unwrap(stanza, context);
        if (fileKey === null) continue;
        if (fileKey.length !== FILE_KEY_LENGTH) throw new MalformedError('An envelope holds a key of the wrong size.');
        return fileKey;
      } catch (error) {
        // "Mine but broken" only matters if nothing else opens the file.
        firstError ??= error;
      }
    }
  }
  if (firstError instanceof SealdropCryptoError) throw firstError;
  if (firstError !== undefined) throw new MalformedError('An envelope could not be opened.');
  throw new WrongKeyError();
}

async function openMetadata(key: CryptoKey, sealedMetadata: Bytes, headerBytes: Bytes): Promise<FileMetadata> {
  let plain: Uint8Array;
  try {
    plain = new Uint8Array(
      await crypto.subtle.decrypt(
        { name: 'AES-GCM', iv: sealedMetadata.slice(0, METADATA_NONCE_LENGTH), additionalData: headerBytes },
        key,
        sealedMetadata.slice(METADATA_NONCE_LENGTH),
      ),
    );
  } catch {
    throw new TamperedError();
  }
  return decodeMetadata(plain);
}

function sameFileId(headerBytes: Bytes, expected: Bytes): boolean {
  return headerBytes.subarray(9, 25).every((b, i) => b === expected[i]);
}

/**
 * Authenticates and opens a manifest for the file `opts.fileId`, in this
 * order (FORMAT.md §9.1): parse, signer key and signature (any edit →
 * TamperedError), file id (a manifest moved to another file →
 * TamperedError), envelopes, key-commitment MAC (it also binds the signer
 * key and payload digest, so re-signing needs the file key), metadata.
 * Returns the metadata, the content key and payload digest for
 * createOpenStream / decryptSegment + PayloadVerifier, the segment size and
 * the signer's key and fingerprint. Throws MalformedError,
 * UnsupportedVersionError, TamperedError (also for a signer key that is not
 * a 91-byte uncompressed P-256 SPKI), WrongKeyError (no identity opens an
 * envelope), WrongPassphraseError, KdfParamsTooHighError; RangeError when
 * `opts.fileId` is not 32 lowercase hex characters. With
 * `opts.trustedSigners` (signing-key fingerprints), a good signature by any
 * other key throws UntrustedSignerError before any envelope is opened.
 */
export async function openManifest(
  manifest: Uint8Array,
  identities: Identity[],
  opts: { fileId: string; trustedSigners?: ReadonlySet<string> | undefined },
): Promise<{
  metadata: FileMetadata;
  contentKey: CryptoKey;
  segmentSize: number;
  payloadDigest: Bytes;
  signer: { publicKey: CryptoKey; fingerprint: string };
}> {
  // The expected id must be canonical (32 lowercase hex); the comparison is on its 16 bytes.
  const expectedFileId = fileIdBytes(opts.fileId);
  const m = parseManifest(manifest);
  let publicKey: CryptoKey;
  try {
    publicKey = await importVerifyKey(m.signerSpki);
  } catch {
    throw new TamperedError();
  }
  const message = labelled(LABEL_MANIFEST_SIGNATURE, m.signedBytes);
  if (!(await crypto.subtle.verify(ECDSA_SIGN, publicKey, m.signature, message))) throw new TamperedError();
  if (!sameFileId(m.headerBytes, expectedFileId)) throw new TamperedError('This manifest belongs to a different file.');
  const signerFingerprint = await signingKeyFingerprint(publicKey);
  if (opts.trustedSigners !== undefined && !opts.trustedSigners.has(signerFingerprint)) throw new UntrustedSignerError();

  const fileKey = await unwrapFileKey(m.stanzas, identities, m.headerBytes);
  const keys = await subkeys(fileKey, m.headerBytes);
  fileKey.fill(0);
  // Key commitment, and the binding of signer key and payload digest to the file key.
  if (!(await crypto.subtle.verify('HMAC', keys.mac, m.mac, m.macInput))) throw new TamperedError();
  const metadata = await openMetadata(keys.metadata, m.sealedMetadata, m.headerBytes);
  return {
    metadata,
    contentKey: keys.content,
    segmentSize: m.header.segmentSize,
    payloadDigest: m.payloadDigest,
    signer: { publicKey, fingerprint: signerFingerprint },
  };
}

/**
 * Reopens a draft (from the upload journal) with the owner's own identity,
 * to resume sealing. Checks, in order: parse (MalformedError /
 * UnsupportedVersionError), file id (TamperedError), envelopes (as
 * openManifest), the draft MAC (TamperedError), metadata. Returns the same
 * shape as sealDraft. Throws RangeError when `opts.fileId` is not canonical.
 */
export async function openDraft(draft: Uint8Array, identities: Identity[], opts: { fileId: string }): Promise<SealedDraft> {
  const expectedFileId = fileIdBytes(opts.fileId);
  const d = parseDraft(draft);
  if (!sameFileId(d.headerBytes, expectedFileId)) throw new TamperedError('This draft belongs to a different file.');
  const fileKey = await unwrapFileKey(d.stanzas, identities, d.headerBytes);
  const keys = await subkeys(fileKey, d.headerBytes);
  fileKey.fill(0);
  if (!(await crypto.subtle.verify('HMAC', keys.draftMac, d.draftMac, labelled(LABEL_DRAFT_MAC, d.body)))) {
    throw new TamperedError();
  }
  const metadata = await openMetadata(keys.metadata, d.sealedMetadata, d.headerBytes);
  const bytes = toBytes(draft).slice();
  return {
    draft: bytes,
    contentKey: keys.content,
    macKey: keys.mac,
    segmentSize: d.header.segmentSize,
    manifestLength: bytes.length + FINISH_OVERHEAD,
    metadata,
  };
}

