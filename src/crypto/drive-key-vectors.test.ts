/**
 * The drive-key vectors (`driveKey` in src/crypto/vectors/v2.json,
 * docs/FORMAT.md §7.5, §10.5, §13): the envelope reproduced byte for byte,
 * the manifests opened with each identity list, the copy opened with the
 * reader's own keys, and every negative case refused with its error class.
 * Node and Chromium run this same file.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import rawVectors from './vectors/v2.json';
import { fromHex, toHex } from './bytes.ts';
import { driveKeyIdentity, importDriveKey, openDriveKeyCopy, sealDriveKeyStanza, STANZA_DRIVE_KEY } from './drive-key.ts';
import { SealdropCryptoError } from './errors.ts';
import { openManifest } from './manifest.ts';
import { rsaIdentity, type Identity } from './recipients.ts';

const hex = z.string().regex(/^([0-9a-f]{2})*$/);
const identityRef = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('driveKey'), secret: hex }),
  z.object({ kind: z.literal('rsa'), key: z.literal('keys.rsa') }),
]);
const schema = z.object({
  keys: z.object({ rsa: z.object({ privateKeyPkcs8: hex, publicKeySpki: hex }), ecdsa: z.object({ publicKeySpki: hex }) }),
  keySchedule: z.object({ fileKey: hex, header: hex, fileId: z.string() }),
  metadata: z.object({ value: z.object({ name: z.string(), size: z.number() }).loose() }),
  publicIdentity: z.object({ fingerprint: z.string() }),
  driveKey: z.object({
    secret: hex,
    envelopeKey: hex,
    nonce: hex,
    body: hex,
    copy: z.object({ bytes: hex }),
    manifests: z.array(z.object({ description: z.string(), fileId: z.string(), bytes: hex, opens: z.array(z.object({ identities: z.array(identityRef) })) })),
    negative: z.array(
      z.discriminatedUnion('input', [
        z.object({ name: z.string(), rule: z.string(), input: z.literal('manifest'), fileId: z.string(), identities: z.array(identityRef), bytes: hex, error: z.string() }),
        z.object({ name: z.string(), rule: z.string(), input: z.literal('driveKeyCopy'), bytes: hex, error: z.string() }),
      ]),
    ),
  }),
});
const v = schema.parse(rawVectors);
const d = v.driveKey;

const owner = async () => ({
  encrypt: {
    privateKey: await crypto.subtle.importKey('pkcs8', fromHex(v.keys.rsa.privateKeyPkcs8), { name: 'RSA-OAEP', hash: 'SHA-256' }, false, ['decrypt']),
    publicKey: await crypto.subtle.importKey('spki', fromHex(v.keys.rsa.publicKeySpki), { name: 'RSA-OAEP', hash: 'SHA-256' }, true, ['encrypt']),
  },
  sign: { publicKey: await crypto.subtle.importKey('spki', fromHex(v.keys.ecdsa.publicKeySpki), { name: 'ECDSA', namedCurve: 'P-256' }, true, ['verify']) },
});

async function identityOf(ref: z.infer<typeof identityRef>): Promise<Identity> {
  if (ref.kind === 'driveKey') return driveKeyIdentity(await importDriveKey(fromHex(ref.secret)));
  return rsaIdentity((await owner()).encrypt.privateKey);
}

describe('drive-key vectors (src/crypto/vectors/v2.json driveKey)', () => {
  it('the envelope of keySchedule.fileKey under keySchedule.header is reproduced and opens', async () => {
    const driveKey = await importDriveKey(fromHex(d.secret));
    const header = fromHex(v.keySchedule.header);
    const stanza = await sealDriveKeyStanza(driveKey, fromHex(d.nonce), fromHex(v.keySchedule.fileKey), header);
    expect(toHex(stanza.body)).toBe(d.body);
    const opened = await driveKeyIdentity(driveKey).unwrap({ typeId: STANZA_DRIVE_KEY, body: fromHex(d.body) }, header);
    expect(opened && toHex(opened)).toBe(v.keySchedule.fileKey);
  });

  it.each(d.manifests)('manifest: $description', async (m) => {
    for (const { identities } of m.opens) {
      const opened = await openManifest(fromHex(m.bytes), await Promise.all(identities.map(identityOf)), { fileId: m.fileId });
      expect(opened.metadata).toMatchObject(v.metadata.value);
      expect(opened.signer.fingerprint).toBe(v.publicIdentity.fingerprint);
    }
  }, 30_000);

  it('the copy opens with the reader’s own keys to the drive key', async () => {
    const key = await openDriveKeyCopy(fromHex(d.copy.bytes), await owner());
    expect(key.extractable).toBe(false);
    const header = fromHex(v.keySchedule.header);
    const opened = await driveKeyIdentity(key).unwrap({ typeId: STANZA_DRIVE_KEY, body: fromHex(d.body) }, header);
    expect(opened && toHex(opened)).toBe(v.keySchedule.fileKey);
  });

  it.each(d.negative)('negative: $name → $error', async (n) => {
    const attempt =
      n.input === 'manifest'
        ? openManifest(fromHex(n.bytes), await Promise.all(n.identities.map(identityOf)), { fileId: n.fileId })
        : openDriveKeyCopy(fromHex(n.bytes), await owner());
    const error: unknown = await attempt.then(
      () => 'no error',
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SealdropCryptoError);
    expect(error instanceof Error ? error.name : error).toBe(n.error);
  }, 30_000);
});
