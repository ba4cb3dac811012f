/**
 * End-to-end tests in headless Chromium against the real local stack
 * (Azurite, the identity provider, the token endpoint and the built app),
 * started by `e2e/support/serve.ts` on E2E_PORT. `npm test` builds the app
 * before Playwright runs; this config does not.
 */
import { defineConfig } from '@playwright/test';
import { chromiumArgs, chromiumPath } from './tests/chromium.ts';
import { E2E_BASE_URL, E2E_CONTROL_PORT, E2E_PORT } from './e2e/support/ports.ts';

export default defineConfig({
  testDir: 'e2e',
  testMatch: '**/*.spec.ts',
  // One stack, two cores: specs share it and run one at a time.
  workers: 1,
  fullyParallel: false,
  forbidOnly: process.env.CI !== undefined,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: process.env.CI !== undefined ? 'line' : 'list',
  use: {
    baseURL: E2E_BASE_URL,
    launchOptions: {
      ...(chromiumPath === undefined ? {} : { executablePath: chromiumPath }),
      args: chromiumArgs,
    },
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
  webServer: {
    command: 'node --import tsx e2e/support/serve.ts',
    url: `${E2E_BASE_URL}api/v1/health`,
    reuseExistingServer: process.env.CI === undefined,
    timeout: 60_000,
    stdout: 'ignore',
    stderr: 'pipe',
    // The storage control (kill and revive Azurite) exists only in this test stack.
    env: { E2E_PORT: String(E2E_PORT), SEALDROP_E2E_CONTROL_PORT: String(E2E_CONTROL_PORT) },
  },
});
