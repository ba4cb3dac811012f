/**
 * Re-enveloping a finished manifest (docs/FORMAT.md §9.4): the owner, who can
 * open the file and holds the signing key that sealed it, adds or removes
 * envelopes and re-signs. Header, signer, payload digest and sealed metadata
 * are copied unchanged; the MAC (under the file's own header-MAC key) and the
 * signature are computed afresh over the new envelope list. This is how a
 * link share is created and how it is taken out of the manifest again.
 */
import { type Bytes } from './bytes.ts';
import { TamperedError } from './errors.ts';
import { importVerifyKey } from './fingerprint.ts';
import { fileIdBytes, labelled } from './format.ts';
import {
  LABEL_MANIFEST_SIGNATURE,
  MAX_STANZAS,
  parseManifest,
  subkeys,
  unwrapFileKey,
  writeSignedManifest,
  type ManifestSigner,
  type ParsedManifest,
} from './manifest.ts';
import { STANZA_PASSPHRASE, type Identity, type Recipient, type Stanza } from './recipients.ts';

const ECDSA_SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;

/** What to change: envelopes to add (wrapped for these recipients) and a filter saying which existing envelopes to drop. */
export interface EnvelopeChange {
  add?: Recipient[];
  /** Returns true for an existing envelope that must go. */
  remove?: (stanza: Stanza, index: number) => boolean;
}

/**
 * Returns the manifest with `change` applied and re-signed by `signer`, plus
 * the envelopes added (so the caller can recognise them later, e.g. to
 * remove a link's envelope by its body). Opens the manifest first exactly as
 * openManifest does (signature, file id, an envelope via `identities`, MAC),
 * so it throws the same MalformedError / UnsupportedVersionError /
 * TamperedError / WrongKeyError / WrongPassphraseError. Throws RangeError
 * when `signer` is not the key that signed the manifest (re-signing by
 * anyone else would change who sealed the file), when `fileId` is not
 * canonical, or when the result would have no envelope, more than 64, or two
 * passphrase envelopes.
 */
export async function reEnvelope(
  manifest: Uint8Array,
  identities: Identity[],
  opts: { fileId: string; signer: ManifestSigner; change: EnvelopeChange },
): Promise<{ manifest: Bytes; added: Stanza[] }> {
  const expected = fileIdBytes(opts.fileId);
  const m = parseManifest(manifest);
  const signerKey = await checkSignedFor(m, expected);
  const spki = new Uint8Array(await crypto.subtle.exportKey('spki', opts.signer.publicKey));
  if (spki.length !== m.signerSpki.length || !spki.every((b, i) => b === m.signerSpki[i])) {
    throw new RangeError('Only the key that sealed this file can change who may open it.');
  }

  const fileKey = await unwrapFileKey(m.stanzas, identities, m.headerBytes);
  try {
    const keys = await subkeys(fileKey, m.headerBytes);
    if (!(await crypto.subtle.verify('HMAC', keys.mac, m.mac, m.macInput))) throw new TamperedError();
    const added = await Promise.all((opts.change.add ?? []).map((r) => r.wrap(fileKey, m.headerBytes)));
    const remove = opts.change.remove ?? (() => false);
    const stanzas = [...m.stanzas.filter((s, i) => !remove(s, i)), ...added];
    if (stanzas.filter((s) => s.typeId === STANZA_PASSPHRASE).length > 1) throw new RangeError('A file can have at most one passphrase.');
    const written = await resignManifest(m, { signerSpki: m.signerSpki, stanzas, macKey: keys.mac, signer: opts.signer, verifyKey: signerKey });
    return { manifest: written, added };
  } finally {
    fileKey.fill(0);
  }
}

/**
 * The first checks of opening a finished manifest (FORMAT.md §9.1): its
 * signature under the signer field's key, then its file id against
 * `expected` (canonical fileId bytes). Returns the signer's verify key.
 * Throws TamperedError.
 */
export async function checkSignedFor(m: ParsedManifest, expected: Uint8Array): Promise<CryptoKey> {
  let signerKey: CryptoKey;
  try {
    signerKey = await importVerifyKey(m.signerSpki);
  } catch {
    throw new TamperedError();
  }
  if (!(await crypto.subtle.verify(ECDSA_SIGN, signerKey, m.signature, labelled(LABEL_MANIFEST_SIGNATURE, m.signedBytes)))) {
    throw new TamperedError();
  }
  if (!m.headerBytes.subarray(9, 25).every((b, i) => b === expected[i])) throw new TamperedError('This manifest belongs to a different file.');
  return signerKey;
}

/**
 * Writes a manifest again (§9.4, §10.6): `m`'s header, payload digest and
 * sealed metadata, byte for byte, with `signerSpki` and `stanzas`, a fresh
 * MAC under the file's header-MAC key and a fresh signature by `signer`,
 * checked with `verifyKey` before it is returned. Throws RangeError for no
 * envelope or more than 64, or a signing pair that does not match.
 */
export async function resignManifest(
  m: ParsedManifest,
  opts: { signerSpki: Uint8Array; stanzas: Stanza[]; macKey: CryptoKey; signer: ManifestSigner; verifyKey: CryptoKey },
): Promise<Bytes> {
  if (opts.stanzas.length < 1 || opts.stanzas.length > MAX_STANZAS) throw new RangeError('A file needs 1 to 64 envelopes.');
  return writeSignedManifest(
    { headerBytes: m.headerBytes, signerSpki: opts.signerSpki, payloadDigest: m.payloadDigest, sealedMetadata: m.sealedMetadata, stanzas: opts.stanzas },
    { macKey: opts.macKey, signer: opts.signer, verifyKey: opts.verifyKey },
  );
}
