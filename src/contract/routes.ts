/**
 * The route table of `/api/v1`: for each route its method, path (at most one
 * `:param`, always a hex id), whether it needs a sign-in, its query and body
 * schemas, and its success status and body schema. The server mounts exactly
 * these; the app builds its URLs with {@link pathOf}.
 */
import type { z } from 'zod';
import {
  changesQuery,
  completeResponse,
  fileChangesSchema,
  fileGrantsSchema,
  fileListSchema,
  healthResponse,
  listQuery,
  lookupBody,
  lookupResponse,
  meResponse,
  noBody,
  noQuery,
  publicKeyResponse,
  publishBody,
  publishedResponse,
  recoveryCreateBody,
  recoveryReplaceBody,
  recoveryResponse,
  recoveryWrittenResponse,
  rotateBody,
  uploadBody,
  HEX_ID,
} from './schemas.ts';
import { driveKeyCreateBody, driveKeyResponse, driveKeyStoredResponse } from './drive-key.ts';

/** Path prefix of every route. */
export const API_PREFIX = '/api/v1';

/** One route of the wire contract. */
export interface RouteContract<Q extends z.ZodType = z.ZodType, B extends z.ZodType = z.ZodType, R extends z.ZodType = z.ZodType> {
  readonly method: 'GET' | 'POST';
  /** Path under {@link API_PREFIX}. */
  readonly path: string;
  readonly auth: boolean;
  readonly query: Q;
  readonly body: B;
  /** Status of a successful answer. */
  readonly status: number;
  readonly response: R;
}

function define<Q extends z.ZodType, B extends z.ZodType, R extends z.ZodType>(r: RouteContract<Q, B, R>): RouteContract<Q, B, R> {
  return r;
}

/** Every route, by name. */
export const ROUTES = {
  health: define({ method: 'GET', path: '/health', auth: false, query: noQuery, body: noBody, status: 200, response: healthResponse }),
  me: define({ method: 'GET', path: '/me', auth: true, query: noQuery, body: noBody, status: 200, response: meResponse }),
  createUpload: define({ method: 'POST', path: '/uploads', auth: true, query: noQuery, body: uploadBody, status: 201, response: fileGrantsSchema }),
  renewUpload: define({ method: 'POST', path: '/uploads/:fileId/renew', auth: true, query: noQuery, body: noBody, status: 200, response: fileGrantsSchema }),
  listFiles: define({ method: 'GET', path: '/files', auth: true, query: listQuery, body: noBody, status: 200, response: fileListSchema }),
  fileChanges: define({ method: 'GET', path: '/files/changes', auth: true, query: changesQuery, body: noBody, status: 200, response: fileChangesSchema }),
  completeFile: define({ method: 'POST', path: '/files/:fileId/complete', auth: true, query: noQuery, body: noBody, status: 200, response: completeResponse }),
  readFile: define({ method: 'POST', path: '/files/:fileId/read', auth: true, query: noQuery, body: noBody, status: 200, response: fileGrantsSchema }),
  deleteFile: define({ method: 'POST', path: '/files/:fileId/delete', auth: true, query: noQuery, body: noBody, status: 200, response: fileGrantsSchema }),
  publishKey: define({ method: 'POST', path: '/keys/public', auth: true, query: noQuery, body: publishBody, status: 201, response: publishedResponse }),
  rotateKey: define({ method: 'POST', path: '/keys/public/rotate', auth: true, query: noQuery, body: rotateBody, status: 200, response: publishedResponse }),
  readPublicKey: define({ method: 'POST', path: '/keys/public/:userId/read', auth: true, query: noQuery, body: noBody, status: 200, response: publicKeyResponse }),
  createRecovery: define({ method: 'POST', path: '/keys/recovery', auth: true, query: noQuery, body: recoveryCreateBody, status: 201, response: recoveryWrittenResponse }),
  readRecovery: define({ method: 'POST', path: '/keys/recovery/read', auth: true, query: noQuery, body: noBody, status: 200, response: recoveryResponse }),
  replaceRecovery: define({ method: 'POST', path: '/keys/recovery/replace', auth: true, query: noQuery, body: recoveryReplaceBody, status: 200, response: recoveryWrittenResponse }),
  createDriveKey: define({ method: 'POST', path: '/keys/drive', auth: true, query: noQuery, body: driveKeyCreateBody, status: 201, response: driveKeyStoredResponse }),
  readDriveKey: define({ method: 'POST', path: '/keys/drive/read', auth: true, query: noQuery, body: noBody, status: 200, response: driveKeyResponse }),
  lookupUser: define({ method: 'POST', path: '/users/lookup', auth: true, query: noQuery, body: lookupBody, status: 200, response: lookupResponse }),
} as const;

/** A route's name in {@link ROUTES}. */
export type RouteName = keyof typeof ROUTES;

/**
 * The concrete path (under the prefix) of `route`, its `:param` replaced by
 * `param`, plus an optional query. Throws when the route takes a parameter
 * and `param` is not a hex id, or when it takes none and one was given.
 */
export function pathOf(route: RouteContract, param?: string, query?: Record<string, string>): string {
  const at = route.path.indexOf('/:');
  let path = route.path;
  if (at !== -1) {
    if (param === undefined || !HEX_ID.test(param)) throw new Error(`${route.path} needs a 32-hex-character id.`);
    path = route.path.replace(/:[A-Za-z]+/, param);
  } else if (param !== undefined) {
    throw new Error(`${route.path} takes no id.`);
  }
  const qs = query === undefined ? '' : new URLSearchParams(query).toString();
  return qs === '' ? path : `${path}?${qs}`;
}
