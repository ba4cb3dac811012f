/**
 * The audit trail: one structured line per grant, and one per call of an
 * account deletion. Lines name the user, the action, the blob and the
 * permissions, never a token, a SAS signature, a key or an e-mail address
 * (the SAS query string is not even passed in).
 */

/** One grant, as recorded. */
export interface GrantAuditEntry {
  time: string;
  event: 'grant';
  user: string;
  action: string;
  blob: string;
  permissions: string;
  expiresAt: string;
}

/** One call of an account deletion (`POST /account/delete`): how many blobs it removed and whether the account is gone. */
export interface AccountDeleteAuditEntry {
  time: string;
  event: 'account-delete';
  user: string;
  /** True on the call that began the deletion (it needed a fresh sign-in). */
  started: boolean;
  deleted: number;
  done: boolean;
}

/** One audit line. */
export type AuditEntry = GrantAuditEntry | AccountDeleteAuditEntry;

/** Receives audit entries; must not throw. */
export type AuditSink = (entry: AuditEntry) => void;

/** The default sink: one JSON line per entry on stdout. */
export const stdoutAuditSink: AuditSink = (entry) => {
  process.stdout.write(`${JSON.stringify(entry)}\n`);
};
