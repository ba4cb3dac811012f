import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { VitePWA } from 'vite-plugin-pwa';
import { resolve } from 'node:path';
import { precompressPlugin } from './server/local/precompress.ts';

export default defineConfig({
  plugins: [
    svelte(),
    VitePWA({
      // Our own worker (src/sw/sw.ts → index.ts, built to /sw.js): Workbox precache plus
      // streamed downloads; registered by src/sw/register.ts.
      strategies: 'injectManifest',
      srcDir: 'src/sw',
      filename: 'sw.ts',
      injectRegister: false,
      // Icons are in the precache glob already; listing them again would precache them twice.
      includeManifestIcons: false,
      manifest: {
        id: '/',
        name: 'Sealdrop',
        short_name: 'Sealdrop',
        description: 'Files sealed in your browser before they leave it.',
        theme_color: '#1d4ed8',
        background_color: '#ffffff',
        display: 'standalone',
        start_url: '/',
        scope: '/',
        // PNGs drawn by tools/make-icons.mjs from the same drawing as icon.svg.
        icons: [
          { src: '/icon-192.png', sizes: '192x192', type: 'image/png', purpose: 'any' },
          { src: '/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'any' },
          { src: '/icon-maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
          { src: '/icon.svg', sizes: 'any', type: 'image/svg+xml', purpose: 'any' },
        ],
        // Taken by e2e/pwa-screenshots.spec.ts (SEALDROP_MANIFEST_SCREENSHOTS=1).
        screenshots: [
          { src: '/screenshots/wide.png', sizes: '1280x800', type: 'image/png', form_factor: 'wide', label: 'My files, sealed in the browser' },
          { src: '/screenshots/narrow.png', sizes: '360x740', type: 'image/png', form_factor: 'narrow', label: 'My files on a phone' },
        ],
        // The system share sheet posts files here; the service worker hands them to the app (src/sw/share-target.ts).
        share_target: {
          action: '/share-target',
          method: 'POST',
          enctype: 'multipart/form-data',
          params: { files: [{ name: 'file', accept: ['*/*'] }] },
        },
      },
      injectManifest: {
        // Icons yes (the installed app shows them offline); the manifest screenshots no.
        globPatterns: ['**/*.{js,css,html,svg,webmanifest}', 'icon-*.png'],
        // The MSAL bridge page must always come from the network.
        globIgnores: ['redirect.html'],
      },
    }),
    // Brotli and gzip copies of every text file, served by server/local/static.ts.
    precompressPlugin(),
  ],
  build: {
    target: 'es2022',
    sourcemap: false,
    rollupOptions: {
      input: {
        main: resolve(import.meta.dirname, 'index.html'),
        redirect: resolve(import.meta.dirname, 'redirect.html'),
      },
    },
  },
});
