/**
 * The passphrase-change form's logic: refusals in words, success clears the
 * fields, a server asking for a fresh sign-in leads to "Sign in again", and
 * the change is tried once more after it.
 */
import { describe, expect, it } from 'vitest';
import type { KeyApi, UnlockedIdentity } from '../../keys/account-keys.ts';
import { ReauthRequiredError } from '../../keys/key-errors.ts';
import { WrongPassphraseError } from '../../crypto/index.ts';
import { PassphraseChangeFlow, type ChangePassphrase } from './passphrase-change.svelte.ts';
import { WRONG_PASSPHRASE_MESSAGE } from './key-setup.svelte.ts';

const STRONG = 'lantern oyster quartz meadow';
const api: KeyApi = { post: () => Promise.reject(new Error('not used')) };
const identity = { userId: 'a'.repeat(32) } as unknown as UnlockedIdentity;

function flowWith(outcomes: Array<() => Promise<void>>, confirmed = true) {
  const calls: string[] = [];
  const change: ChangePassphrase = (_api, _identity, current, next) => {
    calls.push(`${current} → ${next}`);
    const next1 = outcomes.shift();
    return next1 === undefined ? Promise.resolve() : next1();
  };
  const flow = new PassphraseChangeFlow(
    {
      api,
      identity,
      confirmIdentity: () => {
        calls.push('sign in again');
        return Promise.resolve(confirmed);
      },
    },
    change,
  );
  return { flow, calls };
}

function fill(flow: PassphraseChangeFlow, current: string, next: string, confirmation = next): void {
  flow.current = current;
  flow.next = next;
  flow.confirmation = confirmation;
}

describe('PassphraseChangeFlow', () => {
  it('says in words what is missing or wrong, and changes nothing', async () => {
    const { flow, calls } = flowWith([]);
    expect(await flow.submit()).toBe(false);
    expect(flow.error).toBe('Type your current recovery passphrase.');
    fill(flow, 'old phrase here', 'password');
    await flow.submit();
    expect(flow.error).toMatch(/^The new passphrase is too easy to guess/);
    fill(flow, STRONG, STRONG);
    await flow.submit();
    expect(flow.error).toBe('The new passphrase is the same as the current one.');
    fill(flow, 'old phrase here', STRONG, 'something else');
    await flow.submit();
    expect(flow.error).toBe('The two new passphrases are not the same.');
    expect(calls).toEqual([]);
  });

  it('changes the passphrase and forgets what was typed', async () => {
    const { flow, calls } = flowWith([]);
    fill(flow, 'old phrase here', STRONG);
    expect(await flow.submit()).toBe(true);
    expect(calls).toEqual([`old phrase here → ${STRONG}`]);
    expect(flow.phase).toBe('done');
    expect([flow.current, flow.next, flow.confirmation]).toEqual(['', '', '']);
  });

  it('says so when the current passphrase is wrong', async () => {
    const { flow } = flowWith([() => Promise.reject(new WrongPassphraseError())]);
    fill(flow, 'old phrase here', STRONG);
    expect(await flow.submit()).toBe(false);
    expect(flow.error).toBe(WRONG_PASSPHRASE_MESSAGE);
    expect(flow.needsSignIn).toBe(false);
    expect(flow.phase).toBe('editing');
  });

  it('asks for a fresh sign-in when the server wants one, then tries again', async () => {
    const { flow, calls } = flowWith([() => Promise.reject(new ReauthRequiredError())]);
    fill(flow, 'old phrase here', STRONG);
    expect(await flow.submit()).toBe(false);
    expect(flow.needsSignIn).toBe(true);
    expect(flow.error).toBe(new ReauthRequiredError().message);
    expect(await flow.signInAndRetry()).toBe(true);
    expect(calls).toEqual([`old phrase here → ${STRONG}`, 'sign in again', `old phrase here → ${STRONG}`]);
    expect(flow.phase).toBe('done');
  });

  it('changes nothing when the person does not sign in again', async () => {
    const { flow, calls } = flowWith([() => Promise.reject(new ReauthRequiredError())], false);
    fill(flow, 'old phrase here', STRONG);
    await flow.submit();
    expect(await flow.signInAndRetry()).toBe(false);
    expect(flow.error).toBe('You did not sign in again, so your passphrase was not changed.');
    expect(calls).toEqual([`old phrase here → ${STRONG}`, 'sign in again']);
  });
});
