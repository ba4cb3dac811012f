/**
 * The drive key's copy in the key directory (docs/FORMAT.md §10.5, "SDDK"):
 * request and response bodies of `POST /keys/drive` (written once) and
 * `POST /keys/drive/read` (the owner only). The copy is wrapped to the
 * owner's own RSA key and signed by the owner's signing key; the server
 * checks that signature against the published public key before storing it.
 */
import { z } from 'zod';
import { base64Bytes, hexId } from './schemas.ts';

/** Largest drive-key copy: a 4096-bit wrapped key (4 + 1 + 32 + 2 + 512 + 64 = 615 bytes). */
export const MAX_DRIVE_KEY_COPY_BYTES = 615;

/** `POST /keys/drive`: the account's drive-key copy ("SDDK"), written once. */
export const driveKeyCreateBody = z.object({ driveKey: base64Bytes(MAX_DRIVE_KEY_COPY_BYTES) }).strict();

/** `POST /keys/drive`: stored for this account. */
export const driveKeyStoredResponse = z.object({ userId: hexId }).strict();

/** `POST /keys/drive/read`: the caller's own drive-key copy. */
export const driveKeyResponse = z.object({ driveKey: base64Bytes(MAX_DRIVE_KEY_COPY_BYTES) }).strict();
