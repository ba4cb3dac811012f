/** Derives Sealdrop's user id from verified token claims (docs/CONTRACTS.md §1). */
import { createHash } from 'node:crypto';

/**
 * Returns 32 lowercase hex chars: the first 16 bytes of SHA-256 over
 * `"entra|" + tid + "|" + oid` or `"oidc|" + iss + "|" + sub`.
 * The parts must come from a verified token; never from request input.
 */
export function deriveUserId(identity: { scheme: 'entra'; tid: string; oid: string } | { scheme: 'oidc'; iss: string; sub: string }): string {
  const input = identity.scheme === 'entra' ? `entra|${identity.tid}|${identity.oid}` : `oidc|${identity.iss}|${identity.sub}`;
  return createHash('sha256').update(input, 'utf8').digest().subarray(0, 16).toString('hex');
}
