/**
 * Wires the app's sign-in pieces together once at start-up: runtime
 * settings, the MSAL session and the one API client.
 */
import type { z } from 'zod';
import { meResponse, pathOf, ROUTES } from '../contract/index.ts';
import { ApiClient } from './api-client.ts';
import { loadAppConfig, type AppConfig } from './auth-config.ts';
import { AuthSession } from './session.svelte.ts';

/** Everything a component needs to sign in and call the API. */
export interface AuthServices {
  config: AppConfig;
  session: AuthSession;
  api: ApiClient;
}

/**
 * Loads `/config.json`, creates the session and the API client, and starts
 * the session (finishing a sign-in that just came back). Throws
 * {@link import('./auth-config.ts').AppConfigError} when the settings cannot
 * be loaded; session problems end up in `session.error` instead.
 */
export async function setUpAuth(): Promise<AuthServices> {
  const config = await loadAppConfig();
  const session = new AuthSession(config.auth);
  const api = new ApiClient(config.apiBase, (options) => session.getAccessToken(options));
  // A sign-in in the pop-up lets held uploads and calls go on in the same page.
  session.onSignedInAgain(() => api.sessionRestored());
  await session.start();
  return { config, session, api };
}

/** The answer of `GET /api/v1/me` (the wire contract's `meResponse`). */
export const MeSchema = meResponse;

/** Who the token endpoint says the caller is. */
export type Me = z.infer<typeof MeSchema>;

/** Asks the token endpoint who the signed-in caller is. Throws the API client's errors. */
export function fetchMe(api: Pick<ApiClient, 'get'>): Promise<Me> {
  return api.get(pathOf(ROUTES.me), MeSchema);
}
