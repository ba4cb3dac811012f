/**
 * The activity log as CSV (RFC 4180): a header row, one row per entry,
 * CRLF line ends, a field quoted when it holds a comma, a quote, CR or LF
 * (quotes doubled inside). A cell a spreadsheet would run as a formula (it
 * starts with =, +, -, @, or a tab or CR that some programs skip first) is
 * prefixed with a single quote: a file name like `=HYPERLINK(…)` stays text
 * (CSV injection, OWASP).
 */
import type { ActivityEntry, ActivityKind } from '../../storage/activity-log.ts';

/** Words for each kind of event, as shown and exported. */
export const ACTIVITY_LABELS: Record<ActivityKind, string> = {
  upload: 'Uploaded',
  open: 'Opened',
  download: 'Downloaded',
  share: 'Shared',
  revoke: 'Revoked a link',
  'key-change': 'Keys changed',
  'sign-in': 'Signed in',
};

const FORMULA_START = /^[=+\-@\t\r]/;

/** One cell: guarded against formula injection, then quoted when RFC 4180 needs it. */
export function csvCell(value: string): string {
  const safe = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** The whole file: header and rows, oldest first (as a ledger reads), CRLF after every row. */
export function activityCsv(entries: readonly ActivityEntry[]): string {
  const rows = [['Time (UTC)', 'Event', 'File', 'Detail']];
  for (const e of [...entries].sort((a, b) => a.at - b.at)) {
    rows.push([new Date(e.at).toISOString(), ACTIVITY_LABELS[e.kind], e.fileName ?? '', e.detail ?? '']);
  }
  return rows.map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';
}
