/**
 * Which part of Sealdrop is down, worked out after a request failed: the
 * person's connection, our server (the token endpoint), storage or the
 * sign-in service. Pure logic; `service-status.svelte.ts` runs it.
 */
import type { HealthReport } from '../../contract/index.ts';
import type { ErrorKind } from './handle-error.ts';

/** Whose request failed and started the check. */
export type FailedPart = 'server' | 'storage';

/** What asking our own origin's `/health` gave: its report, no answer at all, or an error answer. */
export type HealthAnswer = HealthReport | 'no-answer' | 'error-answer';

/**
 * Returns the kind of problem to show, or null when nothing is down:
 * - the browser says it is offline → `offline`;
 * - storage failed and our own origin does not answer either → `offline`;
 * - the endpoint failed and does not answer or answers an error → `server-down`;
 * - the endpoint reports storage or sign-in keys unreachable → `storage-down` / `identity-down`;
 * - storage failed for the browser while the endpoint reaches it → `storage-down` (from here it is down).
 */
export function diagnose(failed: FailedPart, online: boolean, health: HealthAnswer): ErrorKind | null {
  if (!online) return 'offline';
  if (health === 'no-answer') return failed === 'storage' ? 'offline' : 'server-down';
  if (health === 'error-answer') return 'server-down';
  if (health.storage === 'down') return 'storage-down';
  if (health.identity === 'down') return 'identity-down';
  return failed === 'storage' ? 'storage-down' : null;
}
