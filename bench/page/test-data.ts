/**
 * Where downloads go: a sink that counts bytes and, for the untimed
 * verification pass, hashes them (SHA-256, streaming) to check round trips.
 */

/** A writable sink that counts bytes and, when asked, hashes them. */
export interface ByteSink {
  stream: WritableStream<Uint8Array>;
  /** Bytes written so far. */
  bytes(): number;
  /** Hex SHA-256 of everything written, or null when hashing was off. Call after the stream closed. */
  digest(): string | null;
}

/**
 * Returns a fresh sink. With `hash` false it only counts bytes: that is the
 * sink both sides of a timed comparison get, so neither pays for hashing.
 */
export async function createSink(hash: boolean): Promise<ByteSink> {
  // Imported lazily, as src/crypto/kdf.ts does, so both share one chunk.
  const hasher = hash ? await (await import('hash-wasm')).createSHA256() : null;
  let count = 0;
  return {
    stream: new WritableStream<Uint8Array>({
      write(chunk) {
        count += chunk.byteLength;
        hasher?.update(chunk);
      },
    }),
    bytes: () => count,
    digest: () => (hasher === null ? null : hasher.digest('hex')),
  };
}
