/**
 * SAS signing strategies: with the account's shared key (Azurite, local) or
 * with a user delegation key obtained through Entra (Azure, preferred: no
 * account key in the app's settings, and revocable).
 */
import {
  BlobSASPermissions,
  generateBlobSASQueryParameters,
  SASProtocol,
  StorageSharedKeyCredential,
  type UserDelegationKey,
} from '@azure/storage-blob';

/** Permission sets the API hands out (letters in Azure's canonical order). */
export type SasPermissions = 'r' | 'rcw' | 'cw' | 'd';

/** What one SAS covers: one blob, some permissions, a time window. */
export interface SasRequest {
  blobName: string;
  permissions: SasPermissions;
  startsOn: Date;
  expiresOn: Date;
}

/** Signs a SAS for exactly one blob. Returns the query string without `?`. */
export interface SasSigner {
  sign(request: SasRequest): Promise<string>;
}

/** `https` only when the storage endpoint itself is https (Azurite runs on plain http loopback). */
export function sasProtocolFor(blobEndpoint: string): SASProtocol {
  return blobEndpoint.startsWith('https:') ? SASProtocol.Https : SASProtocol.HttpsAndHttp;
}

/** A signer holding the account key. Never throws for valid input. */
export function sharedKeySasSigner(opts: {
  container: string;
  accountName: string;
  accountKey: string;
  protocol: SASProtocol;
}): SasSigner {
  const credential = new StorageSharedKeyCredential(opts.accountName, opts.accountKey);
  return {
    sign: (r) =>
      Promise.resolve(
        generateBlobSASQueryParameters(
          {
            containerName: opts.container,
            blobName: r.blobName,
            permissions: BlobSASPermissions.parse(r.permissions),
            startsOn: r.startsOn,
            expiresOn: r.expiresOn,
            protocol: opts.protocol,
          },
          credential,
        ).toString(),
      ),
  };
}

/** Obtains user delegation keys (in production `BlobServiceClient.getUserDelegationKey`). */
export interface UserDelegationKeySource {
  getUserDelegationKey(startsOn: Date, expiresOn: Date): Promise<UserDelegationKey>;
}

/**
 * A signer using user delegation keys from `keys`. One key is fetched for
 * `keyLifetimeMinutes` (default 120) and reused for every SAS that expires
 * at least 5 minutes before it does; then a fresh one is fetched. Concurrent
 * requests share one fetch; a failed fetch is not cached. `sign` rejects
 * with the source's error when no key can be obtained.
 */
export function userDelegationSasSigner(opts: {
  container: string;
  accountName: string;
  protocol: SASProtocol;
  keys: UserDelegationKeySource;
  keyLifetimeMinutes?: number;
  now?: () => Date;
}): SasSigner {
  const now = opts.now ?? (() => new Date());
  const lifetimeMs = (opts.keyLifetimeMinutes ?? 120) * 60_000;
  const marginMs = 5 * 60_000;
  let current: Promise<UserDelegationKey> | null = null;

  const keyCovering = async (expiresOn: Date): Promise<UserDelegationKey> => {
    if (current !== null) {
      const key = await current.catch(() => null);
      if (key !== null && key.signedExpiresOn.getTime() - marginMs >= expiresOn.getTime()) return key;
    }
    const t = now().getTime();
    // The key's own window starts 5 minutes back too: clock skew.
    const fetching = opts.keys.getUserDelegationKey(new Date(t - marginMs), new Date(Math.max(t + lifetimeMs, expiresOn.getTime() + marginMs)));
    current = fetching;
    fetching.catch(() => {
      if (current === fetching) current = null;
    });
    return fetching;
  };

  return {
    async sign(r) {
      const key = await keyCovering(r.expiresOn);
      return generateBlobSASQueryParameters(
        {
          containerName: opts.container,
          blobName: r.blobName,
          permissions: BlobSASPermissions.parse(r.permissions),
          startsOn: r.startsOn,
          expiresOn: r.expiresOn,
          protocol: opts.protocol,
        },
        key,
        opts.accountName,
      ).toString();
    },
  };
}
