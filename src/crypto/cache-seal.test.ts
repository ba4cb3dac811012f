import { describe, expect, it } from 'vitest';
import { newCacheKey, openCacheRecord, sealCacheRecord } from './cache-seal.ts';
import { MalformedError, TamperedError, UnsupportedVersionError } from './errors.ts';

const NAME = { userId: 'a'.repeat(32), record: 'b'.repeat(32) };
const PLAIN = new TextEncoder().encode('{"name":"holiday.jpg"}');

describe('device cache records', () => {
  it('round-trip under the same key and name', async () => {
    const key = await newCacheKey();
    expect(await openCacheRecord(key, NAME, await sealCacheRecord(key, NAME, PLAIN))).toEqual(PLAIN);
  });

  it('use a key that cannot be exported', async () => {
    const key = await newCacheKey();
    expect(key.extractable).toBe(false);
    await expect(crypto.subtle.exportKey('raw', key)).rejects.toThrow();
  });

  it('take a fresh nonce for every record (same input, different bytes)', async () => {
    const key = await newCacheKey();
    const a = await sealCacheRecord(key, NAME, PLAIN);
    const b = await sealCacheRecord(key, NAME, PLAIN);
    expect(a.slice(5, 17)).not.toEqual(b.slice(5, 17));
    expect(a).not.toEqual(b);
  });

  it('refuse a record moved to another record name or another user', async () => {
    const key = await newCacheKey();
    const sealed = await sealCacheRecord(key, NAME, PLAIN);
    await expect(openCacheRecord(key, { ...NAME, record: 'c'.repeat(32) }, sealed)).rejects.toBeInstanceOf(TamperedError);
    await expect(openCacheRecord(key, { ...NAME, userId: 'd'.repeat(32) }, sealed)).rejects.toBeInstanceOf(TamperedError);
    // Length-prefixed AAD: shifting characters between the two parts is another name.
    const shifted = { userId: NAME.userId + 'b', record: NAME.record.slice(1) };
    await expect(openCacheRecord(key, shifted, sealed)).rejects.toBeInstanceOf(TamperedError);
  });

  it('refuse a flipped bit, a truncation, another key, and foreign bytes', async () => {
    const key = await newCacheKey();
    const sealed = await sealCacheRecord(key, NAME, PLAIN);
    for (const at of [5, 17, sealed.length - 1]) {
      const flipped = sealed.slice();
      flipped[at] = (flipped[at] ?? 0) ^ 1;
      await expect(openCacheRecord(key, NAME, flipped)).rejects.toBeInstanceOf(TamperedError);
    }
    await expect(openCacheRecord(key, NAME, sealed.slice(0, -1))).rejects.toBeInstanceOf(TamperedError);
    await expect(openCacheRecord(await newCacheKey(), NAME, sealed)).rejects.toBeInstanceOf(TamperedError);
    await expect(openCacheRecord(key, NAME, PLAIN)).rejects.toBeInstanceOf(MalformedError);
    const version = sealed.slice();
    version[4] = 2;
    await expect(openCacheRecord(key, NAME, version)).rejects.toBeInstanceOf(UnsupportedVersionError);
  });
});
