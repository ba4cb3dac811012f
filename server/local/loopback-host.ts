/**
 * DNS-rebinding defence for the local stack's loopback servers. A page on
 * `evil.example` whose name is made to resolve to 127.0.0.1 reaches our
 * port from the browser as "same origin" with itself, and would read our
 * answers; its requests still carry `Host: evil.example:<port>`. Answering
 * only our own loopback names shuts that door.
 */

/** Returns true when `host` (a `Host` header) is `127.0.0.1:<port>` or `localhost:<port>` (any case). */
export function isLoopbackHost(host: string | undefined, port: number): boolean {
  if (host === undefined) return false;
  const lower = host.toLowerCase();
  return lower === `127.0.0.1:${port}` || lower === `localhost:${port}`;
}

/** The sentence a refused request gets. */
export function wrongHostMessage(what: string, port: number): string {
  return `${what} answers only 127.0.0.1:${port} and localhost:${port}.`;
}
