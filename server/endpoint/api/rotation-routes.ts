/**
 * A key rotation's file step (docs/CONTRACTS.md §2.4): the owner writes each
 * manifest re-sealed for their new keys (docs/FORMAT.md §10.6) in place of
 * the one they read. The server checks what it can without keys: the same
 * header and payload digest as the stored manifest, the signer field set to
 * the signing key published for the caller NOW (so only a rotation that the
 * old key signed, `POST /keys/public/rotate`, lets anyone re-sign a file),
 * and If-Match on the ETag the client read. Then the change log gets an
 * add event carrying the new manifest, so other devices list it.
 */
import { Buffer } from 'node:buffer';
import { ERROR_CODES, MAX_ROTATIONS, ROTATION_ROUTES } from '../../../src/contract/index.ts';
import { checkPublicIdentity, KeyProofError } from '../keys/public-identity.ts';
import { fileBlob, formerIdentitiesPrefix, publicKeyBlob } from '../storage/blob-layout.ts';
import { ApiError, notFound } from './api-error.ts';
import { breaksDeclaration, decodeBase64, fileState, mustCaller, route, storeReplacedManifest, sweep, type Route } from './routes.ts';

/** Manifest layout the server compares: header (57), then lp16 signer (2 + 91), then the payload digest (32). */
const HEADER = 57;
const SIGNER_AT = HEADER + 2;
const SIGNER_LENGTH = 91;
const DIGEST_AT = SIGNER_AT + SIGNER_LENGTH;
const DIGEST_END = DIGEST_AT + 32;
const PUBLIC_KEY_MAX = 16 * 1024;

const unquote = (etag: string): string => etag.replace(/^(?:W\/)?"(.*)"$/, '$1');
const slice = (b: Uint8Array, from: number, to: number): Buffer => Buffer.from(b.subarray(from, to));

/** The rotation routes, in the order of ROTATION_ROUTES. */
export const rotationRoutes: Route[] = [
  route(ROTATION_ROUTES.rotateManifest, async ({ caller, param: fileId, body, services }) => {
    const c = mustCaller(caller);
    const bytes = decodeBase64(body.manifest);
    if (bytes.length > services.maxManifestBytes) throw new ApiError(413, 'manifest_too_large', `A file's manifest can be at most ${services.maxManifestBytes} bytes.`);
    const state = await fileState(services.store, c.userId, fileId);
    if (breaksDeclaration(state)) {
      await sweep(services, c.userId, fileId, state);
      throw notFound('You have no complete file with this id.');
    }
    const declared = state.declared;
    if (state.manifest === undefined || declared === undefined) throw notFound('You have no complete file with this id.');

    const published = await services.store.readSmall(publicKeyBlob(c.userId), PUBLIC_KEY_MAX);
    if (published === null) throw new ApiError(409, ERROR_CODES.publicKeyMissing, 'This account has no published key.');
    let signer: Uint8Array;
    try {
      signer = (await checkPublicIdentity(published.bytes)).verifySpki;
    } catch (err) {
      if (err instanceof KeyProofError) throw new Error('The published key in storage does not pass its checks.', { cause: err });
      throw err;
    }

    const name = fileBlob(c.userId, fileId, 'manifest');
    const current = await services.store.readSmall(name, services.maxManifestBytes);
    if (current === null) throw notFound('You have no complete file with this id.');
    if (unquote(current.etag) !== unquote(body.manifestEtag)) throw new ApiError(412, ERROR_CODES.stale, 'The file changed since you opened it. Reload and try again.');
    const sameFile =
      bytes.length > DIGEST_END &&
      slice(bytes, 0, HEADER).equals(slice(current.bytes, 0, HEADER)) &&
      bytes[HEADER] === 0 &&
      bytes[HEADER + 1] === SIGNER_LENGTH &&
      slice(bytes, DIGEST_AT, DIGEST_END).equals(slice(current.bytes, DIGEST_AT, DIGEST_END));
    if (!sameFile) throw new ApiError(400, 'invalid_manifest', 'This manifest is not the same file with other readers.');
    if (!slice(bytes, SIGNER_AT, DIGEST_AT).equals(Buffer.from(signer))) {
      throw new ApiError(400, 'invalid_manifest', 'This manifest is not signed by the key published for your account.');
    }

    // A file sealed before drive keys gains an envelope: its declaration grows first (as a share's does).
    const written = await storeReplacedManifest(services, c.userId, fileId, declared, current.etag, bytes);
    return { fileId, etag: written };
  }),
  route(ROTATION_ROUTES.readKeyHistory, async ({ caller, param, services }) => {
    mustCaller(caller);
    if ((await services.store.stat(publicKeyBlob(param))) === null) throw notFound('This person has not published a key yet.');
    const listed = await services.store.list(formerIdentitiesPrefix(param), { maxPageSize: MAX_ROTATIONS });
    const formerIdentities = await Promise.all(
      listed.blobs.map(async (b) => {
        const blob = await services.store.readSmall(b.name, PUBLIC_KEY_MAX);
        if (blob === null) throw new Error('A former identity vanished while being read.');
        return Buffer.from(blob.bytes).toString('base64');
      }),
    );
    return { userId: param, formerIdentities };
  }),
];
