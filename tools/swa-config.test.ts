/**
 * The Static Web Apps configuration (tools/swa-config.ts): the same strict
 * CSP and security headers as the local stack, with only the Azure origins
 * added; the SPA fallback leaves the API, assets and the MSAL bridge alone;
 * the committed example is what the generator writes.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appHeaders } from '../server/local/security-headers.ts';
import { staticWebAppConfig, SwaConfigError, swaOriginsFromEnv, type SwaOrigins } from './swa-config.ts';

const origins: SwaOrigins = {
  blobOrigin: 'https://sealdropfiles.blob.core.windows.net',
  apiOrigin: 'https://sealdrop-api.azurewebsites.net',
  authorityOrigin: 'https://login.microsoftonline.com',
};

function directives(csp: string): Map<string, string[]> {
  return new Map(csp.split('; ').map((d) => {
    const [name = '', ...values] = d.split(' ');
    return [name, values];
  }));
}

interface SwaConfig {
  navigationFallback: { rewrite: string; exclude: string[] };
  routes: { route: string; rewrite?: string; statusCode?: number; headers?: Record<string, string> }[];
  globalHeaders: Record<string, string>;
}

const config = staticWebAppConfig(origins) as unknown as SwaConfig;

describe('staticwebapp.config.json', () => {
  it.each([
    ['pages', config.globalHeaders, false],
    ['the MSAL redirect bridge', config.routes.find((r) => r.route === '/redirect.html')?.headers ?? {}, true],
  ] as const)('gives %s the local CSP, with only the blob endpoint, the API origin and the Entra host added', (_, headers, bridge) => {
    const local = directives(appHeaders({ https: false, blobOrigins: [origins.blobOrigin], redirectBridge: bridge })['Content-Security-Policy'] ?? '');
    const azure = directives(headers['Content-Security-Policy'] ?? '');
    expect([...azure.keys()]).toEqual([...local.keys()]);
    for (const [name, values] of local) {
      if (name === 'connect-src') expect(azure.get(name)).toEqual([...values, origins.apiOrigin, origins.authorityOrigin]);
      else if (name === 'frame-src') expect(azure.get(name)).toEqual([...values, origins.authorityOrigin]);
      else expect(azure.get(name), name).toEqual(values);
    }
    expect(local.get('connect-src')).toEqual(["'self'", origins.blobOrigin]);
    expect(headers['Content-Security-Policy']).not.toMatch(/'unsafe-inline'|'unsafe-eval'|\s\*/);
  });

  it('sends the security headers, HSTS included, and isolates pages from openers except the bridge', () => {
    expect(config.globalHeaders).toMatchObject({
      'Strict-Transport-Security': 'max-age=31536000; includeSubDomains',
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'X-Frame-Options': 'DENY',
      'Cross-Origin-Opener-Policy': 'same-origin-allow-popups',
      'Cross-Origin-Resource-Policy': 'same-origin',
    });
    expect(config.globalHeaders['Permissions-Policy']).toContain('camera=()');
    const bridge = config.routes.find((r) => r.route === '/redirect.html')?.headers;
    expect(bridge).toMatchObject({ 'X-Frame-Options': 'SAMEORIGIN', 'Cross-Origin-Opener-Policy': 'unsafe-none', 'Cache-Control': 'no-cache' });
  });

  it('falls back to the app for page URLs only: never for the API, built assets, the bridge, the worker or the settings; link shares go to the app', () => {
    expect(config.navigationFallback.rewrite).toBe('/index.html');
    for (const path of ['/api/*', '/assets/*', '/redirect.html', '/sw.js', '/config.json']) expect(config.navigationFallback.exclude).toContain(path);
    expect(config.routes.find((r) => r.route === '/s/*')?.rewrite).toBe('/index.html');
    expect(config.routes.find((r) => r.route === '/api/*')?.statusCode).toBe(404);
    expect(config.routes.find((r) => r.route === '/assets/*')?.headers?.['Cache-Control']).toBe('public, max-age=31536000, immutable');
    expect(config.routes.find((r) => r.route === '/sw.js')?.headers?.['Cache-Control']).toBe('no-cache');
  });

  it('is committed as deploy/staticwebapp.config.example.json exactly as the generator writes it', () => {
    const committed: unknown = JSON.parse(readFileSync(resolve(import.meta.dirname, '../deploy/staticwebapp.config.example.json'), 'utf8'));
    expect(committed).toEqual(staticWebAppConfig(origins));
  });

  it('is built from environment variables: https endpoints only, naming what is missing', () => {
    expect(swaOriginsFromEnv({ SEALDROP_BLOB_ENDPOINT: 'https://sealdropfiles.blob.core.windows.net/', SEALDROP_API_BASE: 'https://sealdrop-api.azurewebsites.net/api/v1' })).toEqual(origins);
    expect(() => swaOriginsFromEnv({})).toThrow(SwaConfigError);
    expect(() => swaOriginsFromEnv({})).toThrow('check SEALDROP_BLOB_ENDPOINT, SEALDROP_API_BASE');
    expect(() => swaOriginsFromEnv({ SEALDROP_BLOB_ENDPOINT: 'http://sealdropfiles.blob.core.windows.net', SEALDROP_API_BASE: 'https://a.example/api/v1' })).toThrow(
      'check SEALDROP_BLOB_ENDPOINT',
    );
  });
});
