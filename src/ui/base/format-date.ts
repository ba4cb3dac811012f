/**
 * Dates of files, in the reader's locale: "12 Mar 2025, 14:03".
 */

/** Options mainly for tests, which need a fixed locale and time zone. */
export interface FormatDateOptions {
  locale?: string;
  timeZone?: string;
}

/**
 * Returns `when` (milliseconds since the epoch, or an ISO-8601 string) as a
 * medium date and short time; "unknown date" when it does not parse.
 */
export function formatDate(when: number | string, options: FormatDateOptions = {}): string {
  const date = new Date(when);
  if (Number.isNaN(date.getTime())) return 'unknown date';
  return new Intl.DateTimeFormat(options.locale, {
    dateStyle: 'medium',
    timeStyle: 'short',
    ...(options.timeZone === undefined ? {} : { timeZone: options.timeZone }),
  }).format(date);
}
