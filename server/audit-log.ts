/**
 * The audit trail: one structured line per grant. Lines name the user, the
 * action, the blob and the permissions, never a token, a SAS signature or a
 * key (the SAS query string is not even passed in).
 */

/** One grant, as recorded. */
export interface AuditEntry {
  time: string;
  event: 'grant';
  user: string;
  action: string;
  blob: string;
  permissions: string;
  expiresAt: string;
}

/** Receives audit entries; must not throw. */
export type AuditSink = (entry: AuditEntry) => void;

/** The default sink: one JSON line per entry on stdout. */
export const stdoutAuditSink: AuditSink = (entry) => {
  process.stdout.write(`${JSON.stringify(entry)}\n`);
};
