/**
 * Turns off zod's compiled ("JIT") parsers. They are built with
 * `new Function`, which our Content-Security-Policy forbids (no
 * 'unsafe-eval'); zod would fall back by itself, but only after a refused
 * probe that Chromium logs as a CSP violation on every page load. Imported
 * first by each entry point (app and service worker) so it runs before any
 * schema is used.
 */
import { config } from 'zod';

config({ jitless: true });
