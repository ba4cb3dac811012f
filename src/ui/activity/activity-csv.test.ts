/** The activity log's CSV: RFC 4180 quoting, CRLF rows, oldest first, and no cell a spreadsheet would run as a formula. */
import { describe, expect, it } from 'vitest';
import type { ActivityEntry } from '../../storage/activity-log.ts';
import { activityCsv, csvCell } from './activity-csv.ts';

const entry = (at: number, kind: ActivityEntry['kind'], fileName: string | null, detail: string | null = null): ActivityEntry => ({
  id: `id-${at}`,
  at,
  kind,
  fileName,
  detail,
});

describe('csvCell', () => {
  it('leaves plain text alone and quotes what RFC 4180 needs quoted, doubling quotes', () => {
    expect(csvCell('report.pdf')).toBe('report.pdf');
    expect(csvCell('a,b.txt')).toBe('"a,b.txt"');
    expect(csvCell('say "hi".txt')).toBe('"say ""hi"".txt"');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell('cr\rhere')).toBe('"cr\rhere"');
    expect(csvCell('')).toBe('');
  });

  it('prefixes a quote to cells that start like a formula, before quoting', () => {
    expect(csvCell('=1+1')).toBe("'=1+1");
    expect(csvCell('+SUM(A1)')).toBe("'+SUM(A1)");
    expect(csvCell('-2')).toBe("'-2");
    expect(csvCell('@cmd')).toBe("'@cmd");
    expect(csvCell('\tx')).toBe("'\tx");
    expect(csvCell('=HYPERLINK("http://evil","x")')).toBe('"\'=HYPERLINK(""http://evil"",""x"")"');
    expect(csvCell('a=b')).toBe('a=b');
  });
});

describe('activityCsv', () => {
  it('writes a header and one CRLF row per entry, oldest first, times in UTC', () => {
    const csv = activityCsv([
      entry(Date.UTC(2026, 11, 2, 10, 0, 0), 'download', 'plan, final.txt'),
      entry(Date.UTC(2026, 11, 2, 9, 30, 0), 'upload', '=cmd|calc.xlsx'),
      entry(Date.UTC(2026, 11, 2, 11, 0, 0), 'sign-in', null),
      entry(Date.UTC(2026, 11, 2, 12, 0, 0), 'share', 'notes.txt', 'link, expires in 1 day'),
    ]);
    expect(csv).toBe(
      [
        'Time (UTC),Event,File,Detail',
        "2026-12-02T09:30:00.000Z,Uploaded,'=cmd|calc.xlsx,",
        '2026-12-02T10:00:00.000Z,Downloaded,"plan, final.txt",',
        '2026-12-02T11:00:00.000Z,Signed in,,',
        '2026-12-02T12:00:00.000Z,Shared,notes.txt,"link, expires in 1 day"',
        '',
      ].join('\r\n'),
    );
  });

  it('is just the header for an empty log', () => {
    expect(activityCsv([])).toBe('Time (UTC),Event,File,Detail\r\n');
  });
});
