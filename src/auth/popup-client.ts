/**
 * MSAL's client with one addition: a sign-in pop-up the person closes is
 * noticed at once. MSAL 5 hears the pop-up's answer through the redirect
 * bridge (`broadcastResponseToMainFrame`, a BroadcastChannel) and, on its
 * own, only gives up after `popupBridgeTimeout`; meanwhile it keeps its
 * "interaction in progress" mark, which would also refuse the full-page
 * sign-in offered as the fallback. Loaded on demand with MSAL.
 *
 * Watching `closed` needs the pop-up to stay reachable from the app: the
 * app's pages send `Cross-Origin-Opener-Policy: same-origin-allow-popups`
 * (server/local/security-headers.ts); with `same-origin`, the opener loses the
 * pop-up as soon as it shows the provider's page and `closed` reads true
 * while it is still open.
 */
import { BrowserAuthError, BrowserAuthErrorCodes, PublicClientApplication } from '@azure/msal-browser';

/** How often the pop-up is checked for being closed. */
const CLOSED_POLL_MS = 250;
/**
 * After the pop-up closes, how long its answer may still be on its way: the
 * bridge page posts the answer and then closes itself.
 */
const ANSWER_GRACE_MS = 1500;

/** MSAL's `PublicClientApplication` that rejects with `user_cancelled` as soon as its sign-in pop-up is closed without an answer. */
export class PopupWatchingClientApplication extends PublicClientApplication {
  /**
   * Resolves to the pop-up's answer (MSAL's bridge wait); rejects with a
   * `BrowserAuthError` `user_cancelled` when the pop-up was closed and no
   * answer came within a short grace, or with whatever MSAL's wait rejects.
   */
  protected override waitForPopupResponse(...args: Parameters<PublicClientApplication['waitForPopupResponse']>): Promise<string> {
    const [request, popupWindow] = args;
    const answer = super.waitForPopupResponse(...args);
    let settled = false;
    const watch = new Promise<never>((_resolve, reject) => {
      const timer = setInterval(() => {
        if (settled) {
          clearInterval(timer);
          return;
        }
        if (!popupWindow.closed) return;
        clearInterval(timer);
        setTimeout(() => {
          if (!settled) reject(new BrowserAuthError(BrowserAuthErrorCodes.userCancelled, request.correlationId));
        }, ANSWER_GRACE_MS);
      }, CLOSED_POLL_MS);
    });
    // MSAL's own wait may still end later (its timeout): race() has handled it, nothing else listens.
    return Promise.race([answer, watch]).finally(() => {
      settled = true;
    });
  }
}
