/**
 * Link shares, both sides:
 *
 * - the owner creates a link (a fresh link secret, optionally with a
 *   passphrase: one envelope added to the manifest and re-signed, FORMAT.md
 *   §9.4; the server stores only a record without secrets), lists a file's
 *   links and revokes one (the server refuses grants from then on, and the
 *   link's envelope is taken out of the manifest);
 * - anyone holding the link opens it without an account: read grants from
 *   the share id, the manifest opened with the link identity (secret from
 *   the #fragment, plus the passphrase), the payload streamed and decrypted.
 *
 * The secret and the passphrase never leave this module except inside the
 * link text the owner copies; no request carries them.
 */
import {
  ApiError,
  OfflineError,
  SHARE_ERROR_CODES,
  SHARE_ROUTES,
  UnexpectedResponseError,
  errorBody,
  pathOf,
  shareEntrySchema,
  shareListSchema,
  shareReadSchema,
  type ShareEntry,
  type ShareRead,
} from '../contract/index.ts';
import {
  STANZA_LINK_PASSPHRASE,
  STANZA_LINK_SECRET,
  linkPassphraseIdentity,
  linkPassphraseRecipient,
  linkSecretIdentity,
  linkSecretRecipient,
  newLinkSecret,
  openManifest,
  reEnvelope,
  rsaIdentity,
  type FileMetadata,
  type IdentityKeys,
  type Stanza,
} from '../crypto/index.ts';
import { getBlob, getBlobWithEtag } from '../storage/blob-rest.ts';
import { openPayloadFromGrants } from '../storage/receiver.ts';
import { GrantKeeper, apiPaths, fileGrantsSchema, type GrantApi } from '../storage/grants.ts';
import type { TransferProgress } from '../storage/progress.ts';
import { shareLinkText, type ShareLink } from './link-text.ts';

export type { ShareEntry };

/** Lifetimes the app offers, in seconds. */
export const LINK_LIFETIMES = [
  { label: '1 hour', seconds: 3600 },
  { label: '1 day', seconds: 86_400 },
  { label: '7 days', seconds: 604_800 },
] as const;

const TAG_BYTES = 16;

function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The public tag of a link envelope: its first 16 body bytes (in the manifest anyway; lets the owner find it again). */
function envelopeTag(stanza: Stanza): string {
  return toHex(stanza.body.subarray(0, TAG_BYTES));
}

/** The owner's file manifest and its ETag, read through a read grant. */
async function ownManifest(api: GrantApi, fileId: string): Promise<{ bytes: Uint8Array; etag: string }> {
  const grants = await api.post(apiPaths.read(fileId), undefined, fileGrantsSchema);
  return getBlobWithEtag(grants.manifest.url);
}

/** What the owner chooses for a new link. */
export interface NewLinkOptions {
  /** Also needed to open the link; empty or absent: the link alone opens the file. */
  passphrase?: string | undefined;
  expiresInSeconds: number;
  /** Null: no limit. */
  maxDownloads: number | null;
}

/**
 * Creates a link share of the owner's file `fileId`: a fresh link secret,
 * one envelope for it (with the passphrase if given: typeId 5), the manifest
 * re-signed and written by the server (If-Match on the version read), and
 * the server's record. Returns the link text (for `origin`) and the record.
 * Throws the API client's errors (ApiError 412 when the file changed
 * meanwhile), StorageError, or the crypto errors of opening the manifest.
 */
export async function createLinkShare(
  api: GrantApi,
  identity: IdentityKeys,
  fileId: string,
  options: NewLinkOptions,
  origin: string,
): Promise<{ link: string; share: ShareEntry }> {
  const secret = newLinkSecret();
  try {
    const passphrase = options.passphrase ?? '';
    const recipient = passphrase === '' ? linkSecretRecipient(secret) : linkPassphraseRecipient(secret, passphrase);
    const current = await ownManifest(api, fileId);
    const { manifest, added } = await reEnvelope(current.bytes, [rsaIdentity(identity.encrypt.privateKey)], {
      fileId,
      signer: identity.sign,
      change: { add: [recipient] },
    });
    const stanza = added[0];
    if (stanza === undefined) throw new Error('The link envelope was not added.');
    const share = await api.post(
      pathOf(SHARE_ROUTES.createShare, fileId),
      {
        manifest: toBase64(manifest),
        manifestEtag: current.etag,
        expiresInSeconds: options.expiresInSeconds,
        maxDownloads: options.maxDownloads,
        envelopeTag: envelopeTag(stanza),
      },
      shareEntrySchema,
    );
    const link: ShareLink = { shareId: share.shareId, secret, passphrase: passphrase !== '' };
    return { link: shareLinkText(origin, link), share };
  } finally {
    secret.fill(0);
  }
}

/** The links of one of the owner's files, oldest first. Throws the API client's errors. */
export async function listLinkShares(api: GrantApi, fileId: string): Promise<ShareEntry[]> {
  return (await api.get(pathOf(SHARE_ROUTES.listShares, fileId), shareListSchema)).shares;
}

/**
 * Revokes a link: the link's envelope is taken out of the manifest
 * (re-signed) and the server refuses every later read. When the envelope
 * is no longer in the manifest, only the record is changed. Returns the
 * updated record. Throws the API client's errors, StorageError, or the
 * crypto errors of opening the manifest.
 */
export async function revokeLinkShare(api: GrantApi, identity: IdentityKeys, share: ShareEntry): Promise<ShareEntry> {
  const current = await ownManifest(api, share.fileId);
  const isLink = (s: Stanza): boolean =>
    (s.typeId === STANZA_LINK_SECRET || s.typeId === STANZA_LINK_PASSPHRASE) && envelopeTag(s) === share.envelopeTag;
  let body: object = {};
  try {
    const { manifest } = await reEnvelope(current.bytes, [rsaIdentity(identity.encrypt.privateKey)], {
      fileId: share.fileId,
      signer: identity.sign,
      change: { remove: isLink },
    });
    if (manifest.length < current.bytes.length) body = { manifest: toBase64(manifest), manifestEtag: current.etag };
  } catch (error) {
    // Nothing removable (e.g. the last envelope): the server's refusal still revokes the link.
    if (!(error instanceof RangeError)) throw error;
  }
  return api.post(pathOf(SHARE_ROUTES.revokeShare, share.shareId), body, shareEntrySchema);
}

// --- the recipient's side -------------------------------------------------

/** Why a link cannot be used any more, as the server says it. */
export type LinkRefusal = 'expired' | 'used-up' | 'revoked' | 'not-found';

/** The server refused a link; `reason` says why, the message in plain words. */
export class LinkRefusedError extends Error {
  override readonly name = 'LinkRefusedError';
  constructor(readonly reason: LinkRefusal) {
    super(
      {
        expired: 'This link has expired. Ask the person who sent it for a new one.',
        'used-up': 'This link has been used as many times as its owner allowed. Ask for a new one.',
        revoked: 'The owner has withdrawn this link.',
        'not-found': 'There is no shared file at this link. It may have been deleted.',
      }[reason],
    );
  }
}

const REFUSALS: Record<string, LinkRefusal> = {
  [SHARE_ERROR_CODES.expired]: 'expired',
  [SHARE_ERROR_CODES.usedUp]: 'used-up',
  [SHARE_ERROR_CODES.revoked]: 'revoked',
  [SHARE_ERROR_CODES.notFound]: 'not-found',
};

/**
 * Asks the token endpoint at `apiBase` for read grants of a link (no
 * sign-in; each call uses one of the link's downloads). Throws
 * LinkRefusedError (expired, used up, revoked, unknown), ApiError for other
 * refusals (e.g. 429), OfflineError when the endpoint cannot be reached.
 */
export async function readShareGrants(apiBase: string, shareId: string, fetchFn: typeof fetch = fetch): Promise<ShareRead> {
  const path = pathOf(SHARE_ROUTES.readShare, shareId);
  let res: Response;
  try {
    // Only the share id (in the path) goes to the server: no body, no credentials, no referrer.
    res = await fetchFn(`${apiBase.replace(/\/+$/, '')}${path}`, { method: 'POST', credentials: 'omit', referrerPolicy: 'no-referrer' });
  } catch (cause) {
    throw new OfflineError({ cause });
  }
  const json: unknown = await res.json().catch(() => null);
  if (!res.ok) {
    const parsed = errorBody.safeParse(json);
    const code = parsed.success ? parsed.data.error : `http_${res.status}`;
    const refusal = REFUSALS[code];
    if (refusal !== undefined) throw new LinkRefusedError(refusal);
    throw new ApiError(res.status, code, parsed.success ? parsed.data.message : 'The link could not be opened.');
  }
  const grants = shareReadSchema.safeParse(json);
  if (!grants.success) throw new UnexpectedResponseError(path);
  return grants.data;
}

/** A link's file, opened and authenticated; `download` streams its plaintext. */
export interface OpenedLinkShare {
  metadata: FileMetadata;
  /** Fingerprint of the key that sealed (signed) the file. */
  sealedBy: string;
  /**
   * The plaintext as a stream, decrypted segment by segment; it errors with
   * TamperedError / TruncatedError when the payload fails authentication.
   * Call once.
   */
  download(opts?: { signal?: AbortSignal; onProgress?: (p: TransferProgress) => void }): ReadableStream<Uint8Array>;
}

/** A link's grants and sealed manifest, fetched once per visit so passphrase attempts take no further use. */
export interface FetchedLinkShare {
  grants: ShareRead;
  manifest: Uint8Array;
}

/**
 * Fetches a link's read grants (one use of the link) and its sealed
 * manifest. Throws LinkRefusedError, ApiError, OfflineError, StorageError.
 */
export async function fetchLinkShare(apiBase: string, shareId: string, fetchFn: typeof fetch = fetch): Promise<FetchedLinkShare> {
  const grants = await readShareGrants(apiBase, shareId, fetchFn);
  return { grants, manifest: await getBlob(grants.manifest.url) };
}

/**
 * Opens a fetched link's manifest with the link's secret (and the
 * passphrase when the link says one is needed), authenticating it first.
 * Can be called again with another passphrase. Throws WrongPassphraseError
 * (wrong passphrase), WrongKeyError (the link does not open this file),
 * TamperedError / MalformedError / UnsupportedVersionError.
 */
export async function unlockLinkShare(
  apiBase: string,
  link: ShareLink,
  fetched: FetchedLinkShare,
  passphrase: string,
  fetchFn: typeof fetch = fetch,
): Promise<OpenedLinkShare> {
  const identity = link.passphrase ? linkPassphraseIdentity(link.secret, passphrase) : linkSecretIdentity(link.secret);
  const opened = await openManifest(fetched.manifest, [identity], { fileId: fetched.grants.fileId });
  // A renewal (only for a download outliving its grant) is a new read: it takes another use of the link.
  const keeper = new GrantKeeper(fetched.grants, () => readShareGrants(apiBase, link.shareId, fetchFn));
  return {
    metadata: opened.metadata,
    sealedBy: opened.signer.fingerprint,
    download: (opts = {}) => openPayloadFromGrants(keeper, opened, opts),
  };
}
