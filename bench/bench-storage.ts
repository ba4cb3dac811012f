/**
 * The bench's blob storage: a fresh Azurite on disk in a temp folder (its
 * memory is not freed after deletes, see PLATFORM-NOTES), or a running one;
 * SAS URLs minted here with the account key, handed to the page.
 *
 * A fresh Azurite sits behind the same filtering proxy as the local stack
 * (server/local/storage-proxy.ts), and both sides of every comparison, Sealdrop and
 * the plain SDK, go through it, so the ratios stay fair. `directPlainUrl`
 * reaches Azurite past the proxy, only to measure what the proxy costs.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import {
  BlobSASPermissions,
  BlobServiceClient,
  generateBlobSASQueryParameters,
  StorageSharedKeyCredential,
  type ContainerClient,
} from '@azure/storage-blob';
import type { SealedUrls } from './page/sealdrop-side.ts';
import { AZURITE_ACCOUNT_KEY, AZURITE_ACCOUNT_NAME, prepareStorage, startAzurite } from '../server/local/azurite.ts';

const CONTAINER = 'bench';
const SAS_LIFETIME_MS = 3 * 3600_000;


/** Storage ready for the bench page. */
export interface BenchStorage {
  /** A read/create/write/delete SAS URL for a plain blob with a fresh name. */
  plainUrl(tag: string): string;
  /**
   * The same as {@link plainUrl} but at Azurite's own port, past the storage
   * proxy; `undefined` when the bench uses a running endpoint (`--blob-endpoint`).
   */
  directPlainUrl(tag: string): string | undefined;
  /** SAS URLs for a fresh sealed file, laid out like the app's `files/<user>/<fileId>/…`. */
  sealedUrls(): SealedUrls;
  /** Deletes every blob written so far (frees Azurite's disk between sizes). */
  deleteAll(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts Azurite with `--location <tempDir>/azurite` (or uses `endpoint`
 * with the well-known dev account), creates the `bench` container and allows
 * `origin` by CORS. Throws when Azurite cannot start or be reached.
 */
export async function openBenchStorage(opts: { tempDir: string; origin: string; endpoint: string | undefined }): Promise<BenchStorage> {
  const azurite =
    opts.endpoint === undefined ? await startAzurite({ location: join(opts.tempDir, 'azurite') }) : undefined;
  const blobEndpoint = azurite?.blobEndpoint ?? opts.endpoint ?? '';
  const credential = new StorageSharedKeyCredential(AZURITE_ACCOUNT_NAME, AZURITE_ACCOUNT_KEY);
  const service = new BlobServiceClient(blobEndpoint, credential);
  try {
    if (azurite !== undefined) {
      await prepareStorage({
        blobEndpoint,
        accountName: AZURITE_ACCOUNT_NAME,
        accountKey: AZURITE_ACCOUNT_KEY,
        container: CONTAINER,
        corsOrigins: [opts.origin],
      });
    } else {
      // A running stack: add our origin to its CORS rules instead of replacing them.
      await service.getContainerClient(CONTAINER).createIfNotExists();
      const cors = (await service.getProperties()).cors ?? [];
      if (!cors.some((rule) => rule.allowedOrigins.split(',').includes(opts.origin))) {
        cors.push({
          allowedOrigins: opts.origin,
          allowedMethods: 'GET,PUT,DELETE,HEAD,OPTIONS',
          allowedHeaders: '*',
          exposedHeaders: '*',
          maxAgeInSeconds: 3600,
        });
        await service.setProperties({ cors });
      }
    }
  } catch (error) {
    await azurite?.stop();
    throw error;
  }
  const container: ContainerClient = service.getContainerClient(CONTAINER);
  const written: string[] = [];
  const run = randomBytes(4).toString('hex');

  const sas = (blobName: string): string => {
    written.push(blobName);
    const query = generateBlobSASQueryParameters(
      {
        containerName: CONTAINER,
        blobName,
        permissions: BlobSASPermissions.parse('rcwd'),
        startsOn: new Date(Date.now() - 15 * 60_000),
        expiresOn: new Date(Date.now() + SAS_LIFETIME_MS),
      },
      credential,
    ).toString();
    return `${container.getBlockBlobClient(blobName).url}?${query}`;
  };

  const direct = azurite === undefined ? undefined : new URL(azurite.unfilteredBlobEndpoint).port;
  return {
    plainUrl: (tag) => sas(`plain/${run}/${tag}-${randomBytes(4).toString('hex')}`),
    directPlainUrl: (tag) => {
      if (direct === undefined) return undefined;
      const url = new URL(sas(`plain/${run}/direct-${tag}-${randomBytes(4).toString('hex')}`));
      url.port = direct;
      return url.toString();
    },
    sealedUrls: () => {
      const fileId = randomBytes(16).toString('hex');
      return { fileId, payloadUrl: sas(`files/${run}/${fileId}/payload`), manifestUrl: sas(`files/${run}/${fileId}/manifest`) };
    },
    async deleteAll() {
      const names = written.splice(0);
      await Promise.all(names.map((n) => container.deleteBlob(n).catch(() => undefined)));
    },
    async stop() {
      await azurite?.stop();
    },
  };
}
