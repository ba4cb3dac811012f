/**
 * The drive-key vectors (docs/FORMAT.md §7.5, §10.5; `driveKey` in
 * src/crypto/vectors/v2.json), called by generate.ts. Deterministic parts
 * are cross-checked with node:crypto; randomised RSA ciphertexts and
 * signatures are kept from the previous file while they still verify, so a
 * re-run changes nothing.
 */
import { createCipheriv, createHash, hkdfSync, privateDecrypt, constants, createPrivateKey } from 'node:crypto';
import { ByteWriter, concatBytes, fromHex, toBytes, toHex, type Bytes } from '../../src/crypto/bytes.ts';
import {
  DRIVE_KEY_COPY_MAGIC,
  LABEL_DRIVE_KEY_COPY,
  LABEL_DRIVE_KEY_WRAP,
  importDriveKey,
  sealDriveKeyStanza,
} from '../../src/crypto/drive-key.ts';
import { encodeHeader, labelled, type Header } from '../../src/crypto/format.ts';
import { assembleDraft, finishManifest, parseManifest } from '../../src/crypto/manifest.ts';
import type { FileMetadata } from '../../src/crypto/metadata.ts';
import type { Stanza } from '../../src/crypto/recipients.ts';

/** What generate.ts hands over. */
export interface DriveKeyContext {
  previousAt: (path: (string | number)[]) => unknown;
  stableSigned: (path: (string | number)[], fresh: Uint8Array, randomTail?: number) => Uint8Array;
  fixed: (length: number, seed: number) => Bytes;
  assertEqual: (a: Uint8Array, b: Uint8Array, what: string) => void;
  fileKey: Uint8Array;
  header: Header;
  headerBytes: Uint8Array;
  rsa: CryptoKeyPair;
  ecdsa: CryptoKeyPair;
  ecdsa2: CryptoKeyPair;
  rsa4096: { privateKeyPkcs8: string; publicKeySpki: string };
  /** The main manifest (its RSA envelope is reused: same file key and header). */
  manifest: Uint8Array;
  manifestPayloadDigest: Uint8Array;
  metadataValue: FileMetadata;
  metadataNonce: Uint8Array;
}

type IdentityRef = { kind: 'driveKey'; secret: string } | { kind: 'rsa'; key: 'keys.rsa' };

const ECDSA_SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;

export async function buildDriveKeyVectors(c: DriveKeyContext): Promise<Record<string, unknown>> {
  const secret = c.fixed(32, 0x70);
  const otherSecret = c.fixed(32, 0x71);
  const driveKey = await importDriveKey(secret);
  const nonce = c.fixed(12, 0x90);
  const stanza = await sealDriveKeyStanza(driveKey, nonce, c.fileKey, c.headerBytes);

  // Cross-check §7.5 with node:crypto.
  const envelopeKey = new Uint8Array(hkdfSync('sha256', secret, c.header.salt, Buffer.concat([Buffer.from('sealdrop/v2/drive-key\0'), c.headerBytes]), 32));
  {
    const g = createCipheriv('aes-256-gcm', envelopeKey, nonce);
    g.setAAD(Buffer.concat([Buffer.from('sealdrop/v2/drive-key\0'), c.headerBytes]));
    c.assertEqual(Buffer.concat([nonce, g.update(c.fileKey), g.final(), g.getAuthTag()]), stanza.body, 'drive-key envelope');
  }

  const rsaStanza = parseManifest(c.manifest).stanzas.find((s) => s.typeId === 1);
  if (rsaStanza === undefined) throw new Error('the main manifest has no RSA envelope');
  const rsaRef: IdentityRef = { kind: 'rsa', key: 'keys.rsa' };
  const driveRef: IdentityRef = { kind: 'driveKey', secret: toHex(secret) };
  const otherRef: IdentityRef = { kind: 'driveKey', secret: toHex(otherSecret) };

  /** A manifest of keySchedule's file with these envelopes, validly MAC'd and signed by keys.ecdsa. */
  async function manifestWith(path: (string | number)[], stanzas: Stanza[], header: Header = c.header): Promise<string> {
    const draft = await assembleDraft({ header, fileKey: c.fileKey, metadata: c.metadataValue, metadataNonce: c.metadataNonce, stanzas });
    const fresh = await finishManifest(draft, { payloadDigest: c.manifestPayloadDigest, signer: c.ecdsa });
    return toHex(c.stableSigned(path, fresh));
  }

  const manifests = [
    {
      description: 'envelopes [drive key, RSA keys.rsa] (what the app writes for its owner): each identity list opens it',
      fileId: c.header.fileId,
      bytes: await manifestWith(['driveKey', 'manifests', 0, 'bytes'], [stanza, rsaStanza]),
      opens: [{ identities: [driveRef] }, { identities: [rsaRef] }, { identities: [driveRef, rsaRef] }, { identities: [otherRef, rsaRef] }],
    },
    {
      description: 'envelopes [drive key with a 59-byte body, RSA keys.rsa]: [drive key, RSA] opens it (§7.4 step 2 discards the malformed envelope)',
      fileId: c.header.fileId,
      bytes: await manifestWith(['driveKey', 'manifests', 1, 'bytes'], [{ typeId: 4, body: stanza.body.slice(0, 59) }, rsaStanza]),
      opens: [{ identities: [driveRef, rsaRef] }, { identities: [rsaRef] }],
    },
    {
      description: 'envelopes [RSA keys.rsa] only (a file sealed before the drive key): [drive key, RSA] opens it through RSA',
      fileId: c.header.fileId,
      bytes: await manifestWith(['driveKey', 'manifests', 2, 'bytes'], [rsaStanza]),
      opens: [{ identities: [driveRef, rsaRef] }],
    },
  ];

  const otherHeader: Header = { ...c.header, salt: c.fixed(32, 0x81) };
  const movedStanza = await sealDriveKeyStanza(driveKey, nonce, c.fileKey, encodeHeader(otherHeader));
  const wrongFileKey = await sealDriveKeyStanza(driveKey, nonce, c.fixed(32, 0x55), c.headerBytes);
  const manifestNegatives = [
    {
      name: 'drive-manifest-other-drive-key',
      rule: 'envelopes [drive key]; opened with another drive key: its tag fails, "not mine" (§7.5), nothing else opens → wrong key (§7.4 step 4)',
      envelopes: [stanza],
      identities: [otherRef],
      error: 'WrongKeyError',
    },
    {
      name: 'drive-manifest-envelope-59-bytes',
      rule: 'envelopes [drive key cut to 59 bytes]; opened with the drive key: a body that is not 60 bytes is "mine but broken" → malformed (§7.5)',
      envelopes: [{ typeId: 4, body: stanza.body.slice(0, 59) }],
      identities: [driveRef],
      error: 'MalformedError',
    },
    {
      name: 'drive-manifest-envelope-61-bytes',
      rule: 'envelopes [drive key with one byte appended]; opened with the drive key → malformed (§7.5)',
      envelopes: [{ typeId: 4, body: concatBytes(stanza.body, Uint8Array.of(0)) }],
      identities: [driveRef],
      error: 'MalformedError',
    },
    {
      name: 'drive-manifest-envelope-moved-from-another-file',
      rule: 'envelopes [drive key sealed for the same fileId with another salt]; opened with the drive key: the per-file key and the AAD differ, the tag fails, "not mine" → wrong key (§7.5)',
      envelopes: [movedStanza],
      identities: [driveRef],
      error: 'WrongKeyError',
    },
    {
      name: 'drive-manifest-key-commitment-no-fall-through',
      rule: 'envelopes [drive key wrapping another 32-byte key, RSA keys.rsa (genuine)]; opened with [drive key, RSA]: the drive key opens first, the MAC fails → tampered, and the RSA envelope MUST NOT be tried (§7.4 step 5)',
      envelopes: [wrongFileKey, rsaStanza],
      identities: [driveRef, rsaRef],
      error: 'TamperedError',
    },
  ];
  const negative: Record<string, unknown>[] = [];
  for (const [i, n] of manifestNegatives.entries()) {
    negative.push({
      name: n.name,
      rule: n.rule,
      input: 'manifest',
      fileId: c.header.fileId,
      identities: n.identities,
      bytes: await manifestWith(['driveKey', 'negative', i, 'bytes'], n.envelopes),
      error: n.error,
    });
  }

  // --- the copy (§10.5) -----------------------------------------------------
  const rsaSpki = new Uint8Array(await crypto.subtle.exportKey('spki', c.rsa.publicKey));
  const rsaPkcs8 = new Uint8Array(await crypto.subtle.exportKey('pkcs8', c.rsa.privateKey));
  const rsa4096Public = await crypto.subtle.importKey('spki', fromHex(c.rsa4096.publicKeySpki), { name: 'RSA-OAEP', hash: 'SHA-256' }, true, ['encrypt']);
  const wrapLabel = labelled(LABEL_DRIVE_KEY_WRAP);
  const decryptWith = (pkcs8: Uint8Array, body: Uint8Array, label: Uint8Array): Buffer | null => {
    try {
      return privateDecrypt(
        { key: createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' }), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', oaepLabel: Buffer.from(label) },
        body,
      );
    } catch {
      return null;
    }
  };
  /** An RSA-OAEP ciphertext of `message` under `label`, kept from the previous file while it still decrypts to it. */
  async function stableWrap(path: (string | number)[], publicKey: CryptoKey, pkcs8: Uint8Array, message: Uint8Array, label: Uint8Array): Promise<Bytes> {
    const old = c.previousAt(path);
    if (typeof old === 'string' && /^([0-9a-f]{2})+$/.test(old)) {
      const copy = fromHex(old);
      const body = copy.subarray(39, copy.length - 64);
      const opened = decryptWith(pkcs8, body, label);
      if (opened !== null && toHex(opened) === toHex(message)) return toBytes(body).slice();
    }
    return new Uint8Array(await crypto.subtle.encrypt({ name: 'RSA-OAEP', label: toBytes(label) }, publicKey, toBytes(message)));
  }
  const sha256 = (b: Uint8Array): Bytes => new Uint8Array(createHash('sha256').update(b).digest());
  async function copyOf(path: (string | number)[], parts: { recipient: Uint8Array; wrapped: Uint8Array; signer: CryptoKey; version?: number }): Promise<string> {
    const body = new ByteWriter().raw(DRIVE_KEY_COPY_MAGIC).u8(parts.version ?? 2).raw(parts.recipient).lp16(parts.wrapped).bytes();
    const signature = new Uint8Array(await crypto.subtle.sign(ECDSA_SIGN, parts.signer, labelled(LABEL_DRIVE_KEY_COPY, body)));
    return toHex(c.stableSigned(path, concatBytes(body, signature)));
  }

  const wrapped = await stableWrap(['driveKey', 'copy', 'bytes'], c.rsa.publicKey, rsaPkcs8, secret, wrapLabel);
  const copy = await copyOf(['driveKey', 'copy', 'bytes'], { recipient: sha256(rsaSpki), wrapped, signer: c.ecdsa.privateKey });
  const copyBytes = fromHex(copy);
  const flip = (hex: string, at: number): string => {
    const b = fromHex(hex);
    const i = at < 0 ? b.length + at : at;
    b[i] = (b[i] ?? 0) ^ 1;
    return toHex(b);
  };
  const copyNegatives: { name: string; rule: string; bytes: string; error: string }[] = [
    {
      name: 'drive-copy-signed-by-another-key',
      rule: 'the copy of driveKey.secret for keys.rsa, signed by keys.ecdsa2 (what a server that substitutes a drive key it knows can make): the signature does not verify under the reader’s own signing key keys.ecdsa → tampered (§10.5)',
      bytes: await copyOf(['driveKey', 'negative', manifestNegatives.length, 'bytes'], { recipient: sha256(rsaSpki), wrapped, signer: c.ecdsa2.privateKey }),
      error: 'TamperedError',
    },
    { name: 'drive-copy-flipped-signature', rule: 'driveKey.copy with the last byte flipped → tampered (§10.5)', bytes: flip(copy, -1), error: 'TamperedError' },
    { name: 'drive-copy-flipped-wrapped-byte', rule: 'driveKey.copy with byte 100 (inside the wrapped key) flipped: the signature covers it → tampered, before any RSA (§10.5)', bytes: flip(copy, 100), error: 'TamperedError' },
    { name: 'drive-copy-version-1', rule: 'driveKey.copy with version byte 1 → unsupported version (§1 order)', bytes: toHex(copyBytes.map((b, i) => (i === 4 ? 1 : b))), error: 'UnsupportedVersionError' },
    { name: 'drive-copy-version-3-bare', rule: '"SDDK" 03 and nothing else → unsupported version, whatever follows (§1)', bytes: toHex(concatBytes(DRIVE_KEY_COPY_MAGIC, Uint8Array.of(3))), error: 'UnsupportedVersionError' },
    { name: 'drive-copy-wrong-magic', rule: '"SDDX" instead of "SDDK" → malformed (§1)', bytes: flip(copy, 3), error: 'MalformedError' },
    { name: 'drive-copy-one-byte-short', rule: 'driveKey.copy without its last byte → malformed (§10.5 parse)', bytes: copy.slice(0, -2), error: 'MalformedError' },
    { name: 'drive-copy-appended-byte', rule: 'driveKey.copy with one 00 byte appended → malformed (§10.5 parse)', bytes: `${copy}00`, error: 'MalformedError' },
    {
      name: 'drive-copy-wrapped-383-bytes',
      rule: 'a copy whose wrapped field is 383 bytes, validly signed by keys.ecdsa → malformed while parsing (384 ≤ n ≤ 512, §10.5)',
      bytes: await copyOf(['driveKey', 'negative', manifestNegatives.length + 8, 'bytes'], { recipient: sha256(rsaSpki), wrapped: c.fixed(383, 0x11), signer: c.ecdsa.privateKey }),
      error: 'MalformedError',
    },
    {
      name: 'drive-copy-wrapped-to-another-key',
      rule: 'driveKey.secret wrapped to rsa4096, recipient = SHA-256 of rsa4096’s SPKI, validly signed by keys.ecdsa; opened with keys.rsa → wrong key (§10.5)',
      bytes: await copyOf(['driveKey', 'negative', manifestNegatives.length + 9, 'bytes'], {
        recipient: sha256(fromHex(c.rsa4096.publicKeySpki)),
        wrapped: await stableWrap(['driveKey', 'negative', manifestNegatives.length + 9, 'bytes'], rsa4096Public, fromHex(c.rsa4096.privateKeyPkcs8), secret, wrapLabel),
        signer: c.ecdsa.privateKey,
      }),
      error: 'WrongKeyError',
    },
    {
      name: 'drive-copy-holds-31-bytes',
      rule: 'a copy for keys.rsa whose RSA-OAEP message is 31 bytes, validly signed → malformed (§10.5: exactly 32)',
      bytes: await copyOf(['driveKey', 'negative', manifestNegatives.length + 10, 'bytes'], {
        recipient: sha256(rsaSpki),
        wrapped: await stableWrap(['driveKey', 'negative', manifestNegatives.length + 10, 'bytes'], c.rsa.publicKey, rsaPkcs8, secret.slice(0, 31), wrapLabel),
        signer: c.ecdsa.privateKey,
      }),
      error: 'MalformedError',
    },
    {
      name: 'drive-copy-file-envelope-label',
      rule: 'a copy for keys.rsa wrapped with the OAEP label of file envelopes (labelled("sealdrop/v2/rsa-oaep", keySchedule.header)) instead of drive-key-wrap, validly signed: RSA-OAEP fails → malformed (§10.5)',
      bytes: await copyOf(['driveKey', 'negative', manifestNegatives.length + 11, 'bytes'], {
        recipient: sha256(rsaSpki),
        wrapped: await stableWrap(['driveKey', 'negative', manifestNegatives.length + 11, 'bytes'], c.rsa.publicKey, rsaPkcs8, secret, labelled('sealdrop/v2/rsa-oaep', c.headerBytes)),
        signer: c.ecdsa.privateKey,
      }),
      error: 'MalformedError',
    },
  ];
  for (const n of copyNegatives) negative.push({ name: n.name, rule: n.rule, input: 'driveKeyCopy', bytes: n.bytes, error: n.error });
  // The copy's deterministic part (§10.5): magic, version, recipient.
  c.assertEqual(copyBytes.subarray(0, 37), concatBytes(DRIVE_KEY_COPY_MAGIC, Uint8Array.of(2), sha256(rsaSpki)), 'drive-key copy prefix');

  return {
    driveKey: {
      note: 'FORMAT.md §7.5 and §10.5. secret is the drive key; envelope: keySchedule.fileKey under keySchedule.header with nonce; copy: secret wrapped to keys.rsa, signed by keys.ecdsa (the wrapped key and the signature are randomised); a driveKeyCopy case is opened with keys.rsa and keys.ecdsa (the reader’s own keys)',
      secret: toHex(secret),
      envelopeKey: toHex(envelopeKey),
      nonce: toHex(nonce),
      body: toHex(stanza.body),
      copy: { bytes: copy },
      manifests,
      negative,
    },
  };
}
