/**
 * Vectors of the link secret with passphrase (typeId 5, docs/FORMAT.md §7.6),
 * written under `linkPassphrase` in v2.json. Cross-checked here against
 * node:crypto (HKDF, scrypt, AES-GCM). Called by generate.ts.
 */
import { createCipheriv, hkdfSync, scryptSync } from 'node:crypto';
import { toHex, type Bytes } from '../../src/crypto/bytes.ts';
import { encodeHeader, labelled, type Header } from '../../src/crypto/format.ts';
import { deriveKdfBytes, type KdfBlock } from '../../src/crypto/kdf.ts';
import {
  LABEL_LINK_PASSPHRASE,
  LABEL_LINK_PASSPHRASE_CHECK,
  linkCheck,
  linkPassphraseWrapKey,
  sealLinkPassphraseStanza,
} from '../../src/crypto/link-passphrase.ts';
import { assembleDraft, finishManifest } from '../../src/crypto/manifest.ts';
import type { FileMetadata } from '../../src/crypto/metadata.ts';
import type { Stanza } from '../../src/crypto/recipients.ts';

export interface LinkShareInputs {
  fixed: (length: number, seed: number) => Bytes;
  stableSigned: (path: (string | number)[], fresh: Uint8Array, randomTail?: number) => Uint8Array;
  fileKey: Bytes;
  header: Header;
  metadataValue: FileMetadata;
  payloadDigest: Uint8Array;
  ecdsa: CryptoKeyPair;
}

function same(name: string, a: Uint8Array, b: Uint8Array): void {
  if (toHex(a) !== toHex(b)) throw new Error(`cross-check failed: ${name}`);
}

/** Returns the `linkPassphrase` section of v2.json. */
export async function buildLinkShareVectors(c: LinkShareInputs) {
  const { fixed, fileKey } = c;
  const headerBytes = encodeHeader(c.header);
  const secret = fixed(32, 0x50);
  const passphrase = 'link passphrase, ünïcode';
  const block: KdfBlock = { params: { kdf: 'scrypt', logN: 10, r: 8, p: 1 }, salt: fixed(32, 0xd0) };
  const nonce = fixed(12, 0xe0);

  const kdfOutput = await deriveKdfBytes(passphrase, block);
  same('scrypt', kdfOutput, scryptSync(Buffer.from(passphrase.normalize('NFC'), 'utf8'), block.salt, 32, { N: 1024, r: 8, p: 1 }));
  const wrapKey = await linkPassphraseWrapKey(secret, kdfOutput);
  same('wrap key', wrapKey, new Uint8Array(hkdfSync('sha256', Buffer.concat([secret, kdfOutput]), Buffer.alloc(32), labelled(LABEL_LINK_PASSPHRASE), 32)));
  const check = await linkCheck(secret, headerBytes);
  same('check', check, new Uint8Array(hkdfSync('sha256', secret, Buffer.alloc(32), labelled(LABEL_LINK_PASSPHRASE_CHECK, headerBytes), 16)));
  const stanza = await sealLinkPassphraseStanza(secret, passphrase, block, nonce, fileKey, headerBytes);
  const cipher = createCipheriv('aes-256-gcm', wrapKey, nonce);
  cipher.setAAD(labelled(LABEL_LINK_PASSPHRASE, headerBytes));
  const kdfBlockBytes = Buffer.concat([Buffer.from([1]), block.salt, Buffer.from([10, 8, 1])]);
  same('body', stanza.body, Buffer.concat([check, kdfBlockBytes, nonce, cipher.update(fileKey), cipher.final(), cipher.getAuthTag()]));

  const build = async (path: (string | number)[], stanzas: Stanza[]): Promise<Uint8Array> => {
    const draft = await assembleDraft({ header: c.header, fileKey, metadata: c.metadataValue, metadataNonce: fixed(12, 0xa0), stanzas });
    return c.stableSigned(path, await finishManifest(draft, { payloadDigest: c.payloadDigest, signer: c.ecdsa }));
  };
  const manifest = await build(['linkPassphrase', 'manifest', 'bytes'], [stanza]);
  const truncated = await build(['linkPassphrase', 'negative', 2, 'bytes'], [{ typeId: 5, body: stanza.body.slice(0, -1) }]);
  const id = (s: Uint8Array, p: string) => ({ kind: 'link-passphrase', secret: toHex(s), passphrase: p });
  const neg = (name: string, rule: string, bytes: Uint8Array, identities: object[], error: string) => ({
    name,
    input: 'manifest',
    rule,
    fileId: c.header.fileId,
    identities,
    bytes: toHex(bytes),
    error,
  });

  return {
    note: 'FORMAT.md §7.6, for keySchedule.fileKey and keySchedule.header. manifest: keySchedule header, signer keys.ecdsa, payloadDigest of payloads[1], metadata as manifest.bytes, one typeId-5 envelope (body); the last 64 bytes are randomised. It opens with {secret, passphrase} to metadata.value.',
    secret: toHex(secret),
    passphrase,
    salt: toHex(block.salt),
    logN: 10,
    r: 8,
    p: 1,
    kdfOutput: toHex(kdfOutput),
    wrapKey: toHex(wrapKey),
    check: toHex(check),
    nonce: toHex(nonce),
    body: toHex(stanza.body),
    manifest: { bytes: toHex(manifest) },
    negative: [
      neg('link-passphrase-wrong-passphrase', 'linkPassphrase.manifest with the right secret and another passphrase: the check matches, AES-GCM fails → wrong passphrase', manifest, [id(secret, 'not the passphrase')], 'WrongPassphraseError'),
      neg('link-passphrase-wrong-secret', 'linkPassphrase.manifest with another secret and the right passphrase: the check differs → not mine (null) → no identity opens it', manifest, [id(fixed(32, 0x99), passphrase)], 'WrongKeyError'),
      neg('link-passphrase-body-truncated', 'the typeId-5 body one byte short (111 bytes), MAC and signature valid over it → malformed', truncated, [id(secret, passphrase)], 'MalformedError'),
      neg('link-passphrase-secret-alone', 'linkPassphrase.manifest with the plain link identity of the same secret: typeId 3 identities skip typeId 5 → wrong key', manifest, [{ kind: 'link', secret: toHex(secret) }], 'WrongKeyError'),
      neg('link-passphrase-empty-passphrase', 'linkPassphrase.manifest with the right secret and an empty passphrase → wrong passphrase, without running the KDF', manifest, [id(secret, '')], 'WrongPassphraseError'),
    ],
  };
}
