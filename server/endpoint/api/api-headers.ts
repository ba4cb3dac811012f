/** Response headers every API answer carries. */

/**
 * Security headers for JSON API responses: a CSP that allows nothing (the
 * API serves no documents), no referrer, no MIME sniffing, no caching (grants
 * are secrets while they live), and HSTS when the request came over HTTPS.
 */
export function apiSecurityHeaders(secure: boolean): Record<string, string> {
  return {
    'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-store',
    'cross-origin-resource-policy': 'same-origin',
    ...(secure ? { 'strict-transport-security': 'max-age=31536000; includeSubDomains' } : {}),
  };
}

/**
 * CORS headers for a request from `origin`, or none when the origin is not
 * allowed (the API is normally same-origin and then needs none).
 */
export function corsHeaders(origin: string | undefined, allowed: readonly string[]): Record<string, string> {
  if (origin === undefined || !allowed.includes(origin)) return {};
  return {
    'access-control-allow-origin': origin,
    'access-control-expose-headers': 'Retry-After',
    vary: 'Origin',
  };
}

/** Extra headers answering a CORS preflight from an allowed origin. */
export const PREFLIGHT_HEADERS: Record<string, string> = {
  'access-control-allow-methods': 'GET, POST',
  'access-control-allow-headers': 'Authorization, X-Sealdrop-Token, Content-Type',
  'access-control-max-age': '600',
};
