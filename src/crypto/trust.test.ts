/**
 * Format v2's defences (issue 14, docs/FORMAT.md): the payload digest, the
 * MAC's binding of the signer key, the resumable draft, padded metadata,
 * key lists and rotation statements. Each attack test fails if its defence
 * is removed (checked by breaking the code once; see the commit message).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ByteReader, ByteWriter, concatBytes, toBytes } from './bytes.ts';
import { MalformedError, TamperedError, UnsupportedVersionError } from './errors.ts';
import { P256_SPKI_LENGTH, importVerifyKey } from './fingerprint.ts';
import { MAX_PLAINTEXT_SIZE, labelled } from './format.ts';
import {
  KEY_KIND_ECDSA_P256,
  KEY_KIND_RSA_OAEP,
  assemblePublicIdentity,
  exportPublicIdentity,
  generateIdentityKeys,
  importPublicIdentity,
  type IdentityKeys,
} from './identity.ts';
import { finishManifest, openDraft, openManifest, parseManifest, sealDraft, type ManifestSigner } from './manifest.ts';
import { decodeMetadata, encodeMetadata } from './metadata.ts';
import { PayloadHasher, PayloadVerifier, payloadDigestFromSegmentDigests, segmentDigest } from './payload-digest.ts';
import { linkSecretIdentity, linkSecretRecipient, newLinkSecret } from './recipients.ts';
import { signRotation, verifyRotation } from './rotation.ts';
import { createOpenStream, createSealStream, decryptSegment, encryptSegment, sealedSize, segmentCount } from './stream.ts';
import { sealForTest } from './test-seal.ts';
import { pattern, readAll, streamOf } from './test-streams.ts';

const FILE_ID = '00112233445566778899aabbccddeeff';
const S = 1024;
const ECDSA_SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;

let owner: ManifestSigner;
let mallory: ManifestSigner;
const secret = newLinkSecret();
const link = linkSecretIdentity(secret);

beforeAll(async () => {
  const gen = (): Promise<CryptoKeyPair> => crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
  [owner, mallory] = await Promise.all([gen(), gen()]);
});

/** Returns the payload cut into sealed segments. */
function segmentsOf(payload: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < payload.length; at += S + 16) out.push(payload.subarray(at, at + S + 16));
  return out;
}

describe('payload substitution by someone holding the file key', () => {
  it('is refused at the end of the stream by the payload digest, before the final plaintext', async () => {
    const plain = pattern(3 * S + 100);
    const sealed = await sealForTest({ fileId: FILE_ID, plaintext: plain, recipients: [linkSecretRecipient(secret)], signer: owner, segmentSize: S });
    // A recipient (link holder) opens the manifest, so has the content key…
    const opened = await openManifest(sealed.manifest, [link], { fileId: FILE_ID });
    // …and re-seals different content of the same length under it: every GCM tag is valid.
    const forged = pattern(plain.length).map((b) => b ^ 0x5a);
    const forgedPayload = await readAll(streamOf(forged, 4096).pipeThrough(createSealStream(opened.contentKey, S)));
    expect(forgedPayload.length).toBe(sealed.payload.length);
    const emitted: Uint8Array[] = [];
    const sink = new WritableStream<Uint8Array>({ write: (chunk) => void emitted.push(chunk) });
    const run = streamOf(forgedPayload, 777).pipeThrough(createOpenStream(opened.contentKey, S, opened)).pipeTo(sink);
    await expect(run).rejects.toThrow(TamperedError);
    // Segments before the last came out (GCM-authentic), the final one never did.
    expect(concatBytes(...emitted).length).toBe(3 * S);
    // The genuine payload still opens.
    const genuine = await readAll(streamOf(sealed.payload, 777).pipeThrough(createOpenStream(opened.contentKey, S, opened)));
    expect(genuine).toEqual(plain);
  });

  it('is refused by PayloadVerifier.finish for a ranged / resumed read, whose segments each pass GCM', async () => {
    const plain = pattern(2 * S + 1);
    const sealed = await sealForTest({ fileId: FILE_ID, plaintext: plain, recipients: [linkSecretRecipient(secret)], signer: owner, segmentSize: S });
    const opened = await openManifest(sealed.manifest, [link], { fileId: FILE_ID });
    const count = segmentCount(plain.length, S);
    const forged = await Promise.all(
      [0, 1, 2].map((i) => encryptSegment(opened.contentKey, i, i === count - 1, pattern(i === 2 ? 1 : S).map((b) => b ^ 1))),
    );
    const verifier = new PayloadVerifier(opened.payloadDigest, count);
    for (const [i, seg] of forged.entries()) {
      await decryptSegment(opened.contentKey, i, i === count - 1, seg); // passes: only the digest can tell
      await verifier.add(i, seg);
    }
    await expect(verifier.finish()).rejects.toThrow(TamperedError);

    // Resumed genuine download: segment 0's digest was kept from an earlier session.
    const genuine = segmentsOf(sealed.payload);
    const resumed = new PayloadVerifier(opened.payloadDigest, count);
    resumed.addDigest(0, await segmentDigest(genuine[0] ?? new Uint8Array(0)));
    expect(resumed.missing()).toEqual([1, 2]);
    await expect(resumed.finish()).rejects.toThrow(RangeError);
    await resumed.add(2, genuine[2] ?? new Uint8Array(0));
    await resumed.add(1, genuine[1] ?? new Uint8Array(0));
    await expect(resumed.finish()).resolves.toBeUndefined();
  });
});

describe('re-signing a manifest with another key', () => {
  it('is refused by the MAC: the signer key is bound to the file key', async () => {
    const sealed = await sealForTest({ fileId: FILE_ID, plaintext: pattern(10), recipients: [linkSecretRecipient(secret)], signer: owner });
    const m = parseManifest(sealed.manifest);
    // Mallory (no file key) swaps in her own key and signs: her signature is valid.
    const malloryKey = new Uint8Array(await crypto.subtle.exportKey('spki', mallory.publicKey));
    const macStart = m.macInput.length;
    const body = concatBytes(
      m.headerBytes,
      new ByteWriter().lp16(malloryKey).bytes(),
      toBytes(sealed.manifest).subarray(57 + 2 + P256_SPKI_LENGTH, macStart + 32),
    );
    const signature = new Uint8Array(await crypto.subtle.sign(ECDSA_SIGN, mallory.privateKey, labelled('sealdrop/v2/manifest', body)));
    const resigned = concatBytes(body, signature);
    expect(resigned.length).toBe(sealed.manifest.length);
    await expect(openManifest(resigned, [link], { fileId: FILE_ID })).rejects.toThrow(TamperedError);
    // Without the MAC binding this would open as "signed by Mallory": the signature itself verifies.
    const parsed = parseManifest(resigned);
    const key = await importVerifyKey(parsed.signerSpki);
    expect(await crypto.subtle.verify(ECDSA_SIGN, key, parsed.signature, labelled('sealdrop/v2/manifest', parsed.signedBytes))).toBe(true);
  });

  it('a hybrid-form (0x06/0x07) signer key is refused even though some WebCrypto imports it', async () => {
    const spki = new Uint8Array(await crypto.subtle.exportKey('spki', owner.publicKey));
    const hybrid = spki.slice();
    hybrid[26] = 0x06 | ((spki[90] ?? 0) & 1);
    await expect(importVerifyKey(hybrid)).rejects.toThrow(MalformedError);
  });
});

describe('the draft: sealing split around the payload, resumable', () => {
  it('seal draft → reopen with the owner’s identity → seal payload → finish → open', async () => {
    const meta = { name: 'résumé.pdf', type: 'application/pdf', size: 5 * S + 3, lastModified: 7 };
    const d = await sealDraft({ fileId: FILE_ID, metadata: meta, recipients: [linkSecretRecipient(secret)], segmentSize: S });
    expect(d.segmentSize).toBe(S);
    const again = await openDraft(d.draft, [link], { fileId: FILE_ID });
    expect(again.metadata).toEqual(meta);
    expect(again.manifestLength).toBe(d.manifestLength);
    // Blocks of segments sealed out of order with the original key, hashed by index.
    const plain = pattern(meta.size);
    const count = segmentCount(meta.size, S);
    const hasher = new PayloadHasher();
    const sealedSegs: Uint8Array[] = [];
    for (const i of [3, 0, 5, 1, 4, 2]) {
      const seg = await encryptSegment(d.contentKey, i, i === count - 1, plain.subarray(i * S, (i + 1) * S));
      sealedSegs[i] = seg;
      await hasher.add(i, seg);
    }
    const digest = await hasher.digest();
    expect(digest).toEqual(await payloadDigestFromSegmentDigests(await Promise.all(sealedSegs.map(segmentDigest))));
    // Finished with the reopened draft's MAC key.
    const manifest = await finishManifest(again, { payloadDigest: digest, signer: owner });
    expect(manifest.length).toBe(d.manifestLength);
    const opened = await openManifest(manifest, [link], { fileId: FILE_ID });
    expect(opened.payloadDigest).toEqual(digest);
    const out = await readAll(streamOf(concatBytes(...sealedSegs), 999).pipeThrough(createOpenStream(opened.contentKey, S, opened)));
    expect(out).toEqual(plain);
  });

  it('a tampered draft, a draft of another file, and a missing segment digest are refused', async () => {
    const d = await sealDraft({ fileId: FILE_ID, metadata: { name: 'a', type: '', size: 0, lastModified: 0 }, recipients: [linkSecretRecipient(secret)] });
    const bad = d.draft.slice();
    bad[bad.length - 1] = (bad[bad.length - 1] ?? 0) ^ 1;
    await expect(openDraft(bad, [link], { fileId: FILE_ID })).rejects.toThrow(TamperedError);
    await expect(openDraft(d.draft, [link], { fileId: 'ff'.repeat(16) })).rejects.toThrow(TamperedError);
    const hasher = new PayloadHasher();
    hasher.addDigest(1, new Uint8Array(32));
    await expect(hasher.digest()).rejects.toThrow(RangeError);
  });
});

describe('padded metadata', () => {
  it('is a multiple of 256 bytes with zero padding; non-zero padding and a repeated tag are malformed', () => {
    const encoded = encodeMetadata({ name: 'x', type: '', size: 1, lastModified: 0 });
    expect(encoded.length).toBe(256);
    expect(decodeMetadata(encoded).name).toBe('x');
    const dirty = encoded.slice();
    dirty[255] = 1;
    expect(() => decodeMetadata(dirty)).toThrow(MalformedError);
    expect(() => decodeMetadata(encoded.subarray(0, 255))).toThrow(MalformedError);
    const repeated = encoded.slice();
    repeated.set([1, 0, 1, 0x78], 4); // after name "x": another tag 1
    expect(() => decodeMetadata(repeated)).toThrow(MalformedError);
    // Exactly 255 bytes of fields still get a terminating zero: 512 bytes in all.
    const name = 'n'.repeat(255 - 3 - 3 - 11 - 11);
    expect(encodeMetadata({ name, type: '', size: 0, lastModified: 0 }).length).toBe(256);
    expect(encodeMetadata({ name: name + 'n', type: '', size: 0, lastModified: 0 }).length).toBe(512);
  });

  it('sizes: MAX_PLAINTEXT_SIZE seals to a safe integer; one byte more is refused', () => {
    expect(sealedSize(MAX_PLAINTEXT_SIZE, 1024)).toBe(Number.MAX_SAFE_INTEGER);
    expect(() => sealedSize(MAX_PLAINTEXT_SIZE + 1, 1024)).toThrow(RangeError);
    expect(() => encodeMetadata({ name: '', type: '', size: MAX_PLAINTEXT_SIZE + 1, lastModified: 0 })).toThrow(RangeError);
  });
});

describe('key lists and rotation', () => {
  let keys: IdentityKeys;
  let next: IdentityKeys;
  beforeAll(async () => {
    [keys, next] = await Promise.all([generateIdentityKeys(), generateIdentityKeys()]);
  }, 60_000);

  it('a public identity with an unknown key kind is accepted; the kind is skipped but signed', async () => {
    const rsaSpki = new Uint8Array(await crypto.subtle.exportKey('spki', keys.encrypt.publicKey));
    const ecSpki = new Uint8Array(await crypto.subtle.exportKey('spki', keys.sign.publicKey));
    const entries = [
      { kind: KEY_KIND_RSA_OAEP, key: rsaSpki },
      { kind: KEY_KIND_ECDSA_P256, key: ecSpki },
      { kind: 9, key: new Uint8Array(1184).fill(7) },
    ];
    const pub = await assemblePublicIdentity(entries, keys.sign.privateKey);
    const imported = await importPublicIdentity(pub);
    expect(imported.skippedKinds).toEqual([9]);
    const edited = pub.slice();
    edited[pub.length - 64 - 10] = 8; // inside the unknown key
    await expect(importPublicIdentity(edited)).rejects.toThrow(TamperedError);
    const onlySigning = await assemblePublicIdentity([entries[1] ?? entries[0]!], keys.sign.privateKey);
    await expect(importPublicIdentity(onlySigning)).rejects.toThrow(MalformedError);
  });

  it('a rotation statement verifies from old to new, and nothing else', async () => {
    const oldPub = await exportPublicIdentity(keys);
    const newPub = await exportPublicIdentity(next);
    const statement = await signRotation({ oldIdentity: oldPub, newIdentity: newPub, oldSigningKey: keys.sign.privateKey });
    expect(statement.length).toBe(133);
    const result = await verifyRotation(statement, oldPub, newPub);
    expect(result.newFingerprint).not.toBe(result.oldFingerprint);
    await expect(verifyRotation(statement, newPub, oldPub)).rejects.toThrow(TamperedError);
    const third = await exportPublicIdentity(await generateIdentityKeys());
    await expect(verifyRotation(statement, oldPub, third)).rejects.toThrow(TamperedError);
    // Signed by the NEW key (someone who only stole the account): refused.
    await expect(signRotation({ oldIdentity: oldPub, newIdentity: newPub, oldSigningKey: next.sign.privateKey })).rejects.toThrow(RangeError);
    const r = new ByteReader(statement);
    const body = r.take(69);
    const forged = concatBytes(body, new Uint8Array(await crypto.subtle.sign(ECDSA_SIGN, next.sign.privateKey, labelled('sealdrop/v2/rotation', body))));
    await expect(verifyRotation(forged, oldPub, newPub)).rejects.toThrow(TamperedError);
    const v1 = statement.slice();
    v1[4] = 1;
    await expect(verifyRotation(v1, oldPub, newPub)).rejects.toThrow(UnsupportedVersionError);
    await expect(verifyRotation(statement.subarray(0, 132), oldPub, newPub)).rejects.toThrow(MalformedError);
  }, 60_000);
});
