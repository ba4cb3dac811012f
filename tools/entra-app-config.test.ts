import { describe, expect, it } from 'vitest';
import { AppConfigSchema } from '../src/contract/index.ts';
import { EntraConfigError, entraAppConfig } from './entra-app-config.ts';

const env = {
  SEALDROP_ENTRA_TENANT_ID: '11111111-2222-3333-4444-555555555555',
  SEALDROP_ENTRA_CLIENT_ID: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
  SEALDROP_APP_ORIGIN: 'https://files.example.org',
  SEALDROP_API_SCOPE: 'api://sealdrop-api/files',
};

describe('Entra ID app settings from the environment', () => {
  it('point MSAL at the tenant, the bridge page and the API scope', () => {
    const config = entraAppConfig(env);
    expect(AppConfigSchema.parse(config)).toEqual(config);
    expect(config.auth.authority).toBe('https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555');
    expect(config.auth.knownAuthorities).toEqual(['login.microsoftonline.com']);
    expect(config.auth.redirectUri).toBe('https://files.example.org/redirect.html');
    expect(config.auth.scopes).toEqual(['api://sealdrop-api/files']);
    expect(config.auth.authorityMetadata).toBeUndefined();
    expect(config.apiBase).toBe('/api/v1');
  });

  it('name every missing or malformed variable, never its value', () => {
    const bad = { ...env, SEALDROP_ENTRA_CLIENT_ID: 'not-a-guid', SEALDROP_APP_ORIGIN: 'http://files.example.org' };
    delete (bad as Partial<typeof env>).SEALDROP_API_SCOPE;
    let caught: unknown;
    try {
      entraAppConfig(bad);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(EntraConfigError);
    const err = caught as EntraConfigError;
    expect(err.variables.sort()).toEqual(['SEALDROP_API_SCOPE', 'SEALDROP_APP_ORIGIN', 'SEALDROP_ENTRA_CLIENT_ID']);
    expect(err.message).not.toContain('not-a-guid');
  });
});
