import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { AZURITE_ACCOUNT_KEY } from '../local/azurite.ts';
import { ConfigError, loadConfig } from './config.ts';

const local = {
  SEALDROP_BLOB_ENDPOINT: 'http://127.0.0.1:10000/devstoreaccount1/',
  SEALDROP_STORAGE_ACCOUNT: 'devstoreaccount1',
  SEALDROP_STORAGE_KEY: AZURITE_ACCOUNT_KEY,
  SEALDROP_OIDC_ISSUER: 'http://localhost:5173/oidc',
  SEALDROP_DIRECTORY_KEY: Buffer.alloc(32, 7).toString('base64'),
};

function errorOf(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('requires a directory key of at least 32 bytes and reads trusted UPN domains', () => {
    expect(errorOf({ ...local, SEALDROP_DIRECTORY_KEY: '' }).variables).toEqual(['SEALDROP_DIRECTORY_KEY']);
    expect(errorOf({ ...local, SEALDROP_DIRECTORY_KEY: Buffer.alloc(31).toString('base64') }).variables).toEqual(['SEALDROP_DIRECTORY_KEY']);
    expect(errorOf({ ...local, SEALDROP_TRUSTED_UPN_DOMAINS: 'contoso.example, not a domain' }).variables).toEqual(['SEALDROP_TRUSTED_UPN_DOMAINS']);
    const c = loadConfig({ ...local, SEALDROP_TRUSTED_UPN_DOMAINS: 'Contoso.example, fabrikam.example' });
    expect(c.directoryKey).toEqual(new Uint8Array(32).fill(7));
    expect(c.trustedUpnDomains).toEqual(['contoso.example', 'fabrikam.example']);
  });

  it('reads a local configuration with defaults', () => {
    const c = loadConfig({ ...local, PATH: '/usr/bin', SEALDROP_CONTAINER: '' });
    expect(c.storage).toEqual({
      mode: 'sharedKey',
      blobEndpoint: 'http://127.0.0.1:10000/devstoreaccount1',
      accountName: 'devstoreaccount1',
      accountKey: AZURITE_ACCOUNT_KEY,
      container: 'sealdrop',
    });
    expect(c.oidc).toEqual({
      issuer: 'http://localhost:5173/oidc',
      jwksUri: null,
      audiences: ['api://sealdrop'],
      scope: 'api://sealdrop/files',
      algorithms: ['RS256'],
      userIdScheme: 'oidc',
    });
    expect(c.sasMinutes).toBe(15);
    expect(c.maxFileBytes).toBe(100 * 1024 ** 3);
    expect(c.rateLimit).toEqual({ perUserPerMinute: 120, perIpPerMinute: 300, store: 'memory', table: null });
    expect(c.trustProxy).toBe(false);
    expect(c.corsOrigins).toEqual([]);
  });

  it('reads an Azure configuration with a user delegation key and Entra user ids', () => {
    const c = loadConfig({
      SEALDROP_STORAGE_MODE: 'userDelegation',
      SEALDROP_DIRECTORY_KEY: local.SEALDROP_DIRECTORY_KEY,
      SEALDROP_BLOB_ENDPOINT: 'https://sealdropdata.blob.core.windows.net',
      SEALDROP_STORAGE_ACCOUNT: 'sealdropdata',
      SEALDROP_STORAGE_KEY: AZURITE_ACCOUNT_KEY,
      SEALDROP_OIDC_ISSUER: 'https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0',
      SEALDROP_API_AUDIENCE: 'api://sealdrop, 11111111-2222-3333-4444-555555555555',
      SEALDROP_API_CORS_ORIGINS: 'https://app.example/',
      SEALDROP_SAS_MINUTES: '10',
    });
    expect(c.storage.mode).toBe('userDelegation');
    expect(c.storage.accountKey).toBeNull();
    expect(c.oidc.userIdScheme).toBe('entra');
    expect(c.oidc.audiences).toEqual(['api://sealdrop', '11111111-2222-3333-4444-555555555555']);
    expect(c.corsOrigins).toEqual(['https://app.example']);
    expect(c.sasMinutes).toBe(10);
  });

  it('lists every missing or invalid variable in one plain error, without echoing values', () => {
    const err = errorOf({
      SEALDROP_BLOB_ENDPOINT: 'ftp://x',
      SEALDROP_STORAGE_ACCOUNT: 'Bad_Name',
      SEALDROP_SAS_MINUTES: '0',
      SEALDROP_OIDC_ALGORITHMS: 'RS256,HS256',
      SEALDROP_STORAGE_KEY: 'secret-not-base64!',
    });
    expect(err.variables.sort()).toEqual(
      ['SEALDROP_BLOB_ENDPOINT', 'SEALDROP_DIRECTORY_KEY', 'SEALDROP_OIDC_ALGORITHMS', 'SEALDROP_OIDC_ISSUER', 'SEALDROP_SAS_MINUTES', 'SEALDROP_STORAGE_ACCOUNT', 'SEALDROP_STORAGE_KEY'].sort(),
    );
    expect(err.message).toMatch(/^The token endpoint's configuration is not valid: /);
    expect(err.message).toContain('SEALDROP_OIDC_ISSUER is missing');
    expect(err.message).not.toContain('secret-not-base64');
    expect(err.message).not.toContain('\n');
  });

  it('needs the account key in shared-key mode', () => {
    const { SEALDROP_STORAGE_KEY: _key, ...rest } = local;
    expect(errorOf(rest).variables).toEqual(['SEALDROP_STORAGE_KEY']);
  });

  it('refuses symmetric and "none" algorithms', () => {
    expect(errorOf({ ...local, SEALDROP_OIDC_ALGORITHMS: 'none' }).variables).toEqual(['SEALDROP_OIDC_ALGORITHMS']);
    expect(errorOf({ ...local, SEALDROP_OIDC_ALGORITHMS: 'HS256' }).variables).toEqual(['SEALDROP_OIDC_ALGORITHMS']);
  });
});
