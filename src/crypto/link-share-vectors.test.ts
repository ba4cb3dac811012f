/**
 * Known answers of the link secret with passphrase (typeId 5, FORMAT.md §7.6)
 * from v2.json's `linkPassphrase` section, in Node and in Chromium.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import rawVectors from './vectors/v2.json';
import { fromHex, toHex } from './bytes.ts';
import { SealdropCryptoError } from './errors.ts';
import { deriveKdfBytes } from './kdf.ts';
import { linkCheck, linkPassphraseIdentity, linkPassphraseWrapKey, sealLinkPassphraseStanza } from './link-passphrase.ts';
import { openManifest } from './manifest.ts';
import { linkSecretIdentity, type Identity } from './recipients.ts';

const hex = z.string().regex(/^([0-9a-f]{2})*$/);
const identity = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('link'), secret: hex }),
  z.object({ kind: z.literal('link-passphrase'), secret: hex, passphrase: z.string() }),
]);
const schema = z.object({
  keySchedule: z.object({ fileKey: hex, header: hex, fileId: z.string() }),
  metadata: z.object({ value: z.object({ name: z.string() }) }),
  payloads: z.array(z.object({ payloadDigest: hex })),
  linkPassphrase: z.object({
    secret: hex,
    passphrase: z.string(),
    salt: hex,
    logN: z.number(),
    r: z.number(),
    p: z.number(),
    kdfOutput: hex,
    wrapKey: hex,
    check: hex,
    nonce: hex,
    body: hex,
    manifest: z.object({ bytes: hex }),
    negative: z.array(
      z.object({ name: z.string(), input: z.literal('manifest'), fileId: z.string(), identities: z.array(identity), bytes: hex, error: z.string() }),
    ),
  }),
});
const v = schema.parse(rawVectors);
const L = v.linkPassphrase;
const header = fromHex(v.keySchedule.header);
const block = { params: { kdf: 'scrypt' as const, logN: L.logN, r: L.r, p: L.p }, salt: fromHex(L.salt) };

function identityOf(ref: z.infer<typeof identity>): Identity {
  return ref.kind === 'link' ? linkSecretIdentity(fromHex(ref.secret)) : linkPassphraseIdentity(fromHex(ref.secret), ref.passphrase);
}

describe('link secret with passphrase vectors (v2.json linkPassphrase)', () => {
  it('reproduces the KDF output, wrapping key, check and body byte for byte', async () => {
    const secret = fromHex(L.secret);
    expect(toHex(await deriveKdfBytes(L.passphrase, block))).toBe(L.kdfOutput);
    expect(toHex(await linkPassphraseWrapKey(secret, fromHex(L.kdfOutput)))).toBe(L.wrapKey);
    expect(toHex(await linkCheck(secret, header))).toBe(L.check);
    const stanza = await sealLinkPassphraseStanza(secret, L.passphrase, block, fromHex(L.nonce), fromHex(v.keySchedule.fileKey), header);
    expect(toHex(stanza.body)).toBe(L.body);
  });

  it('the manifest opens with the secret and the passphrase', async () => {
    const opened = await openManifest(fromHex(L.manifest.bytes), [linkPassphraseIdentity(fromHex(L.secret), L.passphrase)], {
      fileId: v.keySchedule.fileId,
    });
    expect(opened.metadata.name).toBe(v.metadata.value.name);
    expect(toHex(opened.payloadDigest)).toBe(v.payloads[1]?.payloadDigest);
  });

  it.each(L.negative.map((n) => [n.name, n] as const))('negative %s', async (_name, n) => {
    const error: unknown = await openManifest(fromHex(n.bytes), n.identities.map(identityOf), { fileId: n.fileId }).then(
      () => 'no error',
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SealdropCryptoError);
    expect(error instanceof Error ? error.name : error).toBe(n.error);
  });
});
