/**
 * Account deletion, without a server: the client loop calls until the
 * server says done and maps a stale sign-in to ReauthRequiredError; the
 * form refuses anything but the exact address, carries on after a cut,
 * signs in again when asked, forgets the device and signs out at the end.
 */
import { describe, expect, it } from 'vitest';
import { ACCOUNT_DELETE_CONFIRMATION, ApiError, OfflineError } from '../../contract/index.ts';
import { deleteAccountOnServer } from '../../keys/account-deletion.ts';
import type { KeyApi } from '../../keys/account-keys.ts';
import { ReauthRequiredError } from '../../keys/key-errors.ts';
import { AccountDeletionFlow, DELETE_WORDS, type AccountDeletionOps } from './account-deletion.svelte.ts';

const USER = 'a'.repeat(32);

/** An API that answers each delete call with the next of `answers` (a page, or an error to throw). */
function fakeApi(answers: Array<{ deleted: number; done: boolean } | Error>): KeyApi & { bodies: unknown[] } {
  const bodies: unknown[] = [];
  return {
    bodies,
    post<T>(path: string, body: unknown): Promise<T> {
      expect(path).toBe('/account/delete');
      bodies.push(body);
      const next = answers.shift();
      if (next === undefined) return Promise.reject(new Error('no more answers'));
      return next instanceof Error ? Promise.reject(next) : Promise.resolve(next as T);
    },
  };
}

describe('deleteAccountOnServer', () => {
  it('calls until done with the confirmation words, reporting the running total', async () => {
    const api = fakeApi([{ deleted: 1000, done: false }, { deleted: 1000, done: false }, { deleted: 12, done: true }]);
    const seen: number[] = [];
    expect(await deleteAccountOnServer(api, (n) => seen.push(n))).toBe(2012);
    expect(seen).toEqual([1000, 2000, 2012]);
    expect(api.bodies).toEqual(Array(3).fill({ confirm: ACCOUNT_DELETE_CONFIRMATION }));
  });

  it('turns the server’s reauth_required into ReauthRequiredError naming the deletion, and passes other failures on', async () => {
    await expect(deleteAccountOnServer(fakeApi([new ApiError(401, 'reauth_required', 'x')]))).rejects.toThrow(
      new ReauthRequiredError('delete your account'),
    );
    await expect(deleteAccountOnServer(fakeApi([new OfflineError()]))).rejects.toBeInstanceOf(OfflineError);
  });
});

function flowWith(opts: { email: string | null; server: Array<{ deleted: number; done: boolean } | Error>; confirmed?: boolean; forgetFails?: boolean }) {
  const calls: string[] = [];
  const ops: AccountDeletionOps = {
    deleteOnServer: (api, onProgress) => deleteAccountOnServer(api, onProgress),
    forgetDevice: (userId) => {
      calls.push(`forget ${userId}`);
      return opts.forgetFails === true ? Promise.reject(new Error('blocked')) : Promise.resolve();
    },
  };
  const flow = new AccountDeletionFlow(
    {
      api: fakeApi(opts.server),
      userId: USER,
      email: opts.email,
      confirmIdentity: () => {
        calls.push('sign in again');
        return Promise.resolve(opts.confirmed ?? true);
      },
      signOut: () => {
        calls.push('sign out');
        return Promise.resolve();
      },
    },
    ops,
  );
  return { flow, calls };
}

describe('AccountDeletionFlow', () => {
  it('asks for the exact address (case and outer spaces aside) and deletes nothing otherwise', async () => {
    const { flow, calls } = flowWith({ email: 'Ann@Example.test', server: [] });
    expect(await flow.submit()).toBe(false);
    expect(flow.error).toBe('Type Ann@Example.test to confirm.');
    flow.typed = 'bob@example.test';
    expect(await flow.submit()).toBe(false);
    expect(flow.error).toBe('That is not Ann@Example.test. Type it exactly to confirm.');
    expect(calls).toEqual([]);
    flow.typed = '  ann@example.TEST ';
    expect(flow.confirmed).toBe(true);
  });

  it('asks for the words when the account has no address, then deletes, forgets this device and signs out', async () => {
    const { flow, calls } = flowWith({ email: null, server: [{ deleted: 5, done: false }, { deleted: 3, done: true }] });
    expect(flow.expected).toBe(DELETE_WORDS);
    flow.typed = DELETE_WORDS;
    expect(await flow.submit()).toBe(true);
    expect([flow.phase, flow.removed, flow.error]).toEqual(['done', 8, null]);
    expect(calls).toEqual([`forget ${USER}`, 'sign out']);
  });

  it('after a cut says so, offers to carry on without retyping, and finishes', async () => {
    const { flow, calls } = flowWith({ email: 'ann@example.test', server: [{ deleted: 1000, done: false }, new OfflineError(), { deleted: 7, done: true }] });
    flow.typed = 'ann@example.test';
    expect(await flow.submit()).toBe(false);
    expect(flow.interrupted).toBe(true);
    expect(flow.phase).toBe('idle');
    expect(flow.error).toMatch(/^Deleting stopped before the end \(1000 items removed so far\)\./);
    flow.typed = '';
    expect(await flow.submit()).toBe(true);
    expect(flow.removed).toBe(1007);
    expect(calls).toEqual([`forget ${USER}`, 'sign out']);
  });

  it('signs in again when the server asks, then deletes; declining deletes nothing', async () => {
    const asked = flowWith({ email: 'ann@example.test', server: [new ApiError(401, 'reauth_required', 'x'), { deleted: 2, done: true }] });
    asked.flow.typed = 'ann@example.test';
    expect(await asked.flow.submit()).toBe(false);
    expect(asked.flow.needsSignIn).toBe(true);
    expect(asked.flow.error).toBe('For your safety, sign in again to confirm it is you, then delete your account once more.');
    expect(await asked.flow.signInAndRetry()).toBe(true);
    expect(asked.calls).toEqual(['sign in again', `forget ${USER}`, 'sign out']);

    const declined = flowWith({ email: 'ann@example.test', server: [new ApiError(401, 'reauth_required', 'x')], confirmed: false });
    declined.flow.typed = 'ann@example.test';
    await declined.flow.submit();
    expect(await declined.flow.signInAndRetry()).toBe(false);
    expect(declined.flow.error).toBe('You did not sign in again, so your account was not deleted.');
    expect(declined.calls).toEqual(['sign in again']);
  });

  it('says so when this browser will not forget the account, and still signs out', async () => {
    const { flow, calls } = flowWith({ email: 'ann@example.test', server: [{ deleted: 2, done: true }], forgetFails: true });
    flow.typed = 'ann@example.test';
    expect(await flow.submit()).toBe(true);
    expect(flow.error).toMatch(/^Your account is deleted, but this browser would not clear its own copy/);
    expect(calls).toEqual([`forget ${USER}`, 'sign out']);
  });
});
