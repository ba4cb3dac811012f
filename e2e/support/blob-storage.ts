/**
 * Direct access to the local stack's Azurite from the test process, with
 * the SDK and Azurite's well-known development key: to look at what storage
 * holds and to tamper with it.
 *
 * The stack publishes its blob origin in the app's CSP (`connect-src`),
 * which is how the browser is allowed to reach it; we read it from there.
 */
import { BlobServiceClient, StorageSharedKeyCredential, type ContainerClient } from '@azure/storage-blob';
import type { APIRequestContext } from '@playwright/test';
import { AZURITE_ACCOUNT_KEY, AZURITE_ACCOUNT_NAME } from '../../server/local/azurite.ts';
import { LOCAL_CONTAINER } from '../../server/local/local-stack.ts';

/** Returns a client for the stack's container, found through the app page's CSP. Throws if the CSP names no blob origin. */
export async function stackContainer(request: APIRequestContext): Promise<ContainerClient> {
  const response = await request.get('/');
  const csp = response.headers()['content-security-policy'] ?? '';
  const connect = csp.split(';').map((d) => d.trim().split(/\s+/)).find((d) => d[0] === 'connect-src') ?? [];
  const origin = connect.slice(1).find((source) => /^https?:\/\/(127\.0\.0\.1|localhost):\d+$/.test(source));
  if (origin === undefined) throw new Error(`No blob origin in the app's CSP: ${csp}`);
  const credential = new StorageSharedKeyCredential(AZURITE_ACCOUNT_NAME, AZURITE_ACCOUNT_KEY);
  const service = new BlobServiceClient(`${origin}/${AZURITE_ACCOUNT_NAME}`, credential);
  return service.getContainerClient(LOCAL_CONTAINER);
}

/** One stored blob with everything storage shows about it besides its bytes. */
export interface StoredBlob {
  name: string;
  metadata: Record<string, string>;
  tags: Record<string, string>;
  contentType: string | undefined;
  contentDisposition: string | undefined;
}

/** Lists every blob of the container with its metadata, tags and content headers. */
export async function listStoredBlobs(container: ContainerClient, prefix?: string): Promise<StoredBlob[]> {
  const blobs: StoredBlob[] = [];
  for await (const blob of container.listBlobsFlat({ includeMetadata: true, includeTags: true, ...(prefix === undefined ? {} : { prefix }) })) {
    blobs.push({
      name: blob.name,
      metadata: blob.metadata ?? {},
      tags: blob.tags ?? {},
      contentType: blob.properties.contentType,
      contentDisposition: blob.properties.contentDisposition,
    });
  }
  return blobs;
}
