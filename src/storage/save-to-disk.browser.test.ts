/** Saving and previewing decrypted streams in a real browser. */
import { describe, expect, it } from 'vitest';
import { TamperedError } from '../crypto/index.ts';
import { readAllForPreview, saveStream } from './save-to-disk.ts';
import { StorageError } from './storage-error.ts';

function streamOf(chunks: Uint8Array[], failWith?: Error): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = chunks[i++];
      if (next !== undefined) controller.enqueue(next);
      else if (failWith !== undefined) controller.error(failWith);
      else controller.close();
    },
  });
}

describe('readAllForPreview', () => {
  it('collects a stream into a Blob of the given type', async () => {
    const blob = await readAllForPreview(streamOf([new Uint8Array([104, 105]), new Uint8Array([33])]), { limit: 10, type: 'text/plain' });
    expect(blob.type).toBe('text/plain');
    expect(await blob.text()).toBe('hi!');
  });

  it('stops with a plain too-large error past the limit', async () => {
    const error = await readAllForPreview(streamOf([new Uint8Array(8), new Uint8Array(8)]), { limit: 10, type: '' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageError);
    expect(error).toMatchObject({ kind: 'too-large' });
  });

  it('never yields a Blob for a stream that fails authentication', async () => {
    await expect(readAllForPreview(streamOf([new Uint8Array(4)], new TamperedError()), { limit: 100, type: '' })).rejects.toBeInstanceOf(TamperedError);
  });
});

describe('saveStream', () => {
  it('offers nothing when a memory save fails authentication', async () => {
    const clicks: string[] = [];
    const onClick = (e: MouseEvent): void => {
      if (e.target instanceof HTMLAnchorElement) clicks.push(e.target.download);
    };
    document.addEventListener('click', onClick, true);
    try {
      await expect(saveStream(streamOf([new Uint8Array(4)], new TamperedError()), { name: 'x.bin', type: '', size: 8 }, { kind: 'memory' })).rejects.toBeInstanceOf(
        TamperedError,
      );
      expect(clicks).toEqual([]);
    } finally {
      document.removeEventListener('click', onClick, true);
    }
  });

  it('refuses a file above the memory limit on the memory path', async () => {
    await expect(saveStream(streamOf([]), { name: 'big.bin', type: '', size: 2 ** 40 }, { kind: 'memory' })).rejects.toMatchObject({ kind: 'too-large' });
  });

  it('resolves false and cancels the stream when the user closes the picker', async () => {
    let cancelled = false;
    const stream = new ReadableStream<Uint8Array>({ cancel: () => void (cancelled = true) });
    expect(await saveStream(stream, { name: 'a', type: '', size: 1 }, null)).toBe(false);
    expect(cancelled).toBe(true);
  });
});
