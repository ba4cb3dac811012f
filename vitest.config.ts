import { defineConfig } from 'vitest/config';
import { playwright } from '@vitest/browser-playwright';
import { chromiumArgs, chromiumPath } from './tests/chromium.ts';

// Kept apart from vite.config.ts so the PWA plugin never loads in tests.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit-node',
          environment: 'node',
          include: ['src/**/*.test.ts'],
          // *.browser.test.ts need the DOM, IndexedDB or a service worker.
          exclude: ['src/**/*.browser.test.ts'],
        },
      },
      {
        // Pre-bundle what tests import late, or Vite reloads mid-run on a cold cache.
        optimizeDeps: { include: ['hash-wasm', 'qrcode', 'idb', 'zod'] },
        test: {
          name: 'unit-chromium',
          include: ['src/**/*.test.ts'],
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
        test: {
          name: 'server',
          environment: 'node',
          include: ['server/**/*.test.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
