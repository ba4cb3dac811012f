/**
 * Saves a decrypted stream to disk with flat memory:
 * 1. the File System Access API where present (Chromium): a save picker,
 *    then the stream piped into the file;
 * 2. otherwise a download streamed by the service worker (the stream is
 *    transferred to it, see src/sw/download-stream.ts);
 * 3. otherwise, for files up to MEMORY_SAVE_LIMIT, an in-memory Blob.
 * In every path a stream that errors (tampered or truncated file) leaves no
 * file that looks complete: the writable is aborted, the download fails, or
 * no Blob is ever offered.
 */
import { DOWNLOAD_PREFIX, workerToPageSchema, type DownloadRegisterMessage } from '../sw/messages.ts';
import { toBytes } from '../crypto/bytes.ts';
import { StorageError } from './storage-error.ts';

/** Largest file saved through memory when neither streaming path exists. */
export const MEMORY_SAVE_LIMIT = 256 * 1024 * 1024;

/** What is being saved. */
export interface SaveFileInfo {
  name: string;
  /** MIME type ('' when unknown). */
  type: string;
  /** Plaintext size in bytes. */
  size: number;
}

/** Where a file will be saved; chosen while the user's click still counts (see chooseSaveDestination). */
export type SaveDestination =
  | { kind: 'file'; handle: FileSystemFileHandle }
  | { kind: 'service-worker' }
  | { kind: 'memory' };

/**
 * Picks where `file` will be saved. Call it straight from the click handler,
 * before fetching anything: the save picker needs the user's gesture.
 * Returns null when the user closes the picker. Throws StorageError
 * 'too-large' when only the in-memory path exists and the file is bigger
 * than MEMORY_SAVE_LIMIT.
 */
export async function chooseSaveDestination(file: SaveFileInfo): Promise<SaveDestination | null> {
  const picker = typeof window === 'undefined' ? undefined : window.showSaveFilePicker;
  if (picker !== undefined) {
    try {
      return { kind: 'file', handle: await picker.call(window, { suggestedName: file.name }) };
    } catch (error) {
      if (error instanceof DOMException && error.name === 'AbortError') return null;
      // SecurityError (no user gesture, cross-origin frame): use the other paths.
    }
  }
  if (serviceWorkerCanStream()) return { kind: 'service-worker' };
  if (file.size <= MEMORY_SAVE_LIMIT) return { kind: 'memory' };
  throw new StorageError('too-large');
}

/**
 * Writes `stream` to `destination` (chosen now if not given; null from the
 * picker means the user cancelled, and then the stream is cancelled and this
 * resolves false). Resolves true once every byte is saved. Rejects with the
 * stream's error (TamperedError, TruncatedError, StorageError...) after
 * making sure no complete-looking file is left, or with StorageError
 * 'too-large' / 'unsupported' when no path can take the file.
 */
export async function saveStream(
  stream: ReadableStream<Uint8Array>,
  file: SaveFileInfo,
  destination?: SaveDestination | null,
): Promise<boolean> {
  const target = destination === undefined ? await chooseSaveDestination(file) : destination;
  if (target === null) {
    await stream.cancel('The user cancelled the save.').catch(() => undefined);
    return false;
  }
  if (target.kind === 'file') await saveToFile(stream, target.handle);
  else if (target.kind === 'service-worker') await saveThroughServiceWorker(stream, file);
  else await saveThroughMemory(stream, file);
  return true;
}

async function saveToFile(stream: ReadableStream<Uint8Array>, handle: FileSystemFileHandle): Promise<void> {
  const writable = await handle.createWritable();
  try {
    // pipeTo aborts the writable when the stream errors: the browser then
    // discards its temporary file and never swaps it in.
    await stream.pipeTo(writable);
  } catch (error) {
    // The picker may already have created an empty file; remove it where
    // the browser allows (FileSystemHandle.remove, Chromium 110+).
    const remove: unknown = Reflect.get(handle, 'remove');
    if (typeof remove === 'function') await Promise.resolve(Reflect.apply(remove, handle, [])).catch(() => undefined);
    throw error;
  }
}

/** True when a service worker controls the page and this browser can transfer streams to it. */
export function serviceWorkerCanStream(): boolean {
  return typeof navigator !== 'undefined' && navigator.serviceWorker?.controller != null && canTransferStreams();
}

function canTransferStreams(): boolean {
  try {
    const probe = new ReadableStream();
    structuredClone(probe, { transfer: [probe] });
    return true;
  } catch {
    return false;
  }
}

/** How long the worker may take to acknowledge a download. */
const WORKER_REPLY_MS = 5_000;

async function saveThroughServiceWorker(stream: ReadableStream<Uint8Array>, file: SaveFileInfo): Promise<void> {
  const worker = navigator.serviceWorker.controller;
  if (worker === null) throw new StorageError('unsupported');
  const id = randomId();
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const channel = new MessageChannel();
  const acknowledged = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new StorageError('unsupported')), WORKER_REPLY_MS);
    channel.port1.onmessage = (event: MessageEvent<unknown>) => {
      clearTimeout(timer);
      channel.port1.close();
      const reply = workerToPageSchema.safeParse(event.data);
      if (reply.success && reply.data.type === 'download-ready') resolve();
      else reject(new StorageError('unsupported'));
    };
  });
  const message: DownloadRegisterMessage = { type: 'download-register', id, filename: file.name, size: file.size, stream: readable };
  worker.postMessage(message, [readable, channel.port2]);
  try {
    await acknowledged;
  } catch (error) {
    await stream.cancel().catch(() => undefined);
    throw error;
  }

  const frame = document.createElement('iframe');
  frame.hidden = true;
  frame.title = 'download';
  frame.src = DOWNLOAD_PREFIX + id;
  document.body.append(frame);
  try {
    // Our copy of the pipe tells us how it ends; an error here aborts the
    // worker's side, so the browser marks the download failed.
    await stream.pipeTo(writable);
  } finally {
    // Let the browser finish its download bookkeeping before removing the frame.
    setTimeout(() => frame.remove(), 10_000);
  }
}

async function saveThroughMemory(stream: ReadableStream<Uint8Array>, file: SaveFileInfo): Promise<void> {
  if (file.size > MEMORY_SAVE_LIMIT) {
    await stream.cancel().catch(() => undefined);
    throw new StorageError('too-large');
  }
  // Only a stream that closed without error becomes a Blob to save.
  const blob = await readAllForPreview(stream, { limit: MEMORY_SAVE_LIMIT, type: file.type });
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = file.name;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/**
 * Reads the whole stream into a Blob of `type`, for previews and the
 * in-memory save. Rejects with the stream's error (the Blob is then never
 * made), or with StorageError 'too-large' (and cancels the stream) once
 * more than `limit` bytes arrive.
 */
export async function readAllForPreview(stream: ReadableStream<Uint8Array>, opts: { limit: number; type: string }): Promise<Blob> {
  const parts: Uint8Array<ArrayBuffer>[] = [];
  let total = 0;
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > opts.limit) {
      await reader.cancel('Too large to preview.').catch(() => undefined);
      throw new StorageError('too-large', { message: 'The file is too large to show here. Download it instead.' });
    }
    parts.push(toBytes(value));
  }
  return new Blob(parts, { type: opts.type });
}

function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
