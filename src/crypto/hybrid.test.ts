/**
 * The hybrid ML-KEM-768 + RSA-OAEP envelope (FORMAT.md §7.7), in Node and in
 * Chromium. Tests that need ML-KEM-768 skip where the platform has none
 * (Node 20's WebCrypto has no ML-KEM; Node ≥ 24 and Chromium ≥ 156 have it);
 * the no-ML-KEM reader is tested everywhere.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fromHex, randomBytes, toBytes, type Bytes } from './bytes.ts';
import { PostQuantumUnsupportedError, TamperedError, MalformedError, WrongKeyError } from './errors.ts';
import { encodeHeader } from './format.ts';
import {
  LABEL_HYBRID_RSA_OAEP,
  MLKEM768_CIPHERTEXT_LENGTH,
  STANZA_HYBRID_MLKEM768_RSA,
  exportMlKemPublicKey,
  generateMlKemKeyPair,
  hybridBodyLength,
  hybridIdentity,
  hybridRecipient,
  postQuantumSupported,
  sealHybridStanza,
  type HybridIdentityKeys,
} from './hybrid.ts';
import { KEY_KIND_ECDSA_P256, KEY_KIND_MLKEM768, KEY_KIND_RSA_OAEP, assemblePublicIdentity, exportPublicIdentity, importPublicIdentity } from './identity.ts';
import { openManifest } from './manifest.ts';
import { rsaIdentity, STANZA_RSA_OAEP, type Stanza } from './recipients.ts';
import { createOpenStream } from './stream.ts';
import { sealForTest } from './test-seal.ts';
import { readAll, streamOf } from './test-streams.ts';
import { labelled } from './format.ts';

const SUPPORTED = await postQuantumSupported();
const NO_MLKEM_REASON =
  'this platform’s WebCrypto has no ML-KEM-768 (Node 20 has none; Node ≥ 24 and Chromium ≥ 156 run these tests)';
if (!SUPPORTED) console.log(`hybrid.test.ts: ML-KEM tests skipped: ${NO_MLKEM_REASON}`);

/** Seeded plaintext (xorshift32), so a failure can be replayed; the seed is printed. */
const SEED = Number(globalThis.process?.env?.['HYBRID_TEST_SEED'] ?? 0x5eed2026) >>> 0;
console.log(`hybrid.test.ts seed: ${SEED}`);
function seededBytes(length: number, seed: number): Bytes {
  const out = new Uint8Array(length);
  let x = seed || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

const FILE_ID = '0123456789abcdef0123456789abcdef';
const header = encodeHeader({ segmentSize: 1024, fileId: FILE_ID, salt: seededBytes(32, SEED + 1) });
const fileKey = seededBytes(32, SEED + 2);

async function rsaPair(): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey(
    { name: 'RSA-OAEP', hash: 'SHA-256', modulusLength: 3072, publicExponent: new Uint8Array([1, 0, 1]) },
    false,
    ['encrypt', 'decrypt'],
  );
}
async function ecdsaPair(): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
}

/** A person with both keys: their identity keys and what a sender needs. */
async function person(): Promise<{ id: HybridIdentityKeys; mlkemPublic: Bytes }> {
  const [rsa, mlkem] = await Promise.all([rsaPair(), generateMlKemKeyPair()]);
  return { id: { rsa, mlkem }, mlkemPublic: await exportMlKemPublicKey(mlkem.publicKey) };
}

function split(stanza: Stanza): { ctM: Bytes; ctR: Bytes; sealed: Bytes } {
  const b = toBytes(stanza.body);
  return { ctM: b.slice(0, 1088), ctR: b.slice(1088, 1088 + 384), sealed: b.slice(1088 + 384) };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe.skipIf(!SUPPORTED)(`hybrid envelope with ML-KEM-768 (skipped where ${NO_MLKEM_REASON})`, () => {
  it('wraps to both public keys and opens with both private keys; the body has the announced length', async () => {
    const b = await person();
    const recipient = hybridRecipient({ rsa: b.id.rsa.publicKey, mlkem: b.mlkemPublic });
    const stanza = await recipient.wrap(fileKey, header);
    expect(stanza.typeId).toBe(STANZA_HYBRID_MLKEM768_RSA);
    expect(stanza.body.length).toBe(hybridBodyLength(384));
    expect(recipient.stanzaLength).toBe(1088 + 384 + 12 + 48);
    expect(await hybridIdentity(b.id).unwrap(stanza, header)).toEqual(fileKey);
  });

  it('a file sealed only for a post-quantum reader opens byte-identical through the manifest', async () => {
    const [b, signer] = await Promise.all([person(), ecdsaPair()]);
    const plaintext = seededBytes(5000, SEED + 3);
    const sealed = await sealForTest({ fileId: FILE_ID, plaintext, recipients: [hybridRecipient({ rsa: b.id.rsa.publicKey, mlkem: b.mlkemPublic })], signer });
    const opened = await openManifest(sealed.manifest, [hybridIdentity(b.id)], { fileId: FILE_ID });
    const out = await readAll(streamOf(sealed.payload, 777).pipeThrough(createOpenStream(opened.contentKey, opened.segmentSize, { payloadDigest: opened.payloadDigest })));
    expect(out).toEqual(plaintext);
    // Its only envelope is the hybrid one: an RSA-only reader with the same RSA key opens nothing.
    await expect(openManifest(sealed.manifest, [rsaIdentity(b.id.rsa.privateKey)], { fileId: FILE_ID })).rejects.toBeInstanceOf(WrongKeyError);
  });

  it('another person’s envelope is "not mine" (null), even with the same body length', async () => {
    const [b, c] = await Promise.all([person(), person()]);
    const stanza = await hybridRecipient({ rsa: c.id.rsa.publicKey, mlkem: c.mlkemPublic }).wrap(fileKey, header);
    expect(await hybridIdentity(b.id).unwrap(stanza, header)).toBeNull();
  });

  it('an envelope moved to another header is "not mine" (the RSA half is bound to the header)', async () => {
    const b = await person();
    const stanza = await hybridRecipient({ rsa: b.id.rsa.publicKey, mlkem: b.mlkemPublic }).wrap(fileKey, header);
    const other = encodeHeader({ segmentSize: 1024, fileId: FILE_ID, salt: seededBytes(32, SEED + 9) });
    expect(await hybridIdentity(b.id).unwrap(stanza, other)).toBeNull();
  });

  it('a wrong ML-KEM ciphertext (another encapsulation to the same key) is refused as tampered', async () => {
    const b = await person();
    const r = hybridRecipient({ rsa: b.id.rsa.publicKey, mlkem: b.mlkemPublic });
    const [s1, s2] = [split(await r.wrap(fileKey, header)), split(await r.wrap(fileKey, header))];
    const forged = { typeId: STANZA_HYBRID_MLKEM768_RSA, body: new Uint8Array([...s2.ctM, ...s1.ctR, ...s1.sealed]) };
    await expect(hybridIdentity(b.id).unwrap(forged, header)).rejects.toThrow(TamperedError);
    const flipped = Uint8Array.from(toBytes((await r.wrap(fileKey, header)).body));
    flipped[17] = (flipped[17] ?? 0) ^ 1;
    await expect(hybridIdentity(b.id).unwrap({ typeId: 6, body: flipped }, header)).rejects.toThrow(
      'A post-quantum envelope for you is damaged or was not made from both of your keys.',
    );
  });

  it('halves swapped between two genuine envelopes are refused (the KDF binds both ciphertexts)', async () => {
    const b = await person();
    const r = hybridRecipient({ rsa: b.id.rsa.publicKey, mlkem: b.mlkemPublic });
    const [s1, s2] = [split(await r.wrap(fileKey, header)), split(await r.wrap(fileKey, header))];
    const mixed = { typeId: 6, body: new Uint8Array([...s1.ctM, ...s2.ctR, ...s2.sealed]) };
    await expect(hybridIdentity(b.id).unwrap(mixed, header)).rejects.toBeInstanceOf(TamperedError);
    // The halves in the other order: the RSA ciphertext where the ML-KEM one goes does not decrypt → not mine.
    const reordered = { typeId: 6, body: new Uint8Array([...s1.ctR, ...s1.ctM, ...s1.sealed]) };
    expect(await hybridIdentity(b.id).unwrap(reordered, header)).toBeNull();
  });

  it('a key from the RSA half alone, or from the ML-KEM half alone, does not open', async () => {
    const b = await person();
    const rsaSpki = new Uint8Array(await crypto.subtle.exportKey('spki', b.id.rsa.publicKey));
    const rsaSecret = seededBytes(32, SEED + 4);
    const rsaCiphertext = new Uint8Array(
      await crypto.subtle.encrypt({ name: 'RSA-OAEP', label: labelled(LABEL_HYBRID_RSA_OAEP, header) }, b.id.rsa.publicKey, rsaSecret),
    );
    const { ciphertext: mlkemCiphertext, sharedKey } = await (
      crypto.subtle as unknown as { encapsulateBits: (a: { name: string }, k: CryptoKey) => Promise<{ ciphertext: ArrayBuffer; sharedKey: ArrayBuffer }> }
    ).encapsulateBits({ name: 'ML-KEM-768' }, b.id.mlkem?.publicKey ?? (await generateMlKemKeyPair()).publicKey);
    const base = { header, rsaSpki, mlkemPublicKey: b.mlkemPublic, mlkemCiphertext: new Uint8Array(mlkemCiphertext), rsaCiphertext };
    const nonce = seededBytes(12, SEED + 7);
    const genuine = await sealHybridStanza({ ...base, mlkemSecret: new Uint8Array(sharedKey), rsaSecret }, nonce, fileKey);
    expect(await hybridIdentity(b.id).unwrap(genuine, header)).toEqual(fileKey);
    // A writer that leaves one secret out (zeros in its place) makes an envelope no reader opens.
    const rsaOnly = await sealHybridStanza({ ...base, mlkemSecret: new Uint8Array(32), rsaSecret }, nonce, fileKey);
    await expect(hybridIdentity(b.id).unwrap(rsaOnly, header)).rejects.toBeInstanceOf(TamperedError);
    const mlkemOnly = await sealHybridStanza({ ...base, mlkemSecret: new Uint8Array(sharedKey), rsaSecret: new Uint8Array(32) }, nonce, fileKey);
    await expect(hybridIdentity(b.id).unwrap(mlkemOnly, header)).rejects.toBeInstanceOf(TamperedError);
    // Bodies that hold only one half have no length an RSA key of §2 gives.
    const g = toBytes(genuine.body);
    await expect(hybridIdentity(b.id).unwrap({ typeId: 6, body: g.slice(MLKEM768_CIPHERTEXT_LENGTH) }, header)).rejects.toBeInstanceOf(MalformedError);
    await expect(hybridIdentity(b.id).unwrap({ typeId: 6, body: new Uint8Array([...g.slice(0, 1088), ...g.slice(1088 + 384)]) }, header)).rejects.toBeInstanceOf(MalformedError);
    // The RSA half is no RSA envelope: its OAEP label differs, so a typeId-1 reader does not open it.
    expect(await rsaIdentity(b.id.rsa.privateKey).unwrap({ typeId: STANZA_RSA_OAEP, body: rsaCiphertext }, header)).toBeNull();
  });

  it('keys bound to the recipient: an identity whose published ML-KEM key differs does not open', async () => {
    const b = await person();
    const stanza = await hybridRecipient({ rsa: b.id.rsa.publicKey, mlkem: b.mlkemPublic }).wrap(fileKey, header);
    const otherMlkem = await generateMlKemKeyPair();
    // Same RSA key, another ML-KEM key: the RSA half is this reader's, the ML-KEM half is not.
    await expect(hybridIdentity({ rsa: b.id.rsa, mlkem: otherMlkem }).unwrap(stanza, header)).rejects.toBeInstanceOf(TamperedError);
  });

  it('a reader whose platform hides ML-KEM at decapsulation is told plainly', async () => {
    const b = await person();
    const stanza = await hybridRecipient({ rsa: b.id.rsa.publicKey, mlkem: b.mlkemPublic }).wrap(fileKey, header);
    vi.spyOn(crypto.subtle as unknown as { decapsulateBits: () => Promise<ArrayBuffer> }, 'decapsulateBits').mockRejectedValue(
      new DOMException('Unrecognized name.', 'NotSupportedError'),
    );
    await expect(hybridIdentity(b.id).unwrap(stanza, header)).rejects.toThrow(PostQuantumUnsupportedError);
  });

  it('wrap refuses an ML-KEM key of the wrong length and one the platform rejects', async () => {
    const b = await person();
    await expect(hybridRecipient({ rsa: b.id.rsa.publicKey, mlkem: b.mlkemPublic.slice(1) }).wrap(fileKey, header)).rejects.toThrow(
      'An ML-KEM-768 public key is 1,184 bytes.',
    );
    await expect(hybridRecipient({ rsa: b.id.rsa.publicKey, mlkem: new Uint8Array(1184).fill(0xff) }).wrap(fileKey, header)).rejects.toBeInstanceOf(
      MalformedError,
    );
  });
});

describe('hybrid envelope on a reader without ML-KEM (runs everywhere)', () => {
  it('the recorded vector envelope is the reader’s by its RSA half, and the reader is told to use another browser', async () => {
    const vectors = (await import('./vectors/hybrid.json')).default as {
      keys: { rsa: { privateKeyPkcs8: string; publicKeySpki: string } };
      header: string;
      envelope: { body: string };
    };
    const alg = { name: 'RSA-OAEP', hash: 'SHA-256' };
    const rsa = {
      privateKey: await crypto.subtle.importKey('pkcs8', fromHex(vectors.keys.rsa.privateKeyPkcs8), alg, false, ['decrypt']),
      publicKey: await crypto.subtle.importKey('spki', fromHex(vectors.keys.rsa.publicKeySpki), alg, true, ['encrypt']),
    };
    const stanza = { typeId: STANZA_HYBRID_MLKEM768_RSA, body: fromHex(vectors.envelope.body) };
    const noMlkem = hybridIdentity({ rsa, mlkem: null });
    await expect(noMlkem.unwrap(stanza, fromHex(vectors.header))).rejects.toThrow('open this in a browser that supports post-quantum keys');
    await expect(noMlkem.unwrap(stanza, fromHex(vectors.header))).rejects.toBeInstanceOf(PostQuantumUnsupportedError);
    // Another file's header: the RSA half is not this reader's there, so "not mine", not the browser message.
    expect(await noMlkem.unwrap(stanza, encodeHeader({ segmentSize: 1024, fileId: FILE_ID, salt: randomBytes(32) }))).toBeNull();
  });

  it('a sender whose platform has no ML-KEM gets the typed error, not a generic failure', async () => {
    const v2 = (await import('./vectors/v2.json')).default;
    const vectors = (await import('./vectors/hybrid.json')).default as { keys: { mlkem: { publicKey: string } } };
    const rsaPublic = await crypto.subtle.importKey('spki', fromHex(v2.keys.rsa.publicKeySpki), { name: 'RSA-OAEP', hash: 'SHA-256' }, true, ['encrypt']);
    // Where ML-KEM exists, hide it at encapsulation, as a browser without it would fail.
    if (SUPPORTED) {
      vi.spyOn(crypto.subtle as unknown as { encapsulateBits: () => Promise<unknown> }, 'encapsulateBits').mockRejectedValue(
        new DOMException('Unrecognized name.', 'NotSupportedError'),
      );
    }
    await expect(hybridRecipient({ rsa: rsaPublic, mlkem: fromHex(vectors.keys.mlkem.publicKey) }).wrap(fileKey, header)).rejects.toBeInstanceOf(
      PostQuantumUnsupportedError,
    );
  });
});

describe('public identity kind 3: the ML-KEM-768 encapsulation key (FORMAT.md §10.1)', () => {
  async function vectorKeys(): Promise<{ encrypt: CryptoKeyPair; sign: CryptoKeyPair }> {
    const v2 = (await import('./vectors/v2.json')).default;
    const rsaAlg = { name: 'RSA-OAEP', hash: 'SHA-256' };
    const ecAlg = { name: 'ECDSA', namedCurve: 'P-256' };
    return {
      encrypt: {
        privateKey: await crypto.subtle.importKey('pkcs8', fromHex(v2.keys.rsa.privateKeyPkcs8), rsaAlg, false, ['decrypt']),
        publicKey: await crypto.subtle.importKey('spki', fromHex(v2.keys.rsa.publicKeySpki), rsaAlg, true, ['encrypt']),
      },
      sign: {
        privateKey: await crypto.subtle.importKey('pkcs8', fromHex(v2.keys.ecdsa.privateKeyPkcs8), ecAlg, false, ['sign']),
        publicKey: await crypto.subtle.importKey('spki', fromHex(v2.keys.ecdsa.publicKeySpki), ecAlg, true, ['verify']),
      },
    };
  }
  async function listed(keys: { encrypt: CryptoKeyPair; sign: CryptoKeyPair }, kind3: Uint8Array | null): Promise<Uint8Array> {
    const spki = async (k: CryptoKey): Promise<Uint8Array> => new Uint8Array(await crypto.subtle.exportKey('spki', k));
    const entries = [
      { kind: KEY_KIND_RSA_OAEP, key: await spki(keys.encrypt.publicKey) },
      { kind: KEY_KIND_ECDSA_P256, key: await spki(keys.sign.publicKey) },
      ...(kind3 === null ? [] : [{ kind: KEY_KIND_MLKEM768, key: kind3 }]),
    ];
    return assemblePublicIdentity(entries, keys.sign.privateKey);
  }

  it('is returned as 1,184 bytes, not as a skipped kind; absent → null (no ML-KEM needed)', async () => {
    const keys = await vectorKeys();
    const ek = seededBytes(1184, SEED + 5);
    const imported = await importPublicIdentity(await listed(keys, ek));
    expect(imported.mlkemPublicKey).toEqual(ek);
    expect(imported.skippedKinds).toEqual([]);
    expect((await importPublicIdentity(await listed(keys, null))).mlkemPublicKey).toBeNull();
  });

  it('of another length is refused as malformed, after the self-signature check', async () => {
    const keys = await vectorKeys();
    await expect(importPublicIdentity(await listed(keys, seededBytes(1183, SEED + 6)))).rejects.toThrow(
      new MalformedError('A post-quantum key in the public key is not 1,184 bytes.'),
    );
    const bytes = Uint8Array.from(await listed(keys, seededBytes(1183, SEED + 6)));
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 1;
    await expect(importPublicIdentity(bytes)).rejects.toBeInstanceOf(TamperedError);
  });

  it.skipIf(!SUPPORTED)(`A publishes both keys; B seals to what the identity says; A opens (skipped where ${NO_MLKEM_REASON})`, async () => {
    const keys = await vectorKeys();
    const mlkem = await generateMlKemKeyPair();
    const published = await exportPublicIdentity({ ...keys, mlkem });
    const imported = await importPublicIdentity(published);
    if (imported.mlkemPublicKey === null) throw new Error('kind 3 missing');
    const stanza = await hybridRecipient({ rsa: imported.encrypt, mlkem: imported.mlkemPublicKey }).wrap(fileKey, header);
    expect(await hybridIdentity({ rsa: keys.encrypt, mlkem }).unwrap(stanza, header)).toEqual(fileKey);
  });
});
