/**
 * What the Received tab needs: the signed-in owner's file requests and the
 * files they brought, bound to their API client and unlocked keys
 * (src/sharing does the work).
 */
import type { UnlockedIdentity } from '../../keys/account-keys.ts';
import {
  createFileRequest,
  deleteReceivedFile,
  listFileRequests,
  listReceivedFiles,
  openReceivedStream,
  revokeFileRequest,
  type DamagedReceivedFile,
  type NewRequestOptions,
  type ReceivedFile,
  type RequestEntry,
} from '../../sharing/file-request.ts';
import type { GrantApi } from '../../storage/grants.ts';
import { chooseSaveDestination, readAllForPreview, saveStream } from '../../storage/save-to-disk.ts';
import type { DownloadServices } from '../files/downloads.svelte.ts';

export type { DamagedReceivedFile, NewRequestOptions, ReceivedFile, RequestEntry };

/** File requests and received files of one owner. Every method throws the API client's, storage's or crypto's typed errors. */
export interface RequestServices extends DownloadServices {
  /** The owner's fingerprint (carried in every request link). */
  fingerprint: string;
  create(options: NewRequestOptions): Promise<{ link: string; request: RequestEntry }>;
  list(): Promise<RequestEntry[]>;
  revoke(requestId: string): Promise<RequestEntry>;
  received(): Promise<(ReceivedFile | DamagedReceivedFile)[]>;
  remove(fileId: string): Promise<void>;
}

/** Returns the request services for `api` and the owner's unlocked `identity`; links are written for `origin`. */
export function createRequestServices(api: GrantApi, identity: UnlockedIdentity, origin: string): RequestServices {
  return {
    fingerprint: identity.fingerprint,
    create: (options) => createFileRequest(api, identity.fingerprint, options, origin),
    list: () => listFileRequests(api),
    revoke: (requestId) => revokeFileRequest(api, requestId),
    received: () => listReceivedFiles(api, identity),
    open: (fileId, { signal, onProgress }) => openReceivedStream(api, identity, fileId, { signal, onProgress }),
    remove: (fileId) => deleteReceivedFile(api, fileId),
    chooseSaveDestination,
    save: saveStream,
    // The Blob gets its type later, from the preview's allow-list.
    readForPreview: (stream, limit) => readAllForPreview(stream, { limit, type: '' }),
  };
}
