/**
 * A {@link BlobStore} in memory with storage's conditional-write rules
 * (If-None-Match: * and If-Match on ETags), for route tests by injection.
 * Tests may put blobs directly (`put`) to play a client writing through a SAS.
 */
import { AppendBlobFullError, type BlobStore, type ListedBlob } from '../endpoint/storage/blob-store.ts';

interface Stored {
  bytes: Uint8Array;
  etag: string;
  createdOn: Date;
  /** Set for append blobs: blocks committed so far. */
  blocks?: number;
  metadata?: Record<string, string>;
}

/** Blocks an append blob takes in this store (storage's limit). */
const APPEND_BLOCK_LIMIT = 50_000;

/** The store and direct access to its blobs. */
export interface MemoryStore extends BlobStore {
  blobs: Map<string, Stored>;
  /** Writes a blob unconditionally (as a client holding a write SAS would). */
  put(name: string, bytes: Uint8Array): void;
}

/** Creates an empty store. */
export function memoryStore(): MemoryStore {
  const blobs = new Map<string, Stored>();
  let version = 0;
  const write = (name: string, bytes: Uint8Array): string => {
    const etag = `"0x${(++version).toString(16).padStart(8, '0')}"`;
    blobs.set(name, { bytes: bytes.slice(), etag, createdOn: blobs.get(name)?.createdOn ?? new Date(0) });
    return etag;
  };
  const listed = (name: string, b: Stored): ListedBlob => ({ name, contentLength: b.bytes.length, createdOn: b.createdOn, etag: b.etag });
  return {
    blobs,
    put: (name, bytes) => void write(name, bytes),
    list(prefix, page) {
      const names = [...blobs.keys()].filter((n) => n.startsWith(prefix)).sort();
      const start = page.continuationToken === undefined ? 0 : names.findIndex((n) => n > (page.continuationToken ?? ''));
      const slice = start === -1 ? [] : names.slice(start, start + page.maxPageSize);
      const more = start !== -1 && start + page.maxPageSize < names.length;
      return Promise.resolve({
        blobs: slice.flatMap((n) => {
          const b = blobs.get(n);
          return b === undefined ? [] : [listed(n, b)];
        }),
        continuationToken: more ? (slice.at(-1) ?? null) : null,
      });
    },
    stat(name) {
      const b = blobs.get(name);
      return Promise.resolve(b === undefined ? null : { ...listed(name, b), metadata: { ...b.metadata } });
    },
    readSmall(name, maxBytes) {
      const b = blobs.get(name);
      if (b !== undefined && b.bytes.length > maxBytes) return Promise.reject(new Error('too big'));
      return Promise.resolve(b === undefined ? null : { bytes: b.bytes.slice(), etag: b.etag });
    },
    createIfAbsent(name, bytes) {
      return Promise.resolve(blobs.has(name) ? null : write(name, bytes));
    },
    replaceIfMatch(name, bytes, _type, etag) {
      return Promise.resolve(blobs.get(name)?.etag === etag ? write(name, bytes) : null);
    },
    delete(name) {
      blobs.delete(name);
      return Promise.resolve();
    },
    deleteWithBlocks(name) {
      blobs.delete(name);
      return Promise.resolve();
    },
    createAppendIfAbsent(name, metadata) {
      if (blobs.has(name)) return Promise.resolve(false);
      write(name, new Uint8Array());
      const b = blobs.get(name);
      if (b !== undefined) Object.assign(b, { blocks: 0, metadata: { ...metadata } });
      return Promise.resolve(true);
    },
    append(name, bytes) {
      const b = blobs.get(name);
      if (b === undefined) return Promise.resolve(null);
      const blocks = b.blocks ?? 0;
      if (blocks >= APPEND_BLOCK_LIMIT) return Promise.reject(new AppendBlobFullError(name));
      const joined = new Uint8Array(b.bytes.length + bytes.length);
      joined.set(b.bytes);
      joined.set(bytes, b.bytes.length);
      write(name, joined);
      // write() stores a fresh record: carry the append blob's state over.
      const now = blobs.get(name);
      if (now !== undefined) Object.assign(now, { blocks: blocks + 1, metadata: b.metadata });
      return Promise.resolve({ blockCount: blocks + 1 });
    },
    readFrom(name, offset, maxBytes) {
      const b = blobs.get(name);
      if (b === undefined) return Promise.resolve(null);
      return Promise.resolve({
        bytes: b.bytes.slice(offset, offset + maxBytes),
        length: b.bytes.length,
        blockCount: b.blocks ?? 0,
        metadata: { ...b.metadata },
      });
    },
  };
}
