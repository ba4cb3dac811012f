import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import { describe, expect, it } from 'vitest';
import { createTokenVerifier, remoteJwks, SigningKeysUnavailableError } from './token-verifier.ts';

const ISSUER = 'http://127.0.0.1:17199/oidc';

async function setup(): Promise<{ token: string; jwks: object }> {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256' }] };
  const token = await new SignJWT({ scope: 'api://sealdrop/files' })
    .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
    .setIssuer(ISSUER)
    .setAudience('api://sealdrop')
    .setSubject('s')
    .setExpirationTime('5m')
    .sign(privateKey);
  return { token, jwks };
}

function verifierWith(fetchImpl: typeof fetch, jwksUri: string | null = null): ReturnType<typeof createTokenVerifier> {
  return createTokenVerifier({
    issuer: ISSUER,
    audiences: ['api://sealdrop'],
    scope: 'api://sealdrop/files',
    algorithms: ['RS256'],
    userIdScheme: 'oidc',
    keys: remoteJwks(ISSUER, jwksUri, fetchImpl),
  });
}

describe('remote JWKS', () => {
  it('finds the key set through discovery on first use, and retries discovery after a failure', async () => {
    const { token, jwks } = await setup();
    const requested: string[] = [];
    let discoveryUp = false;
    const originalFetch = globalThis.fetch;
    // jose fetches the JWKS with the global fetch; discovery uses the injected one.
    globalThis.fetch = (input) => {
      const url = input instanceof Request ? input.url : String(input);
      requested.push(url);
      return Promise.resolve(new Response(JSON.stringify(jwks), { headers: { 'content-type': 'application/json' } }));
    };
    try {
      const verify = verifierWith((input) => {
        requested.push(String(input));
        if (!discoveryUp) return Promise.reject(new TypeError('fetch failed'));
        return Promise.resolve(Response.json({ issuer: ISSUER, jwks_uri: `${ISSUER}/keys-here` }));
      });
      await expect(verify(token)).rejects.toBeInstanceOf(SigningKeysUnavailableError);
      discoveryUp = true;
      await expect(verify(token)).resolves.toMatchObject({ userId: expect.stringMatching(/^[0-9a-f]{32}$/) });
      expect(requested).toEqual([
        `${ISSUER}/.well-known/openid-configuration`,
        `${ISSUER}/.well-known/openid-configuration`,
        `${ISSUER}/keys-here`,
      ]);
    } finally {
      globalThis.fetch = originalFetch;
    }
  });
});

describe('the e-mail a caller gets', () => {
  async function verifyClaims(claims: JWTPayload, trustedUpnDomains?: string[]): Promise<{ email: string | null; authTime: number | null }> {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const keys = createLocalJWKSet({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256' }] });
    const token = await new SignJWT({ scope: 'api://sealdrop/files', ...claims })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuer(ISSUER)
      .setAudience('api://sealdrop')
      .setSubject('s')
      .setExpirationTime('5m')
      .sign(privateKey);
    const verify = createTokenVerifier({
      issuer: ISSUER,
      audiences: ['api://sealdrop'],
      scope: 'api://sealdrop/files',
      algorithms: ['RS256'],
      userIdScheme: 'oidc',
      keys,
      ...(trustedUpnDomains === undefined ? {} : { trustedUpnDomains }),
    });
    return verify(token);
  }

  it('is the `email` claim only when the issuer marks it verified (email_verified or Entra xms_edov)', async () => {
    expect((await verifyClaims({ email: 'ada@example.com', email_verified: true })).email).toBe('ada@example.com');
    expect((await verifyClaims({ email: 'ada@example.com', xms_edov: true })).email).toBe('ada@example.com');
    expect((await verifyClaims({ email: 'ada@example.com', email_verified: false })).email).toBeNull();
    expect((await verifyClaims({ email: 'ada@example.com' })).email).toBeNull();
    expect((await verifyClaims({ email: 'ada@example.com', email_verified: 'true' })).email).toBeNull();
  });

  it('never comes from preferred_username, even when it holds an address', async () => {
    expect((await verifyClaims({ preferred_username: 'ada@example.com' })).email).toBeNull();
    expect((await verifyClaims({ preferred_username: 'ada@example.com', email: 'ada@example.com', email_verified: false })).email).toBeNull();
  });

  it('is a UPN only in a domain the operator configured', async () => {
    expect((await verifyClaims({ upn: 'ada@contoso.example' })).email).toBeNull();
    expect((await verifyClaims({ upn: 'ada@contoso.example' }, ['fabrikam.example'])).email).toBeNull();
    expect((await verifyClaims({ upn: 'ada@Contoso.example' }, ['contoso.example'])).email).toBe('ada@Contoso.example');
  });

  it('comes with the sign-in time when the token carries auth_time', async () => {
    expect((await verifyClaims({ auth_time: 1_700_000_000 })).authTime).toBe(1_700_000_000);
    expect((await verifyClaims({})).authTime).toBeNull();
  });
});
