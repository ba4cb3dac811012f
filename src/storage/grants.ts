/**
 * What storage needs of the token endpoint (its grant answers are in the
 * wire contract, src/contract) and `GrantKeeper`, which renews a grant
 * before it expires and after storage refuses it.
 */
import type { ZodType } from 'zod';
import { pathOf, ROUTES, type Grant } from '../contract/index.ts';

/**
 * What storage needs from the API client. The real `ApiClient` of
 * `src/auth/api-client.ts` satisfies it structurally; paths are relative to
 * `/api/v1`. Both methods throw the client's typed errors (session expired,
 * offline, ApiError with a status) and validate the answer with `schema`.
 */
export interface GrantApi {
  get<T>(path: string, schema: ZodType<T>, options?: { signal?: AbortSignal }): Promise<T>;
  post<T>(path: string, body: unknown, schema: ZodType<T>, options?: { signal?: AbortSignal }): Promise<T>;
}

export {
  completeResponse,
  fileChangesSchema,
  fileGrantsSchema,
  fileListSchema,
  hexId as fileIdSchema,
  type FileChange,
  type FileChangesPage,
  type FileEntry,
  type FileGrants,
  type FileListPage,
  type Grant,
} from '../contract/index.ts';

/** API paths (relative to /api/v1) used by storage, built from the contract's route table. */
export const apiPaths = {
  uploads: pathOf(ROUTES.createUpload),
  renew: (fileId: string) => pathOf(ROUTES.renewUpload, fileId),
  files: (cursor: string | null, limit?: number) =>
    pathOf(ROUTES.listFiles, undefined, {
      ...(cursor === null ? {} : { cursor }),
      ...(limit === undefined ? {} : { limit: String(limit) }),
    }),
  read: (fileId: string) => pathOf(ROUTES.readFile, fileId),
  complete: (fileId: string) => pathOf(ROUTES.completeFile, fileId),
  changes: (after: string | null, limit: number) =>
    pathOf(ROUTES.fileChanges, undefined, { ...(after === null ? {} : { after }), limit: String(limit) }),
  delete: (fileId: string) => pathOf(ROUTES.deleteFile, fileId),
} as const;

/** Longest time before expiry at which a grant is renewed ahead of need. */
const RENEW_MARGIN_MS = 60_000;
/** Never renew ahead of need more often than this (guards against a skewed clock). */
const MIN_RENEW_INTERVAL_MS = 10_000;

/**
 * Holds the current grants of one file and renews them: ahead of time (a
 * minute before expiry, or a fifth of the lifetime for short grants) and
 * after storage refused a request. Concurrent callers share one renewal.
 */
export class GrantKeeper<T extends { payload: Grant; manifest: Grant }> {
  private grants: T;
  private renewAt: number;
  private renewing: Promise<T> | null = null;

  /**
   * @param initial grants just received from the API
   * @param renew asks the API for fresh grants; its errors propagate to callers
   * @param now clock, injectable for tests
   */
  constructor(
    initial: T,
    private readonly renew: () => Promise<T>,
    private readonly now: () => number = Date.now,
  ) {
    this.grants = initial;
    this.renewAt = this.planRenewal(initial);
  }

  private planRenewal(grants: T): number {
    const received = this.now();
    const expires = Math.min(Date.parse(grants.payload.expiresAt), Date.parse(grants.manifest.expiresAt));
    // Server time and ours may differ; the lifetime as we see it still tells
    // how early to renew, and the floor keeps a skewed clock from looping.
    const lifetime = expires - received;
    const margin = Math.min(RENEW_MARGIN_MS, Math.max(0, lifetime) / 5);
    return received + Math.max(MIN_RENEW_INTERVAL_MS, lifetime - margin);
  }

  /** Returns grants that are not about to expire, renewing first if needed. Throws what `renew` throws. */
  async current(): Promise<T> {
    if (this.now() >= this.renewAt) return this.renewNow();
    return this.grants;
  }

  /**
   * Renews after storage refused `failed` (one of the URLs of the grants it
   * was using). If another caller renewed meanwhile, returns those grants
   * without asking the API again. Throws what `renew` throws.
   */
  async renewAfterRefusal(failed: T): Promise<T> {
    if (failed !== this.grants) return this.grants;
    return this.renewNow();
  }

  private renewNow(): Promise<T> {
    this.renewing ??= this.renew().then(
      (fresh) => {
        this.grants = fresh;
        this.renewAt = this.planRenewal(fresh);
        this.renewing = null;
        return fresh;
      },
      (error: unknown) => {
        this.renewing = null;
        throw error;
      },
    );
    return this.renewing;
  }
}
