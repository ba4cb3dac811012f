/**
 * Seeds a drive through the token endpoint, not the UI (issue 16): keys made
 * here and published with a recovery copy (so a browser restores them with
 * the passphrase), then many small files, each sealed with the app's own
 * crypto core and uploaded with the grants the API hands out, exactly as the
 * app's sender would (payload, then manifest with If-None-Match: *).
 * Used by the e2e specs and by `npm run bench -- --drive N`.
 */
import { Buffer } from 'node:buffer';
import { z } from 'zod';
import { fileGrantsSchema, pathOf, ROUTES, API_PREFIX } from '../../src/contract/index.ts';
import {
  backupIdentity,
  DEFAULT_PBKDF2_PARAMS,
  driveKeyRecipient,
  encryptSegment,
  exportPublicIdentity,
  generateIdentityKeys,
  finishManifest,
  newDriveKey,
  payloadDigestFromSegmentDigests,
  rsaRecipient,
  sealDraft,
  segmentDigest,
  type IdentityKeys,
  type KdfParams,
} from '../../src/crypto/index.ts';

/** The token endpoint as a signed-in user sees it. */
export interface SeedApi {
  /** The app's origin, e.g. `http://localhost:18080/`. */
  baseUrl: string;
  /** An access token of the user (as the app sends it); replaced by `refresh` when it expires. */
  token: string;
  /** Gets a fresh access token after a 401 (seeding thousands of files outlasts one token's 15 minutes). */
  refresh?: () => Promise<string>;
}

/** Counts of what seeding asked for. */
export interface SeedStats {
  apiCalls: number;
  /** 429 answers waited out. */
  throttled: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Per API: the refresh under way, so parallel workers that all meet a 401 share one. */
const refreshing = new WeakMap<SeedApi, Promise<string>>();

function refreshToken(api: SeedApi): Promise<string> {
  let pending = refreshing.get(api);
  if (pending === undefined) {
    pending = (api.refresh ?? (() => Promise.resolve(api.token)))().finally(() => refreshing.delete(api));
    refreshing.set(api, pending);
  }
  return pending;
}

/**
 * Calls the API, waiting out 429s (Retry-After when given, else a second)
 * and a few 5xx answers (calls here are repeatable: a retried create gets a
 * new file id; a retried complete appends nothing twice).
 * Returns the JSON body; throws with the status and body on any other failure.
 */
async function callApi(api: SeedApi, stats: SeedStats, method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
  let busyTries = 0;
  let refreshed = 0;
  for (;;) {
    stats.apiCalls++;
    const res = await fetch(new URL(`${API_PREFIX.slice(1)}${path}`, api.baseUrl), {
      method,
      headers: { authorization: `Bearer ${api.token}`, 'x-sealdrop-token': api.token, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    // A busy stack (the emulator behind a 5xx) is waited out too, a few times.
    if (res.status >= 500 && busyTries++ < 6) {
      await res.body?.cancel();
      await sleep(500 * 2 ** busyTries);
      continue;
    }
    if (res.status === 401 && api.refresh !== undefined && refreshed++ < 1) {
      await res.body?.cancel();
      api.token = await refreshToken(api);
      continue;
    }
    if (res.status === 429) {
      stats.throttled++;
      const after = Number(res.headers.get('retry-after') ?? '1');
      await res.body?.cancel();
      await sleep(Math.max(0.2, Number.isFinite(after) ? after : 1) * 1000);
      continue;
    }
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text}`);
    return text === '' ? null : (JSON.parse(text) as unknown);
  }
}

/** Passphrase hashing for seeded test accounts: WebCrypto's PBKDF2 (quicker here than scrypt, and what readers accept). */
export const SEED_KDF: KdfParams = DEFAULT_PBKDF2_PARAMS;

/** A seeded account's keys: the identity pairs and the drive key (FORMAT.md §7.5) its files are also sealed to. */
export type SeedKeys = IdentityKeys & { driveKey: CryptoKey };

/**
 * Makes the user's keys here, publishes the public identity, stores the
 * recovery copy under `passphrase` and the drive key's signed copy, as the
 * app's key setup does. Returns the keys (for sealing). Throws when the
 * account already has keys.
 */
export async function seedKeys(api: SeedApi, passphrase: string, stats: SeedStats = { apiCalls: 0, throttled: 0 }): Promise<SeedKeys> {
  const keys = await generateIdentityKeys();
  const recovery = await backupIdentity(keys, passphrase, SEED_KDF);
  await callApi(api, stats, 'POST', pathOf(ROUTES.createRecovery), { recovery: Buffer.from(recovery).toString('base64') });
  await callApi(api, stats, 'POST', pathOf(ROUTES.publishKey), { publicIdentity: Buffer.from(await exportPublicIdentity(keys)).toString('base64') });
  const drive = await newDriveKey(keys);
  await callApi(api, stats, 'POST', pathOf(ROUTES.createDriveKey), { driveKey: Buffer.from(drive.copy).toString('base64') });
  return { ...keys, driveKey: drive.driveKey };
}

/** Tries of one seeding PUT: a busy emulator (a 5xx from the proxy, no answer) is waited out, 0.5 s doubling. */
const PUT_TRIES = 8;

async function putBlob(url: string, body: Uint8Array, ifNoneMatch: boolean): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    let res: Response | null = null;
    try {
      res = await fetch(url, {
        method: 'PUT',
        headers: { 'x-ms-blob-type': 'BlockBlob', ...(ifNoneMatch ? { 'if-none-match': '*' } : {}) },
        body: new Blob([body as Uint8Array<ArrayBuffer>]),
      });
    } catch (error) {
      if (attempt + 1 >= PUT_TRIES) throw error;
    }
    if (res?.status === 201) return;
    // A retried create-once PUT whose first try landed (its answer lost) finds the blob there: that is ours.
    if (res?.status === 409 && ifNoneMatch && attempt > 0) return;
    if (res !== null && (res.status < 500 || attempt + 1 >= PUT_TRIES)) throw new Error(`Storage answered ${res.status} to a seeding PUT: ${await res.text()}`);
    await res?.body?.cancel();
    await sleep(500 * 2 ** attempt);
  }
}

/** One file to seed: its name (may contain `/` for a folder) and tiny contents. */
export interface SeedFile {
  name: string;
  bytes: Uint8Array;
}

/**
 * Uploads `files` as the user owning `keys`, `parallel` at a time. Each
 * costs two API calls (POST /uploads, then POST /files/:id/complete once
 * the manifest is stored; none with `complete: false`, as an upload made
 * before the change log existed) and two storage PUTs. Resolves the
 * file ids in order; throws on the first failure.
 */
export async function seedFiles(
  api: SeedApi,
  keys: IdentityKeys & { driveKey?: CryptoKey },
  files: readonly SeedFile[],
  opts: { parallel?: number; stats?: SeedStats; onFile?: (done: number) => void; complete?: boolean } = {},
): Promise<string[]> {
  const stats = opts.stats ?? { apiCalls: 0, throttled: 0 };
  const ids = new Array<string>(files.length);
  let next = 0;
  let done = 0;
  const grantsSchema = fileGrantsSchema;
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      const i = next++;
      const file = files[i];
      if (file === undefined) continue;
      const slash = file.name.lastIndexOf('/');
      const metadata = {
        name: file.name.slice(slash + 1),
        type: 'text/plain',
        size: file.bytes.length,
        lastModified: Date.UTC(2026, 0, 1) + i,
        ...(slash === -1 ? {} : { relativePath: file.name }),
      };
      // As the app's sender: the drive key (when the account has one) and the owner's RSA key.
      const rsa = rsaRecipient(keys.encrypt.publicKey);
      const recipients = keys.driveKey === undefined ? [rsa] : [driveKeyRecipient(keys.driveKey), rsa];
      const draftFor = (fileId: string) => sealDraft({ fileId, metadata, recipients });
      // Sizes do not depend on the id: a stand-in id's draft tells the manifest's size before the server names the file.
      const probe = await draftFor('0'.repeat(32));
      const payloadProbe = await encryptSegment(probe.contentKey, 0, true, file.bytes);
      const granted = grantsSchema.parse(
        await callApi(api, stats, 'POST', pathOf(ROUTES.createUpload), { payloadBytes: payloadProbe.length, manifestBytes: probe.manifestLength }),
      );
      // Seed files are small: one segment, so the payload digest covers that one sealed segment.
      const draft = await draftFor(granted.fileId);
      const payload = await encryptSegment(draft.contentKey, 0, true, file.bytes);
      const manifest = await finishManifest(draft, {
        payloadDigest: await payloadDigestFromSegmentDigests([await segmentDigest(payload)]),
        signer: keys.sign,
      });
      await putBlob(granted.payload.url, payload, false);
      await putBlob(granted.manifest.url, manifest, true);
      // As the app does after the manifest commit: the change log lists the file from now on.
      // (`complete: false` plays a drive older than the log: the server seeds the log from a walk.)
      if (opts.complete !== false) await callApi(api, stats, 'POST', pathOf(ROUTES.completeFile, granted.fileId));
      ids[i] = granted.fileId;
      opts.onFile?.(++done);
    }
  };
  await Promise.all(Array.from({ length: opts.parallel ?? 4 }, worker));
  return ids;
}

/** `n` tiny files named `<prefix>-00001.txt` … (five digits, so they sort by name as by number). */
export function numberedFiles(n: number, prefix = 'seeded', from = 1): SeedFile[] {
  return Array.from({ length: n }, (_, k) => {
    const name = `${prefix}-${String(from + k).padStart(5, '0')}.txt`;
    return { name, bytes: new TextEncoder().encode(`${name}\n`) };
  });
}

/** The user's id from `GET /me`. */
export async function seedUserId(api: SeedApi): Promise<string> {
  return z.object({ userId: z.string() }).parse(await callApi(api, { apiCalls: 0, throttled: 0 }, 'GET', pathOf(ROUTES.me))).userId;
}
