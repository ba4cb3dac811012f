/**
 * The token endpoint's configuration: read from environment variables and
 * validated once at boot, so a bad setting stops the process before it
 * serves a single request.
 */
import { Buffer } from 'node:buffer';
import { z } from 'zod';

/** How the server signs SAS tokens and reaches storage. */
export type StorageMode = 'sharedKey' | 'userDelegation';
/** Which verified claims name a user (see docs/CONTRACTS.md §1). */
export type UserIdScheme = 'entra' | 'oidc';

/** The validated configuration of the token endpoint. */
export interface Config {
  storage: {
    mode: StorageMode;
    /** e.g. `http://127.0.0.1:10000/devstoreaccount1` or `https://acct.blob.core.windows.net` */
    blobEndpoint: string;
    accountName: string;
    /** Only in `sharedKey` mode. */
    accountKey: string | null;
    container: string;
  };
  oidc: {
    issuer: string;
    /** null: found through the issuer's discovery document. */
    jwksUri: string | null;
    audiences: string[];
    /** Full scope, e.g. `api://sealdrop/files`. */
    scope: string;
    algorithms: string[];
    userIdScheme: UserIdScheme;
  };
  /** How the endpoint signs in to storage in `userDelegation` mode (see from-config.ts `azureCredential`). */
  azureIdentity: { kind: 'managed' | 'developer'; managedIdentityClientId: string | null };
  sasMinutes: number;
  maxFileBytes: number;
  maxManifestBytes: number;
  maxBodyBytes: number;
  rateLimit: {
    perUserPerMinute: number;
    perIpPerMinute: number;
    /** `memory`: per process (default); `table`: shared by every instance through an Azure Storage table. */
    store: 'memory' | 'table';
    /** The table service endpoint and table name, with `table` only. */
    table: { endpoint: string; name: string } | null;
  };
  /** Origins allowed to call the API cross-origin (none when the app is served from the same origin). */
  corsOrigins: string[];
  /** Trust `X-Forwarded-For` / `X-Forwarded-Proto` from a reverse proxy in front of us. */
  trustProxy: boolean;
  /**
   * Secret that keys the key directory's blob names (directory entries and
   * recovery copies): HMAC-SHA-256, so nobody who can list or guess names
   * can test addresses or find a recovery copy. Set once per deployment.
   */
  directoryKey: Uint8Array;
  /** Domains whose Entra `upn` counts as a verified address (lowercase). */
  trustedUpnDomains: string[];
}

/** Thrown by {@link loadConfig}; its message lists every bad variable, never a value. */
export class ConfigError extends Error {
  /** Names of the environment variables that are missing or invalid. */
  readonly variables: string[];
  constructor(problems: { variable: string; problem: string }[]) {
    super(
      `The token endpoint's configuration is not valid: ${problems
        .map((p) => `${p.variable} ${p.problem}`)
        .join('; ')}.`,
    );
    this.name = 'ConfigError';
    this.variables = problems.map((p) => p.variable);
  }
}

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
// Asymmetric algorithms only: an HMAC algorithm would let anyone holding the
// issuer's public key mint tokens (the "HS256 with the public key" attack).
const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const;

const httpUrl = z.url({ protocol: /^https?$/ }).transform((u) => u.replace(/\/+$/, ''));
const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const list = z
  .string()
  .transform((s) => s.split(',').map((x) => x.trim()).filter((x) => x !== ''));

const envSchema = z.object({
  SEALDROP_STORAGE_MODE: z.enum(['sharedKey', 'userDelegation']).default('sharedKey'),
  SEALDROP_BLOB_ENDPOINT: httpUrl,
  SEALDROP_STORAGE_ACCOUNT: z.string().regex(/^[a-z0-9]{3,24}$/, 'must be 3–24 lowercase letters or digits'),
  SEALDROP_STORAGE_KEY: z.base64().min(1).optional(),
  SEALDROP_CONTAINER: z
    .string()
    .regex(/^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}$/, 'must be a valid container name')
    .default('sealdrop'),
  SEALDROP_OIDC_ISSUER: z.url({ protocol: /^https?$/ }),
  SEALDROP_OIDC_JWKS_URI: z.url({ protocol: /^https?$/ }).optional(),
  SEALDROP_API_AUDIENCE: list.pipe(z.array(z.string().min(1)).min(1)).default(['api://sealdrop']),
  SEALDROP_API_SCOPE: z.string().regex(/^\S+$/, 'must be one scope without spaces').default('api://sealdrop/files'),
  SEALDROP_OIDC_ALGORITHMS: list
    .pipe(z.array(z.enum(ASYMMETRIC_ALGORITHMS, 'must list asymmetric algorithms only (e.g. RS256)')).min(1))
    .default(['RS256']),
  SEALDROP_USER_ID_SCHEME: z.enum(['entra', 'oidc']).optional(),
  SEALDROP_AZURE_IDENTITY: z.enum(['managed', 'developer']).default('managed'),
  SEALDROP_MANAGED_IDENTITY_CLIENT_ID: z.guid('must be a client id (a GUID)').optional(),
  SEALDROP_SAS_MINUTES: z.coerce.number().int().min(1).max(60).default(15),
  SEALDROP_MAX_FILE_BYTES: positiveInt(100 * GiB),
  SEALDROP_MAX_MANIFEST_BYTES: positiveInt(4 * MiB),
  SEALDROP_MAX_BODY_BYTES: positiveInt(16 * 1024),
  SEALDROP_RATE_USER_PER_MINUTE: positiveInt(120),
  SEALDROP_RATE_IP_PER_MINUTE: positiveInt(300),
  SEALDROP_RATE_LIMIT_STORE: z.enum(['memory', 'table']).default('memory'),
  SEALDROP_RATE_LIMIT_TABLE_ENDPOINT: httpUrl.optional(),
  SEALDROP_RATE_LIMIT_TABLE: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9]{2,62}$/, 'must be a table name: 3–63 letters or digits, starting with a letter')
    .default('sealdropratelimits'),
  SEALDROP_API_CORS_ORIGINS: list.pipe(z.array(z.url({ protocol: /^https?$/ }))).default([]),
  SEALDROP_TRUST_PROXY: z.enum(['true', 'false']).default('false'),
  SEALDROP_DIRECTORY_KEY: z
    .base64('must be base64')
    .refine((v) => Buffer.from(v, 'base64').byteLength >= 32, 'must be at least 32 random bytes, base64-encoded'),
  SEALDROP_TRUSTED_UPN_DOMAINS: list
    .pipe(z.array(z.string().regex(/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i, 'must list domain names')))
    .default([]),
});

// Microsoft sign-in hosts: tokens from them name users by tid + oid.
const ENTRA_HOSTS = new Set([
  'login.microsoftonline.com',
  'sts.windows.net',
  'login.microsoftonline.us',
  'login.chinacloudapi.cn',
  'login.partner.microsoftonline.cn',
]);

/**
 * Reads and validates the configuration from `env` (usually `process.env`).
 * Empty strings count as unset. Throws {@link ConfigError} naming every
 * missing or invalid variable (values are never echoed: one may be a key).
 */
export function loadConfig(env: NodeJS.ProcessEnv): Config {
  const present = Object.fromEntries(
    Object.entries(env).filter(([k, v]) => k.startsWith('SEALDROP_') && v !== undefined && v.trim() !== ''),
  );
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => ({
        variable: String(issue.path[0] ?? 'environment'),
        problem: issue.code === 'invalid_type' ? 'is missing' : `is invalid (${issue.message})`,
      })),
    );
  }
  const e = parsed.data;
  if (e.SEALDROP_STORAGE_MODE === 'sharedKey' && e.SEALDROP_STORAGE_KEY === undefined) {
    throw new ConfigError([{ variable: 'SEALDROP_STORAGE_KEY', problem: 'is missing (needed when SEALDROP_STORAGE_MODE is sharedKey)' }]);
  }
  if (e.SEALDROP_RATE_LIMIT_STORE === 'table' && e.SEALDROP_RATE_LIMIT_TABLE_ENDPOINT === undefined) {
    throw new ConfigError([{ variable: 'SEALDROP_RATE_LIMIT_TABLE_ENDPOINT', problem: 'is missing (needed when SEALDROP_RATE_LIMIT_STORE is table)' }]);
  }
  const issuerHost = new URL(e.SEALDROP_OIDC_ISSUER).hostname;
  return {
    storage: {
      mode: e.SEALDROP_STORAGE_MODE,
      blobEndpoint: e.SEALDROP_BLOB_ENDPOINT,
      accountName: e.SEALDROP_STORAGE_ACCOUNT,
      accountKey: e.SEALDROP_STORAGE_MODE === 'sharedKey' ? (e.SEALDROP_STORAGE_KEY ?? null) : null,
      container: e.SEALDROP_CONTAINER,
    },
    oidc: {
      // Kept exactly as given: `iss` must match it character for character.
      issuer: e.SEALDROP_OIDC_ISSUER,
      jwksUri: e.SEALDROP_OIDC_JWKS_URI ?? null,
      audiences: e.SEALDROP_API_AUDIENCE,
      scope: e.SEALDROP_API_SCOPE,
      algorithms: e.SEALDROP_OIDC_ALGORITHMS,
      userIdScheme: e.SEALDROP_USER_ID_SCHEME ?? (ENTRA_HOSTS.has(issuerHost) ? 'entra' : 'oidc'),
    },
    azureIdentity: { kind: e.SEALDROP_AZURE_IDENTITY, managedIdentityClientId: e.SEALDROP_MANAGED_IDENTITY_CLIENT_ID ?? null },
    sasMinutes: e.SEALDROP_SAS_MINUTES,
    maxFileBytes: e.SEALDROP_MAX_FILE_BYTES,
    maxManifestBytes: e.SEALDROP_MAX_MANIFEST_BYTES,
    maxBodyBytes: e.SEALDROP_MAX_BODY_BYTES,
    rateLimit: {
      perUserPerMinute: e.SEALDROP_RATE_USER_PER_MINUTE,
      perIpPerMinute: e.SEALDROP_RATE_IP_PER_MINUTE,
      store: e.SEALDROP_RATE_LIMIT_STORE,
      table:
        e.SEALDROP_RATE_LIMIT_STORE === 'table' && e.SEALDROP_RATE_LIMIT_TABLE_ENDPOINT !== undefined
          ? { endpoint: e.SEALDROP_RATE_LIMIT_TABLE_ENDPOINT, name: e.SEALDROP_RATE_LIMIT_TABLE }
          : null,
    },
    corsOrigins: e.SEALDROP_API_CORS_ORIGINS.map((o) => new URL(o).origin),
    trustProxy: e.SEALDROP_TRUST_PROXY === 'true',
    directoryKey: new Uint8Array(Buffer.from(e.SEALDROP_DIRECTORY_KEY, 'base64')),
    trustedUpnDomains: e.SEALDROP_TRUSTED_UPN_DOMAINS.map((d) => d.toLowerCase()),
  };
}
