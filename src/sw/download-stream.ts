/**
 * Streamed downloads through the service worker, for browsers without the
 * File System Access API: the page transfers a ReadableStream of decrypted
 * bytes here, then navigates a hidden frame to DOWNLOAD_PREFIX + id, and we
 * answer that navigation with the stream as an attachment. Memory stays
 * flat; if the page's stream errors (a tampered file), the response body
 * errors and the browser marks the download as failed, never complete.
 */
/// <reference lib="webworker" />
import { DOWNLOAD_PREFIX, type DownloadRegisterMessage, type WorkerToPageMessage } from './messages.ts';

/** A stream not fetched within this time is cancelled (the page went away). */
const UNCLAIMED_MS = 60_000;

interface PendingDownload {
  stream: ReadableStream<Uint8Array>;
  filename: string;
  size: number | null;
  timer: ReturnType<typeof setTimeout>;
}

const pending = new Map<string, PendingDownload>();

/** Stores a registered download and replies on `port`. */
export function registerDownload(message: DownloadRegisterMessage, port: MessagePort | undefined): void {
  const previous = pending.get(message.id);
  if (previous !== undefined) {
    reply(port, { type: 'download-refused', id: message.id, reason: 'duplicate id' });
    return;
  }
  const timer = setTimeout(() => {
    pending.delete(message.id);
    void message.stream.cancel('The download was never started.').catch(() => undefined);
  }, UNCLAIMED_MS);
  pending.set(message.id, { stream: message.stream, filename: message.filename, size: message.size, timer });
  reply(port, { type: 'download-ready', id: message.id });
}

function reply(port: MessagePort | undefined, message: WorkerToPageMessage): void {
  port?.postMessage(message);
  port?.close();
}

/**
 * Answers a fetch for DOWNLOAD_PREFIX + id on our own origin; returns false
 * (and leaves the event alone) for every other request, including /api,
 * /oidc and cross-origin blob storage.
 */
export function handleDownloadFetch(event: FetchEvent, origin: string): boolean {
  const url = new URL(event.request.url);
  if (url.origin !== origin || !url.pathname.startsWith(DOWNLOAD_PREFIX)) return false;
  const id = url.pathname.slice(DOWNLOAD_PREFIX.length);
  const download = pending.get(id);
  if (download === undefined) {
    event.respondWith(new Response('This download has expired. Start it again from Sealdrop.', { status: 404, headers: plainText }));
    return true;
  }
  pending.delete(id);
  clearTimeout(download.timer);
  const headers = new Headers({
    // Never the file's own type: the browser must save it, not render it on our origin.
    'Content-Type': 'application/octet-stream',
    'Content-Disposition': contentDisposition(download.filename),
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-store',
  });
  // A known length lets the browser show progress and fail a short download.
  if (download.size !== null) headers.set('Content-Length', String(download.size));
  event.respondWith(new Response(download.stream, { status: 200, headers }));
  return true;
}

const plainText = { 'Content-Type': 'text/plain; charset=utf-8' };

/**
 * Returns a Content-Disposition header saving as `name`: an ASCII fallback
 * plus RFC 5987 `filename*` in UTF-8. Path separators and control characters
 * are replaced so the name cannot point elsewhere.
 */
export function contentDisposition(name: string): string {
  // eslint-disable-next-line no-control-regex -- removing control characters is the point
  const safe = name.replace(/[\u0000-\u001f\u007f/\\]/g, '_').trim() || 'download';
  const ascii = safe.replace(/[^\x20-\x7e]/g, '_').replace(/["%;]/g, '_');
  const encoded = encodeURIComponent(safe).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
