/**
 * Builds public identities ("SDPI" v2, and the transitional v1) and key
 * rotation statements ("SDRT" v2) with Node's WebCrypto, from the layouts in
 * /work/plan/DECISIONS.md, so server tests need nothing from src/crypto.
 */
import { webcrypto } from 'node:crypto';

const { subtle } = webcrypto;
const SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;

/** A test account's key pairs. */
export interface TestKeys {
  encrypt: CryptoKeyPair;
  sign: CryptoKeyPair;
}

/** Fresh keys (RSA 2048: the server checks the key parses, not its size). */
export async function newTestKeys(): Promise<TestKeys> {
  const [encrypt, sign] = await Promise.all([
    subtle.generateKey({ name: 'RSA-OAEP', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, true, ['encrypt', 'decrypt']),
    subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']),
  ]);
  return { encrypt, sign };
}

function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);
const u16 = (n: number): Uint8Array => Uint8Array.of(n >> 8, n & 0xff);
const labelled = (label: string, body: Uint8Array): Uint8Array<ArrayBuffer> => concat(ascii(label), Uint8Array.of(0), body);

async function spki(key: CryptoKey): Promise<Uint8Array> {
  return new Uint8Array(await subtle.exportKey('spki', key));
}

/** SDPI v2 signed by `signer` (default: the identity's own signing key, i.e. a good self-signature). */
export async function publicIdentityV2(keys: TestKeys, signer: CryptoKey = keys.sign.privateKey): Promise<Uint8Array<ArrayBuffer>> {
  const rsa = await spki(keys.encrypt.publicKey);
  const ec = await spki(keys.sign.publicKey);
  const body = concat(ascii('SDPI'), Uint8Array.of(2, 2), Uint8Array.of(1), u16(rsa.length), rsa, Uint8Array.of(2), u16(ec.length), ec);
  const signature = new Uint8Array(await subtle.sign(SIGN, signer, labelled('sealdrop/v2/public-identity', body)));
  return concat(body, signature);
}

/** SDPI v1 (never shipped): servers must refuse it. */
export async function publicIdentityV1(keys: TestKeys): Promise<Uint8Array<ArrayBuffer>> {
  const rsa = await spki(keys.encrypt.publicKey);
  const ec = await spki(keys.sign.publicKey);
  const body = concat(ascii('SDPI'), Uint8Array.of(1), u16(rsa.length), rsa, u16(ec.length), ec);
  const signature = new Uint8Array(await subtle.sign(SIGN, keys.sign.privateKey, labelled('sealdrop/v1/public-identity', body)));
  return concat(body, signature);
}

/** SDRT v2: `from` → `to`, signed by `signer` (should be the old signing key). */
export async function rotationStatement(from: Uint8Array, to: Uint8Array, signer: CryptoKey): Promise<Uint8Array<ArrayBuffer>> {
  const digest = async (b: Uint8Array): Promise<Uint8Array> => new Uint8Array(await subtle.digest('SHA-256', new Uint8Array(b)));
  const body = concat(ascii('SDRT'), Uint8Array.of(2), await digest(from), await digest(to));
  const signature = new Uint8Array(await subtle.sign(SIGN, signer, labelled('sealdrop/v2/rotation', body)));
  return concat(body, signature);
}

/** Standard base64, as the contract's bodies carry bytes. */
export function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}
