/**
 * The session's states and words over a fake MSAL: start-up, signing in
 * again in a pop-up (same person, someone else, pop-up closed), and tokens
 * when the provider needs the person again.
 */
import type { AccountInfo, AuthenticationResult } from '@azure/msal-browser';
import { describe, expect, it } from 'vitest';
import { SessionExpiredError } from './api-client.ts';
import type { AuthSettings } from './auth-config.ts';
import { AuthSession, POPUP_CLOSED_MESSAGE, type MsalApp } from './session.svelte.ts';

const settings: AuthSettings = {
  clientId: 'sealdrop',
  authority: 'https://login.example.test/tenant',
  knownAuthorities: [],
  redirectUri: 'https://app.example.test/redirect.html',
  scopes: ['api://sealdrop/files'],
};

function account(id: string, email: string, name?: string): AccountInfo {
  return {
    homeAccountId: id,
    environment: 'login.example.test',
    tenantId: 'tenant',
    username: email,
    localAccountId: id,
    ...(name === undefined ? {} : { name }),
    idTokenClaims: { email },
    idToken: `id-token-of-${id}`,
  };
}

/** Only the fields the session reads; MSAL's result has many more. */
function result(who: AccountInfo, accessToken = 'token'): AuthenticationResult {
  return { account: who, accessToken } as AuthenticationResult;
}

class InteractionRequired extends Error {}

/** An MSAL error with its code, as MSAL throws them. */
function msalError(errorCode: string): Error {
  return Object.assign(new Error(`msal: ${errorCode}`), { errorCode });
}

/** MSAL's client application over plain fields the test sets; calls are recorded. */
class FakeMsal implements MsalApp {
  calls: string[] = [];
  cached: AccountInfo[] = [];
  active: AccountInfo | null = null;
  redirected: AuthenticationResult | null = null;
  popup: () => Promise<AuthenticationResult> = () => Promise.reject(new Error('no pop-up set up'));
  silent: () => Promise<AuthenticationResult> = () => Promise.reject(new Error('no token set up'));

  handleRedirectPromise = () => Promise.resolve(this.redirected);
  getActiveAccount = () => this.active;
  getAllAccounts = () => this.cached;
  setActiveAccount = (who: AccountInfo | null) => {
    this.active = who;
  };
  loginRedirect: MsalApp['loginRedirect'] = () => {
    this.calls.push('loginRedirect');
    return Promise.resolve();
  };
  logoutRedirect: MsalApp['logoutRedirect'] = (request) => {
    this.calls.push(`logoutRedirect ${request?.postLogoutRedirectUri ?? ''} ${request?.idTokenHint ?? ''}`);
    return Promise.resolve();
  };
  acquireTokenPopup: MsalApp['acquireTokenPopup'] = (request) => {
    this.calls.push(`popup ${request.loginHint ?? ''}`);
    return this.popup();
  };
  acquireTokenSilent: MsalApp['acquireTokenSilent'] = (request) => {
    this.calls.push(`silent ${request.account?.username ?? ''} ${String(request.forceRefresh)}`);
    return this.silent();
  };
}

const ada = account('ada-id', 'ada@example.test', 'Ada');
const bob = account('bob-id', 'bob@example.test');

async function started(msal: FakeMsal): Promise<AuthSession> {
  const session = new AuthSession(settings, () => Promise.resolve({ app: msal, needsInteraction: (e) => e instanceof InteractionRequired }));
  await session.start();
  return session;
}

describe('AuthSession', () => {
  it('starts signed out without a cached account, and signed in with one', async () => {
    const msal = new FakeMsal();
    const out = await started(msal);
    expect(out).toMatchObject({ state: 'signedOut', account: null, error: null });

    msal.cached = [ada];
    const signedIn = await started(msal);
    expect(signedIn).toMatchObject({ state: 'signedIn', account: { name: 'Ada', email: 'ada@example.test' } });
    expect(msal.active).toBe(ada);
  });

  it('stays signed out with plain words when MSAL cannot start, and tries again later', async () => {
    let attempts = 0;
    const msal = new FakeMsal();
    const session = new AuthSession(settings, () => {
      attempts++;
      return attempts === 1 ? Promise.reject(new TypeError('Failed to fetch')) : Promise.resolve({ app: msal, needsInteraction: () => false });
    });
    await session.start();
    expect(session).toMatchObject({ state: 'signedOut', error: 'The sign-in service cannot be reached. Check your connection and try again.' });
    await session.signIn();
    expect(msal.calls).toEqual(['loginRedirect']);
    expect(session.state).toBe('signingIn');
  });

  it('signs the same person in again in a pop-up and tells the listeners', async () => {
    const msal = new FakeMsal();
    msal.cached = [ada];
    const session = await started(msal);
    let told = 0;
    session.onSignedInAgain(() => told++);
    msal.popup = () => Promise.resolve(result(ada));

    expect(await session.signInAgain()).toBe(true);
    expect(msal.calls).toEqual(['popup ada@example.test']);
    expect(session).toMatchObject({ reauth: 'idle', reauthProblem: null, state: 'signedIn' });
    expect(told).toBe(1);
  });

  it('refuses another account in the pop-up: the page’s uploads belong to the first', async () => {
    const msal = new FakeMsal();
    msal.cached = [ada];
    const session = await started(msal);
    let told = 0;
    session.onSignedInAgain(() => told++);
    msal.popup = () => Promise.resolve(result(bob));

    expect(await session.signInAgain()).toBe(false);
    expect(session.reauth).toBe('failed');
    expect(session.reauthProblem).toBe('That was a different account (bob@example.test). Sign in as ada@example.test to continue these uploads.');
    expect(session.account?.email).toBe('ada@example.test');
    expect(told).toBe(0);
  });

  it('says plainly when the pop-up was closed or blocked', async () => {
    const msal = new FakeMsal();
    msal.cached = [ada];
    const session = await started(msal);
    msal.popup = () => Promise.reject(msalError('user_cancelled'));
    expect(await session.signInAgain()).toBe(false);
    expect(session.reauthProblem).toBe(POPUP_CLOSED_MESSAGE);

    msal.popup = () => Promise.reject(msalError('server_error'));
    await session.signInAgain();
    expect(session.reauthProblem).toBe('Sign-in did not work. Try again.');
  });

  it('hands out tokens, and says the session expired when the provider needs the person', async () => {
    const msal = new FakeMsal();
    msal.cached = [ada];
    const session = await started(msal);
    msal.silent = () => Promise.resolve(result(ada, 'fresh'));
    expect(await session.getAccessToken({ forceRefresh: true })).toBe('fresh');
    expect(msal.calls).toEqual(['silent ada@example.test true']);

    msal.silent = () => Promise.reject(new InteractionRequired('login_required'));
    await expect(session.getAccessToken()).rejects.toThrow(SessionExpiredError);
    // Nothing else happens: no redirect drops the page and its uploads.
    expect(msal.calls).toHaveLength(2);

    const other = new TypeError('Failed to fetch');
    msal.silent = () => Promise.reject(other);
    await expect(session.getAccessToken()).rejects.toBe(other);
  });

  it('has no token for nobody', async () => {
    const session = await started(new FakeMsal());
    await expect(session.getAccessToken()).rejects.toThrow(SessionExpiredError);
  });

  it('signs out at the provider with the id token as a hint, back to the bridge page', async () => {
    const msal = new FakeMsal();
    msal.cached = [ada];
    const session = await started(msal);
    await session.signOut();
    expect(msal.calls).toEqual([`logoutRedirect ${settings.redirectUri} id-token-of-ada-id`]);
  });
});
