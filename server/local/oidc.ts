/**
 * The local OpenID Connect provider: a real `oidc-provider` that stands in
 * for Microsoft Entra ID, so the browser runs the same MSAL sign-in code
 * offline. Mounted under `/oidc` on the app's own plain-http localhost
 * origin (PLATFORM-NOTES: "MSAL 5.x against a local oidc-provider 9.x").
 *
 * It issues RS256 JWT access tokens for our API audience to one public
 * client (PKCE required), and signs anyone in by name and e-mail on its own
 * interaction page, in Sealdrop's look, with no request to any other host.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import Provider, { errors } from 'oidc-provider';
import type { Account, Configuration, Grant, KoaContextWithOIDC } from 'oidc-provider';
import { z } from 'zod';
import { loadOrCreateOidcKeys } from './oidc-keys.ts';
import { memoryAdapter } from './oidc-memory-adapter.ts';
import { applyHeaders, providerHeaders } from './security-headers.ts';
import {
  PROVIDER_CSS_PATH,
  PROVIDER_SIGN_OUT_SCRIPT,
  PROVIDER_SIGN_OUT_SCRIPT_PATH,
  errorPage,
  signInPage,
  signOutPage,
  signedOutPage,
} from './views/provider-pages.ts';

/** Where the provider is mounted on the app's origin. */
export const OIDC_MOUNT = '/oidc';
/** The app's client id at the local provider. */
export const LOCAL_CLIENT_ID = 'sealdrop-web';

const ACCESS_TOKEN_TTL_S = 15 * 60;
const MAX_FORM_BYTES = 8 * 1024;
const INTERACTION_PATH = /^\/oidc\/interaction\/([A-Za-z0-9_-]{1,64})(\/login|\/abort)?$/;

/** What {@link createLocalOidc} needs. */
export interface LocalOidcOptions {
  /** The app's origin, e.g. `http://localhost:8080`; the issuer is `<origin>/oidc`. */
  origin: string;
  /** Where the signing and cookie keys are kept (made on first start). */
  keysFile: string;
  /** The API's audience (`aud` of access tokens), e.g. `api://sealdrop`. */
  apiAudience: string;
  /** The API's one scope, e.g. `api://sealdrop/files`. */
  apiScope: string;
  /** True when the origin is https (adds HSTS). */
  https?: boolean;
}

/** A running local provider. */
export interface LocalOidc {
  /** `<origin>/oidc`, the `iss` of every token. */
  issuer: string;
  clientId: string;
  /** The app's redirect (and post-logout) URI: its MSAL bridge page. */
  redirectUri: string;
  /** Handles any request whose path starts with `/oidc/` (or is `/oidc`). */
  handle(req: IncomingMessage, res: ServerResponse): void;
}

/** A person signed in on the local sign-in page. */
interface LocalAccount {
  name: string;
  email: string;
}

const SignInFormSchema = z.object({
  name: z
    .string()
    .trim()
    .min(1, 'Type a name.')
    .max(100, 'The name is too long (at most 100 characters).'),
  email: z.string().trim().toLowerCase().pipe(z.email('Type an e-mail address like ada@example.com.')),
});

/**
 * The account id (`sub`) for an e-mail: SHA-256 of the lowercased address,
 * hex. Stable, so the same e-mail is the same user in every session and on
 * every device.
 */
export function accountIdForEmail(email: string): string {
  return createHash('sha256').update(email.trim().toLowerCase(), 'utf8').digest('hex');
}

/**
 * Creates the provider (keys from `keysFile`, made there on first use) and
 * returns its request handler. Throws if the keys file is unreadable or
 * invalid.
 */
export async function createLocalOidc(opts: LocalOidcOptions): Promise<LocalOidc> {
  const issuer = `${opts.origin}${OIDC_MOUNT}`;
  const redirectUri = `${opts.origin}/redirect.html`;
  const appUrl = `${opts.origin}/`;
  const keys = await loadOrCreateOidcKeys(opts.keysFile);
  const css = await readFile(new URL('./views/provider.css', import.meta.url), 'utf8');
  const accounts = new Map<string, LocalAccount>();
  const headers = providerHeaders({ https: opts.https === true });
  const apiScopePrefix = `${opts.apiAudience}/`;

  const fillGrant = (grant: Grant): void => {
    grant.addOIDCScope('openid profile email');
    grant.addResourceScope(opts.apiAudience, opts.apiScope);
  };

  const requestsApi = (ctx: KoaContextWithOIDC): boolean => {
    const scope = ctx.oidc.params?.scope;
    return typeof scope === 'string' && scope.split(' ').some((s) => s.startsWith(apiScopePrefix));
  };

  const configuration: Configuration = {
    adapter: memoryAdapter(),
    clients: [
      {
        client_id: LOCAL_CLIENT_ID,
        client_name: 'Sealdrop',
        application_type: 'web',
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: [redirectUri],
        post_logout_redirect_uris: [redirectUri],
      },
    ],
    jwks: { keys: [keys.signingKey] },
    cookies: { keys: keys.cookieKeys, long: { signed: true }, short: { signed: true } },
    claims: {
      openid: ['sub'],
      // MSAL reads name and username from the ID token, and asks only for
      // openid + profile, so the e-mail rides with profile.
      profile: ['name', 'preferred_username', 'email', 'email_verified'],
      email: ['email', 'email_verified'],
    },
    // Without this the ID token carries only `sub` when an access token is
    // also issued, and MSAL's account would have no name.
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    clientBasedCORS: (_ctx, origin) => origin === opts.origin,
    ttl: {
      AccessToken: ACCESS_TOKEN_TTL_S,
      AuthorizationCode: 60,
      IdToken: 60 * 60,
      RefreshToken: 24 * 60 * 60,
      Interaction: 60 * 60,
      Session: 24 * 60 * 60,
      Grant: 24 * 60 * 60,
    },
    findAccount: (_ctx, sub) => {
      const account = accounts.get(sub);
      return Promise.resolve(account === undefined ? undefined : toOidcAccount(sub, account));
    },
    interactions: { url: (_ctx, interaction) => `${OIDC_MOUNT}/interaction/${interaction.uid}` },
    // MSAL never sends prompt=consent (so offline_access would be dropped)
    // and we leave offline_access out of its scopes: issue refresh tokens to
    // our client anyway. They still end with the session (sign-out).
    issueRefreshToken: (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    // Sealdrop is the provider's only (first-party) client: consent is
    // implied, so every grant covers the ID claims and the API scope.
    loadExistingGrant: async (ctx) => {
      const { client, session, provider } = ctx.oidc;
      const accountId = session?.accountId;
      if (client === undefined || accountId === undefined) return undefined;
      const existingId = ctx.oidc.result?.consent?.grantId ?? session?.grantIdFor(client.clientId);
      const existing = existingId === undefined ? undefined : await provider.Grant.find(existingId);
      const grant = existing ?? new provider.Grant({ clientId: client.clientId, accountId });
      fillGrant(grant);
      await grant.save();
      return grant;
    },
    // Entra's v2 access tokens carry the user's name and username too; the
    // API shows them on /me. The local provider vouches for its addresses
    // (email_verified), so the key directory accepts them, and passes the
    // sign-in time on (auth_time), which the API's passphrase change checks
    // is recent: a refreshed token keeps the time of the interactive sign-in.
    extraTokenClaims: (ctx, token) => {
      if (token.kind !== 'AccessToken' || token.accountId === undefined) return undefined;
      const account = accounts.get(token.accountId);
      if (account === undefined) return undefined;
      const authTime = ctx.oidc.entities.AuthorizationCode?.authTime ?? ctx.oidc.entities.RefreshToken?.authTime;
      return {
        name: account.name,
        email: account.email,
        email_verified: true,
        preferred_username: account.email,
        ...(typeof authTime === 'number' ? { auth_time: authTime } : {}),
      };
    },
    renderError: (ctx, out) => {
      ctx.type = 'html';
      ctx.body = errorPage({
        title: 'Sign-in problem',
        message: out.error_description ?? out.error,
        appUrl,
      });
    },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: (ctx, form) => {
          ctx.type = 'html';
          ctx.body = signOutPage(form, 'op.logoutForm');
        },
        postLogoutSuccessSource: (ctx) => {
          ctx.type = 'html';
          ctx.body = signedOutPage(appUrl);
        },
      },
      resourceIndicators: {
        enabled: true,
        // MSAL sends our API scope without a `resource` parameter: map the
        // scope's prefix to the API's audience.
        defaultResource: (ctx, _client, oneOf) => {
          if (oneOf !== undefined && oneOf.length > 0) return oneOf;
          return requestsApi(ctx) ? opts.apiAudience : undefined;
        },
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resourceIndicator) => {
          if (resourceIndicator !== opts.apiAudience) throw new errors.InvalidTarget();
          return {
            scope: opts.apiScope,
            audience: opts.apiAudience,
            accessTokenTTL: ACCESS_TOKEN_TTL_S,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
  };

  const provider = new Provider(issuer, configuration);
  const providerCallback = provider.callback();

  const interactions = new InteractionPages(provider, accounts, appUrl, fillGrant);

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    applyHeaders(res, headers);
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (pathname === PROVIDER_CSS_PATH) {
      res.writeHead(200, { 'Content-Type': 'text/css; charset=utf-8', 'Cache-Control': 'no-cache' });
      res.end(req.method === 'HEAD' ? undefined : css);
      return;
    }
    if (pathname === PROVIDER_SIGN_OUT_SCRIPT_PATH) {
      res.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8', 'Cache-Control': 'no-cache' });
      res.end(req.method === 'HEAD' ? undefined : PROVIDER_SIGN_OUT_SCRIPT);
      return;
    }
    const match = INTERACTION_PATH.exec(pathname);
    if (match?.[1] !== undefined) {
      interactions.handle(req, res, match[1], match[2]).catch(() => {
        sendHtml(res, 500, errorPage({ title: 'Sign-in problem', message: 'Something went wrong. Start again from Sealdrop.', appUrl }));
      });
      return;
    }
    // oidc-provider finds its mount path from originalUrl and builds its
    // URLs from the request (PLATFORM-NOTES).
    Object.assign(req, { originalUrl: req.url });
    req.url = (req.url ?? '/').slice(OIDC_MOUNT.length) || '/';
    providerCallback(req, res);
  };

  return { issuer, clientId: LOCAL_CLIENT_ID, redirectUri, handle };
}

function toOidcAccount(accountId: string, account: LocalAccount): Account {
  return {
    accountId,
    claims: () =>
      Promise.resolve({
        sub: accountId,
        name: account.name,
        email: account.email,
        // A development stand-in: the address is whatever was typed, and the
        // local provider vouches for it so the key directory can be tried out.
        email_verified: true,
        preferred_username: account.email,
      }),
  };
}

function sendHtml(res: ServerResponse, status: number, html: string): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(html);
}

/** The sign-in page, its form posts, and the consent fallback. */
class InteractionPages {
  readonly #provider: Provider;
  readonly #accounts: Map<string, LocalAccount>;
  readonly #appUrl: string;
  readonly #fillGrant: (grant: Grant) => void;

  constructor(provider: Provider, accounts: Map<string, LocalAccount>, appUrl: string, fillGrant: (grant: Grant) => void) {
    this.#provider = provider;
    this.#accounts = accounts;
    this.#appUrl = appUrl;
    this.#fillGrant = fillGrant;
  }

  async handle(req: IncomingMessage, res: ServerResponse, uid: string, action: string | undefined): Promise<void> {
    let details;
    try {
      details = await this.#provider.interactionDetails(req, res);
    } catch {
      sendHtml(
        res,
        400,
        errorPage({
          title: 'Sign-in expired',
          message: 'This sign-in page is no longer valid. Start again from Sealdrop.',
          appUrl: this.#appUrl,
        }),
      );
      return;
    }
    // The interaction cookie names the interaction this browser started;
    // a page for any other one is refused (login CSRF).
    if (details.uid !== uid) {
      sendHtml(res, 400, errorPage({ title: 'Sign-in problem', message: 'This sign-in page does not belong to this browser. Start again from Sealdrop.', appUrl: this.#appUrl }));
      return;
    }
    const base = `${OIDC_MOUNT}/interaction/${uid}`;

    if (action === undefined) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return this.#methodNotAllowed(res, 'GET, HEAD');
      if (details.prompt.name === 'consent') {
        // Only reached if a grant was not implied (see loadExistingGrant).
        const grant = new this.#provider.Grant({ clientId: LOCAL_CLIENT_ID, accountId: details.session?.accountId ?? '' });
        this.#fillGrant(grant);
        await grant.save();
        await this.#provider.interactionFinished(req, res, { consent: { grantId: grant.jti } }, { mergeWithLastSubmission: true });
        return;
      }
      sendHtml(res, 200, signInPage({ action: `${base}/login`, abortAction: `${base}/abort` }));
      return;
    }

    if (req.method !== 'POST') return this.#methodNotAllowed(res, 'POST');
    if (action === '/abort') {
      await this.#provider.interactionFinished(
        req,
        res,
        { error: 'access_denied', error_description: 'Sign-in was cancelled.' },
        { mergeWithLastSubmission: false },
      );
      return;
    }

    const form = await readForm(req);
    const parsed = SignInFormSchema.safeParse({ name: form?.get('name') ?? '', email: form?.get('email') ?? '' });
    if (!parsed.success) {
      const message = parsed.error.issues[0]?.message ?? 'Type a name and an e-mail address.';
      sendHtml(
        res,
        400,
        signInPage({
          action: `${base}/login`,
          abortAction: `${base}/abort`,
          error: message,
          name: form?.get('name') ?? '',
          email: form?.get('email') ?? '',
        }),
      );
      return;
    }
    const accountId = accountIdForEmail(parsed.data.email);
    this.#accounts.set(accountId, { name: parsed.data.name, email: parsed.data.email });
    await this.#provider.interactionFinished(req, res, { login: { accountId } }, { mergeWithLastSubmission: false });
  }

  #methodNotAllowed(res: ServerResponse, allow: string): void {
    res.writeHead(405, { Allow: allow, 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('Method not allowed.\n');
  }
}

/** Reads a small urlencoded form body; undefined if it is too big or of another type. */
async function readForm(req: IncomingMessage): Promise<URLSearchParams | undefined> {
  const type = req.headers['content-type'] ?? '';
  if (!type.startsWith('application/x-www-form-urlencoded')) return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    if (!(chunk instanceof Buffer)) return undefined;
    size += chunk.length;
    if (size > MAX_FORM_BYTES) return undefined;
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}
