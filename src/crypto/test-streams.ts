/**
 * Stream helpers shared by the crypto and storage tests (not used by the app).
 */
import { concatBytes } from './bytes.ts';

/** Returns a stream that delivers `data` in chunks of `chunkSize` bytes (≥ 1). */
export function streamOf(data: Uint8Array, chunkSize: number): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= data.length) {
        controller.close();
        return;
      }
      controller.enqueue(data.slice(at, at + chunkSize));
      at += chunkSize;
    },
  });
}

/** Reads a stream to the end and returns all its bytes; rejects with the stream's own error. */
export async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const reader = stream.getReader();
  const parts: Uint8Array[] = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return concatBytes(...parts);
    parts.push(value);
  }
}

/** Returns `length` bytes where byte i = i mod 251 (the pattern the test vectors use). */
export function pattern(length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = i % 251;
  return out;
}

/** Returns `length` random bytes (any size; getRandomValues takes at most 64 KiB a call). */
export function randomData(length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i += 65536) crypto.getRandomValues(out.subarray(i, Math.min(length, i + 65536)));
  return out;
}
