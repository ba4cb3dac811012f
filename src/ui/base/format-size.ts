/**
 * Byte counts in words people read: "0 bytes", "12 KiB", "1.5 MiB".
 *
 * Units are powers of 1024 with their own names (KiB, MiB, GiB: IEC 80000-13),
 * so a size never reads as a decimal megabyte it is not; one decimal below 10 of a unit, none above.
 */

const UNITS = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;

/** Returns a short human-readable size for `bytes`; "unknown size" for negative or non-finite input. */
export function formatSize(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return 'unknown size';
  if (bytes < 1024) return bytes === 1 ? '1 byte' : `${Math.floor(bytes)} bytes`;
  let value = bytes / 1024;
  let index = 0;
  while (value >= 1024 && index < UNITS.length - 1) {
    value /= 1024;
    index += 1;
  }
  // 1023.96 KiB would print as "1024 KiB": round first, then step up a unit if needed.
  let rounded = value < 10 ? Math.round(value * 10) / 10 : Math.round(value);
  if (rounded >= 1024 && index < UNITS.length - 1) {
    rounded = 1;
    index += 1;
  }
  return `${rounded < 10 ? rounded.toFixed(1) : String(rounded)} ${UNITS[index] ?? 'PiB'}`;
}

/** Returns a transfer speed such as "3.2 MiB/s"; "—" when the speed is not known yet (0, negative or non-finite). */
export function formatSpeed(bytesPerSecond: number): string {
  if (!Number.isFinite(bytesPerSecond) || bytesPerSecond <= 0) return '—';
  return `${formatSize(bytesPerSecond)}/s`;
}
