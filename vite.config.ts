import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { VitePWA } from 'vite-plugin-pwa';
import { resolve } from 'node:path';

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
        name: 'Sealdrop',
        short_name: 'Sealdrop',
        description: 'Files sealed in your browser before they leave it.',
        theme_color: '#1d4ed8',
        background_color: '#ffffff',
        display: 'standalone',
        start_url: '/',
        scope: '/',
        icons: [{ src: '/icon.svg', sizes: 'any', type: 'image/svg+xml', purpose: 'any' }],
      },
      injectManifest: {
        globPatterns: ['**/*.{js,css,html,svg,webmanifest}'],
        // The MSAL bridge page must always come from the network.
        globIgnores: ['redirect.html'],
      },
    }),
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
