/**
 * A one-time signing key for a sender without an account (file requests):
 * every manifest is signed (FORMAT.md §9.4), and a stranger has no key the
 * owner knows, so the signature only proves the manifest was not changed
 * after sealing, never who sealed it. The private half is non-extractable
 * and lives only as long as the page that made it.
 */
import type { ManifestSigner } from './manifest.ts';

/** Returns a fresh, non-extractable ECDSA P-256 key pair for signing manifests once. */
export async function newEphemeralSigner(): Promise<ManifestSigner> {
  const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
  return { privateKey: pair.privateKey, publicKey: pair.publicKey };
}
