/** The `?received=` share id kept across a redirect sign-in (received-link.ts). */
import { describe, expect, it } from 'vitest';
import { RECEIVED_PARAM } from '../../sharing/person-share.ts';
import { keepReceivedShare, RECEIVED_KEY, takeReceivedShare, type KeptStorage } from './received-link.ts';

function fakeStorage(): KeptStorage & { items: Map<string, string> } {
  const items = new Map<string, string>();
  return { items, getItem: (k) => items.get(k) ?? null, setItem: (k, v) => void items.set(k, v), removeItem: (k) => void items.delete(k) };
}

const ID = 'ab'.repeat(16);

describe('the ?received= share id across a redirect sign-in', () => {
  it('reads the parameter the sharing code writes', () => {
    const storage = fakeStorage();
    keepReceivedShare(`?${RECEIVED_PARAM}=${ID}`, storage);
    expect(storage.items.get(RECEIVED_KEY)).toBe(ID);
  });

  it('is kept at start and taken once after the sign-in returned without it', () => {
    const storage = fakeStorage();
    keepReceivedShare(`?received=${ID}`, storage);
    expect(storage.items.get(RECEIVED_KEY)).toBe(ID);
    expect(takeReceivedShare('?state=x', storage)).toBe(ID);
    expect(takeReceivedShare('', storage)).toBeNull();
  });

  it('prefers the address over the kept id, and forgets the kept one', () => {
    const storage = fakeStorage();
    storage.setItem(RECEIVED_KEY, 'cd'.repeat(16));
    expect(takeReceivedShare(`?received=${ID}`, storage)).toBe(ID);
    expect(storage.items.size).toBe(0);
  });

  it('ignores malformed ids and works without storage', () => {
    const storage = fakeStorage();
    keepReceivedShare('?received=../../x', storage);
    expect(storage.items.size).toBe(0);
    expect(takeReceivedShare('?received=XYZ', storage)).toBeNull();
    expect(takeReceivedShare(`?received=${ID}`, null)).toBe(ID);
  });
});
