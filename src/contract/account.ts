/**
 * Deleting an account (issue 20 item 5; docs/CONTRACTS.md §2.3): the owner
 * asks the token endpoint to remove everything stored for them. The server
 * removes a bounded page of blobs per call and says whether it is done; the
 * client calls again until it is. A call after the end is harmless (done at
 * once). Nothing in the request names a blob: the server decides everything
 * from the verified caller.
 */
import { z } from 'zod';
import type { RouteContract } from './routes.ts';
import { noQuery } from './schemas.ts';

/** The words the request must carry, so no other call can delete an account by mistake. */
export const ACCOUNT_DELETE_CONFIRMATION = 'delete my account and every file in it';

/** `POST /account/delete` */
export const accountDeleteBody = z.object({ confirm: z.literal(ACCOUNT_DELETE_CONFIRMATION) }).strict();

/** `POST /account/delete`: how many blobs this call removed, and whether nothing of the account is left. */
export const accountDeleteResponse = z
  .object({
    deleted: z.number().int().nonnegative(),
    done: z.boolean(),
  })
  .strict();
/** One page of an account deletion. */
export type AccountDeletePage = z.infer<typeof accountDeleteResponse>;

/** Error codes of account deletion. */
export const ACCOUNT_ERROR_CODES = {
  /** 409: the account is being deleted; nothing may be written to it until that finishes. */
  deleting: 'account_deleting',
} as const;

function define<Q extends z.ZodType, B extends z.ZodType, R extends z.ZodType>(r: RouteContract<Q, B, R>): RouteContract<Q, B, R> {
  return r;
}

/** The account routes, by name (mounted beside ROUTES). */
export const ACCOUNT_ROUTES = {
  deleteAccount: define({ method: 'POST', path: '/account/delete', auth: true, query: noQuery, body: accountDeleteBody, status: 200, response: accountDeleteResponse }),
} as const;
