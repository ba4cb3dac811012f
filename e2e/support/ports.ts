/**
 * Where the end-to-end stack listens. E2E_PORT moves it (default 18080);
 * Azurite takes any free port.
 */

/** The app origin's port during end-to-end tests. */
export const E2E_PORT = Number(process.env.E2E_PORT ?? 18080);
/** `http://localhost:<E2E_PORT>/`, the base URL of every spec. */
export const E2E_BASE_URL = `http://localhost:${E2E_PORT}/`;

/** The e2e stack's test-only storage control (storage-control.ts); E2E_CONTROL_PORT moves it (default E2E_PORT + 1). */
export const E2E_CONTROL_PORT = Number(process.env.E2E_CONTROL_PORT ?? E2E_PORT + 1);
