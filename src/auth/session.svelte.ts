/**
 * The signed-in session: MSAL (`@azure/msal-browser`) against Entra ID, or
 * locally against the project's own OpenID Connect provider, with the same
 * code path (PLATFORM-NOTES: "MSAL 5.x against a local oidc-provider 9.x").
 *
 * MSAL is loaded on demand (dynamic import), so it is not in the app's
 * first-load bundle. MSAL's cache is in `localStorage`: it holds ID, access
 * and refresh tokens (never file keys or plaintext), and keeps the session
 * across reloads and tabs.
 */
import type { AccountInfo, IPublicClientApplication } from '@azure/msal-browser';
import type { AuthSettings } from './auth-config.ts';
import { SessionExpiredError } from './api-client.ts';

/** Where the session is: checking at start-up, signed out, on its way to sign in, or signed in. */
export type AuthState = 'starting' | 'signedOut' | 'signingIn' | 'signedIn';

/**
 * Signing in again after the session expired, while the page (and its
 * uploads) stays: `idle` (nothing asked yet, or it worked), `waiting` (the
 * pop-up is open), `failed` (closed, blocked or refused: see `reauthProblem`),
 * `redirecting` (the full-page fallback is on its way).
 */
export type ReauthState = 'idle' | 'waiting' | 'failed' | 'redirecting';

/** What the app says when the sign-in pop-up was closed or never opened. */
export const POPUP_CLOSED_MESSAGE =
  'The sign-in window was closed or blocked. Allow pop-ups for this site, or sign in with a full page — your uploads will be offered again afterwards.';

/** MSAL error codes that mean the pop-up was closed, blocked, or left without an answer. */
const POPUP_CLOSED_CODES = new Set(['user_cancelled', 'popup_window_error', 'empty_window_error', 'timed_out']);
/** How long MSAL waits for the pop-up's answer; a closed pop-up is noticed sooner (popup-client.ts). */
const POPUP_TIMEOUT_MS = 10 * 60_000;

/** Who is signed in, as the identity provider names them. */
export interface SignedInAccount {
  name: string;
  email: string;
}

/** What the session uses of MSAL's client application. */
export type MsalApp = Pick<
  IPublicClientApplication,
  'handleRedirectPromise' | 'getActiveAccount' | 'getAllAccounts' | 'setActiveAccount' | 'loginRedirect' | 'acquireTokenPopup' | 'acquireTokenSilent' | 'logoutRedirect'
>;

/** MSAL, ready to use: the client application and how to tell "the provider needs the person again". */
export interface MsalClient {
  app: MsalApp;
  needsInteraction(error: unknown): boolean;
}

/**
 * One browser's sign-in session. Components read `state`, `account` and
 * `error` and call the verbs; they never touch MSAL.
 */
export class AuthSession {
  /** Current state; starts at `'starting'` until {@link start} settles. */
  state = $state<AuthState>('starting');
  /** The signed-in person, or null. */
  account = $state<SignedInAccount | null>(null);
  /** The last sign-in problem in plain words, or null. */
  error = $state<string | null>(null);
  /** Where signing in again (after the session expired) stands. */
  reauth = $state<ReauthState>('idle');
  /** Why the last attempt to sign in again did not work, in plain words; null otherwise. */
  reauthProblem = $state<string | null>(null);
  /**
   * Interactive sign-ins (the provider's page, in a redirect or a pop-up)
   * completed in this page since start: a count the app's activity log
   * watches. A session restored from MSAL's cache does not count.
   */
  interactiveSignIns = $state(0);

  readonly #settings: AuthSettings;
  readonly #load: (settings: AuthSettings) => Promise<MsalClient>;
  #msal: Promise<MsalClient> | undefined;
  #msalAccount: AccountInfo | null = null;
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- listeners are bookkeeping; nothing renders or derives from them
  readonly #signedInAgainListeners = new Set<() => void>();

  /** `load` starts MSAL (tests pass a fake); by default it is loaded on demand and initialised for `settings`. */
  constructor(settings: AuthSettings, load: (settings: AuthSettings) => Promise<MsalClient> = loadMsal) {
    this.#settings = settings;
    this.#load = load;
  }

  /**
   * Loads MSAL, finishes a sign-in or sign-out that just came back through
   * the redirect bridge, and restores a cached account. Never throws: a
   * failure leaves the session signed out with `error` set.
   */
  async start(): Promise<void> {
    // A browser that has never kept anything for this site (no MSAL cache, no
    // sign-in on its way back) is signed out: the sign-in page then shows
    // without loading MSAL, which loads when "Sign in" is pressed.
    if (this.#load === loadMsal && !webStorageHasEntries()) {
      this.#setAccount(null);
      return;
    }
    try {
      const { app } = await this.#client();
      const result = await app.handleRedirectPromise();
      const account = result?.account ?? app.getActiveAccount() ?? app.getAllAccounts()[0] ?? null;
      this.#setAccount(account);
      if (result !== null && account !== null) this.interactiveSignIns++;
      if (account !== null) app.setActiveAccount(account);
    } catch (err) {
      this.#setAccount(null);
      this.error = describeAuthError(err);
    }
  }

  /** Sends the browser to the identity provider's sign-in page (the page navigates away). */
  async signIn(): Promise<void> {
    this.error = null;
    this.state = 'signingIn';
    try {
      const { app } = await this.#client();
      await app.loginRedirect({ scopes: this.#settings.scopes });
    } catch (err) {
      this.state = this.#msalAccount === null ? 'signedOut' : 'signedIn';
      this.error = describeAuthError(err);
    }
  }

  /**
   * Signs in again in a pop-up window (the redirect bridge answers through
   * MSAL's BroadcastChannel), so the page and its uploads stay. Call it
   * straight from the click: browsers block pop-ups without one. Resolves
   * true when the same person signed in again (the `SignedInAgain`
   * listeners have been told); false when the pop-up was closed or blocked,
   * someone else signed in, or sign-in failed, with `reauthProblem` saying
   * which. Never throws.
   */
  async signInAgain(): Promise<boolean> {
    if (this.reauth === 'waiting' || this.reauth === 'redirecting') return false;
    this.reauth = 'waiting';
    this.reauthProblem = null;
    try {
      const { app } = await this.#client();
      const previous = this.#msalAccount;
      const result = await app.acquireTokenPopup({
        scopes: this.#settings.scopes,
        ...(previous === null ? {} : { account: previous, loginHint: previous.username }),
      });
      const account = result.account;
      if (previous !== null && account.homeAccountId !== previous.homeAccountId) {
        // The page's keys, queue and journal belong to the person signed in before.
        this.reauth = 'failed';
        this.reauthProblem = `That was a different account (${account.username}). Sign in as ${previous.username} to continue these uploads.`;
        return false;
      }
      app.setActiveAccount(account);
      this.#setAccount(account);
      this.interactiveSignIns++;
      this.reauth = 'idle';
      for (const listener of this.#signedInAgainListeners) listener();
      return true;
    } catch (err) {
      this.reauth = 'failed';
      this.reauthProblem = describePopupError(err);
      return false;
    }
  }

  /**
   * Asks the person to prove it is them again, in a pop-up that must ask for
   * their credentials (`prompt=login`), for a step the server guards with a
   * recent sign-in (a passphrase change). Resolves true when they signed in
   * as the same account; false when they closed the pop-up, it was blocked,
   * or another account signed in (`reauthProblem` then says why).
   */
  async confirmIdentity(): Promise<boolean> {
    const previous = this.#msalAccount;
    this.reauthProblem = null;
    try {
      const { app } = await this.#client();
      const result = await app.acquireTokenPopup({
        scopes: this.#settings.scopes,
        prompt: 'login',
        ...(previous === null ? {} : { account: previous, loginHint: previous.username }),
      });
      if (previous !== null && result.account.homeAccountId !== previous.homeAccountId) {
        this.reauthProblem = `That was a different account (${result.account.username}). Sign in as ${previous.username}.`;
        return false;
      }
      app.setActiveAccount(result.account);
      this.#setAccount(result.account);
      this.interactiveSignIns++;
      return true;
    } catch (err) {
      this.reauthProblem = describePopupError(err);
      return false;
    }
  }

  /**
   * The fallback of {@link signInAgain}: sends the browser to the sign-in
   * page (the page navigates away; uploads that had started come back as
   * resumable, queued ones are lost). Unlike {@link signIn} it leaves
   * `state` alone, so nothing on the page is torn down before it leaves.
   */
  async signInAgainWithFullPage(): Promise<void> {
    this.reauth = 'redirecting';
    this.reauthProblem = null;
    try {
      const { app } = await this.#client();
      await app.loginRedirect({ scopes: this.#settings.scopes });
    } catch (err) {
      this.reauth = 'failed';
      this.reauthProblem = describeAuthError(err);
    }
  }

  /**
   * Registers a `SignedInAgain` listener, called after each successful
   * {@link signInAgain}. Returns the function that unregisters it.
   */
  onSignedInAgain(listener: () => void): () => void {
    this.#signedInAgainListeners.add(listener);
    return () => this.#signedInAgainListeners.delete(listener);
  }

  /** Signs out at the identity provider too (the page navigates away), clearing MSAL's cache. */
  async signOut(): Promise<void> {
    this.error = null;
    try {
      const { app } = await this.#client();
      const account = this.#msalAccount;
      await app.logoutRedirect({
        ...(account === null ? {} : { account }),
        // Without the hint the provider stops on its own page (PLATFORM-NOTES).
        ...(account?.idToken === undefined ? {} : { idTokenHint: account.idToken }),
        postLogoutRedirectUri: this.#postLogoutUri(),
      });
    } catch (err) {
      this.error = describeAuthError(err);
    }
  }

  /**
   * Resolves to an access token for the API, from MSAL's cache or renewed
   * silently (`forceRefresh` skips the cache). When the provider needs the
   * person again, or there is no account, it throws
   * {@link SessionExpiredError} and does nothing else: a redirect now would
   * drop the page (and its uploads) without warning, so the UI asks first
   * and a click on "Sign in" starts a pop-up ({@link signInAgain}).
   */
  async getAccessToken(options?: { forceRefresh?: boolean }): Promise<string> {
    const { app, needsInteraction } = await this.#client();
    const account = this.#msalAccount;
    if (account === null) throw new SessionExpiredError();
    try {
      const result = await app.acquireTokenSilent({
        scopes: this.#settings.scopes,
        account,
        forceRefresh: options?.forceRefresh === true,
      });
      return result.accessToken;
    } catch (err) {
      if (!needsInteraction(err)) throw err;
      throw new SessionExpiredError();
    }
  }

  #postLogoutUri(): string {
    return postLogoutUri(this.#settings);
  }

  #setAccount(account: AccountInfo | null): void {
    this.#msalAccount = account;
    if (account === null) {
      this.account = null;
      this.state = 'signedOut';
      return;
    }
    const claimedEmail = account.idTokenClaims?.['email'];
    const email = typeof claimedEmail === 'string' && claimedEmail !== '' ? claimedEmail : account.username;
    this.account = { name: account.name ?? email, email };
    this.state = 'signedIn';
  }

  #client(): Promise<MsalClient> {
    // A failed start is tried again on the next call.
    this.#msal ??= this.#load(this.#settings).catch((error: unknown) => {
      this.#msal = undefined;
      throw error;
    });
    return this.#msal;
  }
}

function postLogoutUri(settings: AuthSettings): string {
  return settings.postLogoutRedirectUri ?? settings.redirectUri;
}

/** Loads MSAL (a dynamic import, so it stays out of the first load) and initialises its client for `s`. */
/**
 * True unless both localStorage and sessionStorage exist and are empty.
 * MSAL keeps its accounts in localStorage and a sign-in's state in web
 * storage before it leaves the page, so empty storage means no session and
 * no sign-in coming back; anything at all (or no storage API) means "ask MSAL".
 */
function webStorageHasEntries(): boolean {
  try {
    return localStorage.length > 0 || sessionStorage.length > 0;
  } catch {
    return true;
  }
}

async function loadMsal(s: AuthSettings): Promise<MsalClient> {
  const [module, { PopupWatchingClientApplication }] = await Promise.all([import('@azure/msal-browser'), import('./popup-client.ts')]);
  const app = new PopupWatchingClientApplication({
    auth: {
      clientId: s.clientId,
      authority: s.authority,
      knownAuthorities: s.knownAuthorities,
      ...(s.authorityMetadata === undefined ? {} : { authorityMetadata: s.authorityMetadata }),
      redirectUri: s.redirectUri,
      postLogoutRedirectUri: postLogoutUri(s),
      // No offline_access: MSAL would re-send it on refresh and the local
      // provider answers invalid_scope (PLATFORM-NOTES).
      OIDCOptions: { defaultScopes: ['openid', 'profile'] },
    },
    cache: { cacheLocation: module.BrowserCacheLocation.LocalStorage },
    system: {
      protocolMode: module.ProtocolMode.OIDC,
      // A person may need minutes in the pop-up (MFA); closing it is noticed at once (popup-client.ts).
      popupBridgeTimeout: POPUP_TIMEOUT_MS,
      loggerOptions: { logLevel: module.LogLevel.Error, piiLoggingEnabled: false },
    },
  });
  await app.initialize();
  return { app, needsInteraction: (error) => error instanceof module.InteractionRequiredAuthError };
}

/** Turns a failed pop-up sign-in into a sentence; never includes tokens. */
function describePopupError(err: unknown): string {
  if (err instanceof Error && 'errorCode' in err && typeof err.errorCode === 'string' && POPUP_CLOSED_CODES.has(err.errorCode)) {
    return POPUP_CLOSED_MESSAGE;
  }
  return describeAuthError(err);
}

/** Turns an MSAL failure into a sentence; never includes tokens. */
function describeAuthError(err: unknown): string {
  if (err instanceof Error && 'errorCode' in err && err.errorCode === 'access_denied') {
    return 'Sign-in was cancelled.';
  }
  if (err instanceof TypeError) return 'The sign-in service cannot be reached. Check your connection and try again.';
  return 'Sign-in did not work. Try again.';
}
