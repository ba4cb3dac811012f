/**
 * A {@link BlobStore} in memory with storage's conditional-write rules
 * (If-None-Match: * and If-Match on ETags), for route tests by injection.
 * Tests may put blobs directly (`put`) to play a client writing through a SAS.
 */
import type { BlobStore, ListedBlob } from '../storage/blob-store.ts';

interface Stored {
  bytes: Uint8Array;
  etag: string;
  createdOn: Date;
}

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
      return Promise.resolve(b === undefined ? null : listed(name, b));
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
  };
}
