/**
 * Sealdrop's service worker. Only wires listeners: the download streams
 * (download-stream.ts) and the offline app shell (app-shell.ts). Requests to
 * /api, /oidc and other origins (blob storage) are never touched.
 */
/// <reference lib="webworker" />
import { installAppShell } from './app-shell.ts';
import { handleDownloadFetch, registerDownload } from './download-stream.ts';
import { pageToWorkerSchema } from './messages.ts';

declare const self: ServiceWorkerGlobalScope;

// Our fetch listener comes first: it answers only /__sealdrop/download/*.
self.addEventListener('fetch', (event) => {
  handleDownloadFetch(event, self.location.origin);
});

self.addEventListener('message', (event) => {
  const parsed = pageToWorkerSchema.safeParse(event.data);
  if (!parsed.success) return;
  if (parsed.data.type === 'download-register') registerDownload(parsed.data, event.ports[0]);
  else void self.skipWaiting();
});

// Take control of open pages at once, so the first visit can already use streamed downloads.
self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim());
});

installAppShell();
