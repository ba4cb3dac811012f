/**
 * The few storage operations the server itself performs (listing, existence
 * checks, the e-mail directory), behind a small interface over the SDK's
 * ContainerClient. File bytes never pass through here.
 */
import { RestError, type ContainerClient } from '@azure/storage-blob';

/** One blob as listed. */
export interface ListedBlob {
  name: string;
  contentLength: number;
  createdOn: Date | null;
  etag: string | null;
}

/** Storage operations used by the routes; every method rejects with the SDK's error when storage fails. */
export interface BlobStore {
  /** One page of blobs under `prefix` (names in lexical order). */
  list(prefix: string, page: { continuationToken?: string; maxPageSize: number; includeUncommitted?: boolean }): Promise<{
    blobs: ListedBlob[];
    continuationToken: string | null;
  }>;
  /** Properties of a committed blob, or null when it does not exist. */
  stat(name: string): Promise<ListedBlob | null>;
  /** A small blob's bytes (at most `maxBytes`) and ETag, or null when it does not exist. */
  readSmall(name: string, maxBytes: number): Promise<SmallBlob | null>;
  /** Writes a small blob only if none exists (`If-None-Match: *`); resolves its ETag, or null when one already did. */
  createIfAbsent(name: string, bytes: Uint8Array, contentType: string): Promise<string | null>;
  /** Replaces a blob only while its ETag is `etag` (`If-Match`); resolves the new ETag, or null when it changed or is gone. */
  replaceIfMatch(name: string, bytes: Uint8Array, contentType: string, etag: string): Promise<string | null>;
  /** Deletes a blob (and its uncommitted blocks) if it exists. */
  delete(name: string): Promise<void>;
}

/** A small blob as read by the server. */
export interface SmallBlob {
  bytes: Uint8Array;
  etag: string;
}

function isStatus(err: unknown, ...statuses: number[]): boolean {
  return err instanceof RestError && err.statusCode !== undefined && statuses.includes(err.statusCode);
}

/** A {@link BlobStore} over one container. */
export function containerBlobStore(container: ContainerClient): BlobStore {
  return {
    async list(prefix, page) {
      const iterator = container
        .listBlobsFlat({ prefix, includeUncommitedBlobs: page.includeUncommitted === true })
        .byPage({ maxPageSize: page.maxPageSize, ...(page.continuationToken ? { continuationToken: page.continuationToken } : {}) });
      const result = await iterator.next();
      if (result.done === true) return { blobs: [], continuationToken: null };
      const segment = result.value;
      return {
        blobs: segment.segment.blobItems.map((b) => ({
          name: b.name,
          contentLength: b.properties.contentLength ?? 0,
          createdOn: b.properties.createdOn ?? null,
          etag: b.properties.etag ?? null,
        })),
        continuationToken: segment.continuationToken === undefined || segment.continuationToken === '' ? null : segment.continuationToken,
      };
    },

    async stat(name) {
      try {
        const p = await container.getBlobClient(name).getProperties();
        return { name, contentLength: p.contentLength ?? 0, createdOn: p.createdOn ?? null, etag: p.etag ?? null };
      } catch (err) {
        if (isStatus(err, 404)) return null;
        throw err;
      }
    },

    async readSmall(name, maxBytes) {
      try {
        const res = await container.getBlobClient(name).download();
        const stream = res.readableStreamBody;
        if ((res.contentLength ?? 0) > maxBytes || stream === undefined) {
          stream?.resume();
          throw new Error(`Blob is larger than the ${maxBytes} bytes expected.`);
        }
        const chunks: Buffer[] = [];
        for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
        return { bytes: new Uint8Array(Buffer.concat(chunks)), etag: res.etag ?? '' };
      } catch (err) {
        if (isStatus(err, 404)) return null;
        throw err;
      }
    },

    async createIfAbsent(name, bytes, contentType) {
      try {
        const res = await container.getBlockBlobClient(name).upload(bytes, bytes.byteLength, {
          conditions: { ifNoneMatch: '*' },
          blobHTTPHeaders: { blobContentType: contentType },
        });
        return res.etag ?? '';
      } catch (err) {
        if (isStatus(err, 409, 412)) return null;
        throw err;
      }
    },

    async replaceIfMatch(name, bytes, contentType, etag) {
      try {
        const res = await container.getBlockBlobClient(name).upload(bytes, bytes.byteLength, {
          conditions: { ifMatch: etag },
          blobHTTPHeaders: { blobContentType: contentType },
        });
        return res.etag ?? '';
      } catch (err) {
        if (isStatus(err, 404, 409, 412)) return null;
        throw err;
      }
    },

    async delete(name) {
      await container.getBlobClient(name).deleteIfExists();
    },
  };
}
