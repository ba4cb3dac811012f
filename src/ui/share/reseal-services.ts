/**
 * What the share dialogs need to re-seal one of the owner's files under a
 * new key (src/sharing/reseal.ts does the work), bound to the API client
 * and the unlocked keys.
 */
import { resealFile, type ResealProgress, type ResealResult } from '../../sharing/reseal.ts';
import type { GrantApi } from '../../storage/grants.ts';
import type { OwnerKeys } from '../../storage/owner-keys.ts';

export type { ResealProgress, ResealResult };

/** Re-sealing the owner's files. */
export interface ResealServices {
  /**
   * Ends the file's shares, then seals its content again under a new key
   * and replaces it. Resolves with the new file id. Throws the API
   * client's, storage's or crypto's typed errors, or the signal's reason;
   * the old file is then still there.
   */
  reseal(fileId: string, opts: { onProgress: (p: ResealProgress) => void; signal: AbortSignal }): Promise<ResealResult>;
}

/** Returns the re-seal services for `api` and the owner's unlocked keys. */
export function createResealServices(api: GrantApi, identity: OwnerKeys): ResealServices {
  return { reseal: (fileId, opts) => resealFile(api, identity, fileId, opts) };
}
