/**
 * What Sealdrop needs from the browser, checked once before anything starts,
 * so a person with an old browser (or a page opened over plain http from
 * another machine, where WebCrypto is switched off) gets one clear answer
 * instead of a failure halfway through an upload.
 */

/** The parts of the global scope the check looks at (the real `globalThis` in the app). */
export interface BrowserScope {
  isSecureContext?: boolean;
  crypto?: { subtle?: unknown; getRandomValues?: unknown };
  indexedDB?: unknown;
  ReadableStream?: unknown;
  TransformStream?: unknown;
  Blob?: unknown;
  fetch?: unknown;
}

/**
 * Returns the plain-words names of the features `scope` lacks; empty when
 * Sealdrop can run.
 */
export function missingFeatures(scope: BrowserScope = globalThis as BrowserScope): string[] {
  const missing: string[] = [];
  if (scope.isSecureContext === false) missing.push('a secure connection (https:// or localhost)');
  if (typeof scope.crypto?.getRandomValues !== 'function' || typeof scope.crypto.subtle !== 'object' || scope.crypto.subtle === null) {
    missing.push('Web Cryptography');
  }
  if (typeof scope.indexedDB !== 'object' || scope.indexedDB === null) missing.push('IndexedDB storage (a private window may switch it off)');
  if (typeof scope.ReadableStream !== 'function' || typeof scope.TransformStream !== 'function') missing.push('streams');
  if (typeof scope.Blob !== 'function' || typeof scope.fetch !== 'function') missing.push('file and network access (Blob, fetch)');
  return missing;
}
