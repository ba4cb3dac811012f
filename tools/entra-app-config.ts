/**
 * The browser's runtime settings (`/config.json`) for a deployment that signs
 * in with Microsoft Entra ID, built from environment variables only. The
 * local stack serves its own settings (pointing at the local provider); a
 * static host serves the file this module writes.
 *
 *   SEALDROP_ENTRA_TENANT_ID=<tenant guid> SEALDROP_ENTRA_CLIENT_ID=<spa client id> \
 *   SEALDROP_APP_ORIGIN=https://files.example.org SEALDROP_API_SCOPE=api://<api id>/files \
 *   SEALDROP_API_BASE=https://api.example.org/api/v1 npm run config:entra -- dist/config.json
 */
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { AppConfigSchema, type AppConfig } from '../src/contract/index.ts';

const EntraEnvSchema = z.object({
  SEALDROP_ENTRA_TENANT_ID: z.string().regex(/^[0-9a-f-]{36}$|^[a-z0-9.-]+\.onmicrosoft\.com$/i, 'must be a tenant id or domain'),
  SEALDROP_ENTRA_CLIENT_ID: z.string().regex(/^[0-9a-f-]{36}$/i, 'must be the SPA app registration client id'),
  SEALDROP_ENTRA_AUTHORITY_HOST: z.string().regex(/^[a-z0-9.-]+$/i).default('login.microsoftonline.com'),
  SEALDROP_APP_ORIGIN: z.url({ protocol: /^https$/ }),
  SEALDROP_API_SCOPE: z.string().regex(/^\S+$/, 'must be one scope without spaces'),
  SEALDROP_API_BASE: z.string().min(1).default('/api/v1'),
});

/** Thrown when a variable is missing or invalid; names variables, never values. */
export class EntraConfigError extends Error {
  constructor(readonly variables: string[]) {
    super(`The Entra ID app settings are not valid: check ${variables.join(', ')}.`);
    this.name = 'EntraConfigError';
  }
}

/**
 * Builds the app's `/config.json` for Entra ID from the environment.
 * Returns a value that passes the browser's own schema; throws
 * {@link EntraConfigError} for a missing or malformed variable.
 */
export function entraAppConfig(env: NodeJS.ProcessEnv): AppConfig {
  const parsed = EntraEnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new EntraConfigError([...new Set(parsed.error.issues.map((i) => String(i.path[0])))]);
  }
  const e = parsed.data;
  const origin = new URL(e.SEALDROP_APP_ORIGIN).origin;
  return AppConfigSchema.parse({
    auth: {
      clientId: e.SEALDROP_ENTRA_CLIENT_ID,
      authority: `https://${e.SEALDROP_ENTRA_AUTHORITY_HOST}/${e.SEALDROP_ENTRA_TENANT_ID}`,
      knownAuthorities: [e.SEALDROP_ENTRA_AUTHORITY_HOST],
      redirectUri: `${origin}/redirect.html`,
      scopes: [e.SEALDROP_API_SCOPE],
    },
    apiBase: e.SEALDROP_API_BASE,
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const out = process.argv[2] ?? 'dist/config.json';
  try {
    writeFileSync(out, JSON.stringify(entraAppConfig(process.env), null, 2) + '\n');
    process.stdout.write(`Wrote ${out}\n`);
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
