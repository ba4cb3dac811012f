/**
 * Writes src/crypto/vectors/hybrid.json: known-answer vectors for the hybrid
 * ML-KEM-768 + RSA-OAEP envelope (docs/FORMAT.md §7.7, typeId 6).
 *
 *   PATH=/tmp/node24/node_modules/node/bin:$PATH npx tsx tests/vectors/generate-hybrid.ts
 *
 * (also run at the end of tests/vectors/generate.ts). Needs ML-KEM-768 in
 * WebCrypto (Node ≥ 24): on an older Node it prints why and leaves the file
 * as it is. Reads the fixed RSA / ECDSA keys, header, file key and metadata
 * from src/crypto/vectors/v2.json. The ML-KEM key is derived from a fixed
 * 64-byte seed, so its public key is a known answer. Encapsulation and
 * RSA-OAEP are randomised: their outputs are recorded, and re-running reuses
 * them (and the recorded signatures) while they still open.
 */
import { createCipheriv, createHash, createPrivateKey, createPublicKey, hkdfSync } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { concatBytes, fromHex, toHex, type Bytes } from '../../src/crypto/bytes.ts';
import { labelled } from '../../src/crypto/format.ts';
import {
  LABEL_HYBRID,
  LABEL_HYBRID_RSA_OAEP,
  STANZA_HYBRID_MLKEM768_RSA,
  deriveHybridWrapKey,
  hybridIdentity,
  hybridKdfInfo,
  postQuantumSupported,
  sealHybridStanza,
  type HybridKdfInput,
} from '../../src/crypto/hybrid.ts';
import { assembleDraft, finishManifest, openManifest } from '../../src/crypto/manifest.ts';
import { KEY_KIND_ECDSA_P256, KEY_KIND_MLKEM768, KEY_KIND_RSA_OAEP, assemblePublicIdentity, importPublicIdentity } from '../../src/crypto/identity.ts';
import { LABEL_RSA_OAEP, STANZA_RSA_OAEP, type Stanza } from '../../src/crypto/recipients.ts';
import type { FileMetadata } from '../../src/crypto/metadata.ts';

let negativeInputsRsaLabel = '';
let negativeInputsOther: Record<string, string> = {};

const OUT = new URL('../../src/crypto/vectors/hybrid.json', import.meta.url);
const V2 = new URL('../../src/crypto/vectors/v2.json', import.meta.url);


function fixed(length: number, seed: number): Bytes {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (seed + i) % 256;
  return out;
}
function assertEqual(a: Uint8Array, b: Uint8Array, what: string): void {
  if (toHex(a) !== toHex(b)) throw new Error(`cross-check failed: ${what}`);
}

interface KemSubtle {
  encapsulateBits(a: { name: string }, k: CryptoKey): Promise<{ sharedKey: ArrayBuffer; ciphertext: ArrayBuffer }>;
  decapsulateBits(a: { name: string }, k: CryptoKey, c: BufferSource): Promise<ArrayBuffer>;
}
const kem = crypto.subtle as unknown as KemSubtle;
const MLKEM = { name: 'ML-KEM-768' };
/** The 22-byte PKCS#8 prefix of an ML-KEM-768 private key in its seed-only form (draft-ietf-lamps-kyber-certificates). */
const MLKEM_PKCS8_SEED_PREFIX = fromHex('3054020100300b060960864801650304040204428040');

async function mlkemFromSeed(seed: Bytes): Promise<{ privateKey: CryptoKey; publicKey: CryptoKey; publicRaw: Bytes; pkcs8: Bytes }> {
  const privateKey = await crypto.subtle.importKey('raw-seed' as 'raw', seed, MLKEM, true, ['decapsulateBits' as KeyUsage]);
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey('pkcs8', privateKey));
  assertEqual(pkcs8, concatBytes(MLKEM_PKCS8_SEED_PREFIX, seed), 'ML-KEM PKCS#8 seed form');
  // node:crypto derives the public key from the seed (FIPS 203 ML-KEM.KeyGen_internal(d, z)).
  const spki = createPublicKey(createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' })).export({ format: 'der', type: 'spki' });
  const publicRaw = new Uint8Array(spki.subarray(spki.length - 1184));
  const publicKey = await crypto.subtle.importKey('raw-public' as 'raw', publicRaw, MLKEM, true, ['encapsulateBits' as KeyUsage]);
  return { privateKey, publicKey, publicRaw, pkcs8 };
}

async function main(): Promise<void> {
  const v2 = JSON.parse(readFileSync(V2, 'utf8')) as {
    keys: { rsa: { privateKeyPkcs8: string; publicKeySpki: string }; ecdsa: { privateKeyPkcs8: string; publicKeySpki: string } };
    keySchedule: { fileKey: string; header: string; fileId: string; segmentSize: number; salt: string };
    metadata: { value: FileMetadata; nonce: string };
    manifest: { payloadDigest: string };
  };
  const previous = existsSync(OUT) ? (JSON.parse(readFileSync(OUT, 'utf8')) as Record<string, unknown>) : undefined;
  const prev = (path: string): string | undefined => {
    let at: unknown = previous;
    for (const p of path.split('.')) at = typeof at === 'object' && at !== null && p in at ? (at as Record<string, unknown>)[p] : undefined;
    return typeof at === 'string' ? at : undefined;
  };

  const rsaAlg = { name: 'RSA-OAEP', hash: 'SHA-256' };
  const rsa = {
    privateKey: await crypto.subtle.importKey('pkcs8', fromHex(v2.keys.rsa.privateKeyPkcs8), rsaAlg, false, ['decrypt']),
    publicKey: await crypto.subtle.importKey('spki', fromHex(v2.keys.rsa.publicKeySpki), rsaAlg, true, ['encrypt']),
  };
  const ecdsaAlg = { name: 'ECDSA', namedCurve: 'P-256' };
  const ecdsa = {
    privateKey: await crypto.subtle.importKey('pkcs8', fromHex(v2.keys.ecdsa.privateKeyPkcs8), ecdsaAlg, false, ['sign']),
    publicKey: await crypto.subtle.importKey('spki', fromHex(v2.keys.ecdsa.publicKeySpki), ecdsaAlg, true, ['verify']),
  };
  const rsaSpki = fromHex(v2.keys.rsa.publicKeySpki);
  const header = fromHex(v2.keySchedule.header);
  const fileKey = fromHex(v2.keySchedule.fileKey);
  const fileId = v2.keySchedule.fileId;
  const mlkemSeed = fixed(64, 0x90);
  const mlkem = await mlkemFromSeed(mlkemSeed);
  const mlkem2Seed = fixed(64, 0xd0);
  const mlkem2 = await mlkemFromSeed(mlkem2Seed);
  const identity = hybridIdentity({ rsa, mlkem: { privateKey: mlkem.privateKey, publicKey: mlkem.publicKey } });

  /** One envelope's randomised halves, reused from the previous file while they still decrypt. */
  async function halves(path: string, hdr: Bytes = header): Promise<{ mlkemCiphertext: Bytes; mlkemSecret: Bytes; rsaCiphertext: Bytes; rsaSecret: Bytes }> {
    const [ctM, ctR, sR] = [prev(`${path}.mlkemCiphertext`), prev(`${path}.rsaCiphertext`), prev(`${path}.rsaSecret`)];
    if (ctM !== undefined && ctR !== undefined && sR !== undefined) {
      try {
        const rsaSecret = new Uint8Array(await crypto.subtle.decrypt({ name: 'RSA-OAEP', label: labelled(LABEL_HYBRID_RSA_OAEP, hdr) }, rsa.privateKey, fromHex(ctR)));
        if (toHex(rsaSecret) === sR) {
          const mlkemSecret = new Uint8Array(await kem.decapsulateBits(MLKEM, mlkem.privateKey, fromHex(ctM)));
          return { mlkemCiphertext: fromHex(ctM), mlkemSecret, rsaCiphertext: fromHex(ctR), rsaSecret };
        }
      } catch {
        // fall through: make fresh halves
      }
    }
    const e = await kem.encapsulateBits(MLKEM, mlkem.publicKey);
    const rsaSecret = crypto.getRandomValues(new Uint8Array(32));
    const rsaCiphertext = new Uint8Array(await crypto.subtle.encrypt({ name: 'RSA-OAEP', label: labelled(LABEL_HYBRID_RSA_OAEP, hdr) }, rsa.publicKey, rsaSecret));
    return { mlkemCiphertext: new Uint8Array(e.ciphertext), mlkemSecret: new Uint8Array(e.sharedKey), rsaCiphertext, rsaSecret };
  }

  /** The envelope computed with node:crypto (HKDF + AES-256-GCM), to cross-check and to craft negative cases. */
  const nonce = fixed(12, 0xe8);
  function nodeEnvelope(ikm: Uint8Array, info: Uint8Array, hdr: Uint8Array, key: Uint8Array, ctM: Uint8Array, ctR: Uint8Array): Bytes {
    const wrapKey = Buffer.from(hkdfSync('sha256', ikm, new Uint8Array(0), info, 32));
    const c = createCipheriv('aes-256-gcm', wrapKey, nonce);
    c.setAAD(labelled(LABEL_HYBRID, hdr));
    return concatBytes(ctM, ctR, nonce, c.update(key), c.final(), c.getAuthTag());
  }

  // --- the genuine envelope ---------------------------------------------------
  const h = await halves('envelope');
  const kdfInput: HybridKdfInput = { header, rsaSpki, mlkemPublicKey: mlkem.publicRaw, ...h };
  const info = await hybridKdfInfo(kdfInput);
  {
    const sha = (b: Uint8Array): Buffer => createHash('sha256').update(b).digest();
    assertEqual(labelled(LABEL_HYBRID, header, sha(rsaSpki), sha(mlkem.publicRaw), sha(h.mlkemCiphertext), sha(h.rsaCiphertext)), info, 'HKDF info');
  }
  const wrapKey = await deriveHybridWrapKey(kdfInput);
  const stanza = await sealHybridStanza(kdfInput, nonce, fileKey);
  assertEqual(new Uint8Array(hkdfSync('sha256', concatBytes(h.mlkemSecret, h.rsaSecret), new Uint8Array(0), info, 32)), wrapKey, 'HKDF wrap key');
  assertEqual(nodeEnvelope(concatBytes(h.mlkemSecret, h.rsaSecret), info, header, fileKey, h.mlkemCiphertext, h.rsaCiphertext), stanza.body, 'envelope');
  {
    const nodeMlkem = createPrivateKey({ key: Buffer.from(mlkem.pkcs8), format: 'der', type: 'pkcs8' });
    const { decapsulate } = (await import('node:crypto')) as unknown as { decapsulate: (k: unknown, c: Uint8Array) => Buffer };
    assertEqual(new Uint8Array(decapsulate(nodeMlkem, h.mlkemCiphertext)), h.mlkemSecret, 'node:crypto decapsulate');
  }
  const opened = await identity.unwrap(stanza, header);
  if (opened === null || toHex(opened) !== toHex(fileKey)) throw new Error('the envelope does not open');

  // --- manifests: the genuine one and the negative cases -------------------------
  const metadataNonce = fromHex(v2.metadata.nonce);
  const payloadDigest = fromHex(v2.manifest.payloadDigest);
  const hdrParts = { segmentSize: v2.keySchedule.segmentSize, fileId, salt: fromHex(v2.keySchedule.salt) };
  async function manifestOf(path: string, stanzas: Stanza[]): Promise<string> {
    const draft = await assembleDraft({ header: hdrParts, fileKey, metadata: v2.metadata.value, metadataNonce, stanzas });
    const fresh = await finishManifest(draft, { payloadDigest, signer: ecdsa });
    const old = prev(path);
    if (old !== undefined && old.length === fresh.length * 2 && old.slice(0, -128) === toHex(fresh).slice(0, -128)) return old;
    return toHex(fresh);
  }
  const manifestBytes = await manifestOf('manifest.bytes', [stanza]);
  {
    const r = await openManifest(fromHex(manifestBytes), [identity], { fileId });
    if (r.metadata.name !== v2.metadata.value.name) throw new Error('manifest does not open');
  }

  const hyb = { kind: 'hybrid', rsa: 'keys.rsa', mlkem: 'keys.mlkem' };
  const negative: ({ name: string; rule: string; input: string; bytes: string; error: string } & Record<string, unknown>)[] = [];
  async function neg(name: string, rule: string, stanzas: Stanza[], error: string, identities: object[] = [hyb]): Promise<void> {
    negative.push({ name, rule, input: 'manifest', fileId, identities, bytes: await manifestOf(`negative.${negative.length}.bytes`, stanzas), error });
  }
  const body = (b: Uint8Array): Stanza => ({ typeId: STANZA_HYBRID_MLKEM768_RSA, body: b });
  const ikm = concatBytes(h.mlkemSecret, h.rsaSecret);
  const h2 = await halves('negativeInputs.second');
  const second = await sealHybridStanza({ header, rsaSpki, mlkemPublicKey: mlkem.publicRaw, ...h2 }, nonce, fileKey);
  /** nonce ‖ sealed key: what follows the two ciphertexts. */
  const rest = stanza.body.subarray(1088 + 384);
  const sealedKey = rest.subarray(12);

  await neg(
    'hybrid-wrong-mlkem-ciphertext',
    'the ML-KEM ciphertext is another encapsulation to keys.mlkem (negativeInputs.second); RSA half and sealed key genuine: the wrap key differs → the AES-GCM tag fails → tampered',
    [body(concatBytes(h2.mlkemCiphertext, h.rsaCiphertext, rest))],
    'TamperedError',
  );
  {
    const flipped = Uint8Array.from(stanza.body);
    flipped[100] = (flipped[100] ?? 0) ^ 0x01;
    await neg('hybrid-mlkem-ciphertext-flipped', 'one bit of the ML-KEM ciphertext flipped (byte 100): ML-KEM rejects implicitly, so decapsulation gives another secret → tag fails → tampered', [body(flipped)], 'TamperedError');
  }
  await neg(
    'hybrid-halves-swapped-between-envelopes',
    'the ML-KEM half of the genuine envelope with the RSA half and sealed key of negativeInputs.second (both genuine for this reader): the KDF binds both ciphertexts → tampered',
    [body(concatBytes(h.mlkemCiphertext, second.body.subarray(1088)))],
    'TamperedError',
  );
  await neg(
    'hybrid-secrets-swapped-in-ikm',
    'sealed with IKM = rsaSecret ‖ mlkemSecret (the halves in the wrong order) → tampered',
    [body(nodeEnvelope(concatBytes(h.rsaSecret, h.mlkemSecret), info, header, fileKey, h.mlkemCiphertext, h.rsaCiphertext))],
    'TamperedError',
  );
  await neg(
    'hybrid-rsa-half-alone',
    'the wrap key derived from the RSA secret alone (32 zero bytes in place of the ML-KEM secret), both ciphertexts present → tampered',
    [body(nodeEnvelope(concatBytes(new Uint8Array(32), h.rsaSecret), info, header, fileKey, h.mlkemCiphertext, h.rsaCiphertext))],
    'TamperedError',
  );
  await neg(
    'hybrid-mlkem-half-alone',
    'the wrap key derived from the ML-KEM secret alone (32 zero bytes in place of the RSA secret), both ciphertexts present → tampered',
    [body(nodeEnvelope(concatBytes(h.mlkemSecret, new Uint8Array(32)), info, header, fileKey, h.mlkemCiphertext, h.rsaCiphertext))],
    'TamperedError',
  );
  await neg(
    'hybrid-rsa-half-alone-body',
    'a body of the RSA ciphertext, nonce and sealed key only (444 bytes): no RSA modulus of §2 gives that length → malformed',
    [body(concatBytes(h.rsaCiphertext, rest))],
    'MalformedError',
  );
  await neg(
    'hybrid-mlkem-half-alone-body',
    'a body of the ML-KEM ciphertext, nonce and sealed key only (1,148 bytes) → malformed',
    [body(concatBytes(h.mlkemCiphertext, rest))],
    'MalformedError',
  );
  await neg(
    'hybrid-rsa-half-as-rsa-envelope',
    'the hybrid RSA ciphertext as a typeId-1 envelope: its OAEP label is sealdrop/v2/hybrid-mlkem768-rsa/rsa-oaep, not sealdrop/v2/rsa-oaep, so the RSA identity does not open it (null) → wrong key',
    [{ typeId: STANZA_RSA_OAEP, body: h.rsaCiphertext }],
    'WrongKeyError',
    [{ kind: 'rsa', key: 'keys.rsa' }, hyb],
  );
  {
    const rsaSecret = fixed(32, 0x21);
    const ctR = new Uint8Array(await crypto.subtle.encrypt({ name: 'RSA-OAEP', label: labelled(LABEL_RSA_OAEP, header) }, rsa.publicKey, rsaSecret));
    const recorded = prev('negativeInputs.rsaEnvelopeLabel.rsaCiphertext');
    const ct = recorded !== undefined ? fromHex(recorded) : ctR;
    const i = await hybridKdfInfo({ header, rsaSpki, mlkemPublicKey: mlkem.publicRaw, mlkemCiphertext: h.mlkemCiphertext, rsaCiphertext: ct });
    await neg(
      'hybrid-rsa-half-with-rsa-envelope-label',
      'the RSA half encrypted under the typeId-1 OAEP label (sealdrop/v2/rsa-oaep ‖ 0x00 ‖ header) instead of the hybrid one; all else consistent: the RSA half does not decrypt → not mine → wrong key',
      [body(nodeEnvelope(concatBytes(h.mlkemSecret, rsaSecret), i, header, fileKey, h.mlkemCiphertext, ct))],
      'WrongKeyError',
    );
    negativeInputsRsaLabel = toHex(ct);
  }
  {
    const otherHeader = concatBytes(header.subarray(0, 25), fixed(32, 0x44));
    const h3 = await halves('negativeInputs.otherHeader', otherHeader);
    const moved = await sealHybridStanza({ header: otherHeader, rsaSpki, mlkemPublicKey: mlkem.publicRaw, ...h3 }, nonce, fileKey);
    await neg(
      'hybrid-bound-to-another-header',
      'an envelope made for another header (same fileId, salt 44 45 …) placed in this manifest: the RSA half is bound to the header and does not decrypt → wrong key',
      [moved],
      'WrongKeyError',
    );
    negativeInputsOther = { header: toHex(otherHeader), mlkemCiphertext: toHex(h3.mlkemCiphertext), rsaCiphertext: toHex(h3.rsaCiphertext), rsaSecret: toHex(h3.rsaSecret) };
  }
  {
    const sha = (b: Uint8Array): Buffer => createHash('sha256').update(b).digest();
    const unbound = labelled(LABEL_HYBRID, header, sha(h.mlkemCiphertext), sha(h.rsaCiphertext));
    await neg(
      'hybrid-kdf-without-public-keys',
      'the wrap key derived with an info that leaves out SHA-256(rsaSpki) ‖ SHA-256(mlkemPublicKey) → tampered',
      [body(nodeEnvelope(ikm, unbound, header, fileKey, h.mlkemCiphertext, h.rsaCiphertext))],
      'TamperedError',
    );
  }
  await neg(
    'hybrid-other-mlkem-key',
    'the genuine envelope opened by a reader with keys.rsa and another ML-KEM key (keys.mlkem2): the RSA half is theirs, the ML-KEM half is not → tampered',
    [stanza],
    'TamperedError',
    [{ kind: 'hybrid', rsa: 'keys.rsa', mlkem: 'keys.mlkem2' }],
  );
  await neg(
    'hybrid-reader-without-mlkem',
    'the genuine envelope opened by a reader that has keys.rsa but no ML-KEM-768 (a browser without it): the RSA half shows the envelope is theirs → post-quantum unsupported ("open this in a browser that supports post-quantum keys")',
    [stanza],
    'PostQuantumUnsupportedError',
    [{ kind: 'hybrid-no-mlkem', rsa: 'keys.rsa' }],
  );
  await neg(
    'hybrid-body-one-byte-short',
    'the genuine body without its last byte: 1,088 + 383 + 12 + 48 bytes, no RSA modulus of §2 gives it → malformed',
    [body(stanza.body.subarray(0, stanza.body.length - 1))],
    'MalformedError',
  );

  // --- public identity with kind 3 (FORMAT.md §10.1) --------------------------------
  async function identityOf(path: string, kind3: Uint8Array): Promise<string> {
    const entries = [
      { kind: KEY_KIND_RSA_OAEP, key: rsaSpki },
      { kind: KEY_KIND_ECDSA_P256, key: fromHex(v2.keys.ecdsa.publicKeySpki) },
      { kind: KEY_KIND_MLKEM768, key: kind3 },
    ];
    const fresh = await assemblePublicIdentity(entries, ecdsa.privateKey);
    const old = prev(path);
    if (old !== undefined && old.length === fresh.length * 2 && old.slice(0, -128) === toHex(fresh).slice(0, -128)) return old;
    return toHex(fresh);
  }
  const publicIdentityBytes = await identityOf('publicIdentity.bytes', mlkem.publicRaw);
  {
    const imported = await importPublicIdentity(fromHex(publicIdentityBytes));
    if (imported.mlkemPublicKey === null || toHex(imported.mlkemPublicKey) !== toHex(mlkem.publicRaw)) throw new Error('kind 3 does not round-trip');
  }
  negative.push({
    name: 'public-identity-mlkem-1183-bytes',
    rule: 'a public identity of keys.rsa, keys.ecdsa and a kind-3 key of 1,183 bytes (keys.mlkem.publicKey without its last byte), validly self-signed: a reader that knows kind 3 refuses its length → malformed',
    input: 'publicIdentity',
    bytes: await identityOf(`negative.${negative.length}.bytes`, mlkem.publicRaw.subarray(0, 1183)),
    error: 'MalformedError',
  });

  const vectors = {
    description:
      'Sealdrop format v2, hybrid ML-KEM-768 + RSA-OAEP envelope (typeId 6) known-answer vectors (docs/FORMAT.md §7.7, §13). Every string is lowercase hex bytes EXCEPT the values of description, note, rule, name, error, input, kind, key, rsa, mlkem, fileId. Keys keys.rsa and keys.ecdsa are those of v2.json; header, fileKey and the manifest parts are v2.json keySchedule / metadata / manifest.payloadDigest. Generated by tests/vectors/generate-hybrid.ts on Node >= 24.',
    keys: {
      rsa: v2.keys.rsa,
      ecdsa: { publicKeySpki: v2.keys.ecdsa.publicKeySpki },
      mlkem: { note: 'seed = d ‖ z (FIPS 203), pattern seed 0x90; privateKeyPkcs8 is the seed-only PKCS#8 form', seed: toHex(mlkemSeed), privateKeyPkcs8: toHex(mlkem.pkcs8), publicKey: toHex(mlkem.publicRaw) },
      mlkem2: { note: 'another person’s ML-KEM key, pattern seed 0xd0', seed: toHex(mlkem2Seed), privateKeyPkcs8: toHex(mlkem2.pkcs8), publicKey: toHex(mlkem2.publicRaw) },
    },
    header: toHex(header),
    fileId,
    fileKey: toHex(fileKey),
    envelope: {
      note: 'randomised halves recorded: mlkemCiphertext decapsulates with keys.mlkem to mlkemSecret; rsaCiphertext decrypts with keys.rsa (OAEP label labelled(sealdrop/v2/hybrid-mlkem768-rsa/rsa-oaep, header)) to rsaSecret; nonce is pattern seed 0xe8; everything after is deterministic',
      mlkemCiphertext: toHex(h.mlkemCiphertext),
      mlkemSecret: toHex(h.mlkemSecret),
      rsaCiphertext: toHex(h.rsaCiphertext),
      rsaSecret: toHex(h.rsaSecret),
      ikm: toHex(ikm),
      info: toHex(info),
      wrapKey: toHex(wrapKey),
      nonce: toHex(nonce),
      sealedKey: toHex(sealedKey),
      body: toHex(stanza.body),
    },
    manifest: {
      note: 'keySchedule header, signer keys.ecdsa, payloadDigest of v2 payloads[1], v2 metadata, one envelope: the one above; the last 64 bytes (signature) are randomised',
      bytes: manifestBytes,
      opensWith: [{ identities: [hyb] }],
    },
    publicIdentity: {
      note: 'kinds 1 (keys.rsa), 2 (keys.ecdsa), 3 (keys.mlkem.publicKey), self-signed by keys.ecdsa; the last 64 bytes are randomised',
      bytes: publicIdentityBytes,
    },
    negativeInputs: {
      second: { mlkemCiphertext: toHex(h2.mlkemCiphertext), rsaCiphertext: toHex(h2.rsaCiphertext), rsaSecret: toHex(h2.rsaSecret) },
      rsaEnvelopeLabel: { rsaCiphertext: negativeInputsRsaLabel },
      otherHeader: negativeInputsOther,
    },
    negative,
  };
  writeFileSync(OUT, JSON.stringify(vectors, null, 2) + '\n');
  console.log(`wrote ${OUT.pathname} (${negative.length} negative cases); sha256 of envelope body ${createHash('sha256').update(stanza.body).digest('hex').slice(0, 16)}…`);
}

if (!(await postQuantumSupported())) {
  console.log(`generate-hybrid: skipped, ${process.version} has no ML-KEM-768 in WebCrypto (needs Node ≥ 24); ${OUT.pathname} left unchanged`);
} else {
  await main();
}
