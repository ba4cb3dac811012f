/**
 * Writes `staticwebapp.config.json` for Azure Static Web Apps from the same
 * header sets the local stack sends (server/local/security-headers.ts), so the
 * app gets the same strict CSP in Azure as locally, plus what Azure adds:
 * the storage account's blob endpoint, the token endpoint's origin (a
 * separate Functions app) and the Entra sign-in host in `connect-src`, and
 * that host in `frame-src` (MSAL's silent renewal iframe).
 *
 *   SEALDROP_BLOB_ENDPOINT=https://<account>.blob.core.windows.net \
 *   SEALDROP_API_BASE=https://<functions app>.azurewebsites.net/api/v1 \
 *   npm run config:swa -- dist/staticwebapp.config.json
 *
 * (SEALDROP_ENTRA_AUTHORITY_HOST defaults to login.microsoftonline.com.)
 */
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { appHeaders, type HeaderSet } from '../server/local/security-headers.ts';

const SwaEnvSchema = z.object({
  SEALDROP_BLOB_ENDPOINT: z.url({ protocol: /^https$/ }),
  SEALDROP_API_BASE: z.url({ protocol: /^https$/ }),
  SEALDROP_ENTRA_AUTHORITY_HOST: z.string().regex(/^[a-z0-9.-]+$/i).default('login.microsoftonline.com'),
});

/** The origins a deployment adds to the local CSP. */
export interface SwaOrigins {
  /** e.g. `https://acct.blob.core.windows.net` */
  blobOrigin: string;
  /** The token endpoint's origin, e.g. `https://sealdrop-api.azurewebsites.net` */
  apiOrigin: string;
  /** e.g. `https://login.microsoftonline.com` */
  authorityOrigin: string;
}

/** Thrown when a variable is missing or invalid; names variables, never values. */
export class SwaConfigError extends Error {
  constructor(readonly variables: string[]) {
    super(`The Static Web Apps settings are not valid: check ${variables.join(', ')}.`);
    this.name = 'SwaConfigError';
  }
}

/** Reads {@link SwaOrigins} from the environment; throws {@link SwaConfigError}. */
export function swaOriginsFromEnv(env: NodeJS.ProcessEnv): SwaOrigins {
  const parsed = SwaEnvSchema.safeParse(env);
  if (!parsed.success) throw new SwaConfigError([...new Set(parsed.error.issues.map((i) => String(i.path[0])))]);
  const e = parsed.data;
  return {
    blobOrigin: new URL(e.SEALDROP_BLOB_ENDPOINT).origin,
    apiOrigin: new URL(e.SEALDROP_API_BASE).origin,
    authorityOrigin: `https://${e.SEALDROP_ENTRA_AUTHORITY_HOST.toLowerCase()}`,
  };
}

/** Adds `extra` sources to the named directives of a CSP string. */
function extendCsp(csp: string, extra: Record<string, string[]>): string {
  return csp
    .split('; ')
    .map((directive) => {
      const [name = '', ...values] = directive.split(' ');
      const more = (extra[name] ?? []).filter((v) => !values.includes(v));
      return [name, ...values, ...more].join(' ');
    })
    .join('; ');
}

function withAzureCsp(headers: HeaderSet, o: SwaOrigins): Record<string, string> {
  return {
    ...headers,
    'Content-Security-Policy': extendCsp(headers['Content-Security-Policy'] ?? '', {
      'connect-src': [o.apiOrigin, o.authorityOrigin],
      'frame-src': [o.authorityOrigin],
    }),
  };
}

/** Files the SPA fallback must never answer with `index.html`: the API, built assets, the bridge, the worker and the settings. */
export const FALLBACK_EXCLUDE = [
  '/api/*',
  '/assets/*',
  '/redirect.html',
  '/sw.js',
  '/config.json',
  '/manifest.webmanifest',
  '/*.{png,svg,ico,webp,json,webmanifest,js,mjs,css,map,txt,wasm}',
];

/**
 * The Static Web Apps configuration for `origins`: global headers = the
 * app's local headers (HTTPS) with the Azure origins added; the redirect
 * bridge keeps its own (framable by the app, no opener isolation); hashed
 * assets cached for a year, HTML and the service worker revalidated; link
 * shares (`/s/<id>#…`) rewritten to the app; no fallback for the files in
 * {@link FALLBACK_EXCLUDE}; `/api/*` answers 404 (the endpoint is a
 * separate Functions app).
 */
export function staticWebAppConfig(origins: SwaOrigins): Record<string, unknown> {
  const blobOrigins = [origins.blobOrigin];
  const page = withAzureCsp(appHeaders({ https: true, blobOrigins }), origins);
  const bridge = withAzureCsp(appHeaders({ https: true, blobOrigins, redirectBridge: true }), origins);
  return {
    navigationFallback: { rewrite: '/index.html', exclude: FALLBACK_EXCLUDE },
    routes: [
      // Route headers override global ones; a global header cannot be removed, so COOP is set to its no-isolation value.
      { route: '/redirect.html', headers: { ...bridge, 'Cross-Origin-Opener-Policy': 'unsafe-none', 'Cache-Control': 'no-cache' } },
      { route: '/s/*', rewrite: '/index.html' },
      { route: '/assets/*', headers: { 'Cache-Control': 'public, max-age=31536000, immutable' } },
      { route: '/index.html', headers: { 'Cache-Control': 'no-cache' } },
      { route: '/sw.js', headers: { 'Cache-Control': 'no-cache' } },
      { route: '/config.json', headers: { 'Cache-Control': 'no-cache' } },
      { route: '/api/*', statusCode: 404 },
    ],
    globalHeaders: page,
    mimeTypes: { '.webmanifest': 'application/manifest+json', '.wasm': 'application/wasm' },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const out = process.argv[2] ?? 'dist/staticwebapp.config.json';
  try {
    writeFileSync(out, `${JSON.stringify(staticWebAppConfig(swaOriginsFromEnv(process.env)), null, 2)}\n`);
    process.stdout.write(`Wrote ${out}\n`);
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
