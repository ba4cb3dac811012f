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
  /** User-defined metadata (names lowercased); filled by `stat`, not by `list`. */
  metadata?: Record<string, string>;
}

/** Part of an append blob as read from an offset. */
export interface BlobSlice {
  /** The bytes from the offset asked for (empty when it is at or past the end). */
  bytes: Uint8Array;
  /** The blob's whole length at the time of the read. */
  length: number;
  /** Blocks committed to the append blob at the time of the read. */
  blockCount: number;
  metadata: Record<string, string>;
}

/** Thrown by {@link BlobStore.append} when the append blob holds as many blocks as storage allows (50,000). */
export class AppendBlobFullError extends Error {
  constructor(name: string) {
    super(`The append blob ${name} cannot take another block.`);
    this.name = 'AppendBlobFullError';
  }
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
  /**
   * Deletes a blob whatever state it is in, also one that has only
   * uncommitted blocks (a listing with `includeUncommitted` shows it, a
   * plain delete finds nothing): such blocks are first committed as an
   * empty blob, which discards them, and that blob is then deleted.
   */
  deleteWithBlocks(name: string): Promise<void>;
  /** Creates an empty append blob with `metadata` unless a blob of that name exists; resolves true when this call created it. */
  createAppendIfAbsent(name: string, metadata: Record<string, string>): Promise<boolean>;
  /**
   * Appends one block (atomically, after every block committed before it);
   * resolves the blob's committed block count with it, or null when the blob
   * does not exist. Rejects with {@link AppendBlobFullError} when it is full.
   */
  append(name: string, bytes: Uint8Array): Promise<{ blockCount: number } | null>;
  /** At most `maxBytes` of an append blob from `offset`, with its length, block count and metadata; null when it does not exist. */
  readFrom(name: string, offset: number, maxBytes: number): Promise<BlobSlice | null>;
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
        return { name, contentLength: p.contentLength ?? 0, createdOn: p.createdOn ?? null, etag: p.etag ?? null, metadata: p.metadata ?? {} };
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

    async deleteWithBlocks(name) {
      const blob = container.getBlockBlobClient(name);
      if ((await blob.deleteIfExists()).succeeded) return;
      try {
        // Only where no committed blob exists: an empty commit drops the uncommitted blocks.
        await blob.commitBlockList([], { conditions: { ifNoneMatch: '*' } });
      } catch (err) {
        // 409/412: a blob was committed meanwhile; delete it below all the same.
        if (!isStatus(err, 409, 412)) throw err;
      }
      await blob.deleteIfExists();
    },

    async createAppendIfAbsent(name, metadata) {
      const res = await container.getAppendBlobClient(name).createIfNotExists({ metadata });
      return res.succeeded;
    },

    async append(name, bytes) {
      try {
        const res = await container.getAppendBlobClient(name).appendBlock(bytes, bytes.byteLength);
        return { blockCount: res.blobCommittedBlockCount ?? 0 };
      } catch (err) {
        if (isStatus(err, 404)) return null;
        if (err instanceof RestError && err.code === 'BlockCountExceedsLimit') throw new AppendBlobFullError(name);
        throw err;
      }
    },

    async readFrom(name, offset, maxBytes) {
      const client = container.getBlobClient(name);
      try {
        const res = await client.download(offset, maxBytes);
        const chunks: Buffer[] = [];
        for await (const chunk of res.readableStreamBody ?? []) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
        // "bytes a-b/total": the whole length; without a range header the body is the whole blob.
        const total = /\/([0-9]+)$/.exec(res.contentRange ?? '')?.[1];
        const bytes = new Uint8Array(Buffer.concat(chunks));
        return { bytes, length: total === undefined ? offset + bytes.byteLength : Number(total), blockCount: res.blobCommittedBlockCount ?? 0, metadata: res.metadata ?? {} };
      } catch (err) {
        if (isStatus(err, 404)) return null;
        // 416: the offset is at (or past) the end, e.g. an empty blob.
        if (!isStatus(err, 416)) throw err;
      }
      try {
        const p = await client.getProperties();
        return { bytes: new Uint8Array(), length: p.contentLength ?? 0, blockCount: p.blobCommittedBlockCount ?? 0, metadata: p.metadata ?? {} };
      } catch (err) {
        if (isStatus(err, 404)) return null;
        throw err;
      }
    },
  };
}
