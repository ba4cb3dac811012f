/**
 * Messages between the page and the service worker: a type per message,
 * and the schemas each side checks what it receives against (the worker's
 * `pageToWorkerSchema` is the union of what a page may send).
 */
import { z } from 'zod';

/** Path prefix the service worker answers with a registered download stream. */
export const DOWNLOAD_PREFIX = '/__sealdrop/download/';

/** Page → worker: "answer DOWNLOAD_PREFIX + id with this stream as an attachment". Reply on the transferred port. */
export interface DownloadRegisterMessage {
  type: 'download-register';
  /** 32 random hex characters. */
  id: string;
  filename: string;
  /** Plaintext size for Content-Length, or null when unknown. */
  size: number | null;
  /** The decrypted bytes; transferred, not copied. */
  stream: ReadableStream<Uint8Array>;
}

/** Page → worker: a new version is waiting; take over now (the user agreed). */
export interface SkipWaitingMessage {
  type: 'skip-waiting';
}

/** Page → worker: "give me the files shared to Sealdrop" (the share target). Reply on the transferred port. */
export interface TakeSharedFilesMessage {
  type: 'take-shared-files';
}

/** Worker → page, on the port sent with a download-register or take-shared-files message. */
export type WorkerToPageMessage =
  | { type: 'download-ready'; id: string }
  | { type: 'download-refused'; id: string; reason: string }
  | { type: 'shared-files'; files: File[] };

/** Schema of what the worker accepts from a page (checked: messages cross a boundary). */
export const pageToWorkerSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('download-register'),
    id: z.string().regex(/^[0-9a-f]{32}$/),
    filename: z.string().max(4096),
    size: z.number().int().nonnegative().nullable(),
    stream: z.custom<ReadableStream<Uint8Array>>((v) => v instanceof ReadableStream),
  }),
  z.object({ type: z.literal('skip-waiting') }),
  z.object({ type: z.literal('take-shared-files') }),
]);

/** Schema of the worker's replies (checked by the page). */
export const workerToPageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('download-ready'), id: z.string() }),
  z.object({ type: z.literal('download-refused'), id: z.string(), reason: z.string() }),
  z.object({ type: z.literal('shared-files'), files: z.array(z.custom<File>((v) => v instanceof File)).max(100) }),
]);
