/**
 * Verifies the caller's access token (a JWT from the configured issuer) and
 * turns its verified claims into a {@link Caller}.
 */
import { createRemoteJWKSet, errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import type { UserIdScheme } from '../config.ts';
import { deriveUserId } from './user-id.ts';

/** Who is calling, from verified claims only. */
export interface Caller {
  userId: string;
  /**
   * An e-mail address the identity provider vouches for, or null: `email`
   * with `email_verified` or Entra's `xms_edov` true, or a `upn` in a domain
   * the operator trusts. Only this address may enter the directory.
   */
  email: string | null;
  name: string | null;
  /** When the person last signed in interactively (`auth_time`, seconds since the epoch), or null when the token does not say. */
  authTime: number | null;
}

/** The token is missing, malformed, forged, expired or not meant for us: answer 401. */
export class UnauthenticatedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnauthenticatedError';
  }
}

/** The issuer's signing keys could not be fetched: answer 503, not 401. */
export class SigningKeysUnavailableError extends Error {
  constructor() {
    super('The sign-in service’s keys could not be fetched.');
    this.name = 'SigningKeysUnavailableError';
  }
}

/** Checks one bearer token; resolves to the caller or throws one of the two errors above. */
export type TokenVerifier = (token: string) => Promise<Caller>;

// jose failures that mean "this token is no good", as opposed to "we could
// not fetch the keys to check it".
const TOKEN_FAULTS = new Set<string>([
  'ERR_JOSE_ALG_NOT_ALLOWED',
  'ERR_JOSE_NOT_SUPPORTED',
  'ERR_JWS_INVALID',
  'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
  'ERR_JWT_CLAIM_VALIDATION_FAILED',
  'ERR_JWT_EXPIRED',
  'ERR_JWT_INVALID',
  'ERR_JWK_INVALID',
  'ERR_JWKS_NO_MATCHING_KEY',
  'ERR_JWKS_MULTIPLE_MATCHING_KEYS',
]);

const emailLike = z.email();
const claimsSchema = z.object({
  iss: z.string().min(1),
  sub: z.string().min(1).optional(),
  tid: z.string().min(1).optional(),
  oid: z.string().min(1).optional(),
  scp: z.string().optional(),
  scope: z.string().optional(),
  email: z.string().optional(),
  // Only a literal `true` counts (a string "true" is not a verification).
  email_verified: z.unknown().optional(),
  xms_edov: z.unknown().optional(),
  upn: z.string().optional(),
  name: z.string().max(200).optional(),
  auth_time: z.number().int().positive().optional(),
});
type Claims = z.infer<typeof claimsSchema>;

function isAddress(value: string | undefined): value is string {
  return value !== undefined && value.length <= 254 && emailLike.safeParse(value).success;
}

/**
 * The address the issuer vouches for, or null. `preferred_username` is never
 * used: it is whatever the person or tenant typed, and on Entra it may be an
 * unverified address (the e-mail squatting of issue 15).
 */
function verifiedEmail(claims: Claims, trustedUpnDomains: readonly string[]): string | null {
  if ((claims.email_verified === true || claims.xms_edov === true) && isAddress(claims.email)) return claims.email;
  if (isAddress(claims.upn)) {
    const domain = claims.upn.slice(claims.upn.lastIndexOf('@') + 1).toLowerCase();
    if (trustedUpnDomains.includes(domain)) return claims.upn;
  }
  return null;
}

/**
 * Builds a verifier for tokens from one issuer: checks signature (against
 * `keys`, only with the allowed asymmetric `algorithms`), issuer, audience,
 * expiry (required), not-before, and that `scp` or `scope` holds the scope
 * (its full form, e.g. `api://sealdrop/files`, or its last segment, `files`,
 * as Entra writes it). The user id follows `userIdScheme`; the e-mail is
 * only one the issuer vouches for (see {@link Caller.email}).
 */
export function createTokenVerifier(opts: {
  issuer: string;
  audiences: string[];
  scope: string;
  algorithms: string[];
  userIdScheme: UserIdScheme;
  keys: JWTVerifyGetKey;
  /** Lowercase domains whose `upn` addresses the operator vouches for (SEALDROP_TRUSTED_UPN_DOMAINS); default none. */
  trustedUpnDomains?: readonly string[];
  clockToleranceSeconds?: number;
  now?: () => Date;
}): TokenVerifier {
  const shortScope = opts.scope.slice(opts.scope.lastIndexOf('/') + 1);
  return async (token) => {
    let payload: unknown;
    try {
      ({ payload } = await jwtVerify(token, opts.keys, {
        issuer: opts.issuer,
        audience: opts.audiences,
        algorithms: opts.algorithms,
        requiredClaims: ['exp'],
        clockTolerance: opts.clockToleranceSeconds ?? 30,
        ...(opts.now ? { currentDate: opts.now() } : {}),
      }));
    } catch (err) {
      if (err instanceof errors.JOSEError && TOKEN_FAULTS.has(err.code)) {
        throw new UnauthenticatedError(err.code === 'ERR_JWT_EXPIRED' ? 'Your sign-in has expired.' : 'Your sign-in token is not valid.');
      }
      throw new SigningKeysUnavailableError();
    }
    const parsed = claimsSchema.safeParse(payload);
    if (!parsed.success) throw new UnauthenticatedError('Your sign-in token is missing required claims.');
    const claims = parsed.data;

    const granted = `${claims.scp ?? ''} ${claims.scope ?? ''}`.split(' ').filter((s) => s !== '');
    if (!granted.includes(opts.scope) && !granted.includes(shortScope)) {
      throw new UnauthenticatedError('Your sign-in token does not grant access to Sealdrop files.');
    }

    let userId: string;
    if (opts.userIdScheme === 'entra') {
      if (claims.tid === undefined || claims.oid === undefined) {
        throw new UnauthenticatedError('Your sign-in token does not name a user.');
      }
      userId = deriveUserId({ scheme: 'entra', tid: claims.tid, oid: claims.oid });
    } else {
      if (claims.sub === undefined) throw new UnauthenticatedError('Your sign-in token does not name a user.');
      userId = deriveUserId({ scheme: 'oidc', iss: claims.iss, sub: claims.sub });
    }
    return {
      userId,
      email: verifiedEmail(claims, opts.trustedUpnDomains ?? []),
      name: claims.name ?? null,
      authTime: claims.auth_time ?? null,
    };
  };
}

const discoverySchema = z.object({ jwks_uri: z.url({ protocol: /^https?$/ }) });

/**
 * A key source for production: the issuer's JWKS, at `jwksUri` or, when it
 * is null, at the `jwks_uri` of the issuer's discovery document (falling back
 * to `<issuer>/jwks` if there is no discovery document). Discovery happens on
 * first use, not at boot, so the endpoint can start before the issuer; a
 * failed discovery is retried on the next request. Keys are cached and
 * refetched by jose on an unknown `kid` (rate-limited by jose).
 */
export function remoteJwks(issuer: string, jwksUri: string | null, fetchImpl: typeof fetch = fetch): JWTVerifyGetKey {
  let keySet: Promise<JWTVerifyGetKey> | null = jwksUri === null ? null : Promise.resolve(createRemoteJWKSet(new URL(jwksUri)));
  const resolve = async (): Promise<JWTVerifyGetKey> => {
    const res = await fetchImpl(`${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`, {
      signal: AbortSignal.timeout(5_000),
    });
    if (res.status === 404) return createRemoteJWKSet(new URL(`${issuer.replace(/\/+$/, '')}/jwks`));
    if (!res.ok) throw new SigningKeysUnavailableError();
    const doc = discoverySchema.safeParse(await res.json());
    if (!doc.success) throw new SigningKeysUnavailableError();
    return createRemoteJWKSet(new URL(doc.data.jwks_uri));
  };
  return async (header, token) => {
    keySet ??= resolve().catch((err: unknown) => {
      keySet = null;
      throw err;
    });
    const getKey = await keySet;
    return getKey(header, token);
  };
}
