/**
 * The app's runtime settings file, `/config.json`: written by the local
 * stack and by the deployment tooling (tools/entra-app-config.ts), read by
 * the app before anything signs in (src/auth/auth-config.ts).
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
