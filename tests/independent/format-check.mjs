// Independent Sealdrop v1 format checker, written only from docs/FORMAT.md
// and the vectors in src/crypto/vectors/v1.json. Uses node:crypto only.
// Covers every v1.json section, including negative[] (each case with its exact error class).
// Run: node tests/independent/format-check.mjs
import crypto from 'node:crypto';
import fs from 'node:fs';

const V = JSON.parse(fs.readFileSync(new URL('../../src/crypto/vectors/v1.json', import.meta.url), 'utf8'));
const hex = (s) => Buffer.from(s, 'hex');
const toHex = (b) => Buffer.from(b).toString('hex');
const cat = (...bs) => Buffer.concat(bs.map((b) => Buffer.from(b)));
const u8 = (n) => Buffer.from([n]);
const u16 = (n) => { const b = Buffer.alloc(2); b.writeUInt16BE(n); return b; };
const u32 = (n) => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; };
const lp16 = (x) => cat(u16(x.length), x);
const ascii = (s) => Buffer.from(s, 'utf8');
/** §1: a writer MUST NOT write text with no UTF-8 form (lone surrogate) → RangeError */
function utf8Encode(s) {
  if (!s.isWellFormed()) throw new RangeError('text has no UTF-8 form');
  return Buffer.from(s, 'utf8');
}
const labelled = (L, ...X) => cat(ascii(L), u8(0), ...X);

// ---------------------------------------------------------------- errors (§12)
class SdError extends Error { constructor(m) { super(m); this.name = this.constructor.name; } }
class MalformedError extends SdError {}
class UnsupportedVersionError extends SdError {}
class TamperedError extends SdError {}
class TruncatedError extends SdError {}
class WrongKeyError extends SdError {}
class WrongPassphraseError extends SdError {}
class KdfParamsTooHighError extends SdError {}

// ---------------------------------------------------------------- strict reader (§1)
class Reader {
  constructor(b) { this.b = Buffer.from(b); this.o = 0; }
  take(n) {
    if (this.o + n > this.b.length) throw new MalformedError('structure ends early');
    const s = this.b.subarray(this.o, this.o + n); this.o += n; return s;
  }
  u8() { return this.take(1)[0]; }
  u16() { return this.take(2).readUInt16BE(0); }
  u32() { return this.take(4).readUInt32BE(0); }
  lp16() { return this.take(this.u16()); }
  get rest() { return this.b.length - this.o; }
  end() { if (this.o !== this.b.length) throw new MalformedError('bytes after end'); }
}
function readI64(b) {
  if (b.length !== 8) throw new MalformedError('i64 length');
  const v = b.readBigInt64BE(0);
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) throw new MalformedError('i64 outside safe range');
  return Number(v);
}
const utf8Fatal = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
function readText(b, max) {
  if (b.length > max) throw new MalformedError('text too long');
  try { return utf8Fatal.decode(b); } catch { throw new MalformedError('invalid UTF-8'); }
}

// ---------------------------------------------------------------- primitives (§2)
function gcmSeal(key, nonce, pt, aad = Buffer.alloc(0)) {
  const c = crypto.createCipheriv('aes-256-gcm', key, nonce, { authTagLength: 16 });
  c.setAAD(aad);
  return cat(c.update(pt), c.final(), c.getAuthTag());
}
/** returns plaintext Buffer, or null when authentication fails */
function gcmOpen(key, nonce, ctTag, aad = Buffer.alloc(0)) {
  if (ctTag.length < 16) return null;
  try {
    const d = crypto.createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: 16 });
    d.setAAD(aad);
    d.setAuthTag(ctTag.subarray(ctTag.length - 16));
    return cat(d.update(ctTag.subarray(0, ctTag.length - 16)), d.final());
  } catch { return null; }
}
const hkdf = (ikm, salt, info) => Buffer.from(crypto.hkdfSync('sha256', ikm, salt, info, 32));
const hmac = (k, m) => crypto.createHmac('sha256', k).update(m).digest();
const sha256 = (m) => crypto.createHash('sha256').update(m).digest();

// ---------------------------------------------------------------- top-level parse order (§1)
function checkMagicVersion(b, magic) {
  if (b.length < 4 || !b.subarray(0, 4).equals(ascii(magic))) throw new MalformedError('wrong magic');
  if (b.length < 5) throw new MalformedError('no version byte');
  if (b[4] !== 1) throw new UnsupportedVersionError('version');
}

// ---------------------------------------------------------------- header (§3.1)
const HEADER_LEN = 57;
function parseHeader(b) {
  // §1 parse order: magic (malformed), version byte present (malformed), version (unsupported, whatever follows),
  // then the fields left to right; the segment size is range-checked when read (§3.1).
  checkMagicVersion(b, 'SDRP');
  const r = new Reader(b);
  r.take(5);
  const segmentSize = r.u32();
  if (segmentSize < 1024 || segmentSize > 16777216) throw new MalformedError('segment size');
  const fileId = r.take(16);
  const salt = r.take(32);
  return { raw: Buffer.from(b.subarray(0, HEADER_LEN)), segmentSize, fileId: Buffer.from(fileId), salt: Buffer.from(salt) };
}
function buildHeader(S, fileId, salt) { return cat(ascii('SDRP'), u8(1), u32(S), fileId, salt); }

// ---------------------------------------------------------------- sub-keys (§4)
const subkey = (fileKey, header, L) => hkdf(fileKey, header.subarray(25, 57), labelled(L, header));

// ---------------------------------------------------------------- STREAM (§5)
function streamNonce(i, final) {
  const n = Buffer.alloc(12);
  let v = BigInt(i);
  if (v < 0n || v >= 2n ** 53n) throw new RangeError('segment index'); // §5.2: argument error
  for (let k = 10; k >= 0; k--) { n[k] = Number(v & 0xffn); v >>= 8n; }
  n[11] = final ? 1 : 0;
  return n;
}
const sealSegment = (key, i, final, pt) => gcmSeal(key, streamNonce(i, final), pt);
const openSegment = (key, i, final, sealed) => gcmOpen(key, streamNonce(i, final), sealed);
const count = (n, S) => Math.max(1, Math.ceil(n / S));
const sealedSize = (n, S) => n + 16 * count(n, S);
function plainSize(m, S) {
  const c = Math.ceil(m / (S + 16));
  const r = m - (c - 1) * (S + 16);
  if (m < 16 || r < 16 || (r === 16 && c > 1)) throw new MalformedError('impossible payload size');
  return m - 16 * c;
}
function sealPayload(key, S, pt) {
  const c = count(pt.length, S); const out = [];
  for (let i = 0; i < c; i++) out.push(sealSegment(key, i, i === c - 1, pt.subarray(i * S, Math.min(pt.length, (i + 1) * S))));
  return cat(...out);
}
/** §5.4 streaming reader with one segment of look-ahead. chunks: iterable of Buffers. */
function openPayloadStream(key, S, chunks) {
  const out = []; let buf = Buffer.alloc(0); let i = 0; const full = S + 16;
  for (const ch of chunks) {
    buf = cat(buf, ch);
    while (buf.length > full) { // a full segment plus at least one more byte → non-final
      const pt = openSegment(key, i, false, buf.subarray(0, full));
      if (!pt) throw new TamperedError(`segment ${i} fails`);
      out.push(pt); buf = buf.subarray(full); i++;
    }
  }
  if (buf.length < 16) throw new TruncatedError(buf.length === 0 && i === 0 ? 'empty input' : 'ends early');
  const pt = openSegment(key, i, true, buf);
  if (!pt) {
    if (buf.length === full && openSegment(key, i, false, buf)) throw new TruncatedError('final segment missing');
    throw new TamperedError(`final segment ${i} fails`);
  }
  if (pt.length === 0 && i > 0) throw new TamperedError('empty final segment after others');
  out.push(pt);
  return cat(...out);
}
function* chunked(b, sizes) { let o = 0, k = 0; while (o < b.length) { const n = sizes[k++ % sizes.length]; yield b.subarray(o, o + n); o += n; } }

// ---------------------------------------------------------------- KDF block (§6)
const MiB = 1024 * 1024;
function parseKdf(r) {
  const id = r.u8();
  if (id === 1) {
    const salt = Buffer.from(r.take(32)); const logN = r.u8(), rr = r.u8(), p = r.u8();
    // §6.2: (1) weak/invalid → malformed, (2) over a cap → too high; exact integers (BigInt)
    if (logN < 10 || rr < 1 || p < 1) throw new MalformedError('weak scrypt parameters');
    const mem = 128n * (1n << BigInt(logN)) * BigInt(rr);
    if (logN > 20 || rr > 16 || p > 4 || mem > 1n << 28n || mem * BigInt(p) > 1n << 29n) throw new KdfParamsTooHighError('KDF parameters too high');
    return { id, salt, logN, r: rr, p, raw: null };
  }
  if (id === 2) {
    const salt = Buffer.from(r.take(32)); const iterations = r.u32();
    if (iterations < 600_000) throw new MalformedError('weak PBKDF2 parameters');
    if (iterations > 10_000_000) throw new KdfParamsTooHighError('KDF parameters too high');
    return { id, salt, iterations };
  }
  throw new UnsupportedVersionError('unknown KDF id');
}
function deriveKek(kdf, passphrase) {
  // callers check the empty passphrase (reader: WrongPassphrase before the KDF; writer: RangeError)
  const pw = utf8Encode(passphrase.normalize('NFC'));
  if (kdf.id === 1) {
    const N = 2 ** kdf.logN;
    return crypto.scryptSync(pw, kdf.salt, 32, { N, r: kdf.r, p: kdf.p, maxmem: 128 * N * kdf.r + 2 * MiB });
  }
  return crypto.pbkdf2Sync(pw, kdf.salt, kdf.iterations, 32, 'sha256');
}

// ---------------------------------------------------------------- envelopes (§7)
function rsaIdentity(pkcs8) {
  const key = crypto.createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
  const modLen = key.asymmetricKeyDetails.modulusLength / 8;
  return {
    kind: 'rsa',
    unwrap(typeId, body, header) {
      if (typeId !== 1 || body.length !== modLen) return null;
      let m;
      try {
        m = crypto.privateDecrypt({ key, padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', oaepLabel: labelled('sealdrop/v1/rsa-oaep', header) }, body);
      } catch { return null; }
      if (m.length !== 32) throw new MalformedError('RSA envelope does not hold 32 bytes');
      return m;
    },
  };
}
function passphraseIdentity(passphrase) {
  return {
    kind: 'passphrase',
    unwrap(typeId, body, header) {
      if (typeId !== 2) return null;
      // §7.2, left to right: KDF id, rest of block, parameter checks, exactly 60 bytes, empty passphrase, KDF, tag
      const r = new Reader(body);
      const kdf = parseKdf(r); // before any work
      if (r.rest !== 60) throw new MalformedError('passphrase envelope length');
      const nonce = r.take(12); const ct = r.take(48);
      if (passphrase.length === 0) throw new WrongPassphraseError('empty passphrase');
      const kek = deriveKek(kdf, passphrase);
      const fk = gcmOpen(kek, nonce, ct, labelled('sealdrop/v1/passphrase', header));
      if (!fk) throw new WrongPassphraseError('wrong passphrase');
      return fk;
    },
  };
}
function linkIdentity(secret) {
  return {
    kind: 'link',
    unwrap(typeId, body, header) {
      if (typeId !== 3) return null;
      if (body.length !== 60) throw new MalformedError('link envelope length');
      const linkKey = hkdf(secret, Buffer.alloc(0), labelled('sealdrop/v1/link-secret'));
      return gcmOpen(linkKey, body.subarray(0, 12), body.subarray(12), labelled('sealdrop/v1/link-secret', header)); // null = not mine
    },
  };
}
// §7.4: identities outer, envelopes inner; first key wins; else first thrown error; else WrongKey.
function unwrapAny(envelopes, header, identities) {
  let firstErr = null;
  for (const id of identities) for (const env of envelopes) {
    try { const k = id.unwrap(env.typeId, env.body, header); if (k) return k; } catch (e) { if (!firstErr) firstErr = e; }
  }
  throw firstErr ?? new WrongKeyError('no key of yours opens this file');
}

// writers (§6.1, §6.2, §7.2): refuse an empty passphrase (RangeError) and parameters a reader would refuse
function passphraseRecipientBody(passphrase, kdfBlock, nonce, fileKey, header) {
  if (passphrase.length === 0) throw new RangeError('empty passphrase');
  const kdf = parseKdf(new Reader(kdfBlock));
  return cat(kdfBlock, nonce, gcmSeal(deriveKek(kdf, passphrase), nonce, fileKey, labelled('sealdrop/v1/passphrase', header)));
}
function rsaRecipientBody(spki, fileKey, header) {
  let pub;
  try { pub = importRsaSpki(spki); } catch { throw new RangeError('RSA key outside §2'); }
  return crypto.publicEncrypt({ key: pub, padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', oaepLabel: labelled('sealdrop/v1/rsa-oaep', header) }, fileKey);
}

// ---------------------------------------------------------------- metadata (§8)
function parseMetadata(b) {
  const r = new Reader(b); const m = {}; let last = 0;
  while (r.rest > 0) {
    const tag = r.u8(); const len = r.u16(); const v = r.take(len);
    if (tag < 1 || tag > 5) throw new MalformedError('unknown metadata tag');
    if (tag <= last) throw new MalformedError('repeated or out-of-order tag');
    last = tag;
    if (tag === 1) m.name = readText(v, 1024);
    if (tag === 2) m.type = readText(v, 255);
    if (tag === 3) { m.size = readI64(v); if (m.size < 0) throw new MalformedError('negative size'); }
    if (tag === 4) m.lastModified = readI64(v);
    if (tag === 5) m.relativePath = readText(v, 4096);
  }
  for (const k of ['name', 'type', 'size', 'lastModified']) if (!(k in m)) throw new MalformedError('missing ' + k);
  return m;
}
function encodeMetadata(m) {
  const f = (t, v) => cat(u8(t), lp16(v));
  const i64 = (n) => { const b = Buffer.alloc(8); b.writeBigInt64BE(BigInt(n)); return b; };
  return cat(f(1, utf8Encode(m.name)), f(2, utf8Encode(m.type)), f(3, i64(m.size)), f(4, i64(m.lastModified)), ...(m.relativePath !== undefined ? [f(5, utf8Encode(m.relativePath))] : []));
}

// ---------------------------------------------------------------- manifest (§9)
function parseManifest(bytes) {
  const header = parseHeader(bytes);
  const r = new Reader(bytes); r.take(HEADER_LEN);
  const sealedMetadata = Buffer.from(r.lp16());
  if (sealedMetadata.length < 28) throw new MalformedError('metadata too short');
  const n = r.u16();
  if (n < 1 || n > 64) throw new MalformedError('envelope count');
  const envelopes = [];
  for (let k = 0; k < n; k++) { const typeId = r.u8(); envelopes.push({ typeId, body: Buffer.from(r.lp16()) }); }
  if (envelopes.filter((e) => e.typeId === 2).length > 1) throw new MalformedError('more than one passphrase envelope');
  const macEnd = r.o;
  const mac = Buffer.from(r.take(32));
  const signerSpki = Buffer.from(r.lp16());
  const signedEnd = r.o;
  const signature = Buffer.from(r.take(64));
  r.end();
  return { header, sealedMetadata, envelopes, mac, macInput: bytes.subarray(0, macEnd), signerSpki, signedInput: bytes.subarray(0, signedEnd), signature };
}
// §2 ECDSA public keys: exactly 91 bytes = fixed 27-byte prefix ‖ X ‖ Y, a point on P-256. Anything else → MalformedError
// (callers re-class: the manifest signer → TamperedError, §9.1 step 2).
const EC_SPKI_PREFIX = hex('3059301306072a8648ce3d020106082a8648ce3d030107034200' + '04');
const P256 = { p: 2n ** 256n - 2n ** 224n + 2n ** 192n + 2n ** 96n - 1n, b: BigInt('0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b') };
function onP256(x, y) {
  const { p, b } = P256; if (x >= p || y >= p) return false;
  return (y * y - (x * x * x - 3n * x + b)) % p === 0n;
}
function importEcdsaSpki(spki) {
  if (spki.length !== 91 || !spki.subarray(0, 27).equals(EC_SPKI_PREFIX)) throw new MalformedError('ECDSA key is not the 91-byte P-256 SPKI');
  const x = BigInt('0x' + toHex(spki.subarray(27, 59))), y = BigInt('0x' + toHex(spki.subarray(59, 91)));
  if (!onP256(x, y)) throw new MalformedError('ECDSA point not on P-256');
  let k;
  try { k = crypto.createPublicKey({ key: spki, format: 'der', type: 'spki' }); } catch { throw new MalformedError('ECDSA SPKI does not import'); }
  if (k.asymmetricKeyType !== 'ec' || k.asymmetricKeyDetails.namedCurve !== 'prime256v1') throw new MalformedError('not P-256');
  return k;
}
// §2 RSA keys: canonical rsaEncryption SPKI (re-export identical), 3072–4096 bits, multiple of 8, e = 65537 → else MalformedError
function importRsaSpki(spki) {
  let k;
  try { k = crypto.createPublicKey({ key: spki, format: 'der', type: 'spki' }); } catch { throw new MalformedError('RSA SPKI does not import'); }
  if (k.asymmetricKeyType !== 'rsa') throw new MalformedError('not an rsaEncryption key');
  if (!k.export({ format: 'der', type: 'spki' }).equals(spki)) throw new MalformedError('RSA SPKI not canonical');
  const bits = k.asymmetricKeyDetails.modulusLength;
  if (bits < 3072 || bits > 4096 || bits % 8 !== 0) throw new MalformedError('RSA modulus size');
  if (BigInt(k.asymmetricKeyDetails.publicExponent) !== 65537n) throw new MalformedError('RSA exponent');
  return k;
}
const ecdsaVerify = (pub, msg, sig) => crypto.verify('sha256', msg, { key: pub, dsaEncoding: 'ieee-p1363' }, sig);
const ecdsaSign = (pkcs8, msg) => crypto.sign('sha256', msg, { key: crypto.createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }), dsaEncoding: 'ieee-p1363' });
function openManifest(bytes, { fileIdHex, identities }) {
  if (typeof fileIdHex !== 'string' || !/^[0-9a-f]{32}$/.test(fileIdHex)) throw new RangeError('expected fileId is not canonical'); // §9.1 step 0
  const m = parseManifest(bytes);
  let pub;
  try { pub = importEcdsaSpki(m.signerSpki); } catch (e) { if (e instanceof MalformedError) throw new TamperedError('signer key unusable'); throw e; }
  if (!ecdsaVerify(pub, labelled('sealdrop/v1/manifest', m.signedInput), m.signature)) throw new TamperedError('signature');
  if (toHex(m.header.fileId) !== fileIdHex) throw new TamperedError('fileId mismatch');
  const fileKey = unwrapAny(m.envelopes, m.header.raw, identities);
  const macKey = subkey(fileKey, m.header.raw, 'sealdrop/v1/header-mac');
  if (!crypto.timingSafeEqual(hmac(macKey, m.macInput), m.mac)) throw new TamperedError('MAC');
  const metaKey = subkey(fileKey, m.header.raw, 'sealdrop/v1/metadata');
  const enc = gcmOpen(metaKey, m.sealedMetadata.subarray(0, 12), m.sealedMetadata.subarray(12), m.header.raw);
  if (!enc) throw new TamperedError('metadata');
  const metadata = parseMetadata(enc);
  return { ...m, fileKey, metadata, contentKey: subkey(fileKey, m.header.raw, 'sealdrop/v1/content'), signerFingerprint: fingerprint(m.signerSpki) };
}
function buildManifest({ header, sealedMetadata, envelopes, fileKey, signerSpki, signerPkcs8 }) {
  const body = cat(header, lp16(sealedMetadata), u16(envelopes.length), ...envelopes.map((e) => cat(u8(e.typeId), lp16(e.body))));
  const mac = hmac(subkey(fileKey, header, 'sealdrop/v1/header-mac'), body);
  const signed = cat(body, mac, lp16(signerSpki));
  return cat(signed, ecdsaSign(signerPkcs8, labelled('sealdrop/v1/manifest', signed)));
}

// ---------------------------------------------------------------- identity (§10)
function rawPoint(spki) {
  const jwk = crypto.createPublicKey({ key: spki, format: 'der', type: 'spki' }).export({ format: 'jwk' });
  return cat(u8(4), Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url'));
}
function fingerprint(ecSpki) {
  const d = sha256(labelled('sealdrop/v1/fingerprint', rawPoint(ecSpki)));
  const g = [];
  for (let k = 0; k < 8; k++) g.push(String(d.readUInt32BE(4 * k) % 100000).padStart(5, '0'));
  return g.join(' ');
}
function parsePublicIdentity(b) {
  // §10.1 order: strict parse → signing key form (malformed) → self-signature (tampered) → RSA key (malformed)
  checkMagicVersion(b, 'SDPI');
  const r = new Reader(b); r.take(5);
  const encSpki = Buffer.from(r.lp16()); const sigSpki = Buffer.from(r.lp16());
  const signed = b.subarray(0, r.o); const sig = r.take(64); r.end();
  const ec = importEcdsaSpki(sigSpki);
  if (!ecdsaVerify(ec, labelled('sealdrop/v1/public-identity', signed), sig)) throw new TamperedError('self-signature');
  const bits = importRsaSpki(encSpki).asymmetricKeyDetails.modulusLength;
  return { encSpki, sigSpki, bits, fingerprint: fingerprint(sigSpki) };
}

// ---------------------------------------------------------------- recovery kit (§11)
function parseBackup(b) {
  checkMagicVersion(b, 'SDBK');
  const r = new Reader(b); r.take(5);
  const kdf = parseKdf(r);
  const encSpki = Buffer.from(r.lp16()); const sigSpki = Buffer.from(r.lp16());
  const P = Buffer.from(b.subarray(0, r.o));
  const nonceE = Buffer.from(r.take(12)); const wrappedE = Buffer.from(r.lp16());
  const nonceS = Buffer.from(r.take(12)); const wrappedS = Buffer.from(r.lp16());
  r.end();
  return { kdf, encSpki, sigSpki, P, nonceE, wrappedE, nonceS, wrappedS };
}
function restoreBackup(b, passphrase) {
  // §11 order: strict parse (with KDF checks) → both public keys meet §2 → empty passphrase → KDF → tags → import → match
  const k = parseBackup(b);
  importRsaSpki(k.encSpki); importEcdsaSpki(k.sigSpki);
  if (passphrase.length === 0) throw new WrongPassphraseError('empty passphrase');
  const kek = deriveKek(k.kdf, passphrase);
  const rsaPkcs8 = gcmOpen(kek, k.nonceE, k.wrappedE, labelled('sealdrop/v1/backup/encrypt', k.P));
  const ecPkcs8 = gcmOpen(kek, k.nonceS, k.wrappedS, labelled('sealdrop/v1/backup/sign', k.P));
  if (!rsaPkcs8 || !ecPkcs8) throw new WrongPassphraseError('wrong passphrase');
  const imp = (pkcs8, type) => {
    let key;
    try { key = crypto.createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }); } catch { throw new MalformedError('PKCS#8 does not import'); }
    if (key.asymmetricKeyType !== type || (type === 'ec' && key.asymmetricKeyDetails.namedCurve !== 'prime256v1')) throw new MalformedError('PKCS#8 of the wrong kind');
    return key;
  };
  const pubOf = (key) => crypto.createPublicKey(key).export({ format: 'der', type: 'spki' });
  // a private key that does not match its public half → MalformedError (authentic but inconsistent)
  if (!pubOf(imp(rsaPkcs8, 'rsa')).equals(k.encSpki) || !pubOf(imp(ecPkcs8, 'ec')).equals(k.sigSpki)) throw new MalformedError('private key does not match public key');
  return { ...k, kek, rsaPkcs8, ecPkcs8 };
}

// ================================================================= checks
let passed = 0, failed = 0;
function check(name, fn) {
  let ok, note = '';
  try { const r = fn(); ok = r === true || r === undefined; if (typeof r === 'string') { ok = false; note = r; } }
  catch (e) { ok = false; note = `${e.name}: ${e.message}`; }
  if (ok) passed++; else failed++;
  console.log(`${ok ? 'PASS' : 'FAIL'}  ${name}${note ? '  -- ' + note : ''}`);
}
function eq(a, b) { const A = Buffer.isBuffer(a) ? toHex(a) : String(a); const B = Buffer.isBuffer(b) ? toHex(b) : String(b); if (A !== B) throw new Error(`mismatch: got ${A.slice(0, 80)} want ${B.slice(0, 80)}`); return true; }
function rejects(name, fn, Cls) {
  check(name, () => {
    try { fn(); } catch (e) { if (!Cls || e instanceof Cls) return true; return `threw ${e.name} (${e.message}), want ${Cls.name}`; }
    return 'did not reject';
  });
}

const KS = V.keySchedule;
const fileKey = hex(KS.fileKey), salt = hex(KS.salt), fileId = hex(KS.fileId);
const header = hex(KS.header);
const S = KS.segmentSize;

// --- §3.1 header
check('header: built from segmentSize/fileId/salt equals keySchedule.header', () => eq(buildHeader(S, fileId, salt), header));
check('header: 57 bytes, parses (magic, v1, S=1024, fileId, salt)', () => { const h = parseHeader(header); return header.length === 57 && h.segmentSize === 1024 && h.fileId.equals(fileId) && h.salt.equals(salt); });
check('header: doc example bytes match', () => eq(header, hex('534452500100000400' + '00112233445566778899aabbccddeeff' + Array.from({ length: 32 }, (_, i) => (0x80 + i).toString(16)).join(''))));
rejects('header: wrong magic → malformed', () => parseHeader(cat(ascii('SDRQ'), header.subarray(4))), MalformedError);
rejects('header: version 2 → unsupported', () => parseHeader(cat(header.subarray(0, 4), u8(2), header.subarray(5))), UnsupportedVersionError);
rejects('header: version 2 on a 5-byte input → unsupported (checked before anything else)', () => parseHeader(cat(ascii('SDRP'), u8(2))), UnsupportedVersionError);
rejects('header: segmentSize 1023 → malformed', () => parseHeader(buildHeader(1023, fileId, salt)), MalformedError);
rejects('header: segmentSize 16 MiB + 1 → malformed', () => parseHeader(buildHeader(16777217, fileId, salt)), MalformedError);
check('header: segmentSize 16 MiB accepted', () => parseHeader(buildHeader(16777216, fileId, salt)).segmentSize === 16777216);

// --- §4 sub-keys
check('subkey info for content is 77 bytes', () => labelled('sealdrop/v1/content', header).length === 77);
check('subkey sealdrop/v1/content = keySchedule.contentKey', () => eq(subkey(fileKey, header, 'sealdrop/v1/content'), hex(KS.contentKey)));
check('subkey sealdrop/v1/metadata = keySchedule.metadataKey', () => eq(subkey(fileKey, header, 'sealdrop/v1/metadata'), hex(KS.metadataKey)));
check('subkey sealdrop/v1/header-mac = keySchedule.headerMacKey', () => eq(subkey(fileKey, header, 'sealdrop/v1/header-mac'), hex(KS.headerMacKey)));
const contentKey = hex(KS.contentKey);

// --- §5 segments
check('nonce example: segment 1 non-final', () => eq(streamNonce(1, false), hex('000000000000000000000100')));
check('nonce example: segment 0 final', () => eq(streamNonce(0, true), hex('000000000000000000000001')));
V.segments.forEach((s, k) => {
  const pt = hex(s.plaintext), sealed = hex(s.sealed);
  check(`segments[${k}] (i=${s.index}, final=${s.final}, ${pt.length} B): seal reproduces vector`, () => eq(sealSegment(contentKey, s.index, s.final, pt), sealed));
  check(`segments[${k}]: opens to plaintext`, () => eq(openSegment(contentKey, s.index, s.final, sealed) ?? Buffer.from('null'), pt));
  check(`segments[${k}]: flipped final flag fails`, () => openSegment(contentKey, s.index, !s.final, sealed) === null);
  check(`segments[${k}]: wrong index (i+1) fails`, () => openSegment(contentKey, s.index + 1, s.final, sealed) === null);
  check(`segments[${k}]: plaintext follows "byte i = i mod 251"`, () => pt.every((b, i) => b === i % 251));
});
check('segments: index 70000 nonce is 00×8 01 11 70 ‖ 01', () => eq(streamNonce(70000, true), hex('0000000000000000' + '011170' + '01')));
rejects('segments: index 2^53 refused as an argument error (RangeError)', () => streamNonce(2 ** 53, true), RangeError);
check('segments: index 2^53 − 1 accepted; nonce bytes 0–2 zero below 2^43', () => streamNonce(2 ** 53 - 1, false).length === 12 && streamNonce(2 ** 43 - 1, true).subarray(0, 3).equals(Buffer.alloc(3)));

// --- §5.3 sizes
check('sizes: doc examples sealedSize(0,1,1023,1024,1025) with S=1024', () => [0, 1, 1023, 1024, 1025].map((n) => sealedSize(n, 1024)).join() === '16,17,1039,1040,1057');
check('sizes: plainSize inverts sealedSize for n in 0..5000', () => { for (let n = 0; n <= 5000; n++) if (plainSize(sealedSize(n, 1024), 1024) !== n) return `n=${n}`; });
check('sizes: plainSize rejects exactly the impossible sizes m<16, r<16, (r=16,c>1)', () => {
  const possible = new Set(); for (let n = 0; n <= 6000; n++) possible.add(sealedSize(n, 1024));
  for (let m = 0; m <= 6000; m++) { let ok; try { plainSize(m, 1024); ok = true; } catch { ok = false; } if (ok !== possible.has(m)) return `m=${m}`; }
});

// --- §5 payloads
V.payloads.forEach((p, k) => {
  const pt = hex(p.plaintext), payload = hex(p.payload);
  check(`payloads[${k}] (${p.description}): seal reproduces vector`, () => eq(sealPayload(contentKey, p.segmentSize, pt), payload));
  check(`payloads[${k}]: length = sealedSize(n)`, () => payload.length === sealedSize(pt.length, p.segmentSize) && plainSize(payload.length, p.segmentSize) === pt.length);
  check(`payloads[${k}]: stream-opens (whole) to plaintext`, () => eq(openPayloadStream(contentKey, p.segmentSize, [payload]), pt));
  check(`payloads[${k}]: stream-opens (odd chunks 1/7/1040/333) to plaintext`, () => eq(openPayloadStream(contentKey, p.segmentSize, chunked(payload, [1, 7, 1040, 333])), pt));
  check(`payloads[${k}]: each segment decrypts alone (ranged read)`, () => {
    const c = count(pt.length, p.segmentSize), F = p.segmentSize + 16;
    for (let i = 0; i < c; i++) {
      const seg = payload.subarray(i * F, Math.min(payload.length, (i + 1) * F));
      const got = openSegment(contentKey, i, i === c - 1, seg);
      if (!got || !got.equals(pt.subarray(i * p.segmentSize, Math.min(pt.length, (i + 1) * p.segmentSize)))) return `segment ${i}`;
    }
  });
  check(`payloads[${k}]: plaintext follows "byte i = i mod 251"`, () => pt.every((b, i) => b === i % 251));
  rejects(`payloads[${k}]: one appended byte → tampered`, () => openPayloadStream(contentKey, p.segmentSize, [cat(payload, u8(0))]), TamperedError);
  rejects(`payloads[${k}]: last byte flipped → tampered`, () => { const b = Buffer.from(payload); b[b.length - 1] ^= 1; openPayloadStream(contentKey, p.segmentSize, [b]); }, TamperedError);
});
{
  const p3 = hex(V.payloads[1].payload), p2 = hex(V.payloads[2].payload), F = S + 16;
  check('payloads[1] segment 0 equals segments[0].sealed', () => eq(p3.subarray(0, F), hex(V.segments[0].sealed)));
  check('payloads[0] equals segments[2].sealed (empty final)', () => eq(hex(V.payloads[0].payload), hex(V.segments[2].sealed)));
  rejects('stream: payloads[2] minus its final segment (ends at boundary) → truncated', () => openPayloadStream(contentKey, S, [p2.subarray(0, F)]), TruncatedError);
  rejects('stream: payloads[1] minus its final segment → truncated', () => openPayloadStream(contentKey, S, [p3.subarray(0, 2 * F)]), TruncatedError);
  rejects('stream: empty input → truncated', () => openPayloadStream(contentKey, S, []), TruncatedError);
  rejects('stream: boundary + 15 bytes → truncated (as reference)', () => openPayloadStream(contentKey, S, [p3.subarray(0, F + 15)]), TruncatedError);
  rejects('stream: segments 0 and 1 swapped → tampered', () => openPayloadStream(contentKey, S, [cat(p3.subarray(F, 2 * F), p3.subarray(0, F), p3.subarray(2 * F))]), TamperedError);
  rejects('stream: segment 0 duplicated → tampered', () => openPayloadStream(contentKey, S, [cat(p3.subarray(0, F), p3.subarray(0, F), p3.subarray(F))]), TamperedError);
  rejects('stream: middle segment dropped → tampered', () => openPayloadStream(contentKey, S, [cat(p3.subarray(0, F), p3.subarray(2 * F))]), TamperedError);
  rejects('stream: crafted empty final segment at index 1 (valid tag) → tampered', () => openPayloadStream(contentKey, S, [cat(sealSegment(contentKey, 0, false, Buffer.alloc(S)), sealSegment(contentKey, 1, true, Buffer.alloc(0)))]), TamperedError);
  rejects('stream: payloads[2] + an empty final segment 2 → tampered', () => openPayloadStream(contentKey, S, [cat(p2, sealSegment(contentKey, 2, true, Buffer.alloc(0)))]), TamperedError);
  rejects('stream: payload under another content key → tampered', () => openPayloadStream(hex(KS.metadataKey), S, [p3]), TamperedError);
}

// --- §8 metadata
const MV = V.metadata;
check('metadata: encode(value) = metadata.encoded', () => eq(encodeMetadata(MV.value), hex(MV.encoded)));
check('metadata: parse(encoded) field by field', () => {
  const r = new Reader(hex(MV.encoded)); const seen = [];
  while (r.rest) { const t = r.u8(), l = r.u16(); r.take(l); seen.push(`${t}:${l}`); }
  const m = parseMetadata(hex(MV.encoded));
  if (seen.join() !== '1:34,2:15,3:8,4:8,5:47') return 'tags/lengths ' + seen.join();
  return m.name === MV.value.name && m.type === MV.value.type && m.size === MV.value.size && m.lastModified === MV.value.lastModified && m.relativePath === MV.value.relativePath;
});
check('metadata: seal(metadataKey, nonce, encoded, AAD=header) = metadata.sealed', () => eq(cat(hex(MV.nonce), gcmSeal(hex(KS.metadataKey), hex(MV.nonce), hex(MV.encoded), header)), hex(MV.sealed)));
check('metadata: sealed opens with AAD=raw header', () => eq(gcmOpen(hex(KS.metadataKey), hex(MV.nonce), hex(MV.sealed).subarray(12), header) ?? Buffer.alloc(0), hex(MV.encoded)));
check('metadata: labelled AAD does NOT open (AAD is unlabelled)', () => gcmOpen(hex(KS.metadataKey), hex(MV.nonce), hex(MV.sealed).subarray(12), labelled('sealdrop/v1/metadata', header)) === null);
{
  const f = (t, v) => cat(u8(t), lp16(v)); const i64 = (n) => { const b = Buffer.alloc(8); b.writeBigInt64BE(BigInt(n)); return b; };
  const base = [f(1, ascii('a')), f(2, ascii('')), f(3, i64(1)), f(4, i64(0))];
  check('metadata: minimal (empty type, no relativePath) accepted', () => parseMetadata(cat(...base)).type === '');
  check('metadata: negative lastModified accepted', () => parseMetadata(cat(base[0], base[1], base[2], f(4, i64(-1)))).lastModified === -1);
  rejects('metadata: unknown tag 6 → malformed', () => parseMetadata(cat(...base, f(6, ascii('x')))), MalformedError);
  rejects('metadata: out-of-order tags → malformed', () => parseMetadata(cat(base[1], base[0], base[2], base[3])), MalformedError);
  rejects('metadata: repeated tag → malformed', () => parseMetadata(cat(base[0], base[0], base[1], base[2], base[3])), MalformedError);
  rejects('metadata: missing lastModified → malformed', () => parseMetadata(cat(base[0], base[1], base[2])), MalformedError);
  rejects('metadata: size with length 7 → malformed', () => parseMetadata(cat(base[0], base[1], f(3, Buffer.alloc(7)), base[3])), MalformedError);
  rejects('metadata: negative size → malformed', () => parseMetadata(cat(base[0], base[1], f(3, i64(-1)), base[3])), MalformedError);
  rejects('metadata: size 2^53 → malformed (outside safe range)', () => parseMetadata(cat(base[0], base[1], f(3, i64(2n ** 53n)), base[3])), MalformedError);
  rejects('metadata: name 1025 bytes → malformed', () => parseMetadata(cat(f(1, Buffer.alloc(1025, 0x61)), base[1], base[2], base[3])), MalformedError);
  rejects('metadata: type 256 bytes → malformed', () => parseMetadata(cat(base[0], f(2, Buffer.alloc(256, 0x61)), base[2], base[3])), MalformedError);
  rejects('metadata: invalid UTF-8 name → malformed', () => parseMetadata(cat(f(1, hex('c328')), base[1], base[2], base[3])), MalformedError);
  rejects('metadata: truncated field → malformed', () => parseMetadata(cat(...base).subarray(0, 20)), MalformedError);
}

// --- §6 / §7 envelopes
const ST = V.stanzas;
check('link: HKDF info is 24 bytes (23 label bytes + 0x00)', () => labelled('sealdrop/v1/link-secret').length === 24);
check('link: seal reproduces stanzas.linkSecret.body', () => {
  const linkKey = hkdf(hex(ST.linkSecret.secret), Buffer.alloc(0), labelled('sealdrop/v1/link-secret'));
  return eq(cat(hex(ST.linkSecret.nonce), gcmSeal(linkKey, hex(ST.linkSecret.nonce), fileKey, labelled('sealdrop/v1/link-secret', header))), hex(ST.linkSecret.body));
});
check('link: HKDF empty salt = 32 zero bytes (same key)', () => eq(hkdf(hex(ST.linkSecret.secret), Buffer.alloc(0), labelled('sealdrop/v1/link-secret')), hkdf(hex(ST.linkSecret.secret), Buffer.alloc(32), labelled('sealdrop/v1/link-secret'))));
check('link: body is 60 bytes and opens to fileKey', () => eq(linkIdentity(hex(ST.linkSecret.secret)).unwrap(3, hex(ST.linkSecret.body), header) ?? Buffer.alloc(0), fileKey));
check('link: another secret → null (not mine)', () => linkIdentity(Buffer.alloc(32, 7)).unwrap(3, hex(ST.linkSecret.body), header) === null);
check('link: another header → null', () => linkIdentity(hex(ST.linkSecret.secret)).unwrap(3, hex(ST.linkSecret.body), buildHeader(S, Buffer.alloc(16), salt)) === null);
rejects('link: 59-byte body → broken (throws)', () => linkIdentity(hex(ST.linkSecret.secret)).unwrap(3, hex(ST.linkSecret.body).subarray(1), header), MalformedError);

const PS = ST.passphraseScrypt, PP = ST.passphrasePbkdf2;
check('scrypt: passphrase vector is non-ASCII', () => [...PS.passphrase].some((c) => c.codePointAt(0) > 0x7f));
check('scrypt: KDF block = 01‖salt‖logN‖r‖p (36 B) is body prefix', () => eq(hex(PS.body).subarray(0, 36), cat(u8(1), hex(PS.salt), u8(PS.logN), u8(PS.r), u8(PS.p))));
check('scrypt: KEK = scrypt(NFC(passphrase), salt, N=2^10, r=8, p=1)', () => eq(deriveKek(parseKdf(new Reader(hex(PS.body))), PS.passphrase), hex(PS.kek)));
check('scrypt: body = block‖nonce‖GCM(KEK, fileKey, AAD=labelled(passphrase, header)), 96 B', () => eq(cat(hex(PS.body).subarray(0, 36), hex(PS.nonce), gcmSeal(hex(PS.kek), hex(PS.nonce), fileKey, labelled('sealdrop/v1/passphrase', header))), hex(PS.body)) && hex(PS.body).length === 96);
check('scrypt: envelope opens to fileKey', () => eq(passphraseIdentity(PS.passphrase).unwrap(2, hex(PS.body), header), fileKey));
rejects('scrypt: wrong passphrase → WrongPassphrase', () => passphraseIdentity('nope').unwrap(2, hex(PS.body), header), WrongPassphraseError);
check('pbkdf2: KDF block = 02‖salt‖u32 iterations (37 B) is body prefix', () => eq(hex(PP.body).subarray(0, 37), cat(u8(2), hex(PP.salt), u32(PP.iterations))));
check('pbkdf2: KEK = PBKDF2-HMAC-SHA-256(NFC(passphrase), salt, 600000)', () => eq(deriveKek(parseKdf(new Reader(hex(PP.body))), PP.passphrase), hex(PP.kek)));
check('pbkdf2: body reproduces vector, 97 B', () => eq(cat(hex(PP.body).subarray(0, 37), hex(PP.nonce), gcmSeal(hex(PP.kek), hex(PP.nonce), fileKey, labelled('sealdrop/v1/passphrase', header))), hex(PP.body)) && hex(PP.body).length === 97);
check('pbkdf2: envelope opens to fileKey', () => eq(passphraseIdentity(PP.passphrase).unwrap(2, hex(PP.body), header), fileKey));
{
  const blk = (logN, r, p) => new Reader(cat(u8(1), Buffer.alloc(32), u8(logN), u8(r), u8(p)));
  const pb = (it) => new Reader(cat(u8(2), Buffer.alloc(32), u32(it)));
  rejects('kdf: scrypt logN 21 → too high', () => parseKdf(blk(21, 1, 1)), KdfParamsTooHighError);
  rejects('kdf: scrypt logN 19 r 8 (512 MiB mem) → too high', () => parseKdf(blk(19, 8, 1)), KdfParamsTooHighError);
  check('kdf: scrypt logN 18 r 8 p 1 (256 MiB mem, exactly the cap) accepted', () => parseKdf(blk(18, 8, 1)).logN === 18);
  rejects('kdf: scrypt logN 18 r 8 p 3 (work 768 MiB) → too high', () => parseKdf(blk(18, 8, 3)), KdfParamsTooHighError);
  rejects('kdf: scrypt r 17 → too high', () => parseKdf(blk(10, 17, 1)), KdfParamsTooHighError);
  rejects('kdf: scrypt p 5 → too high', () => parseKdf(blk(10, 8, 5)), KdfParamsTooHighError);
  rejects('kdf: scrypt logN 9 → malformed', () => parseKdf(blk(9, 8, 1)), MalformedError);
  rejects('kdf: scrypt r 0 → malformed', () => parseKdf(blk(10, 0, 1)), MalformedError);
  rejects('kdf: PBKDF2 599,999 → malformed', () => parseKdf(pb(599999)), MalformedError);
  rejects('kdf: PBKDF2 10,000,001 → too high', () => parseKdf(pb(10000001)), KdfParamsTooHighError);
  rejects('kdf: id 3 → unsupported', () => parseKdf(new Reader(cat(u8(3), Buffer.alloc(36)))), UnsupportedVersionError);
  rejects('passphrase envelope: over-cap params throw (before work)', () => passphraseIdentity('x').unwrap(2, cat(u8(1), Buffer.alloc(32), u8(25), u8(8), u8(1), Buffer.alloc(60)), header), KdfParamsTooHighError);
  rejects('passphrase reader: empty passphrase → WrongPassphrase', () => passphraseIdentity('').unwrap(2, hex(PS.body), header), WrongPassphraseError);
  rejects('passphrase reader: empty passphrase on an over-cap block → too high (KDF checks come first)', () => passphraseIdentity('').unwrap(2, cat(u8(1), Buffer.alloc(32), u8(21), u8(1), u8(1), Buffer.alloc(60)), header), KdfParamsTooHighError);
  rejects('passphrase reader: empty passphrase on a 95-byte body → malformed (length checked first)', () => passphraseIdentity('').unwrap(2, hex(PS.body).subarray(0, 95), header), MalformedError);
  rejects('passphrase writer: empty passphrase → RangeError', () => passphraseRecipientBody('', hex(PS.body).subarray(0, 36), hex(PS.nonce), fileKey, header), RangeError);
  rejects('passphrase writer: over-cap parameters refused with the reader\'s error', () => passphraseRecipientBody('x', cat(u8(2), Buffer.alloc(32), u32(10_000_001)), hex(PS.nonce), fileKey, header), KdfParamsTooHighError);
  check('passphrase writer: reproduces stanzas.passphraseScrypt.body', () => eq(passphraseRecipientBody(PS.passphrase, hex(PS.body).subarray(0, 36), hex(PS.nonce), fileKey, header), hex(PS.body)));
  rejects('kdf: scrypt logN 9 r 17 (weak AND over a cap) → malformed (weak checked first)', () => parseKdf(blk(9, 17, 1)), MalformedError);
  rejects('kdf: scrypt logN 9 p 5 (weak AND over a cap) → malformed', () => parseKdf(blk(9, 8, 5)), MalformedError);
  rejects('kdf: PBKDF2 0 iterations → malformed', () => parseKdf(pb(0)), MalformedError);
  check('kdf: scrypt logN 18 r 8 p 2 (exactly 512 MiB work) accepted', () => parseKdf(blk(18, 8, 2)).p === 2);
  check('kdf: scrypt logN 20 r 2 p 1 (exactly 256 MiB mem) accepted', () => parseKdf(blk(20, 2, 1)).logN === 20);
  rejects('kdf: scrypt logN 20 r 2 p 3 (work 768 MiB) → too high', () => parseKdf(blk(20, 2, 3)), KdfParamsTooHighError);
  rejects('kdf: scrypt logN 10 r 16 p 4 ok, logN 17 r 16 p 1 (256 MiB) ok, logN 17 r 16 p 3 → too high', () => { parseKdf(blk(10, 16, 4)); parseKdf(blk(17, 16, 1)); parseKdf(blk(17, 16, 3)); }, KdfParamsTooHighError);
  check('kdf: PBKDF2 10,000,000 accepted', () => parseKdf(pb(10_000_000)).iterations === 10_000_000);
  rejects('kdf: scrypt block cut short → malformed', () => parseKdf(new Reader(cat(u8(1), Buffer.alloc(34)))), MalformedError);
  check('passphrase: NFC normalisation applied (decomposed == composed)', () => eq(deriveKek(parseKdf(new Reader(hex(PS.body))), 'e\u0301'), deriveKek(parseKdf(new Reader(hex(PS.body))), '\u00e9')));
}

const K = V.keys;
const rsaId = rsaIdentity(hex(K.rsa.privateKeyPkcs8));
check('keys.rsa: 3072-bit, SPKI 422 B matches private key', () => {
  const priv = crypto.createPrivateKey({ key: hex(K.rsa.privateKeyPkcs8), format: 'der', type: 'pkcs8' });
  return priv.asymmetricKeyDetails.modulusLength === 3072 && hex(K.rsa.publicKeySpki).length === 422 && crypto.createPublicKey(priv).export({ format: 'der', type: 'spki' }).equals(hex(K.rsa.publicKeySpki));
});
check('keys.ecdsa: P-256, SPKI 91 B matches private key', () => {
  const priv = crypto.createPrivateKey({ key: hex(K.ecdsa.privateKeyPkcs8), format: 'der', type: 'pkcs8' });
  return priv.asymmetricKeyDetails.namedCurve === 'prime256v1' && hex(K.ecdsa.publicKeySpki).length === 91 && crypto.createPublicKey(priv).export({ format: 'der', type: 'spki' }).equals(hex(K.ecdsa.publicKeySpki));
});
check('rsa-oaep: body 384 B opens (SHA-256/MGF1-SHA-256, label 78 B) to fileKey', () => labelled('sealdrop/v1/rsa-oaep', header).length === 78 && hex(ST.rsaOaep.body).length === 384 && eq(rsaId.unwrap(1, hex(ST.rsaOaep.body), header), fileKey));
check('rsa-oaep: wrong label (other header) → null', () => rsaId.unwrap(1, hex(ST.rsaOaep.body), buildHeader(2048, fileId, salt)) === null);
check('rsa-oaep: 383-byte body → null (not mine)', () => rsaId.unwrap(1, hex(ST.rsaOaep.body).subarray(1), header) === null);
check('rsa-oaep: our own wrap round-trips', () => {
  const b = crypto.publicEncrypt({ key: crypto.createPublicKey({ key: hex(K.rsa.publicKeySpki), format: 'der', type: 'spki' }), padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', oaepLabel: labelled('sealdrop/v1/rsa-oaep', header) }, fileKey);
  return eq(rsaId.unwrap(1, b, header), fileKey);
});

// --- §9 manifest
const MB = hex(V.manifest.bytes);
const fileIdHex = KS.fileId;
const ids = { link: linkIdentity(hex(ST.linkSecret.secret)), pass: passphraseIdentity(PS.passphrase), rsa: rsaId };
check('manifest: parses strictly, field by field', () => {
  const r = new Reader(MB);
  eq(r.take(57), header);
  eq(r.lp16(), hex(MV.sealed));
  if (r.u16() !== 3) return 'count';
  const t1 = r.u8(); eq(r.lp16(), hex(ST.linkSecret.body));
  const t2 = r.u8(); eq(r.lp16(), hex(PS.body));
  const t3 = r.u8(); eq(r.lp16(), hex(ST.rsaOaep.body));
  if (`${t1}${t2}${t3}` !== '321') return 'typeIds ' + `${t1}${t2}${t3}`;
  r.take(32); eq(r.lp16(), hex(K.ecdsa.publicKeySpki)); r.take(64); r.end();
});
check('manifest: all but last 64 bytes reproduced from the other vectors', () => {
  const body = cat(header, lp16(hex(MV.sealed)), u16(3), u8(3), lp16(hex(ST.linkSecret.body)), u8(2), lp16(hex(PS.body)), u8(1), lp16(hex(ST.rsaOaep.body)));
  const mac = hmac(hex(KS.headerMacKey), body);
  return eq(cat(body, mac, lp16(hex(K.ecdsa.publicKeySpki))), MB.subarray(0, MB.length - 64));
});
check('manifest: signature verifies over labelled("sealdrop/v1/manifest", …signer)', () => { const m = parseManifest(MB); return ecdsaVerify(importEcdsaSpki(m.signerSpki), labelled('sealdrop/v1/manifest', m.signedInput), m.signature); });
check('manifest: signature does NOT verify without the label', () => { const m = parseManifest(MB); return !ecdsaVerify(importEcdsaSpki(m.signerSpki), m.signedInput, m.signature); });
check('manifest: high-S twin of the signature (s -> n-s) also verifies (low-S not required)', () => {
  const m = parseManifest(MB); const n = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');
  const s2 = n - BigInt('0x' + toHex(m.signature.subarray(32)));
  const sig2 = cat(m.signature.subarray(0, 32), hex(s2.toString(16).padStart(64, '0')));
  return ecdsaVerify(importEcdsaSpki(m.signerSpki), labelled('sealdrop/v1/manifest', m.signedInput), sig2);
});
check('manifest: MAC verifies with headerMacKey', () => { const m = parseManifest(MB); return hmac(hex(KS.headerMacKey), m.macInput).equals(m.mac); });
check('manifest: signer fingerprint = manifest.signerFingerprint', () => eq(fingerprint(parseManifest(MB).signerSpki), V.manifest.signerFingerprint));
for (const [name, id] of Object.entries(ids)) {
  check(`manifest: opens with the ${name} envelope only → fileKey, metadata, payloads[1]`, () => {
    const o = openManifest(MB, { fileIdHex, identities: [id] });
    eq(o.fileKey, fileKey);
    if (JSON.stringify(o.metadata) !== JSON.stringify(MV.value)) return 'metadata differs';
    const pay = hex(V.payloads[1].payload);
    if (pay.length !== sealedSize(o.metadata.size, o.header.segmentSize)) return 'payload length != sealedSize(metadata.size)';
    return eq(openPayloadStream(o.contentKey, o.header.segmentSize, [pay]), hex(V.payloads[1].plaintext));
  });
}
rejects('manifest: no matching identity → WrongKey', () => openManifest(MB, { fileIdHex, identities: [linkIdentity(Buffer.alloc(32))] }), WrongKeyError);
rejects('manifest: only wrong passphrase → WrongPassphrase (first thrown error)', () => openManifest(MB, { fileIdHex, identities: [passphraseIdentity('wrong')] }), WrongPassphraseError);
check('manifest: wrong passphrase + right link → opens', () => eq(openManifest(MB, { fileIdHex, identities: [passphraseIdentity('wrong'), ids.link] }).fileKey, fileKey));
rejects('manifest: flipped signature bit → tampered', () => { const b = Buffer.from(MB); b[b.length - 1] ^= 1; openManifest(b, { fileIdHex, identities: [ids.link] }); }, TamperedError);
rejects('manifest: flipped metadata byte → tampered (signature)', () => { const b = Buffer.from(MB); b[70] ^= 1; openManifest(b, { fileIdHex, identities: [ids.link] }); }, TamperedError);
rejects('manifest: fetched from another fileId path → tampered', () => openManifest(MB, { fileIdHex: '00'.repeat(16), identities: [ids.link] }), TamperedError);
rejects('manifest: trailing byte → malformed', () => openManifest(cat(MB, u8(0)), { fileIdHex, identities: [ids.link] }), MalformedError);
rejects('manifest: one byte short → malformed', () => openManifest(MB.subarray(0, MB.length - 1), { fileIdHex, identities: [ids.link] }), MalformedError);
rejects('manifest: version 2 → unsupported', () => { const b = Buffer.from(MB); b[4] = 2; openManifest(b, { fileIdHex, identities: [ids.link] }); }, UnsupportedVersionError);
{
  const ecPriv = hex(K.ecdsa.privateKeyPkcs8), ecPub = hex(K.ecdsa.publicKeySpki);
  const envs = [{ typeId: 3, body: hex(ST.linkSecret.body) }];
  const mk = (o) => buildManifest({ header, sealedMetadata: hex(MV.sealed), envelopes: envs, fileKey, signerSpki: ecPub, signerPkcs8: ecPriv, ...o });
  check('manifest(crafted): re-built with our writer opens', () => eq(openManifest(mk({}), { fileIdHex, identities: [ids.link] }).fileKey, fileKey));
  check('manifest(crafted): unknown typeId 9 envelope is skipped', () => eq(openManifest(mk({ envelopes: [{ typeId: 9, body: Buffer.alloc(5) }, ...envs] }), { fileIdHex, identities: [ids.link, ids.rsa, ids.pass] }).fileKey, fileKey));
  rejects('manifest(crafted): only unknown envelopes → WrongKey', () => openManifest(mk({ envelopes: [{ typeId: 9, body: Buffer.alloc(5) }] }), { fileIdHex, identities: [ids.link, ids.rsa, ids.pass] }), WrongKeyError);
  rejects('manifest(crafted): two passphrase envelopes → malformed', () => openManifest(mk({ envelopes: [{ typeId: 2, body: hex(PS.body) }, { typeId: 2, body: hex(PP.body) }] }), { fileIdHex, identities: [ids.link] }), MalformedError);
  rejects('manifest(crafted): 0 envelopes → malformed', () => openManifest(mk({ envelopes: [] }), { fileIdHex, identities: [ids.link] }), MalformedError);
  rejects('manifest(crafted): 65 envelopes → malformed', () => openManifest(mk({ envelopes: Array(65).fill(envs[0]) }), { fileIdHex, identities: [ids.link] }), MalformedError);
  check('manifest(crafted): 64 envelopes accepted', () => eq(openManifest(mk({ envelopes: Array(64).fill(envs[0]) }), { fileIdHex, identities: [ids.link] }).fileKey, fileKey));
  rejects('manifest(crafted): metadata shorter than 28 → malformed', () => openManifest(mk({ sealedMetadata: Buffer.alloc(27) }), { fileIdHex, identities: [ids.link] }), MalformedError);
  for (const bad of ['00112233445566778899AABBCCDDEEFF', '00112233445566778899aabbccddeef', '00112233445566778899aabbccddeeff0', 'g0112233445566778899aabbccddeeff']) {
    rejects(`manifest: expected fileId "${bad}" not canonical → RangeError before parsing`, () => openManifest(hex('534452'), { fileIdHex: bad, identities: [ids.link] }), RangeError);
  }
  // key commitment: a validly signed manifest whose link envelope opens to a *different* key must fail the MAC
  check('manifest(crafted): envelope yielding another file key fails the MAC → tampered', () => {
    const otherKey = Buffer.alloc(32, 0x42); const sec = Buffer.alloc(32, 0x11); const nonce = Buffer.alloc(12, 1);
    const lk = hkdf(sec, Buffer.alloc(0), labelled('sealdrop/v1/link-secret'));
    const evil = cat(nonce, gcmSeal(lk, nonce, otherKey, labelled('sealdrop/v1/link-secret', header)));
    const b = mk({ envelopes: [...envs, { typeId: 3, body: evil }] }); // MAC computed with the genuine key
    try { openManifest(b, { fileIdHex, identities: [linkIdentity(sec)] }); } catch (e) { return e instanceof TamperedError || `${e.name}`; }
    return 'opened';
  });
  rejects('manifest(crafted): metadata tampered before MAC/sign → tampered', () => { const sm = Buffer.from(hex(MV.sealed)); sm[20] ^= 1; openManifest(mk({ sealedMetadata: sm }), { fileIdHex, identities: [ids.link] }); }, TamperedError);
  rejects('manifest(crafted): metadata plaintext with unknown tag → malformed', () => {
    const mkKey = subkey(fileKey, header, 'sealdrop/v1/metadata'); const n = Buffer.alloc(12, 3);
    const sm = cat(n, gcmSeal(mkKey, n, cat(hex(MV.encoded), u8(6), u16(0)), header));
    openManifest(mk({ sealedMetadata: sm }), { fileIdHex, identities: [ids.link] });
  }, MalformedError);
  rejects('manifest(crafted): signer SPKI is RSA → tampered (§9.1 step 2)', () => openManifest(mk({ signerSpki: hex(K.rsa.publicKeySpki) }), { fileIdHex, identities: [ids.link] }), TamperedError);
  rejects('manifest(crafted): signer point off the curve → tampered', () => { const k = Buffer.from(hex(K.ecdsa.publicKeySpki)); k[90] ^= 1; openManifest(mk({ signerSpki: k }), { fileIdHex, identities: [ids.link] }); }, TamperedError);
  rejects('manifest(crafted): signer SPKI with a trailing byte → tampered', () => openManifest(mk({ signerSpki: cat(hex(K.ecdsa.publicKeySpki), u8(0)) }), { fileIdHex, identities: [ids.link] }), TamperedError);
  rejects('manifest(crafted): 0 envelopes + bad signer → malformed (parse before signature)', () => openManifest(mk({ envelopes: [], signerSpki: hex(K.rsa.publicKeySpki) }), { fileIdHex, identities: [ids.link] }), MalformedError);
  rejects('manifest(crafted): two passphrase envelopes, no identities → malformed (parse-time)', () => openManifest(mk({ envelopes: [{ typeId: 2, body: hex(PS.body) }, ...envs, { typeId: 2, body: hex(PP.body) }] }), { fileIdHex, identities: [] }), MalformedError);
  check('manifest(crafted): one scrypt + one unknown-typeId envelope opens with the passphrase', () => eq(openManifest(mk({ envelopes: [{ typeId: 2, body: hex(PS.body) }, { typeId: 200, body: Buffer.alloc(0) }] }), { fileIdHex, identities: [ids.pass] }).fileKey, fileKey));
  check('manifest(crafted): [passphrase, link] envelopes, identities [wrong passphrase, link] → opens (earlier error discarded)', () => eq(openManifest(mk({ envelopes: [{ typeId: 2, body: hex(PS.body) }, ...envs] }), { fileIdHex, identities: [passphraseIdentity('wrong'), ids.link] }).fileKey, fileKey));
  check('manifest(crafted): [link 59 B, genuine link], identities [link] → opens (the malformed envelope\'s error is discarded)', () => eq(openManifest(mk({ envelopes: [{ typeId: 3, body: hex(ST.linkSecret.body).subarray(1) }, ...envs] }), { fileIdHex, identities: [ids.link] }).fileKey, fileKey));
}

// --- §10 public identity
const PI = hex(V.publicIdentity.bytes);
check('publicIdentity: parses, 3072-bit RSA, self-signature verifies', () => parsePublicIdentity(PI).bits === 3072);
check('publicIdentity: all but last 64 bytes reproduced', () => eq(cat(ascii('SDPI'), u8(1), lp16(hex(K.rsa.publicKeySpki)), lp16(hex(K.ecdsa.publicKeySpki))), PI.subarray(0, PI.length - 64)));
check('publicIdentity: fingerprint = vector (and = manifest signer fingerprint)', () => eq(parsePublicIdentity(PI).fingerprint, V.publicIdentity.fingerprint) && V.publicIdentity.fingerprint === V.manifest.signerFingerprint);
check('fingerprint: uses the 65-byte raw point (= last 65 bytes of the 91-byte SPKI), not the SPKI', () => {
  const spki = hex(K.ecdsa.publicKeySpki); eq(rawPoint(spki), spki.subarray(26));
  const viaSpki = sha256(labelled('sealdrop/v1/fingerprint', spki));
  return fingerprint(spki) === V.publicIdentity.fingerprint && viaSpki.readUInt32BE(0) % 100000 !== Number(V.publicIdentity.fingerprint.slice(0, 5));
});
check('fingerprint: 8 groups of 5 digits, single spaces', () => /^\d{5}( \d{5}){7}$/.test(V.publicIdentity.fingerprint));
rejects('publicIdentity: flipped self-signature → tampered', () => { const b = Buffer.from(PI); b[b.length - 5] ^= 1; parsePublicIdentity(b); }, TamperedError);
rejects('publicIdentity: version 2 → unsupported', () => { const b = Buffer.from(PI); b[4] = 2; parsePublicIdentity(b); }, UnsupportedVersionError);
rejects('publicIdentity: 2048-bit RSA → malformed', () => {
  const { publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pre = cat(ascii('SDPI'), u8(1), lp16(publicKey.export({ format: 'der', type: 'spki' })), lp16(hex(K.ecdsa.publicKeySpki)));
  parsePublicIdentity(cat(pre, ecdsaSign(hex(K.ecdsa.privateKeyPkcs8), labelled('sealdrop/v1/public-identity', pre))));
}, MalformedError);

check('publicIdentity: keys.rsa SPKI with a non-minimal INTEGER n (extra 00), validly self-signed → malformed', () => {
  const spki = hex(K.rsa.publicKeySpki); // 30 82 01a2 | 30 0d … 05 00 | 03 82 018f 00 | 30 82 018a | 02 82 0181 00 n… | 02 03 010001
  const n = spki.subarray(spki.length - 5 - 385, spki.length - 5);
  const dl = (len) => (len < 128 ? u8(len) : len < 256 ? cat(u8(0x81), u8(len)) : cat(u8(0x82), u16(len)));
  const tlv = (t, v) => cat(u8(t), dl(v.length), v);
  const rsaPub = tlv(0x30, cat(tlv(0x02, cat(u8(0), n)), spki.subarray(spki.length - 5)));
  const bad = tlv(0x30, cat(spki.subarray(4, 19), tlv(0x03, cat(u8(0), rsaPub))));
  if (bad.length !== spki.length + 1) return 'construction';
  const pre = cat(ascii('SDPI'), u8(1), lp16(bad), lp16(hex(K.ecdsa.publicKeySpki)));
  try { parsePublicIdentity(cat(pre, ecdsaSign(hex(K.ecdsa.privateKeyPkcs8), labelled('sealdrop/v1/public-identity', pre)))); } catch (e) { return e instanceof MalformedError || e.name; }
  return 'accepted';
});
rejects('publicIdentity: only "SDPI" (no version byte) → malformed', () => parsePublicIdentity(ascii('SDPI')), MalformedError);
rejects('backup: only "SDBK" 02 → unsupported', () => parseBackup(cat(ascii('SDBK'), u8(2))), UnsupportedVersionError);
rejects('backup: wrong magic with version 2 → malformed', () => parseBackup(cat(ascii('SDBQ'), u8(2))), MalformedError);

// --- §11 recovery kit
const BK = hex(V.backup.bytes);
check('backup: parses; scrypt block salt 30 31 …, logN 10', () => { const k = parseBackup(BK); return k.kdf.id === 1 && k.kdf.logN === 10 && k.kdf.salt.every((b, i) => b === 0x30 + i) && k.nonceE.every((b, i) => b === 0x50 + i) && k.nonceS.every((b, i) => b === 0x60 + i); });
check('backup: restores with passphrase; private keys match public halves', () => { restoreBackup(BK, V.backup.passphrase); });
check('backup: restored PKCS#8 bytes equal keys.*.privateKeyPkcs8', () => { const r = restoreBackup(BK, V.backup.passphrase); return eq(r.rsaPkcs8, hex(K.rsa.privateKeyPkcs8)) && eq(r.ecPkcs8, hex(K.ecdsa.privateKeyPkcs8)); });
check('backup: whole kit reproduced byte for byte (deterministic)', () => {
  const k = parseBackup(BK); const kek = deriveKek(k.kdf, V.backup.passphrase);
  const P = cat(ascii('SDBK'), u8(1), u8(1), k.kdf.salt, u8(10), u8(k.kdf.r), u8(k.kdf.p), lp16(hex(K.rsa.publicKeySpki)), lp16(hex(K.ecdsa.publicKeySpki)));
  const kit = cat(P, k.nonceE, lp16(gcmSeal(kek, k.nonceE, hex(K.rsa.privateKeyPkcs8), labelled('sealdrop/v1/backup/encrypt', P))), k.nonceS, lp16(gcmSeal(kek, k.nonceS, hex(K.ecdsa.privateKeyPkcs8), labelled('sealdrop/v1/backup/sign', P))));
  return eq(kit, BK);
});
rejects('backup: wrong passphrase → WrongPassphrase', () => restoreBackup(BK, 'wrong'), WrongPassphraseError);
rejects('backup: flipped byte in wrapped key → WrongPassphrase', () => { const b = Buffer.from(BK); b[b.length - 3] ^= 1; restoreBackup(b, V.backup.passphrase); }, WrongPassphraseError);
rejects('backup: trailing byte → malformed', () => parseBackup(cat(BK, u8(0))), MalformedError);

// --- §7.3 link secret text form
function encodeLinkSecret(secret) {
  if (secret.length !== 32) throw new RangeError('link secret must be 32 bytes');
  return Buffer.from(secret).toString('base64url'); // Node omits the padding for base64url
}
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
function decodeLinkSecret(text) {
  if (typeof text !== 'string' || text.length !== 43) throw new MalformedError('link secret text must be 43 characters');
  for (const ch of text) if (!B64URL.includes(ch)) throw new MalformedError('character outside base64url');
  if (B64URL.indexOf(text[42]) & 3) throw new MalformedError('non-canonical last character');
  const b = Buffer.from(text, 'base64url');
  if (b.length !== 32 || b.toString('base64url') !== text) throw new MalformedError('does not round-trip');
  return b;
}
{
  const LT = V.linkSecretText;
  check('linkSecretText: encode(secret) = text (43 chars, unpadded base64url)', () => eq(encodeLinkSecret(hex(LT.secret)), LT.text) && LT.text.length === 43);
  check('linkSecretText: decode(text) = secret', () => eq(decodeLinkSecret(LT.text), hex(LT.secret)));
  check('linkSecretText: its last character has 2 zero low bits', () => (B64URL.indexOf(LT.text[42]) & 3) === 0);
  const last = LT.text[42], lastIdx = B64URL.indexOf(last);
  const bad = {
    'with = padding (44 chars)': LT.text + '=',
    '42 characters': LT.text.slice(0, 42),
    '44 characters': LT.text + 'A',
    '"+" instead of "-"': '+' + LT.text.slice(1),
    '"/" instead of "_"': '/' + LT.text.slice(1),
    'non-canonical last character (low bits set)': LT.text.slice(0, 42) + B64URL[lastIdx | 1],
    'a space inside': LT.text.slice(0, 20) + ' ' + LT.text.slice(21),
    'standard base64 spelling of a secret containing ff ff ff': encodeLinkSecret(Buffer.alloc(32, 0xff)).replace(/_/g, '/'),
  };
  for (const [what, t] of Object.entries(bad)) rejects(`linkSecretText: decoder rejects ${what}`, () => decodeLinkSecret(t));
  check('linkSecretText: every 32-byte pattern with all-ones bytes round-trips with "-" and "_"', () => { const s = Buffer.alloc(32, 0xfb); const t = encodeLinkSecret(s); return /[-_]/.test(t) && eq(decodeLinkSecret(t), s); });
}

// --- §6.1 passphraseNfc
{
  const N = V.passphraseNfc;
  const kdf = { id: 1, salt: hex(N.salt), logN: N.logN, r: N.r, p: N.p };
  check('passphraseNfc: passphrase is NOT in NFC (contains U+0301)', () => N.passphrase !== N.passphrase.normalize('NFC') && N.passphrase.includes('\u0301'));
  check('passphraseNfc: UTF-8(NFC(passphrase)) = nfcUtf8 (63 61 66 c3 a9 …)', () => eq(utf8Encode(N.passphrase.normalize('NFC')), hex(N.nfcUtf8)) && N.nfcUtf8.startsWith('636166c3a9'));
  check('passphraseNfc: KEK = scrypt(NFC bytes, salt, logN 10, r 8, p 1) = kek', () => eq(deriveKek(kdf, N.passphrase), hex(N.kek)));
  check('passphraseNfc: the composed spelling gives the same KEK', () => eq(deriveKek(kdf, N.passphrase.normalize('NFC')), hex(N.kek)));
  check('passphraseNfc: skipping NFC gives kekWithoutNfc (≠ kek)', () => eq(crypto.scryptSync(utf8Encode(N.passphrase), kdf.salt, 32, { N: 1024, r: 8, p: 1 }), hex(N.kekWithoutNfc)) && N.kek !== N.kekWithoutNfc);
  rejects('passphrase writer: a lone surrogate has no UTF-8 form → RangeError', () => passphraseRecipientBody('ab\ud800', hex(PS.body).subarray(0, 36), hex(PS.nonce), fileKey, header), RangeError);
}

// --- §5.5 defaultSegmentSize
{
  const D = V.defaultSegmentSize;
  const DH = buildHeader(D.segmentSize, fileId, salt);
  check('defaultSegmentSize: S = 262144 (256 KiB)', () => D.segmentSize === 262144);
  check('defaultSegmentSize: header = keySchedule with S = 262144', () => eq(DH, hex(D.header)) && parseHeader(DH).segmentSize === 262144);
  const dKey = subkey(fileKey, DH, 'sealdrop/v1/content');
  check('defaultSegmentSize: contentKey', () => eq(dKey, hex(D.contentKey)));
  check('defaultSegmentSize: plaintextRule is "byte i = i mod 251"', () => D.plaintextRule === 'byte i = i mod 251');
  const pt = Buffer.alloc(D.plaintextLength); for (let i = 0; i < pt.length; i++) pt[i] = i % 251;
  const pay = sealPayload(dKey, D.segmentSize, pt);
  check('defaultSegmentSize: payloadLength = sealedSize(plaintextLength) and our payload', () => pay.length === D.payloadLength && sealedSize(D.plaintextLength, D.segmentSize) === D.payloadLength && plainSize(D.payloadLength, D.segmentSize) === D.plaintextLength);
  check('defaultSegmentSize: payloadSha256', () => eq(sha256(pay), hex(D.payloadSha256)));
  check('defaultSegmentSize: segment0Tag = last 16 bytes of sealed segment 0', () => eq(pay.subarray(D.segmentSize, D.segmentSize + 16), hex(D.segment0Tag)));
  check('defaultSegmentSize: finalSegment = sealed segment 1 (final, 1016 bytes)', () => eq(pay.subarray(D.segmentSize + 16), hex(D.finalSegment)) && hex(D.finalSegment).length === 1016);
  check('defaultSegmentSize: finalSegment opens alone at index 1, final', () => eq(openSegment(dKey, 1, true, hex(D.finalSegment)) ?? Buffer.alloc(0), pt.subarray(D.segmentSize)));
  check('defaultSegmentSize: stream-opens in 64 KiB chunks', () => eq(openPayloadStream(dKey, D.segmentSize, chunked(pay, [65536])), pt));
  rejects('defaultSegmentSize: cut at the segment boundary → truncated', () => openPayloadStream(dKey, D.segmentSize, [pay.subarray(0, D.segmentSize + 16)]), TruncatedError);
}

// --- §2 / §7.1 rsa4096 and RSA key rules
{
  const R4 = V.rsa4096;
  const priv4 = crypto.createPrivateKey({ key: hex(R4.privateKeyPkcs8), format: 'der', type: 'pkcs8' });
  check('rsa4096: 4096-bit, SPKI 550 B canonical, e = 65537, matches the private key', () => {
    const pub = importRsaSpki(hex(R4.publicKeySpki));
    return pub.asymmetricKeyDetails.modulusLength === 4096 && hex(R4.publicKeySpki).length === 550 && crypto.createPublicKey(priv4).export({ format: 'der', type: 'spki' }).equals(hex(R4.publicKeySpki));
  });
  check('keys.rsa: meets §2 (canonical, 3072 bits, e = 65537)', () => importRsaSpki(hex(K.rsa.publicKeySpki)).asymmetricKeyDetails.modulusLength === 3072);
  const id4 = rsaIdentity(hex(R4.privateKeyPkcs8));
  check('rsa4096: 512-byte body opens to keySchedule.fileKey under keySchedule.header', () => hex(R4.body).length === 512 && eq(id4.unwrap(1, hex(R4.body), header) ?? Buffer.alloc(0), fileKey));
  check('rsa4096: body under another header → null', () => id4.unwrap(1, hex(R4.body), DH2()) === null);
  check('rsa4096: the 384-byte stanzas.rsaOaep body → null for the 4096 key (length differs)', () => id4.unwrap(1, hex(ST.rsaOaep.body), header) === null);
  check('rsa4096: keys.rsa identity → null for the 512-byte body', () => rsaId.unwrap(1, hex(R4.body), header) === null);
  check('rsa4096: our own wrap round-trips', () => eq(id4.unwrap(1, rsaRecipientBody(hex(R4.publicKeySpki), fileKey, header), header), fileKey));
  rejects('rsa writer: refuses a non-canonical SPKI (trailing byte) with RangeError', () => rsaRecipientBody(cat(hex(K.rsa.publicKeySpki), u8(0)), fileKey, header), RangeError);
  rejects('rsa writer: refuses the ECDSA SPKI with RangeError', () => rsaRecipientBody(hex(K.ecdsa.publicKeySpki), fileKey, header), RangeError);
  check('rsa identity: an RSA envelope holding 31 bytes → malformed (mine but broken)', () => {
    const b = crypto.publicEncrypt({ key: crypto.createPublicKey(priv4), padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', oaepLabel: labelled('sealdrop/v1/rsa-oaep', header) }, fileKey.subarray(1));
    try { id4.unwrap(1, b, header); } catch (e) { return e instanceof MalformedError || e.name; }
    return 'returned';
  });
}
function DH2() { return buildHeader(S, Buffer.alloc(16, 0xee), salt); }

// --- §2 ECDSA key form
{
  const spki = hex(K.ecdsa.publicKeySpki);
  check('ecdsa: keys.ecdsa SPKI = the fixed 27-byte prefix ‖ X ‖ Y', () => eq(spki.subarray(0, 27), EC_SPKI_PREFIX) && importEcdsaSpki(spki).asymmetricKeyType === 'ec');
  const compressed = crypto.createPublicKey({ key: spki, format: 'der', type: 'spki' });
  const jwk = compressed.export({ format: 'jwk' });
  const yOdd = Buffer.from(jwk.y, 'base64url')[31] & 1;
  const comp = cat(hex('3039301306072a8648ce3d020106082a8648ce3d030107032200'), u8(2 | yOdd), Buffer.from(jwk.x, 'base64url'));
  // FORMAT.md §2 and the negative rules call this form "57 bytes"; DER gives 2 + 21 + 36 = 59 (57 is the outer SEQUENCE's content length),
  // and the vectors' compressed keys are 59 bytes.
  check('ecdsa: the compressed SPKI (59 bytes, 30 39 …) is a valid DER key (node imports it)', () => comp.length === 59 && crypto.createPublicKey({ key: comp, format: 'der', type: 'spki' }).asymmetricKeyType === 'ec');
  check('ecdsa: our compressed SPKI equals the one inside negative public-identity-compressed-signing-key', () => {
    const pb = hex(V.negative.find((n) => n.name === 'public-identity-compressed-signing-key').bytes);
    const r = new Reader(pb); r.take(5); r.lp16(); return eq(r.lp16(), comp);
  });
  rejects('ecdsa: compressed-point SPKI → malformed', () => importEcdsaSpki(comp), MalformedError);
  rejects('ecdsa: point off the curve → malformed', () => { const b = Buffer.from(spki); b[60] ^= 1; importEcdsaSpki(b); }, MalformedError);
  rejects('ecdsa: RSA SPKI → malformed', () => importEcdsaSpki(hex(K.rsa.publicKeySpki)), MalformedError);
}

// --- §8 metadataVariants
const metaCanon = (m) => JSON.stringify([m.name, m.type, m.size, m.lastModified, 'relativePath' in m, m.relativePath ?? null]);
V.metadataVariants.forEach((mv, k) => {
  check(`metadataVariants[${k}] (${mv.description}): encode(value) = encoded`, () => eq(encodeMetadata(mv.value), hex(mv.encoded)));
  check(`metadataVariants[${k}]: parse(encoded) = value (absent ≠ empty relativePath)`, () => eq(metaCanon(parseMetadata(hex(mv.encoded))), metaCanon(mv.value)));
});
{
  const byDesc = (re) => V.metadataVariants.find((m) => re.test(m.description));
  const lim = byDesc(/byte limit/), bom = byDesc(/BOM/), astral = byDesc(/astral|4-byte/), empty = byDesc(/empty name/), ext = byDesc(/extreme|2\^53/);
  check('metadataVariants: limit case is exactly 1024 / 255 / 4096 bytes', () => utf8Encode(lim.value.name).length === 1024 && utf8Encode(lim.value.type).length === 255 && utf8Encode(lim.value.relativePath).length === 4096);
  rejects('metadataVariants: limit case + 1 byte of relativePath → malformed', () => parseMetadata(encodeMetadata({ ...lim.value, relativePath: lim.value.relativePath + 'a' })), MalformedError);
  rejects('metadataVariants: limit case + 1 byte of type → malformed', () => parseMetadata(encodeMetadata({ ...lim.value, type: lim.value.type + 'a' })), MalformedError);
  check('metadataVariants: BOM kept as U+FEFF at the start of the name', () => parseMetadata(hex(bom.encoded)).name.codePointAt(0) === 0xfeff && bom.encoded.includes('efbbbf'));
  check('metadataVariants: astral/un-normalised name kept byte for byte (not NFC)', () => { const n = parseMetadata(hex(astral.encoded)).name; return n === astral.value.name && n !== n.normalize('NFC') && [...n].some((c) => c.codePointAt(0) > 0xffff); });
  check('metadataVariants: empty name and present-but-empty relativePath', () => { const m = parseMetadata(hex(empty.encoded)); return m.name === '' && m.relativePath === ''; });
  check('metadataVariants: size 2^53−1 and lastModified −(2^53−1) accepted', () => { const m = parseMetadata(hex(ext.encoded)); return m.size === Number.MAX_SAFE_INTEGER && m.lastModified === -Number.MAX_SAFE_INTEGER; });
  const i64 = (n) => { const b = Buffer.alloc(8); b.writeBigInt64BE(BigInt(n)); return b; };
  const f = (t, v) => cat(u8(t), lp16(v));
  rejects('metadata: lastModified −2^53 → malformed', () => parseMetadata(cat(f(1, ascii('a')), f(2, ascii('')), f(3, i64(0)), f(4, i64(-(2n ** 53n))))), MalformedError);
  for (const [what, bytes] of [['surrogate ed a0 80', 'eda080'], ['overlong c0 af', 'c0af'], ['above U+10FFFF f4 90 80 80', 'f4908080'], ['truncated e2 82', 'e282']]) {
    rejects(`metadata: ${what} in relativePath → malformed`, () => parseMetadata(cat(f(1, ascii('a')), f(2, ascii('')), f(3, i64(0)), f(4, i64(0)), f(5, hex(bytes)))), MalformedError);
  }
  rejects('metadata writer: lone surrogate in the name → RangeError', () => encodeMetadata({ name: 'a\udc00', type: '', size: 0, lastModified: 0 }), RangeError);
}

// --- identities from vector descriptions (negative[] and manifestVariants[].opensWith)
const vpath = (p) => p.split('.').reduce((o, k) => (o == null ? undefined : o[k]), V);
function makeIdentity(d) {
  if (d.kind === 'link') return linkIdentity(hex(d.secret));
  if (d.kind === 'passphrase') return passphraseIdentity(d.passphrase);
  if (d.kind === 'rsa') { const kp = vpath(d.key); if (!kp?.privateKeyPkcs8) throw new Error(`unknown key path ${d.key}`); return rsaIdentity(hex(kp.privateKeyPkcs8)); }
  throw new Error(`unknown identity kind ${d.kind}`);
}

// --- §9 manifestVariants
V.manifestVariants.forEach((mv, k) => {
  const tag = `manifestVariants[${k}]`;
  const h = buildHeader(mv.segmentSize, hex(mv.fileId), hex(mv.salt));
  const fk = hex(mv.fileKey), mb = hex(mv.bytes);
  check(`${tag} (${mv.description.slice(0, 60)}…): header from parts`, () => eq(h, hex(mv.header)));
  const sm = cat(hex(mv.metadataNonce), gcmSeal(subkey(fk, h, 'sealdrop/v1/metadata'), hex(mv.metadataNonce), encodeMetadata(mv.metadata), h));
  check(`${tag}: all but the signature reproduced from the parts`, () => {
    const body = cat(h, lp16(sm), u16(mv.envelopes.length), ...mv.envelopes.map((e) => cat(u8(e.typeId), lp16(hex(e.body)))));
    return eq(cat(body, hmac(subkey(fk, h, 'sealdrop/v1/header-mac'), body), lp16(hex(K.ecdsa.publicKeySpki))), mb.subarray(0, mb.length - 64));
  });
  check(`${tag}: signature by keys.ecdsa verifies`, () => { const m = parseManifest(mb); return ecdsaVerify(importEcdsaSpki(m.signerSpki), labelled('sealdrop/v1/manifest', m.signedInput), m.signature); });
  mv.opensWith.forEach((d, j) => {
    check(`${tag}: opens with opensWith[${j}] (${d.kind}${d.key ? ' ' + d.key : ''}) alone → fileKey and metadata`, () => {
      const o = openManifest(mb, { fileIdHex: mv.fileId, identities: [makeIdentity(d)] });
      return eq(o.fileKey, fk) && eq(metaCanon(o.metadata), metaCanon(mv.metadata));
    });
  });
  rejects(`${tag}: opened under keySchedule.fileId → tampered`, () => openManifest(mb, { fileIdHex: KS.fileId, identities: mv.opensWith.map(makeIdentity) }), TamperedError);
  for (const e of mv.envelopes) {
    if (e.typeId === 3) {
      const d = mv.opensWith.find((x) => x.kind === 'link'); const b = hex(e.body);
      check(`${tag}: link envelope reproduced from its nonce`, () => eq(cat(b.subarray(0, 12), gcmSeal(hkdf(hex(d.secret), Buffer.alloc(0), labelled('sealdrop/v1/link-secret')), b.subarray(0, 12), fk, labelled('sealdrop/v1/link-secret', h))), b));
    }
    if (e.typeId === 2) {
      const d = mv.opensWith.find((x) => x.kind === 'passphrase'); const b = hex(e.body);
      const blockLen = b[0] === 1 ? 36 : 37;
      const decomposed = d.passphrase.normalize('NFD');
      check(`${tag}: passphrase envelope reproduced from the decomposed spelling (opened with the composed one)`, () => d.passphrase === d.passphrase.normalize('NFC') && decomposed !== d.passphrase && eq(passphraseRecipientBody(decomposed, b.subarray(0, blockLen), b.subarray(blockLen, blockLen + 12), fk, h), b));
    }
  }
});
{
  const m0 = V.manifestVariants[0];
  check('manifestVariants[0]: S = 262144, typeIds [9, 1, 1, 2], metadata without relativePath, empty type, lastModified −1', () => m0.segmentSize === 262144 && m0.envelopes.map((e) => e.typeId).join() === '9,1,1,2' && !('relativePath' in m0.metadata) && m0.metadata.type === '' && m0.metadata.lastModified === -1);
  check('manifestVariants[0]: RSA bodies are 384 and 512 bytes; passphrase envelope is PBKDF2 (97 B)', () => hex(m0.envelopes[1].body).length === 384 && hex(m0.envelopes[2].body).length === 512 && hex(m0.envelopes[3].body).length === 97 && m0.envelopes[3].body.startsWith('02'));
  check('manifestVariants[1]: metadata at every limit, one link envelope', () => { const m = V.manifestVariants[1].metadata; return utf8Encode(m.name).length === 1024 && utf8Encode(m.type).length === 255 && utf8Encode(m.relativePath).length === 4096 && V.manifestVariants[1].envelopes.length === 1; });
}

// --- §13 negative[]: every case with its exact error class
{
  const CLASSES = { MalformedError, UnsupportedVersionError, TamperedError, TruncatedError, WrongKeyError, WrongPassphraseError, KdfParamsTooHighError };
  const NEG = V.negative;
  check(`negative: ${NEG.length} cases, names unique, every error a §12 class, every input known`, () => {
    const names = new Set(NEG.map((n) => n.name));
    if (names.size !== NEG.length) return 'duplicate names';
    const bad = NEG.filter((n) => !CLASSES[n.error] || !['payload', 'manifest', 'publicIdentity', 'backup'].includes(n.input) || (n.bytes === undefined) === (n.bytesFrom === undefined));
    return bad.length === 0 || bad.map((n) => n.name).join();
  });
  for (const n of NEG) {
    check(`negative ${n.name} (${n.input}) → ${n.error}`, () => {
      const bytes = n.bytes !== undefined ? hex(n.bytes) : hex(vpath(n.bytesFrom));
      const want = CLASSES[n.error];
      try {
        if (n.input === 'payload') openPayloadStream(hex(vpath(n.contentKey)), n.segmentSize, [bytes]);
        else if (n.input === 'manifest') openManifest(bytes, { fileIdHex: n.fileId, identities: n.identities.map(makeIdentity) });
        else if (n.input === 'publicIdentity') parsePublicIdentity(bytes);
        else if (n.input === 'backup') restoreBackup(bytes, n.passphrase);
        else return `unknown input ${n.input}`;
      } catch (e) {
        return e.constructor === want || `threw ${e.name} (${e.message}), want ${n.error}`;
      }
      return `accepted, want ${n.error}`;
    });
  }
  // payload cases must also give the same class when the bytes arrive in small chunks (the look-ahead must not depend on chunking)
  check('negative: every payload case gives the same class when fed in 1/17/1039-byte chunks', () => {
    for (const n of NEG.filter((x) => x.input === 'payload')) {
      const b = n.bytes !== undefined ? hex(n.bytes) : hex(vpath(n.bytesFrom));
      let got = 'accepted';
      try { openPayloadStream(hex(vpath(n.contentKey)), n.segmentSize, chunked(b, [1, 17, 1039])); } catch (e) { got = e.name; }
      if (got !== n.error) return `${n.name}: ${got}`;
    }
  });
  // the "byte N XOR 0x01" / "byte N = XX" / "+ 00" / "without its last byte" rules re-derived from the base vector
  const BASE = { 'manifest.bytes': V.manifest.bytes, 'publicIdentity.bytes': V.publicIdentity.bytes, 'backup.bytes': V.backup.bytes, 'payloads[1]': V.payloads[1].payload, 'payloads[2]': V.payloads[2].payload };
  let derived = 0; let ruleErr = null;
  {
    for (const n of NEG) {
      const m = /^(manifest\.bytes|publicIdentity\.bytes|backup\.bytes|payloads\[[12]\]) (.*)$/.exec(n.rule);
      if (!m || n.bytes === undefined) continue;
      const base = Buffer.from(hex(BASE[m[1]])); const rest = m[2]; let out = null; let x;
      if ((x = /^with byte (\d+|length−(\d+)) XOR 0x01$/.exec(rest))) { const i = x[2] ? base.length - Number(x[2]) : Number(x[1]); base[i] ^= 1; out = base; }
      else if ((x = /^with byte (\d+) = ([0-9a-f]{2})(?: and byte (\d+) = ([0-9a-f]{2}))?(?::.*)?$/.exec(rest))) { base[Number(x[1])] = parseInt(x[2], 16); if (x[3]) base[Number(x[3])] = parseInt(x[4], 16); out = base; }
      else if (/^with (?:its last byte|byte \d+ \([^)]*\)) XOR 0x01$/.test(rest)) {
        const y = /byte (\d+)/.exec(rest); const i = y ? Number(y[1]) : base.length - 1; base[i] ^= 1; out = base;
      } else if (/^\+ 00(?: .*)?$/.test(rest)) out = cat(base, u8(0));
      else if (/^without its last byte/.test(rest)) out = base.subarray(0, base.length - 1);
      else if ((x = /^with scrypt logN \(byte (\d+)\) = (\d+)$/.exec(rest))) { base[Number(x[1])] = Number(x[2]); out = base; }
      else if ((x = /^with KDF id \(byte (\d+)\) = (\d+)$/.exec(rest))) { base[Number(x[1])] = Number(x[2]); out = base; }
      if (!out) continue;
      derived++;
      if (toHex(out) !== n.bytes && !ruleErr) ruleErr = `${n.name}: rule "${n.rule}" does not reproduce its bytes`;
    }
  }
  check(`negative: ${derived} of ${NEG.length} cases re-derived from their rule text ("byte N XOR 0x01", "+ 00", …) reproduce their bytes`, () => ruleErr ?? (derived >= 15 || `only ${derived} rules derived`));
}

console.log(`format-check: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
