import { describe, expect, it } from 'vitest';
import type { ZodType } from 'zod';
import type { UnlockedIdentity } from '../../keys/account-keys.ts';
import type { GrantApi } from '../../storage/grants.ts';
import { lazyLinkShareServices, lazyPersonShareServices } from './lazy-share-services.ts';

/** An API client that records every call and refuses it with a plain error naming it. */
function refusingApi(calls: string[]): GrantApi {
  return {
    get<T>(path: string, schema: ZodType<T>): Promise<T> {
      void schema;
      calls.push(`GET ${path}`);
      return Promise.reject(new Error(`refused: GET ${path}`));
    },
    post<T>(path: string, body: unknown, schema: ZodType<T>): Promise<T> {
      void body;
      void schema;
      calls.push(`POST ${path}`);
      return Promise.reject(new Error(`refused: POST ${path}`));
    },
  };
}

// Only userId is read before a call reaches the API or the contact store.
const identity = { userId: 'd'.repeat(32) } as unknown as UnlockedIdentity;

describe('lazyPersonShareServices', () => {
  it('makes no API call until a method is called, then passes the call and its error through', async () => {
    const calls: string[] = [];
    const services = lazyPersonShareServices(refusingApi(calls), identity, 'https://sealdrop.test');
    expect(calls).toEqual([]);
    const fileId = 'e'.repeat(32);
    await expect(services.list(fileId)).rejects.toThrow(/^refused: GET \/.*e{32}/);
    expect(calls).toHaveLength(1);
  });

  it('answers the contact list through the loaded store (empty for a new account)', async () => {
    const services = lazyPersonShareServices(refusingApi([]), { userId: 'f'.repeat(32) } as unknown as UnlockedIdentity, 'https://sealdrop.test');
    expect(await services.contacts.list()).toEqual([]);
    expect(await services.contacts.get('a'.repeat(32))).toBeNull();
  });

  it('rejects with the store\'s RangeError for an account id that is not 32 hex characters', async () => {
    const services = lazyPersonShareServices(refusingApi([]), { userId: 'not-hex' } as unknown as UnlockedIdentity, 'https://sealdrop.test');
    await expect(services.contacts.list()).rejects.toThrow(new RangeError('An account id is 32 lowercase hex characters.'));
  });
});

describe('lazyLinkShareServices', () => {
  it('makes no API call until a method is called, then passes the call and its error through', async () => {
    const calls: string[] = [];
    const services = lazyLinkShareServices(refusingApi(calls), identity, 'https://sealdrop.test');
    expect(calls).toEqual([]);
    await expect(services.list('e'.repeat(32))).rejects.toThrow(/^refused: GET \/.*e{32}/);
    expect(calls).toHaveLength(1);
  });
});
