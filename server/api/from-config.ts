/**
 * Wires the API's production dependencies from a validated {@link Config}:
 * the issuer's JWKS, the SAS signing strategy, the SDK container client and
 * the rate limiters. Nothing here touches the network until a request comes.
 */
import { DefaultAzureCredential } from '@azure/identity';
import { BlobServiceClient, RestError, StorageSharedKeyCredential } from '@azure/storage-blob';
import { stdoutAuditSink } from '../audit-log.ts';
import { createTokenVerifier, remoteJwks } from '../auth/token-verifier.ts';
import type { Config } from '../config.ts';
import { createHealthCheck, jwksProbe } from '../health.ts';
import { tokenBucketLimiter } from '../rate-limit.ts';
import { containerBlobStore } from '../storage/blob-store.ts';
import { sasProtocolFor, sharedKeySasSigner, userDelegationSasSigner, type SasSigner } from '../storage/sas-signer.ts';
import type { Api } from './api-types.ts';
import { createApi, type ApiDeps } from './app.ts';

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
    // Managed identity in Azure, developer sign-in (az login) elsewhere. The
    // identity needs "Storage Blob Data Contributor" on the account: it both
    // lists blobs and obtains user delegation keys.
    service = new BlobServiceClient(storage.blobEndpoint, new DefaultAzureCredential());
    signer = userDelegationSasSigner({
      container: storage.container,
      accountName: storage.accountName,
      protocol,
      keys: { getUserDelegationKey: (startsOn, expiresOn) => service.getUserDelegationKey(startsOn, expiresOn) },
    });
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
    userLimiter: tokenBucketLimiter({ perMinute: config.rateLimit.perUserPerMinute }),
    ipLimiter: tokenBucketLimiter({ perMinute: config.rateLimit.perIpPerMinute }),
    audit: stdoutAuditSink,
    corsOrigins: config.corsOrigins,
    ...overrides,
  });
}
