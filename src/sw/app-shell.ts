/**
 * Offline app shell: precaches the built files Workbox lists in
 * `self.__WB_MANIFEST` and answers navigations with the cached index.html,
 * except for the paths that must always reach the network.
 */
/// <reference lib="webworker" />
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute, type PrecacheEntry } from 'workbox-precaching';
import { NavigationRoute, registerRoute } from 'workbox-routing';

declare const self: ServiceWorkerGlobalScope & { __WB_MANIFEST: (PrecacheEntry | string)[] };

/** Navigations that are not the app: the API, the sign-in provider, downloads, the MSAL bridge page. */
export const NETWORK_ONLY_NAVIGATIONS = [/^\/api\//, /^\/oidc(\/|$)/, /^\/__sealdrop\//, /^\/redirect\.html/];

/** Registers the precache and the app-shell navigation route (Workbox adds its own fetch listener). */
export function installAppShell(): void {
  precacheAndRoute(self.__WB_MANIFEST);
  cleanupOutdatedCaches();
  registerRoute(new NavigationRoute(createHandlerBoundToURL('index.html'), { denylist: NETWORK_ONLY_NAVIGATIONS }));
}
