/**
 * Mounts the token endpoint in the local stack: the same configuration
 * path as a deployment (SEALDROP_* settings validated by `loadConfig`), with
 * the local values filled in.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { loadConfig } from '../endpoint/config.ts';
import { createApiFromConfig } from '../endpoint/api/from-config.ts';
import { toNodeHandler } from '../endpoint/api/node-adapter.ts';

/** The local values the API needs. */
export interface LocalApiOptions {
  blobEndpoint: string;
  accountName: string;
  accountKey: string;
  container: string;
  issuer: string;
  jwksUri: string;
  audience: string;
  scope: string;
  /**
   * Base64 secret (≥ 32 bytes) for the key directory's blob names, made once
   * in the stack's data folder (loadOrCreateServerSecret) and passed on every
   * start: a new key orphans every directory entry and recovery copy.
   */
  directoryKey: string;
}

// Tuning a person may set for the local stack too; everything that names
// storage or the issuer is the stack's own.
const PASSED_THROUGH = [
  'SEALDROP_SAS_MINUTES',
  'SEALDROP_MAX_FILE_BYTES',
  'SEALDROP_MAX_MANIFEST_BYTES',
  'SEALDROP_MAX_BODY_BYTES',
  'SEALDROP_RATE_USER_PER_MINUTE',
  'SEALDROP_RATE_IP_PER_MINUTE',
] as const;

/**
 * Returns the API's Node request handler for `/api/*`. Throws the config's
 * plain error when a passed-through SEALDROP_* tuning variable is invalid.
 */
export function createLocalApi(
  opts: LocalApiOptions,
  env: NodeJS.ProcessEnv = process.env,
): (req: IncomingMessage, res: ServerResponse) => void {
  const config = loadConfig({
    ...Object.fromEntries(PASSED_THROUGH.map((name) => [name, env[name]])),
    SEALDROP_STORAGE_MODE: 'sharedKey',
    SEALDROP_BLOB_ENDPOINT: opts.blobEndpoint,
    SEALDROP_STORAGE_ACCOUNT: opts.accountName,
    SEALDROP_STORAGE_KEY: opts.accountKey,
    SEALDROP_CONTAINER: opts.container,
    SEALDROP_OIDC_ISSUER: opts.issuer,
    SEALDROP_OIDC_JWKS_URI: opts.jwksUri,
    SEALDROP_API_AUDIENCE: opts.audience,
    SEALDROP_API_SCOPE: opts.scope,
    SEALDROP_USER_ID_SCHEME: 'oidc',
    SEALDROP_DIRECTORY_KEY: opts.directoryKey,
  });
  return toNodeHandler(createApiFromConfig(config), { maxBodyBytes: config.maxBodyBytes });
}
