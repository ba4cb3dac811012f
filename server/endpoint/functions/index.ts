/**
 * The Azure Functions entry point of the token endpoint (Node programming
 * model v4): reads and validates the configuration once when the host
 * loads the app, so a bad setting fails the deployment's start instead of
 * a request, and registers the API as one HTTP function. The Functions
 * package is built from this file alone (`npm run package:functions`, see
 * tools/package-functions.ts): whatever it does not import is not deployed.
 */
import functions from '@azure/functions';
import { createApiFromConfig } from '../api/from-config.ts';
import { registerApi } from '../api/functions-adapter.ts';
import { ConfigError, loadConfig } from '../config.ts';

try {
  const config = loadConfig(process.env);
  registerApi(functions.app, createApiFromConfig(config), { maxBodyBytes: config.maxBodyBytes });
} catch (err) {
  // The message names the bad variables, never their values; the host logs it.
  throw err instanceof ConfigError ? err : new Error('The token endpoint could not start.', { cause: err });
}
