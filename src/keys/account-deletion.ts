/**
 * Deleting the account on the server (issue 20 item 5; docs/CONTRACTS.md
 * §2.3): calls `POST /account/delete` until the server says nothing of the
 * account is left. Each call removes one bounded page, so a cut (network,
 * closed tab) loses nothing: calling again carries on, and needs no fresh
 * sign-in once the deletion has begun. Clearing this device's data is the
 * caller's next step (the UI composes it: keys here, lists in storage).
 */
import { ACCOUNT_DELETE_CONFIRMATION, ACCOUNT_ROUTES, accountDeleteResponse, ApiError, ERROR_CODES, pathOf } from '../contract/index.ts';
import type { KeyApi } from './account-keys.ts';
import { ReauthRequiredError } from './key-errors.ts';

/** Most calls before giving up (100,000 blobs at 1,000 per call take 100). */
const MAX_CALLS = 10_000;

/**
 * Deletes everything the server holds for the signed-in account. Calls
 * `onProgress` with the number of blobs removed so far after each call.
 * Resolves with that number once the server answers `done`. Throws
 * ReauthRequiredError when the deletion has not begun and the sign-in is
 * not recent enough, the API client's errors (e.g. OfflineError: call
 * again to carry on), and an Error if the server never finishes.
 */
export async function deleteAccountOnServer(api: KeyApi, onProgress?: (deletedSoFar: number) => void): Promise<number> {
  let total = 0;
  for (let i = 0; i < MAX_CALLS; i++) {
    let page;
    try {
      page = await api.post(pathOf(ACCOUNT_ROUTES.deleteAccount), { confirm: ACCOUNT_DELETE_CONFIRMATION }, accountDeleteResponse);
    } catch (error) {
      if (error instanceof ApiError && error.code === ERROR_CODES.reauthRequired) throw new ReauthRequiredError('delete your account');
      throw error;
    }
    total += page.deleted;
    onProgress?.(total);
    if (page.done) return total;
  }
  throw new Error('Deleting your account did not finish. Try again to carry on where it stopped.');
}
