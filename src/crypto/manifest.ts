/**
 * The manifest: header + sealed metadata + envelopes + key-commitment MAC,
 * signed by the owner's ECDSA P-256 key (docs/FORMAT.md §9). It is the join
 * of the format: sealManifest makes a file key and its sub-keys, openManifest
 * authenticates everything before returning a byte of metadata.
 */
import { ByteReader, ByteWriter, concatBytes, randomBytes, toBytes, type Bytes } from './bytes.ts';
import { MalformedError, SealdropCryptoError, TamperedError, WrongKeyError } from './errors.ts';
import { importVerifyKey, signingKeyFingerprint } from './fingerprint.ts';
import { FILE_KEY_LENGTH, SALT_LENGTH, encodeHeader, fileIdBytes, labelled, readHeader, type Header } from './format.ts';
import {
  LABEL_CONTENT,
  LABEL_HEADER_MAC,
  LABEL_METADATA,
  deriveSubkeyBytes,
  importAesGcmKey,
  importHmacKey,
} from './key-schedule.ts';
import { decodeMetadata, encodeMetadata, type FileMetadata } from './metadata.ts';
import { STANZA_PASSPHRASE, type Identity, type Recipient, type Stanza } from './recipients.ts';
import { DEFAULT_SEGMENT_SIZE } from './stream.ts';

/** Label in front of the bytes the owner signs. */
export const LABEL_MANIFEST_SIGNATURE = 'sealdrop/v1/manifest';
/** Most envelopes one manifest may carry. */
export const MAX_STANZAS = 64;
/** Length of an IEEE P1363 ECDSA P-256 signature (r ‖ s). */
export const SIGNATURE_LENGTH = 64;
/** Length of the HMAC-SHA-256 key-commitment tag. */
export const MAC_LENGTH = 32;

const ECDSA_SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;

/** The owner's signing key pair (ECDSA P-256). */
export interface ManifestSigner {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
}

/** Everything that fixes a manifest's bytes except the signature (test vectors build from this). */
export interface ManifestParts {
  header: Header;
  fileKey: Uint8Array;
  metadata: FileMetadata;
  metadataNonce: Bytes;
  stanzas: Stanza[];
  signer: ManifestSigner;
}

/**
 * Returns the manifest bytes for `parts` (signature randomised by ECDSA).
 * Throws RangeError on invalid parts (no stanzas, more than 64, two
 * passphrase stanzas, oversized fields, a signer whose halves do not match).
 */
export async function assembleManifest(parts: ManifestParts): Promise<Bytes> {
  const { header, fileKey, stanzas, signer } = parts;
  if (fileKey.length !== FILE_KEY_LENGTH) throw new RangeError('A file key is 32 bytes.');
  if (stanzas.length < 1 || stanzas.length > MAX_STANZAS) throw new RangeError('A file needs 1 to 64 recipients.');
  if (stanzas.filter((s) => s.typeId === STANZA_PASSPHRASE).length > 1) {
    throw new RangeError('A file can have at most one passphrase.');
  }
  const headerBytes = encodeHeader(header);
  const metaKey = await importAesGcmKey(await deriveSubkeyBytes(fileKey, header.salt, LABEL_METADATA, headerBytes));
  const sealedMeta = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv: parts.metadataNonce, additionalData: headerBytes },
      metaKey,
      encodeMetadata(parts.metadata),
    ),
  );
  const w = new ByteWriter().raw(headerBytes).lp16(concatBytes(parts.metadataNonce, sealedMeta)).u16(stanzas.length);
  for (const s of stanzas) w.u8(s.typeId).lp16(s.body);
  const body = w.bytes();
  const macKey = await importHmacKey(await deriveSubkeyBytes(fileKey, header.salt, LABEL_HEADER_MAC, headerBytes));
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', macKey, body));
  const spki = new Uint8Array(await crypto.subtle.exportKey('spki', signer.publicKey));
  const signed = concatBytes(body, mac, new ByteWriter().lp16(spki).bytes());
  const message = labelled(LABEL_MANIFEST_SIGNATURE, signed);
  const signature = new Uint8Array(await crypto.subtle.sign(ECDSA_SIGN, signer.privateKey, message));
  if (!(await crypto.subtle.verify(ECDSA_SIGN, signer.publicKey, signature, message))) {
    throw new RangeError('The signing key pair does not match.');
  }
  return concatBytes(signed, signature);
}

/**
 * Seals a new file's manifest: fresh random file key and salt, metadata
 * sealed, the file key wrapped for every recipient, MAC'd and signed.
 * Returns the manifest bytes, the non-extractable content key for
 * createSealStream / encryptSegment, and the segment size in the header.
 * Throws RangeError on invalid input (see assembleManifest, FileMetadata
 * limits, a fileId that is not 32 lowercase hex characters).
 */
export async function sealManifest(opts: {
  fileId: string;
  metadata: FileMetadata;
  recipients: Recipient[];
  signer: ManifestSigner;
  segmentSize?: number;
}): Promise<{ manifest: Bytes; contentKey: CryptoKey; segmentSize: number }> {
  const segmentSize = opts.segmentSize ?? DEFAULT_SEGMENT_SIZE;
  const header: Header = { segmentSize, fileId: opts.fileId, salt: randomBytes(SALT_LENGTH) };
  const headerBytes = encodeHeader(header);
  const fileKey = randomBytes(FILE_KEY_LENGTH);
  const stanzas = await Promise.all(opts.recipients.map((r) => r.wrap(fileKey, headerBytes)));
  const manifest = await assembleManifest({
    header,
    fileKey,
    metadata: opts.metadata,
    metadataNonce: randomBytes(12),
    stanzas,
    signer: opts.signer,
  });
  const contentKey = await importAesGcmKey(await deriveSubkeyBytes(fileKey, header.salt, LABEL_CONTENT, headerBytes));
  fileKey.fill(0);
  return { manifest, contentKey, segmentSize };
}

/** A manifest split into its fields, not yet authenticated. */
export interface ParsedManifest {
  header: Header;
  headerBytes: Bytes;
  sealedMetadata: Bytes;
  stanzas: Stanza[];
  /** Everything the MAC covers: header through the last stanza. */
  macInput: Bytes;
  mac: Bytes;
  signerSpki: Bytes;
  /** Everything the signature covers (before the label): header through signer key. */
  signedBytes: Bytes;
  signature: Bytes;
}

/**
 * Splits manifest bytes into fields. Throws MalformedError when they do not
 * parse, UnsupportedVersionError for an unknown version.
 */
export function parseManifest(manifest: Uint8Array): ParsedManifest {
  const r = new ByteReader(manifest);
  const { header, bytes: headerBytes } = readHeader(r);
  const sealedMetadata = r.lp16().slice();
  if (sealedMetadata.length < 12 + 16) throw new MalformedError('The sealed metadata is too short.');
  const count = r.u16();
  if (count < 1 || count > MAX_STANZAS) throw new MalformedError('A manifest has 1 to 64 envelopes.');
  const stanzas: Stanza[] = [];
  for (let i = 0; i < count; i++) stanzas.push({ typeId: r.u8(), body: r.lp16().slice() });
  if (stanzas.filter((s) => s.typeId === STANZA_PASSPHRASE).length > 1) {
    throw new MalformedError('A manifest has at most one passphrase envelope.');
  }
  const macStart = r.offset;
  const mac = r.take(MAC_LENGTH).slice();
  const signerSpki = r.lp16().slice();
  const signatureStart = r.offset;
  const signature = r.take(SIGNATURE_LENGTH).slice();
  r.end();
  const all = toBytes(manifest);
  return {
    header,
    headerBytes,
    sealedMetadata,
    stanzas,
    macInput: all.slice(0, macStart),
    mac,
    signerSpki,
    signedBytes: all.slice(0, signatureStart),
    signature,
  };
}

/**
 * Returns the file key from the first stanza an identity opens, trying each
 * identity in the given order on every stanza in manifest order (identities
 * outer). A thrown error is remembered and reported only if nothing opens
 * (FORMAT.md §7.4); see openManifest for the errors.
 */
async function unwrapFileKey(stanzas: Stanza[], identities: Identity[], context: Bytes): Promise<Uint8Array> {
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

/**
 * Authenticates and opens a manifest for the file `opts.fileId`, in this
 * order: parse, signature (any edit → TamperedError), file id (a manifest
 * moved to another file → TamperedError), envelopes, key commitment MAC,
 * metadata. Returns the metadata, the content key for createOpenStream /
 * decryptSegment, the segment size and the signer's key and fingerprint.
 * Throws MalformedError, UnsupportedVersionError, TamperedError (also for a
 * signer key that is not a 91-byte uncompressed P-256 SPKI),
 * WrongKeyError (no identity opens an envelope), WrongPassphraseError,
 * KdfParamsTooHighError; RangeError when `opts.fileId` is not 32 lowercase
 * hex characters.
 */
export async function openManifest(
  manifest: Uint8Array,
  identities: Identity[],
  opts: { fileId: string },
): Promise<{
  metadata: FileMetadata;
  contentKey: CryptoKey;
  segmentSize: number;
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
  const headerFileId = m.headerBytes.subarray(9, 25);
  if (!headerFileId.every((b, i) => b === expectedFileId[i])) {
    throw new TamperedError('This manifest belongs to a different file.');
  }

  const { salt } = m.header;
  const fileKey = await unwrapFileKey(m.stanzas, identities, m.headerBytes);
  const macKey = await importHmacKey(await deriveSubkeyBytes(fileKey, salt, LABEL_HEADER_MAC, m.headerBytes));
  // Key commitment: an envelope that yields any other key fails here.
  if (!(await crypto.subtle.verify('HMAC', macKey, m.mac, m.macInput))) throw new TamperedError();

  const metaKey = await importAesGcmKey(await deriveSubkeyBytes(fileKey, salt, LABEL_METADATA, m.headerBytes));
  let plainMeta: Uint8Array;
  try {
    plainMeta = new Uint8Array(
      await crypto.subtle.decrypt(
        { name: 'AES-GCM', iv: m.sealedMetadata.slice(0, 12), additionalData: m.headerBytes },
        metaKey,
        m.sealedMetadata.slice(12),
      ),
    );
  } catch {
    throw new TamperedError();
  }
  const metadata = decodeMetadata(plainMeta);
  const contentKey = await importAesGcmKey(await deriveSubkeyBytes(fileKey, salt, LABEL_CONTENT, m.headerBytes));
  return {
    metadata,
    contentKey,
    segmentSize: m.header.segmentSize,
    signer: { publicKey, fingerprint: await signingKeyFingerprint(publicKey) },
  };
}
