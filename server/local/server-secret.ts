/**
 * The local stack's own server secret: 32 random bytes made on first start
 * and kept in the ignored data folder (`.sealdrop/server-secret`, mode
 * 0600), next to the identity provider's keys. The token endpoint keys the
 * key directory's blob names with it (HMAC), so nobody who can list or guess
 * blob names can test e-mail addresses or find a recovery copy. It must stay
 * the same across restarts: a new secret orphans every directory entry and
 * recovery copy made under the old one.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The secret file's name inside the data folder. */
export const SERVER_SECRET_FILE = 'server-secret';
/** Bytes of a new secret. */
const SECRET_BYTES = 32;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Thrown when the secret file exists but does not hold a usable secret. */
export class ServerSecretFileError extends Error {
  constructor(file: string) {
    super(`${file} is not a valid Sealdrop server secret (32 or more random bytes, base64). Restore it from a backup, or delete it to make a new one; a new one orphans the key directory and every recovery copy.`);
    this.name = 'ServerSecretFileError';
  }
}

/**
 * Returns the stack's server secret, base64-encoded (the form
 * `SEALDROP_DIRECTORY_KEY` takes), reading `<dataDir>/server-secret` or, when
 * it does not exist yet, making 32 random bytes and writing them there
 * (mode 0600, write-then-rename so a crash never leaves half a file). Throws
 * {@link ServerSecretFileError} when the file exists but is damaged, and the
 * file system's error when it cannot be read or written.
 */
export async function loadOrCreateServerSecret(dataDir: string): Promise<string> {
  const file = join(dataDir, SERVER_SECRET_FILE);
  let text: string | undefined;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (!(err instanceof Error && 'code' in err && err.code === 'ENOENT')) throw err;
  }
  if (text !== undefined) {
    const secret = text.trim();
    if (!BASE64.test(secret) || Buffer.from(secret, 'base64').byteLength < SECRET_BYTES) throw new ServerSecretFileError(file);
    return secret;
  }
  const secret = randomBytes(SECRET_BYTES).toString('base64');
  await mkdir(dataDir, { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, `${secret}\n`, { mode: 0o600 });
  await rename(temp, file);
  return secret;
}
