/**
 * The test file every comparison runs on: random bytes written to disk by
 * Node and handed to the page through an `<input type=file>`, so the page
 * holds a disk-backed `File` exactly as a user's would be. (A 4 GiB Blob
 * built in the page does not fit Chromium's blob memory limits.)
 */
import { createHash, randomFillSync } from 'node:crypto';
import { open } from 'node:fs/promises';

const CHUNK = 16 * 1024 * 1024;

/** Writes `sizeBytes` random bytes to `path`; returns their hex SHA-256. Throws on a write error. */
export async function writeRandomFile(path: string, sizeBytes: number): Promise<string> {
  const hash = createHash('sha256');
  const buffer = Buffer.alloc(CHUNK);
  const file = await open(path, 'w');
  try {
    for (let done = 0; done < sizeBytes; ) {
      const n = Math.min(CHUNK, sizeBytes - done);
      const chunk = buffer.subarray(0, n);
      randomFillSync(chunk);
      hash.update(chunk);
      await file.write(chunk, 0, n);
      done += n;
    }
  } finally {
    await file.close();
  }
  return hash.digest('hex');
}
