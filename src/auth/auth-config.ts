/**
 * The app's runtime settings, fetched from `/config.json` on its own origin
 * before anything signs in. Keeping them out of the build lets one build run
 * against the local stack and against Entra ID (whose settings the host
 * serves from its environment variables).
 */
import type { z } from 'zod';
import { AppConfigSchema } from '../contract/index.ts';

// The schema is part of the wire contract: the server's Entra tooling writes the same file.
export { AppConfigSchema } from '../contract/index.ts';

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
