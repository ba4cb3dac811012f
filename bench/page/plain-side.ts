/**
 * The peers a user would pick instead of Sealdrop, on the same bytes:
 * - upload: `@azure/storage-blob`'s `BlockBlobClient.uploadData(blob)` with
 *   its default options (one Put Blob up to 256 MiB, above that 4 MiB
 *   blocks, 5 in flight, Blob bodies);
 * - download: one streaming `fetch` GET of the blob into the same counting
 *   sink Sealdrop's download uses. The SDK's browser `download()` buffers the
 *   whole body into a Blob before handing it over, so a streamed GET is the
 *   fastest plain way a page can read a blob, the strictest peer;
 * - encryption: raw `crypto.subtle.encrypt` AES-256-GCM over the same Blob,
 *   1 MiB per call, read 16 MiB at a time, one fresh IV per call, output
 *   discarded.
 */
import type { ByteSink } from './test-data.ts';

/**
 * Uploads `blob` to the SAS URL with the SDK's `uploadData`, default options.
 * The SDK is imported lazily so its load time stays outside the measurement
 * (call `warmUpSdk` first). Throws the SDK's error on failure.
 */
export async function plainUpload(url: string, blob: Blob): Promise<void> {
  const { BlockBlobClient } = await import('@azure/storage-blob');
  await new BlockBlobClient(url).uploadData(blob);
}

/** Loads the storage SDK's module so its first use is not timed. */
export async function warmUpSdk(): Promise<void> {
  await import('@azure/storage-blob');
}

/** Downloads the blob at the SAS URL in one streaming GET into `sink`. Throws on a non-200 answer. */
export async function plainDownload(url: string, sink: ByteSink): Promise<void> {
  const res = await fetch(url);
  if (res.status !== 200 || res.body === null) throw new Error(`Plain download answered ${res.status}.`);
  await res.body.pipeTo(sink.stream);
}

/**
 * Encrypts `blob` with raw AES-256-GCM, one `encrypt` call per `chunkBytes`,
 * reading the file `readBytes` at a time (large reads are cheaper in
 * Chromium; Sealdrop's uploader reads a whole block at once too), one call
 * after another, output discarded; returns the ciphertext byte count.
 */
export async function rawAesGcm(blob: Blob, readBytes: number, chunkBytes: number): Promise<number> {
  const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt']);
  const iv = new Uint8Array(12);
  const view = new DataView(iv.buffer);
  let out = 0;
  let n = 0;
  for (let off = 0; off < blob.size; off += readBytes) {
    const slice = new Uint8Array(await blob.slice(off, off + readBytes).arrayBuffer());
    for (let c = 0; c < slice.length; c += chunkBytes) {
      view.setUint32(8, n++); // a distinct nonce per call under this one-off key
      const plain = slice.subarray(c, Math.min(c + chunkBytes, slice.length));
      out += (await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, plain)).byteLength;
    }
  }
  return out;
}
