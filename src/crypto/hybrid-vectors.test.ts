/**
 * The hybrid envelope's vectors (src/crypto/vectors/hybrid.json, FORMAT.md
 * §7.7 and §13): the deterministic parts reproduced byte for byte from the
 * recorded halves, the manifest opened, every negative case refused with
 * its error class. Node and Chromium run this file; on a platform without
 * ML-KEM-768 (Node 20) only what needs an ML-KEM key is skipped, with the
 * reason printed.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import rawVectors from './vectors/hybrid.json';
import v2 from './vectors/v2.json';
import { fromHex, toHex } from './bytes.ts';
import { SealdropCryptoError } from './errors.ts';
import { deriveHybridWrapKey, hybridIdentity, hybridKdfInfo, postQuantumSupported, sealHybridStanza, STANZA_HYBRID_MLKEM768_RSA } from './hybrid.ts';
import { importPublicIdentity } from './identity.ts';
import { openManifest } from './manifest.ts';
import { rsaIdentity, type Identity } from './recipients.ts';

const hex = z.string().regex(/^([0-9a-f]{2})*$/);
const mlkemKey = z.object({ note: z.string(), seed: hex, privateKeyPkcs8: hex, publicKey: hex });
const identityRef = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('hybrid'), rsa: z.literal('keys.rsa'), mlkem: z.enum(['keys.mlkem', 'keys.mlkem2']) }),
  z.object({ kind: z.literal('hybrid-no-mlkem'), rsa: z.literal('keys.rsa') }),
  z.object({ kind: z.literal('rsa'), key: z.literal('keys.rsa') }),
]);
const schema = z.object({
  description: z.string(),
  keys: z.object({ rsa: z.object({ privateKeyPkcs8: hex, publicKeySpki: hex }), ecdsa: z.object({ publicKeySpki: hex }), mlkem: mlkemKey, mlkem2: mlkemKey }),
  header: hex,
  fileId: z.string(),
  fileKey: hex,
  envelope: z.object({ note: z.string(), mlkemCiphertext: hex, mlkemSecret: hex, rsaCiphertext: hex, rsaSecret: hex, ikm: hex, info: hex, wrapKey: hex, nonce: hex, sealedKey: hex, body: hex }),
  manifest: z.object({ note: z.string(), bytes: hex, opensWith: z.array(z.object({ identities: z.array(identityRef) })) }),
  negativeInputs: z.record(z.string(), z.record(z.string(), hex)),
  publicIdentity: z.object({ note: z.string(), bytes: hex }),
  negative: z.array(
    z.discriminatedUnion('input', [
      z.object({ name: z.string(), rule: z.string(), input: z.literal('manifest'), fileId: z.string(), identities: z.array(identityRef), bytes: hex, error: z.string() }),
      z.object({ name: z.string(), rule: z.string(), input: z.literal('publicIdentity'), bytes: hex, error: z.string() }),
    ]),
  ),
});
const V = schema.parse(rawVectors);

const SUPPORTED = await postQuantumSupported();
const NO_MLKEM_REASON = 'this platform’s WebCrypto has no ML-KEM-768 (Node 20); Node ≥ 24 and Chromium ≥ 156 run these';
if (!SUPPORTED) console.log(`hybrid-vectors.test.ts: the checks that need an ML-KEM key are skipped: ${NO_MLKEM_REASON}`);

const header = fromHex(V.header);
const rsaAlg = { name: 'RSA-OAEP', hash: 'SHA-256' };
const rsa = {
  privateKey: await crypto.subtle.importKey('pkcs8', fromHex(V.keys.rsa.privateKeyPkcs8), rsaAlg, false, ['decrypt']),
  publicKey: await crypto.subtle.importKey('spki', fromHex(V.keys.rsa.publicKeySpki), rsaAlg, true, ['encrypt']),
};
const MLKEM = { name: 'ML-KEM-768' };
async function mlkemPair(k: z.infer<typeof mlkemKey>): Promise<{ privateKey: CryptoKey; publicKey: CryptoKey }> {
  return {
    privateKey: await crypto.subtle.importKey('pkcs8', fromHex(k.privateKeyPkcs8), MLKEM, false, ['decapsulateBits' as KeyUsage]),
    publicKey: await crypto.subtle.importKey('raw-public' as 'raw', fromHex(k.publicKey), MLKEM, true, ['encapsulateBits' as KeyUsage]),
  };
}
const needsMlkem = (refs: z.infer<typeof identityRef>[]): boolean => refs.some((r) => r.kind === 'hybrid');
/**
 * `withoutMlkem`: on a platform without ML-KEM, a hybrid identity is given
 * its RSA key only. FORMAT.md §7.7 decides the length (step 2) and the RSA
 * half (step 3) before ML-KEM is needed (step 4), so malformed and wrong-key
 * cases must come out the same.
 */
async function identityOf(ref: z.infer<typeof identityRef>, withoutMlkem = false): Promise<Identity> {
  switch (ref.kind) {
    case 'hybrid':
      if (withoutMlkem) return hybridIdentity({ rsa, mlkem: null });
      return hybridIdentity({ rsa, mlkem: await mlkemPair(ref.mlkem === 'keys.mlkem' ? V.keys.mlkem : V.keys.mlkem2) });
    case 'hybrid-no-mlkem':
      return hybridIdentity({ rsa, mlkem: null });
    case 'rsa':
      return rsaIdentity(rsa.privateKey);
  }
}

describe('hybrid.json (FORMAT.md §7.7)', () => {
  it('every string is lowercase hex except the listed text keys, and it reuses v2.json’s keys and key schedule', () => {
    const text = new Set(['description', 'note', 'rule', 'name', 'error', 'input', 'kind', 'key', 'rsa', 'mlkem', 'fileId']);
    const bad: string[] = [];
    const walk = (o: unknown, where: string, key: string): void => {
      if (typeof o === 'string') {
        if (!text.has(key) && !/^([0-9a-f]{2})*$/.test(o)) bad.push(where);
      } else if (Array.isArray(o)) o.forEach((x, i) => walk(x, `${where}[${i}]`, key));
      else if (o !== null && typeof o === 'object') for (const [k, x] of Object.entries(o)) walk(x, `${where}.${k}`, k);
    };
    walk(rawVectors, '$', '');
    expect(bad).toEqual([]);
    expect(V.keys.rsa).toEqual(v2.keys.rsa);
    expect(V.header).toBe(v2.keySchedule.header);
    expect(V.fileKey).toBe(v2.keySchedule.fileKey);
  });

  it('reproduces info, wrap key, sealed key and body from the recorded halves (no ML-KEM needed)', async () => {
    const e = V.envelope;
    const input = {
      header,
      rsaSpki: fromHex(V.keys.rsa.publicKeySpki),
      mlkemPublicKey: fromHex(V.keys.mlkem.publicKey),
      mlkemCiphertext: fromHex(e.mlkemCiphertext),
      rsaCiphertext: fromHex(e.rsaCiphertext),
      mlkemSecret: fromHex(e.mlkemSecret),
      rsaSecret: fromHex(e.rsaSecret),
    };
    expect(toHex(await hybridKdfInfo(input))).toBe(e.info);
    expect(toHex(await deriveHybridWrapKey(input))).toBe(e.wrapKey);
    const stanza = await sealHybridStanza(input, fromHex(e.nonce), fromHex(V.fileKey));
    expect(stanza.typeId).toBe(STANZA_HYBRID_MLKEM768_RSA);
    expect(toHex(stanza.body)).toBe(e.body);
    expect(e.body.endsWith(e.nonce + e.sealedKey)).toBe(true);
  });

  it.skipIf(!SUPPORTED)(`the ML-KEM key is the one its seed gives, and the envelope and manifest open (skipped where ${NO_MLKEM_REASON})`, async () => {
    const fromSeed = await crypto.subtle.importKey('raw-seed' as 'raw', fromHex(V.keys.mlkem.seed), MLKEM, true, ['decapsulateBits' as KeyUsage]);
    expect(toHex(new Uint8Array(await crypto.subtle.exportKey('pkcs8', fromSeed)))).toBe(V.keys.mlkem.privateKeyPkcs8);
    const id = await identityOf({ kind: 'hybrid', rsa: 'keys.rsa', mlkem: 'keys.mlkem' }, false);
    expect(toHex((await id.unwrap({ typeId: 6, body: fromHex(V.envelope.body) }, header)) ?? new Uint8Array())).toBe(V.fileKey);
    for (const o of V.manifest.opensWith) {
      const r = await openManifest(fromHex(V.manifest.bytes), await Promise.all(o.identities.map((ref) => identityOf(ref))), { fileId: V.fileId });
      expect(r.metadata.name).toBe(v2.metadata.value.name);
      expect(r.signer.fingerprint).toBe(v2.publicIdentity.fingerprint);
    }
  });

  it('the public identity lists the ML-KEM key as kind 3 (no ML-KEM needed to read it)', async () => {
    const imported = await importPublicIdentity(fromHex(V.publicIdentity.bytes));
    expect(toHex(imported.mlkemPublicKey ?? new Uint8Array())).toBe(V.keys.mlkem.publicKey);
    expect(imported.fingerprint).toBe(v2.publicIdentity.fingerprint);
    expect(imported.skippedKinds).toEqual([]);
  });

  for (const n of V.negative) {
    const decidedBeforeMlkem = n.error === 'MalformedError' || n.error === 'WrongKeyError';
    const skip = n.input === 'manifest' && needsMlkem(n.identities) && !SUPPORTED && !decidedBeforeMlkem;
    it.skipIf(skip)(`negative: ${n.name} → ${n.error}${skip ? ` (skipped: ${NO_MLKEM_REASON})` : ''}`, async () => {
      const opening =
        n.input === 'publicIdentity'
          ? importPublicIdentity(fromHex(n.bytes))
          : openManifest(fromHex(n.bytes), await Promise.all(n.identities.map((r) => identityOf(r, !SUPPORTED))), { fileId: n.fileId });
      const error = await opening.then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(SealdropCryptoError);
      expect((error as Error).name).toBe(n.error);
    });
  }
});
