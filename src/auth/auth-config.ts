/**
 * The app's runtime settings, fetched from `/config.json` on its own origin
 * before anything signs in. Keeping them out of the build lets one build run
 * against the local stack and against Entra ID (whose settings the host
 * serves from its environment variables).
 */
import { z } from 'zod';

const AuthSettingsSchema = z.object({
  /** The app's client (application) id at the identity provider. */
  clientId: z.string().min(1),
  /** MSAL's authority string; MSAL requires https: even where it never connects (PLATFORM-NOTES). */
  authority: z.url({ protocol: /^https$/ }),
  knownAuthorities: z.array(z.string().min(1)).default([]),
  /** The provider's discovery document as a JSON string, so MSAL never fetches it. */
  authorityMetadata: z.string().min(2).optional(),
  /** The MSAL redirect bridge page (`/redirect.html`). */
  redirectUri: z.url({ protocol: /^https?$/ }),
  /** Where sign-out returns; the bridge page when absent. */
  postLogoutRedirectUri: z.url({ protocol: /^https?$/ }).optional(),
  /** Scopes of the API's access token, e.g. `api://sealdrop/files`. */
  scopes: z.array(z.string().min(1)).min(1),
});

/** The schema of `/config.json`. Unknown fields are dropped. */
export const AppConfigSchema = z.object({
  auth: AuthSettingsSchema,
  /** Base path or URL of the token endpoint, e.g. `/api/v1`. */
  apiBase: z.string().min(1),
});

/** The validated runtime settings. */
export type AppConfig = z.infer<typeof AppConfigSchema>;
/** The identity provider settings inside {@link AppConfig}. */
export type AuthSettings = AppConfig['auth'];

/** `/config.json` could not be fetched or is not valid. */
export class AppConfigError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'AppConfigError';
  }
}

/**
 * Fetches and validates the runtime settings from `url` (default
 * `/config.json`). Throws {@link AppConfigError} in plain words when the
 * server cannot be reached or answers something that is not a valid
 * settings file.
 */
export async function loadAppConfig(url = '/config.json', fetchFn: typeof fetch = fetch): Promise<AppConfig> {
  let response: Response;
  try {
    response = await fetchFn(url, { cache: 'no-cache', credentials: 'same-origin' });
  } catch (cause) {
    throw new AppConfigError('Sealdrop could not reach its server to load its settings.', { cause });
  }
  if (!response.ok) {
    throw new AppConfigError(`Sealdrop could not load its settings (HTTP ${response.status}).`);
  }
  let json: unknown;
  try {
    json = await response.json();
  } catch (cause) {
    throw new AppConfigError('Sealdrop’s settings file is not valid JSON.', { cause });
  }
  const parsed = AppConfigSchema.safeParse(json);
  if (!parsed.success) {
    throw new AppConfigError('Sealdrop’s settings file is not valid.', { cause: parsed.error });
  }
  return parsed.data;
}
