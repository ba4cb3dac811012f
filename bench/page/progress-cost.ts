/**
 * What byte-level upload progress costs (issue 18): the same blocks of the
 * same file sent with the app's own `putBlock` (src/storage/blob-rest.ts)
 * twice, once with a progress listener (XMLHttpRequest with upload
 * progress events, what the app does) and once without (plain `fetch`).
 * The same number of blocks in flight either way; nothing is sealed.
 */
import { putBlock } from '../../src/storage/blob-rest.ts';

/** Block id of block `index` (the same length for every block, as Azure requires). */
function blockId(index: number): string {
  return btoa(`block-${String(index).padStart(6, '0')}`);
}

/**
 * Puts `blob` as blocks of `blockBytes` to the block blob at `url`, at most
 * `inFlight` at once, with progress (XHR) when `withProgress`. Resolves
 * with the number of progress events the listener got (0 without one).
 * Rejects with StorageError like the app.
 */
export async function putBlocks(url: string, blob: Blob, blockBytes: number, inFlight: number, withProgress: boolean): Promise<number> {
  let events = 0;
  const onSent = withProgress ? () => void events++ : undefined;
  const count = Math.max(1, Math.ceil(blob.size / blockBytes));
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const index = next++;
      const body = blob.slice(index * blockBytes, Math.min(blob.size, (index + 1) * blockBytes));
      await putBlock(url, blockId(index), body, { onSent });
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, count) }, () => worker()));
  return events;
}
