import { describe, expect, it } from 'vitest';
import { fromHex } from '../crypto/bytes.ts';
import rawVectors from '../crypto/vectors/v2.json';
import { RecoveryKitError } from './key-errors.ts';
import { fingerprintQrText, parseRecoveryKit, recoveryKitPrintData, recoveryKitText, type RecoveryKit } from './recovery-kit.ts';

function kit(overrides: Partial<RecoveryKit> = {}): RecoveryKit {
  const recoveryBlob = new Uint8Array(1900);
  crypto.getRandomValues(recoveryBlob);
  return {
    userId: '0123456789abcdef0123456789abcdef',
    email: 'ada@example.test',
    fingerprint: '01234 56789 00000 99999 12345 67890 54321 09876',
    createdAt: new Date('2025-03-04T05:06:07.000Z'),
    recoveryBlob,
    ...overrides,
  };
}

describe('recovery kit file', () => {
  it('round-trips every field through the text file', () => {
    const original = kit();
    const text = recoveryKitText(original);
    expect(text).toContain('ada@example.test');
    expect(text).toContain('NOT in this file');
    expect(text.split('\n').every((line) => line.length <= 80)).toBe(true);
    expect(parseRecoveryKit(text)).toEqual(original);
  });

  it('round-trips a kit without an e-mail address', () => {
    const original = kit({ email: null });
    expect(parseRecoveryKit(recoveryKitText(original))).toEqual(original);
  });

  it('survives Windows line endings added by an editor', () => {
    const original = kit();
    expect(parseRecoveryKit(recoveryKitText(original).replace(/\n/g, '\r\n'))).toEqual(original);
  });

  it.each([
    ['no data block', (t: string) => t.replace(/-----BEGIN[\s\S]*END SEALDROP RECOVERY KIT-----/, '')],
    ['damaged base64', (t: string) => t.replace(/(-----BEGIN SEALDROP RECOVERY KIT-----\n.)/, '$1!')],
    ['missing user id', (t: string) => t.replace(/User ID:.*\n/, '')],
    ['not a kit at all', () => 'hello'],
  ])('rejects a file with %s', (_name, damage) => {
    expect(() => parseRecoveryKit(damage(recoveryKitText(kit())))).toThrow(RecoveryKitError);
  });

  it.each([
    ['a day that does not exist', '2025-02-30T05:06:07.000Z'],
    ['hour 24', '2025-03-04T24:00:00.000Z'],
    ['no milliseconds', '2025-03-04T05:06:07Z'],
    ['another form Date parses', 'Tue, 04 Mar 2025 05:06:07 GMT'],
    ['a time zone offset', '2025-03-04T05:06:07.000+00:00'],
  ])('rejects a Created value that is not toISOString’s form: %s', (_name, created) => {
    const text = recoveryKitText(kit()).replace('2025-03-04T05:06:07.000Z', created);
    expect(() => parseRecoveryKit(text)).toThrow(RecoveryKitError);
  });
});

/** The recovery kit file vector (docs/FORMAT.md §11.2, §13 `recoveryKitFile`). */
describe('recovery kit file vector', () => {
  const { backup, recoveryKitFile: file } = rawVectors;
  const expected = {
    userId: file.userId,
    email: file.email,
    fingerprint: file.fingerprint,
    createdAt: new Date(file.createdAt),
    recoveryBlob: fromHex(backup.bytes),
  };

  it('writes exactly the vector text', () => {
    expect(file.bytesFrom).toBe('backup.bytes');
    expect(recoveryKitText(expected)).toBe(file.text);
  });

  it.each([{ name: 'as written', rule: '', text: file.text }, ...file.accepts])('accepts $name', ({ text }) => {
    expect(parseRecoveryKit(text)).toEqual(expected);
  });

  it.each(file.rejects)('rejects $name', ({ text }) => {
    expect(() => parseRecoveryKit(text)).toThrow(RecoveryKitError);
  });
});

describe('printable kit page', () => {
  it('carries a QR code of the fingerprint and the recovery data as text', async () => {
    const k = kit();
    const page = await recoveryKitPrintData(k);
    expect(page.qr.text).toBe(fingerprintQrText(k.fingerprint));
    expect(page.qr.text).toBe('sealdrop-fingerprint:0123456789000009999912345678905432109876');
    expect(page.qr.size).toBeGreaterThan(21);
    expect(page.qr.path).toMatch(/^(M\d+ \d+h1v1h-1z)+$/);
    expect(recoveryKitText(k)).toContain(page.recoveryText);
  });

  it('draws different codes for different fingerprints', async () => {
    const a = await recoveryKitPrintData(kit());
    const b = await recoveryKitPrintData(kit({ fingerprint: '99999 56789 00000 99999 12345 67890 54321 09876' }));
    expect(a.qr.path).not.toBe(b.qr.path);
  });
});
