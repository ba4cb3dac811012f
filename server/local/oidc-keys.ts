/**
 * The local identity provider's own secrets: one RS256 signing key and the
 * cookie-signing keys, made on first start and kept in the ignored local
 * folder (`.sealdrop/oidc-keys.json`). oidc-provider's built-in development
 * keys are the same for every install, so we never use them.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair, calculateJwkThumbprint } from 'jose';
import { z } from 'zod';

const PrivateRsaJwkSchema = z.object({
  kty: z.literal('RSA'),
  kid: z.string().min(1),
  alg: z.literal('RS256'),
  use: z.literal('sig'),
  n: z.string().min(1),
  e: z.string().min(1),
  d: z.string().min(1),
  p: z.string().min(1),
  q: z.string().min(1),
  dp: z.string().min(1),
  dq: z.string().min(1),
  qi: z.string().min(1),
});

const OidcKeysSchema = z.object({
  version: z.literal(1),
  signingKey: PrivateRsaJwkSchema,
  cookieKeys: z.array(z.string().min(32)).min(1),
});

/** The provider's secrets as kept on disk. */
export type OidcKeys = z.infer<typeof OidcKeysSchema>;

/**
 * Reads the provider's keys from `file`, or makes new ones and writes them
 * there (mode 0600) when the file does not exist yet. Throws a plain error
 * when the file exists but is not a valid keys file (delete it to start
 * over: every signed-in browser then signs in again).
 */
export async function loadOrCreateOidcKeys(file: string): Promise<OidcKeys> {
  let text: string | undefined;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (!(err instanceof Error && 'code' in err && err.code === 'ENOENT')) throw err;
  }
  if (text !== undefined) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const parsed = OidcKeysSchema.safeParse(json);
    if (!parsed.success) {
      throw new Error(`${file} is not a valid Sealdrop identity-provider keys file; delete it to make new keys.`);
    }
    return parsed.data;
  }
  const keys = await createOidcKeys();
  await mkdir(dirname(file), { recursive: true });
  // Write then rename, so a crash never leaves half a keys file.
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(keys, null, 2)}\n`, { mode: 0o600 });
  await rename(temp, file);
  return keys;
}

/** Makes a fresh RS256 signing key (kid = its JWK thumbprint) and two cookie keys. */
export async function createOidcKeys(): Promise<OidcKeys> {
  const { privateKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
  const jwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(jwk);
  const signingKey = PrivateRsaJwkSchema.parse({ ...jwk, kid, alg: 'RS256', use: 'sig' });
  const cookieKeys = [randomBytes(32).toString('base64url'), randomBytes(32).toString('base64url')];
  return { version: 1, signingKey, cookieKeys };
}
