import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { playwright } from '@vitest/browser-playwright';
import { chromiumArgs, chromiumPath } from './tests/chromium.ts';

// Kept apart from vite.config.ts so the PWA plugin never loads in tests.
// The Svelte plugin compiles `*.svelte.ts` rune classes (runes need the compiler).
export default defineConfig({
  test: {
    projects: [
      {
        // Rune classes compiled and run as in the page: Svelte's server output and
        // runtime (what Node would pick) never run effects.
        plugins: [svelte({ dynamicCompileOptions: () => ({ generate: 'client' }) })],
        ssr: { resolve: { conditions: ['browser'] } },
        test: {
          name: 'unit-node',
          environment: 'node',
          // RSA-3072 key generation is random in length and slows badly on a loaded 2-core machine.
          testTimeout: 30_000,
          include: ['src/**/*.test.ts'],
          // *.browser.test.ts need the DOM, IndexedDB or a service worker.
          exclude: ['src/**/*.browser.test.ts'],
        },
      },
      {
        plugins: [svelte()],
        // Pre-bundle what tests import late, or Vite reloads mid-run on a cold cache.
        optimizeDeps: { include: ['hash-wasm', 'qrcode', 'idb', 'zod'] },
        test: {
          name: 'unit-chromium',
          include: ['src/**/*.test.ts'],
          testTimeout: 30_000,
          browser: {
            enabled: true,
            headless: true,
            provider: playwright({
              launchOptions: { executablePath: chromiumPath, args: chromiumArgs },
            }),
            instances: [{ browser: 'chromium' }],
          },
        },
      },
      {
        // The bench's own pure code (report shape, tables): no browser, no Azurite.
        test: {
          name: 'bench',
          environment: 'node',
          include: ['bench/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'server',
          environment: 'node',
          include: ['server/**/*.test.ts', 'tools/**/*.test.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      // The same route tests again, each request sent through one host's
      // adapter (server/test-support/adapters.ts): the endpoint runs on Node's
      // http locally and as an Azure Functions app in Azure.
      ...(['functions', 'node'] as const).map((adapter) => ({
        test: {
          name: `server-via-${adapter}`,
          environment: 'node' as const,
          include: ['server/endpoint/api/**/*.test.ts'],
          exclude: ['server/endpoint/api/*-adapter.test.ts'],
          env: { SEALDROP_TEST_ADAPTER: adapter },
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      })),
    ],
  },
});
