/**
 * Sealdrop's service worker. Only wires listeners: the download streams
 * (download-stream.ts), the runtime settings for offline starts
 * (runtime-config.ts), the share target (share-target.ts) and the offline
 * app shell (app-shell.ts). Requests to /api, /oidc and other origins (blob
 * storage) are never touched.
 */
/// <reference lib="webworker" />
import { installAppShell } from './app-shell.ts';
import { handleDownloadFetch, registerDownload } from './download-stream.ts';
import { pageToWorkerSchema, type WorkerToPageMessage } from './messages.ts';
import { mayCache, networkFirstConfig, primeConfig } from './runtime-config.ts';
import { isShareTarget, receiveShare, takeSharedFiles } from './share-target.ts';

declare const self: ServiceWorkerGlobalScope;

// Our fetch listener comes first: it answers only /__sealdrop/download/*, /config.json and the share target.
self.addEventListener('fetch', (event) => {
  if (handleDownloadFetch(event, self.location.origin)) return;
  const request = event.request;
  if (isShareTarget(request, self.location.origin)) {
    event.respondWith(receiveShare(request));
    return;
  }
  if (request.method === 'GET' && mayCache(new URL(request.url), self.location.origin)) {
    event.respondWith(networkFirstConfig(request, self.caches));
  }
});

self.addEventListener('message', (event) => {
  const parsed = pageToWorkerSchema.safeParse(event.data);
  if (!parsed.success) return;
  if (parsed.data.type === 'download-register') registerDownload(parsed.data, event.ports[0]);
  else if (parsed.data.type === 'take-shared-files') {
    const reply: WorkerToPageMessage = { type: 'shared-files', files: takeSharedFiles() };
    event.ports[0]?.postMessage(reply);
    event.ports[0]?.close();
  } else void self.skipWaiting();
});

self.addEventListener('install', (event) => {
  event.waitUntil(primeConfig(self.caches));
});

// Take control of open pages at once, so the first visit can already use streamed downloads.
self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim());
});

installAppShell();
