/**
 * Wires the API's production dependencies from a validated {@link Config}:
 * the issuer's JWKS, the SAS signing strategy, the SDK container client and
 * the rate limiters. Nothing here touches the network until a request comes.
 */
import { AzureNamedKeyCredential, TableClient } from '@azure/data-tables';
import { DefaultAzureCredential, ManagedIdentityCredential, type TokenCredential } from '@azure/identity';
import { BlobServiceClient, RestError, StorageSharedKeyCredential } from '@azure/storage-blob';
import { stdoutAuditSink } from '../audit-log.ts';
import { createTokenVerifier, remoteJwks } from '../auth/token-verifier.ts';
import type { Config } from '../config.ts';
import { createHealthCheck, jwksProbe } from '../health.ts';
import { tokenBucketLimiter } from '../rate-limit.ts';
import { tableRateLimiter } from '../rate-limit-table.ts';
import { containerBlobStore } from '../storage/blob-store.ts';
import { sasProtocolFor, sharedKeySasSigner, userDelegationSasSigner, type SasSigner } from '../storage/sas-signer.ts';
import type { Api } from './api-types.ts';
import { createApi, type ApiDeps } from './app.ts';

/**
 * The identity the endpoint reaches storage with in `userDelegation` mode:
 * the managed identity (system-assigned, or the user-assigned one whose
 * client id is configured) by default; with SEALDROP_AZURE_IDENTITY=developer,
 * `DefaultAzureCredential` (Azure CLI sign-in and the like, for running the
 * endpoint on a workstation against a real account). Fetches nothing yet.
 */
export function azureCredential(config: Pick<Config, 'azureIdentity'>): TokenCredential {
  const { kind, managedIdentityClientId } = config.azureIdentity;
  if (kind === 'developer') return new DefaultAzureCredential();
  return managedIdentityClientId === null ? new ManagedIdentityCredential() : new ManagedIdentityCredential({ clientId: managedIdentityClientId });
}

/**
 * A SAS signer using user delegation keys that `service` obtains with its
 * own token credential ("Storage Blob Delegator" role): one key serves
 * every SAS for two hours and is renewed before it runs out
 * (sas-signer.ts). The SAS carries the endpoint identity's object id, so
 * revoking that identity's keys (or its role) voids every grant.
 */
export function userDelegationSigner(service: BlobServiceClient, container: string, accountName: string): SasSigner {
  return userDelegationSasSigner({
    container,
    accountName,
    protocol: sasProtocolFor(service.url),
    keys: { getUserDelegationKey: (startsOn, expiresOn) => service.getUserDelegationKey(startsOn, expiresOn) },
  });
}

/**
 * The user and address limiters `config` asks for: in memory (per
 * process), or shared through an Azure Storage table (rate-limit-table.ts),
 * reached with the endpoint's identity ("Storage Table Data Contributor")
 * or, against Azurite, the account key.
 */
export function rateLimiters(config: Pick<Config, 'rateLimit' | 'storage' | 'azureIdentity'>): Pick<ApiDeps, 'userLimiter' | 'ipLimiter'> {
  const { perUserPerMinute, perIpPerMinute, table } = config.rateLimit;
  if (config.rateLimit.store === 'memory' || table === null) {
    return { userLimiter: tokenBucketLimiter({ perMinute: perUserPerMinute }), ipLimiter: tokenBucketLimiter({ perMinute: perIpPerMinute }) };
  }
  const { accountKey, accountName } = config.storage;
  const options = { allowInsecureConnection: table.endpoint.startsWith('http:') };
  const client =
    config.storage.mode === 'sharedKey' && accountKey !== null
      ? new TableClient(table.endpoint, table.name, new AzureNamedKeyCredential(accountName, accountKey), options)
      : new TableClient(table.endpoint, table.name, azureCredential(config), options);
  return {
    userLimiter: tableRateLimiter({ table: client, perMinute: perUserPerMinute, name: 'user' }),
    ipLimiter: tableRateLimiter({ table: client, perMinute: perIpPerMinute, name: 'ip' }),
  };
}

/**
 * Returns the API for `config`; `overrides` replace single dependencies (a
 * launcher may pass its own audit sink, tests a local key set). Throws only
 * if the storage SDK rejects the endpoint or key format.
 */
export function createApiFromConfig(config: Config, overrides: Partial<ApiDeps> = {}): Api {
  const { storage, oidc } = config;
  const protocol = sasProtocolFor(storage.blobEndpoint);
  let service: BlobServiceClient;
  let signer: SasSigner;
  if (storage.mode === 'sharedKey' && storage.accountKey !== null) {
    service = new BlobServiceClient(storage.blobEndpoint, new StorageSharedKeyCredential(storage.accountName, storage.accountKey));
    signer = sharedKeySasSigner({ container: storage.container, accountName: storage.accountName, accountKey: storage.accountKey, protocol });
  } else {
    // No account key anywhere: the endpoint's own identity (in Azure, the
    // Functions app's managed identity) lists blobs and obtains the user
    // delegation keys that sign every SAS.
    service = new BlobServiceClient(storage.blobEndpoint, azureCredential(config));
    signer = userDelegationSigner(service, storage.container, storage.accountName);
  }

  const container = service.getContainerClient(storage.container);
  return createApi({
    verifyToken: createTokenVerifier({
      issuer: oidc.issuer,
      audiences: oidc.audiences,
      scope: oidc.scope,
      algorithms: oidc.algorithms,
      userIdScheme: oidc.userIdScheme,
      keys: remoteJwks(oidc.issuer, oidc.jwksUri),
      trustedUpnDomains: config.trustedUpnDomains,
    }),
    directoryKey: config.directoryKey,
    signer,
    store: containerBlobStore(container),
    health: createHealthCheck({
      // Any answer from storage (even a refusal) shows it is reachable; a
      // timeout, a refused connection or a 5xx does not.
      storage: async (abortSignal) => {
        try {
          await container.getProperties({ abortSignal });
        } catch (err) {
          if (err instanceof RestError && err.statusCode !== undefined && err.statusCode < 500) return;
          throw err;
        }
      },
      identity: jwksProbe(oidc.issuer, oidc.jwksUri),
    }),
    blobEndpoint: storage.blobEndpoint,
    container: storage.container,
    sasMinutes: config.sasMinutes,
    maxFileBytes: config.maxFileBytes,
    maxManifestBytes: config.maxManifestBytes,
    maxBodyBytes: config.maxBodyBytes,
    ...rateLimiters(config),
    audit: stdoutAuditSink,
    corsOrigins: config.corsOrigins,
    ...overrides,
  });
}
