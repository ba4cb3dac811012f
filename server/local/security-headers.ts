/**
 * The security headers of everything the local stack serves: the app, the
 * redirect bridge page, the API and the identity provider's pages.
 *
 * All of them are on one origin (PLATFORM-NOTES: MSAL + oidc-provider), so a
 * script injected into the app could drive the provider's pages: the CSPs
 * allow no inline script anywhere we write the HTML.
 */
import type { ServerResponse } from 'node:http';

/** A set of response headers, name → value. */
export type HeaderSet = Readonly<Record<string, string>>;

/** Options shared by every header set. */
export interface SecurityHeaderOptions {
  /** True when served over HTTPS: adds HSTS (never sent on plain http, where browsers ignore it). */
  https: boolean;
}

function csp(directives: Record<string, string[]>): string {
  return Object.entries(directives)
    .map(([name, values]) => [name, ...values].join(' '))
    .join('; ');
}

function common(opts: SecurityHeaderOptions): Record<string, string> {
  return {
    'Referrer-Policy': 'no-referrer',
    'X-Content-Type-Options': 'nosniff',
    ...(opts.https ? { 'Strict-Transport-Security': 'max-age=31536000; includeSubDomains' } : {}),
  };
}

/**
 * Headers for the app's pages and assets. `blobOrigins` are the storage
 * origins the browser uploads to and downloads from (Azurite locally, e.g.
 * `http://127.0.0.1:10000`); `redirectBridge` leaves out COOP (in the
 * sign-in pop-up the bridge must stay reachable from the app that opened
 * it) and allows same-origin framing (MSAL's silent iframe renewal lands
 * there).
 */
export function appHeaders(opts: SecurityHeaderOptions & { blobOrigins: string[]; redirectBridge?: boolean }): HeaderSet {
  const bridge = opts.redirectBridge === true;
  return {
    ...common(opts),
    'Content-Security-Policy': csp({
      'default-src': ["'self'"],
      // hash-wasm instantiates inline WebAssembly (PLATFORM-NOTES).
      'script-src': ["'self'", "'wasm-unsafe-eval'"],
      'style-src': ["'self'"],
      'img-src': ["'self'", 'blob:', 'data:'],
      'media-src': ["'self'", 'blob:'],
      'font-src': ["'self'"],
      'connect-src': ["'self'", ...opts.blobOrigins],
      // blob: for previews of opened PDFs; 'self' for MSAL's silent iframe.
      'frame-src': ["'self'", 'blob:'],
      'worker-src': ["'self'"],
      'manifest-src': ["'self'"],
      'object-src': ["'none'"],
      'base-uri': ["'none'"],
      'form-action': ["'self'"],
      'frame-ancestors': [bridge ? "'self'" : "'none'"],
    }),
    'X-Frame-Options': bridge ? 'SAMEORIGIN' : 'DENY',
    // same-origin-allow-popups, not same-origin: the app must keep its
    // sign-in pop-up (opened to the provider's pages, which send no COOP)
    // to notice when the person closes it; with same-origin the opener
    // loses it at once and `closed` reads true while it is still open
    // (src/auth/popup-client.ts). Pages that open Sealdrop are still cut off.
    ...(bridge ? {} : { 'Cross-Origin-Opener-Policy': 'same-origin-allow-popups' }),
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
  };
}

/**
 * Headers for the identity provider's pages and endpoints. `script-src
 * 'self'` is there so oidc-provider can add the sha256 of its one fixed
 * auto-submit script (the form_post page it shows when signing out with no
 * session); our own pages carry no script at all. Framing is same-origin
 * only, for MSAL's silent (prompt=none) iframe.
 */
export function providerHeaders(opts: SecurityHeaderOptions): HeaderSet {
  return {
    ...common(opts),
    'Content-Security-Policy': csp({
      'default-src': ["'none'"],
      'script-src': ["'self'"],
      'style-src': ["'self'"],
      'img-src': ["'self'"],
      'form-action': ["'self'"],
      'base-uri': ["'none'"],
      'frame-ancestors': ["'self'"],
    }),
    'X-Frame-Options': 'SAMEORIGIN',
    'Cross-Origin-Resource-Policy': 'same-origin',
  };
}

/** Headers for the JSON API: it serves no HTML, so nothing may load or frame it. */
export function apiHeaders(opts: SecurityHeaderOptions): HeaderSet {
  return {
    ...common(opts),
    'Content-Security-Policy': csp({ 'default-src': ["'none'"], 'frame-ancestors': ["'none'"] }),
    'X-Frame-Options': 'DENY',
    'Cross-Origin-Resource-Policy': 'same-origin',
  };
}

/** Sets every header of `headers` on `res` (before anything is written). */
export function applyHeaders(res: ServerResponse, headers: HeaderSet): void {
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
}
