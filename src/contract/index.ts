/**
 * The wire contract between the app and the token endpoint: paths, request
 * and response schemas, the error body and the client's error classes. It
 * imports nothing of ours (zod only), so `auth`, `keys`, `storage`,
 * `sharing` and `server/` may all depend on it.
 */
export * from './schemas.ts';
export * from './drive-key.ts';
export * from './routes.ts';
export * from './errors.ts';
export * from './app-config.ts';
export * from './retry-after.ts';
export * from './shares.ts';
export * from './account.ts';
export * from './people.ts';
export * from './requests.ts';
export * from './rotation.ts';
