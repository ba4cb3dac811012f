/**
 * Build entry of the service worker. vite-plugin-pwa names its output after
 * this file (sw.ts → /sw.js, the URL src/sw/register.ts registers), and the
 * listeners are wired in index.ts.
 */
// Before anything that parses: zod must not probe `new Function` under our CSP.
import '../contract/zod-jitless.ts';
import './index.ts';
