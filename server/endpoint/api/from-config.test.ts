import { DefaultAzureCredential, ManagedIdentityCredential } from '@azure/identity';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';
import { azureCredential, rateLimiters } from './from-config.ts';

const base = {
  SEALDROP_STORAGE_MODE: 'userDelegation',
  SEALDROP_BLOB_ENDPOINT: 'https://acct.blob.core.windows.net',
  SEALDROP_STORAGE_ACCOUNT: 'acct',
  SEALDROP_OIDC_ISSUER: 'https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/v2.0',
  SEALDROP_DIRECTORY_KEY: Buffer.alloc(32, 1).toString('base64'),
};

describe('the storage identity in userDelegation mode', () => {
  it('is the managed identity by default (no account key anywhere)', () => {
    const config = loadConfig(base);
    expect(config.storage.accountKey).toBeNull();
    expect(config.azureIdentity).toEqual({ kind: 'managed', managedIdentityClientId: null });
    expect(azureCredential(config)).toBeInstanceOf(ManagedIdentityCredential);
  });

  it('is a user-assigned managed identity when its client id is set, and refuses a client id that is no GUID', () => {
    const config = loadConfig({ ...base, SEALDROP_MANAGED_IDENTITY_CLIENT_ID: '0f9e8d7c-6b5a-4321-9876-543210fedcba' });
    expect(config.azureIdentity.managedIdentityClientId).toBe('0f9e8d7c-6b5a-4321-9876-543210fedcba');
    expect(azureCredential(config)).toBeInstanceOf(ManagedIdentityCredential);
    expect(() => loadConfig({ ...base, SEALDROP_MANAGED_IDENTITY_CLIENT_ID: 'not-a-guid' })).toThrow(/SEALDROP_MANAGED_IDENTITY_CLIENT_ID is invalid/);
  });

  it('is the developer’s own sign-in (DefaultAzureCredential) only when asked for', () => {
    expect(azureCredential(loadConfig({ ...base, SEALDROP_AZURE_IDENTITY: 'developer' }))).toBeInstanceOf(DefaultAzureCredential);
    expect(() => loadConfig({ ...base, SEALDROP_AZURE_IDENTITY: 'root' })).toThrow(/SEALDROP_AZURE_IDENTITY is invalid/);
  });
});

describe('the rate limiter store', () => {
  it('is in memory by default: per process, answering at once', () => {
    const config = loadConfig({ ...base, SEALDROP_RATE_USER_PER_MINUTE: '1' });
    expect(config.rateLimit).toMatchObject({ store: 'memory', table: null });
    const { userLimiter } = rateLimiters(config);
    expect(userLimiter.take('user:a')).toEqual({ allowed: true });
    expect(userLimiter.take('user:a')).toMatchObject({ allowed: false });
  });

  it('needs the table endpoint when it is a table, and a valid table name', () => {
    expect(() => loadConfig({ ...base, SEALDROP_RATE_LIMIT_STORE: 'table' })).toThrow(/SEALDROP_RATE_LIMIT_TABLE_ENDPOINT is missing/);
    expect(() => loadConfig({ ...base, SEALDROP_RATE_LIMIT_STORE: 'table', SEALDROP_RATE_LIMIT_TABLE_ENDPOINT: 'https://acct.table.core.windows.net', SEALDROP_RATE_LIMIT_TABLE: 'rate-limits' })).toThrow(
      /SEALDROP_RATE_LIMIT_TABLE is invalid/,
    );
    const config = loadConfig({ ...base, SEALDROP_RATE_LIMIT_STORE: 'table', SEALDROP_RATE_LIMIT_TABLE_ENDPOINT: 'https://acct.table.core.windows.net/' });
    expect(config.rateLimit.table).toEqual({ endpoint: 'https://acct.table.core.windows.net', name: 'sealdropratelimits' });
  });
});
