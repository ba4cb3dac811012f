/**
 * The recovery kit: a small text file holding the passphrase-wrapped copy of
 * the account's private keys, with plain-words instructions, and the data for
 * a printable page.
 *
 * The kit is safe to keep like any document only because the keys inside are
 * wrapped under the recovery passphrase, which is never in the kit.
 *
 * The printable page's QR code holds the key **fingerprint**, not the
 * recovery copy: the copy (~2 KB) would need a version-40 code that phones
 * read badly from paper, and nothing in the app scans kits; the fingerprint
 * code lets a contact check the keys by camera. The page prints the recovery
 * copy as text instead.
 */
import { z } from 'zod';
import { fromBase64, toBase64 } from './base64.ts';
import { RecoveryKitError } from './key-errors.ts';
import { makeQrCode, type QrCode } from './qr-code.ts';

/** File name offered for the kit download. */
export const RECOVERY_KIT_FILE_NAME = 'sealdrop-recovery-kit.txt';

const BEGIN = '-----BEGIN SEALDROP RECOVERY KIT-----';
const END = '-----END SEALDROP RECOVERY KIT-----';

/** What a kit says about its account, plus the wrapped keys. */
export interface RecoveryKit {
  /** Server-derived account id (32 lowercase hex chars). */
  userId: string;
  /** The account's e-mail when known. */
  email: string | null;
  /** Fingerprint of the keys inside, groups of digits. */
  fingerprint: string;
  /** When the kit was made. */
  createdAt: Date;
  /** The passphrase-wrapped private keys (the crypto core's backup bytes). */
  recoveryBlob: Uint8Array<ArrayBuffer>;
}

/** Returns the kit file's text: instructions, account details and the wrapped keys in base64 (64-character lines). */
export function recoveryKitText(kit: RecoveryKit): string {
  const data = toBase64(kit.recoveryBlob).replace(/(.{64})/g, '$1\n').trimEnd();
  return [
    'SEALDROP RECOVERY KIT',
    '=====================',
    '',
    'This file gets your Sealdrop keys back on a new device, or after your',
    'browser data was cleared, even if the copy kept in Sealdrop storage is lost.',
    '',
    'It only works together with your recovery passphrase. The passphrase is',
    'NOT in this file. Never write it in this file or keep the two together.',
    '',
    'Keep this file somewhere safe and private, for example on a USB stick in a',
    'drawer or in your password manager.',
    '',
    `Account:          ${kit.email ?? '(no e-mail address on record)'}`,
    `User ID:          ${kit.userId}`,
    `Key fingerprint:  ${kit.fingerprint}`,
    `Created:          ${kit.createdAt.toISOString()}`,
    '',
    'How to use it:',
    '  1. Open Sealdrop and sign in with the account above.',
    '  2. When Sealdrop asks for your recovery passphrase, choose',
    '     "Restore from a recovery kit file" and pick this file.',
    '  3. Type your recovery passphrase.',
    '',
    'Do not edit the lines below.',
    BEGIN,
    data,
    END,
    '',
  ].join('\n');
}

/** Returns the kit file as a download-ready Blob (UTF-8 text). */
export function recoveryKitFile(kit: RecoveryKit): Blob {
  return new Blob([recoveryKitText(kit)], { type: 'text/plain;charset=utf-8' });
}

const kitFieldsSchema = z.object({
  userId: z.string().regex(/^[0-9a-f]{32}$/),
  fingerprint: z.string().regex(/^\d{5}( \d{5}){7}$/),
  // Exactly what toISOString writes (FORMAT.md §11.2): the round trip refuses other forms and days that do not exist.
  createdAt: z.string().refine((s) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(s) && !Number.isNaN(Date.parse(s)) && new Date(s).toISOString() === s).transform((s) => new Date(s)),
});

/**
 * Reads a kit file's text back. Returns the kit; throws
 * RecoveryKitError('unreadable') when the text is not an intact kit. The
 * fields outside the data block are only hints: the passphrase and the
 * crypto core's authentication decide whether the keys are genuine.
 */
export function parseRecoveryKit(text: string): RecoveryKit {
  const field = (name: string): string | undefined =>
    new RegExp(`^${name}:[ \\t]*(.*)$`, 'm').exec(text)?.[1]?.trim();
  const block = new RegExp(`${BEGIN}\\s*([A-Za-z0-9+/=\\s]*?)\\s*${END}`).exec(text)?.[1];
  const recoveryBlob = block === undefined ? null : fromBase64(block);
  const fields = kitFieldsSchema.safeParse({
    userId: field('User ID'),
    fingerprint: field('Key fingerprint'),
    createdAt: field('Created'),
  });
  if (recoveryBlob === null || recoveryBlob.length === 0 || !fields.success) throw new RecoveryKitError('unreadable');
  const email = field('Account');
  return {
    ...fields.data,
    email: email === undefined || email.startsWith('(') ? null : email,
    recoveryBlob,
  };
}

/** Everything the printable kit page shows. */
export interface RecoveryKitPrintData {
  email: string | null;
  userId: string;
  fingerprint: string;
  createdAt: Date;
  /** QR code holding {@link fingerprintQrText} of the fingerprint. */
  qr: QrCode;
  /** The wrapped keys in base64, as in the kit file. */
  recoveryText: string;
}

/** Returns the text a fingerprint QR code holds: `sealdrop-fingerprint:` and the 40 digits without spaces. */
export function fingerprintQrText(fingerprint: string): string {
  return `sealdrop-fingerprint:${fingerprint.replace(/\s+/g, '')}`;
}

/** Returns the data of the printable kit page, QR code included. */
export async function recoveryKitPrintData(kit: RecoveryKit): Promise<RecoveryKitPrintData> {
  return {
    email: kit.email,
    userId: kit.userId,
    fingerprint: kit.fingerprint,
    createdAt: kit.createdAt,
    qr: await makeQrCode(fingerprintQrText(kit.fingerprint)),
    recoveryText: toBase64(kit.recoveryBlob).replace(/(.{64})/g, '$1\n').trimEnd(),
  };
}
