/**
 * A file of the owner after a key rotation (docs/FORMAT.md §10.6): the same
 * header, payload digest, sealed metadata and the other people's envelopes
 * (links, shares), but the owner's own envelopes (the old drive-key one and
 * the RSA-OAEP one the old key opens) replaced by envelopes for the new
 * keys, the signer field set to the NEW signing key, a fresh MAC under the
 * file's own header-MAC key and a fresh signature. The payload is never
 * touched: the payload digest is copied.
 *
 * Unlike a re-envelope (§9.4), the signer changes: the old signing key is
 * retired, and a reader who trusts the owner follows the change through the
 * rotation statement (§10.4), which the old key signed.
 */
import { type Bytes } from './bytes.ts';
import { TamperedError } from './errors.ts';
import { fileIdBytes } from './format.ts';
import { parseManifest, subkeys, unwrapFileKey, type ManifestSigner } from './manifest.ts';
import { STANZA_DRIVE_KEY, driveKeyIdentity } from './drive-key.ts';
import { checkSignedFor, resignManifest } from './re-envelope.ts';
import { rsaIdentity, type Recipient, type Stanza } from './recipients.ts';

/** The owner's keys before the rotation: what opens the file now and says which envelopes are the owner's. */
export interface FormerOwnerKeys {
  /** The old RSA-OAEP private key. */
  decrypt: CryptoKey;
  /** The old ECDSA public key (the manifest must be signed by it). */
  verify: CryptoKey;
  /** The old drive key, when the device had one. */
  driveKey?: CryptoKey | null | undefined;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * Returns the manifest re-sealed for the new keys (see the module comment),
 * or null when it is already signed by `opts.signer` and holds no envelope
 * of the former owner keys (rotated before: a resumed rotation skips it; an
 * upload sealed for the former keys but finished with the new signer is
 * re-sealed). Opens the manifest first like openManifest
 * (signature, file id, an envelope of the former keys, MAC), so it throws
 * MalformedError / UnsupportedVersionError / TamperedError / WrongKeyError.
 * Throws RangeError when the manifest is signed by a key that is neither
 * the former nor the new one (not the owner's file), when `fileId` is not
 * canonical, or when the result would have more than 64 envelopes.
 */
export async function rotateManifest(
  manifest: Uint8Array,
  opts: { fileId: string; former: FormerOwnerKeys; signer: ManifestSigner; add: Recipient[] },
): Promise<Bytes | null> {
  const expected = fileIdBytes(opts.fileId);
  const m = parseManifest(manifest);
  const newSpki = new Uint8Array(await crypto.subtle.exportKey('spki', opts.signer.publicKey));
  const oldSpki = new Uint8Array(await crypto.subtle.exportKey('spki', opts.former.verify));
  const rsa = rsaIdentity(opts.former.decrypt);
  const formerDrive = opts.former.driveKey == null ? null : driveKeyIdentity(opts.former.driveKey);
  const isFormerOwners = async (s: Stanza): Promise<boolean> => {
    const opened = await (s.typeId === STANZA_DRIVE_KEY ? formerDrive?.unwrap(s, m.headerBytes) : rsa.unwrap(s, m.headerBytes))?.catch(() => null);
    opened?.fill(0);
    return opened !== null && opened !== undefined;
  };
  if (sameBytes(m.signerSpki, newSpki)) {
    // Rotated before (a resumed rotation), unless an upload sealed for the former keys was finished with the new signer.
    let former = false;
    for (const s of m.stanzas) if (await isFormerOwners(s)) former = true;
    if (!former) return null;
  } else if (!sameBytes(m.signerSpki, oldSpki)) {
    throw new RangeError('This file was not sealed with your former key.');
  }
  await checkSignedFor(m, expected);

  const identities = formerDrive === null ? [rsa] : [formerDrive, rsa];
  const fileKey = await unwrapFileKey(m.stanzas, identities, m.headerBytes);
  try {
    const keys = await subkeys(fileKey, m.headerBytes);
    if (!(await crypto.subtle.verify('HMAC', keys.mac, m.mac, m.macInput))) throw new TamperedError();
    const kept: Stanza[] = [];
    // A writer puts one drive-key envelope in a file, the owner's: the new one replaces whatever is there.
    for (const s of m.stanzas) if (s.typeId !== STANZA_DRIVE_KEY && !(await isFormerOwners(s))) kept.push(s);
    const added = await Promise.all(opts.add.map((r) => r.wrap(fileKey, m.headerBytes)));
    // The signer field becomes the new key's (§10.6), checked with the new public key.
    return await resignManifest(m, { signerSpki: newSpki, stanzas: [...added, ...kept], macKey: keys.mac, signer: opts.signer, verifyKey: opts.signer.publicKey });
  } finally {
    fileKey.fill(0);
  }
}
