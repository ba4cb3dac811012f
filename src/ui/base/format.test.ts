import { describe, expect, test } from 'vitest';
import { formatSize, formatSpeed } from './format-size.ts';
import { formatDuration } from './format-duration.ts';
import { formatDate } from './format-date.ts';

describe('formatSize', () => {
  test.each([
    [0, '0 bytes'],
    [1, '1 byte'],
    [1023, '1023 bytes'],
    [1024, '1.0 KiB'],
    [1536, '1.5 KiB'],
    [10 * 1024, '10 KiB'],
    [1024 * 1024 - 1, '1.0 MiB'],
    [5 * 1024 * 1024 + 1, '5.0 MiB'],
    [300 * 1024 * 1024, '300 MiB'],
    [4 * 1024 ** 3, '4.0 GiB'],
    [-1, 'unknown size'],
    [Number.NaN, 'unknown size'],
  ])('%d → %s', (bytes, expected) => {
    expect(formatSize(bytes)).toBe(expected);
  });

  test('speed', () => {
    expect(formatSpeed(2.5 * 1024 * 1024)).toBe('2.5 MiB/s');
    expect(formatSpeed(0)).toBe('—');
    expect(formatSpeed(Number.POSITIVE_INFINITY)).toBe('—');
  });
});

describe('formatDuration', () => {
  test.each([
    [0, 'less than a second'],
    [0.4, 'less than a second'],
    [1, '1 s'],
    [59.4, '59 s'],
    [60, '1 min'],
    [185, '3 min 5 s'],
    [3600, '1 h'],
    [2 * 3600 + 10 * 60 + 7, '2 h 10 min'],
    [-5, 'unknown'],
    [Number.POSITIVE_INFINITY, 'unknown'],
  ])('%d s → %s', (seconds, expected) => {
    expect(formatDuration(seconds)).toBe(expected);
  });
});

describe('formatDate', () => {
  const opts = { locale: 'en-GB', timeZone: 'UTC' };
  test('formats epoch milliseconds and ISO strings alike', () => {
    const ms = Date.UTC(2025, 2, 12, 14, 3);
    expect(formatDate(ms, opts)).toBe(formatDate('2025-03-12T14:03:00Z', opts));
    expect(formatDate(ms, opts)).toContain('2025');
    expect(formatDate(ms, opts)).toContain('14:03');
  });
  test('says so when the date is unknown', () => {
    expect(formatDate('not a date', opts)).toBe('unknown date');
    expect(formatDate(Number.NaN, opts)).toBe('unknown date');
  });
});
