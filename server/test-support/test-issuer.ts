/**
 * A local token issuer for tests: an RSA key pair, its JWKS for the verifier
 * (through jose's createLocalJWKSet, no network) and helpers that mint good
 * and deliberately broken tokens.
 */
import { createLocalJWKSet, exportJWK, exportSPKI, generateKeyPair, SignJWT, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { Buffer } from 'node:buffer';
import { createTokenVerifier, type TokenVerifier } from '../endpoint/auth/token-verifier.ts';

/** Issuer, audience and scope the test verifier expects. */
export const TEST_ISSUER = 'http://127.0.0.1:17199/oidc';
export const TEST_AUDIENCE = 'api://sealdrop';
export const TEST_SCOPE = 'api://sealdrop/files';

/** A signing identity plus its public key set. */
export interface TestIssuer {
  keys: JWTVerifyGetKey;
  /** The public key as PEM: what an attacker can download from the JWKS. */
  publicKeyPem: string;
  /** A token for `sub` (default claims: iss, aud, scope, iat, exp in 10 min); `claims` override or add. */
  mint(sub: string, claims?: JWTPayload, header?: { kid?: string; alg?: string }): Promise<string>;
  /** A correctly signed token with no `exp` claim. */
  mintWithoutExpiry(sub: string): Promise<string>;
  /** A token signed by an unrelated key that claims this issuer's `kid` or another. */
  mintWithForeignKey(sub: string, kid: string): Promise<string>;
}

const KID = 'test-key-1';

/** Creates a fresh issuer (RS256, 2048-bit: enough for tests, faster to generate). */
export async function createTestIssuer(): Promise<TestIssuer> {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  const foreign = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: KID, alg: 'RS256', use: 'sig' };
  const keys = createLocalJWKSet({ keys: [jwk] });
  const publicKeyPem = await exportSPKI(publicKey);

  const base = (sub: string, claims: JWTPayload): SignJWT =>
    new SignJWT({ scope: `openid ${TEST_SCOPE}`, ...claims })
      .setSubject(sub)
      .setIssuer(typeof claims.iss === 'string' ? claims.iss : TEST_ISSUER)
      .setAudience(claims.aud ?? TEST_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(typeof claims.exp === 'number' ? claims.exp : '10m');

  return {
    keys,
    publicKeyPem,
    mint: (sub, claims = {}, header = {}) =>
      base(sub, claims)
        .setProtectedHeader({ alg: header.alg ?? 'RS256', kid: header.kid ?? KID, typ: 'at+jwt' })
        .sign(privateKey),
    mintWithoutExpiry: (sub) =>
      new SignJWT({ scope: TEST_SCOPE })
        .setSubject(sub)
        .setIssuer(TEST_ISSUER)
        .setAudience(TEST_AUDIENCE)
        .setIssuedAt()
        .setProtectedHeader({ alg: 'RS256', kid: KID })
        .sign(privateKey),
    mintWithForeignKey: (sub, kid) => base(sub, {}).setProtectedHeader({ alg: 'RS256', kid }).sign(foreign.privateKey),
  };
}

/** An unsigned token (`alg: none`) carrying otherwise valid claims. */
export function unsignedToken(sub: string): string {
  const now = Math.floor(Date.now() / 1000);
  const part = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part({ iss: TEST_ISSUER, aud: TEST_AUDIENCE, sub, scope: TEST_SCOPE, iat: now, exp: now + 600 })}.`;
}

/** A token signed with HS256 using the issuer's public key PEM as the HMAC secret (the classic confusion attack). */
export function hmacWithPublicKey(issuer: TestIssuer, sub: string): Promise<string> {
  return new SignJWT({ scope: TEST_SCOPE })
    .setProtectedHeader({ alg: 'HS256', kid: KID })
    .setSubject(sub)
    .setIssuer(TEST_ISSUER)
    .setAudience(TEST_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(new TextEncoder().encode(issuer.publicKeyPem));
}

/**
 * Returns the API's token verifier configured for the test issuer (RS256,
 * test audience and scope); `keys` defaults to the issuer's own key set.
 */
export function testVerifier(keys: JWTVerifyGetKey, scheme: 'oidc' | 'entra' = 'oidc'): TokenVerifier {
  return createTokenVerifier({
    issuer: TEST_ISSUER,
    audiences: [TEST_AUDIENCE],
    scope: TEST_SCOPE,
    algorithms: ['RS256'],
    userIdScheme: scheme,
    keys,
  });
}
