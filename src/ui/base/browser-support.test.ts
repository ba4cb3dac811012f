import { describe, expect, it } from 'vitest';
import { missingFeatures, type BrowserScope } from './browser-support.ts';

const complete: BrowserScope = {
  isSecureContext: true,
  crypto: { subtle: {}, getRandomValues: () => undefined },
  indexedDB: {},
  ReadableStream: function ReadableStream() {},
  TransformStream: function TransformStream() {},
  Blob: function Blob() {},
  fetch: () => undefined,
};

describe('browser support', () => {
  it('finds nothing missing in a complete browser', () => {
    expect(missingFeatures(complete)).toEqual([]);
  });

  it('names each missing feature in plain words', () => {
    expect(missingFeatures({ ...complete, isSecureContext: false, crypto: { getRandomValues: () => undefined } })).toEqual([
      'a secure connection (https:// or localhost)',
      'Web Cryptography',
    ]);
    expect(missingFeatures({ ...complete, indexedDB: undefined })).toEqual(['IndexedDB storage (a private window may switch it off)']);
    expect(missingFeatures({ ...complete, TransformStream: undefined })).toEqual(['streams']);
    expect(missingFeatures({ ...complete, fetch: undefined })).toEqual(['file and network access (Blob, fetch)']);
  });
});
