/**
 * The key pages' state over fake key operations: what each verb does to
 * the fields the pages show. The key work itself is tested in src/keys.
 */
import { describe, expect, it } from 'vitest';
import { WrongPassphraseError } from '../../crypto/errors.ts';
import type { KeyApi, KeysUnlocked, SetupStep, UnlockedIdentity } from '../../keys/account-keys.ts';
import { NoRecoveryCopyError, RecoveryCopyExistsError } from '../../keys/key-errors.ts';
import { KeyRestoreFlow, KeySetupFlow, WRONG_PASSPHRASE_MESSAGE, type KeyOperations, type KeyPageProps } from './key-setup.svelte.ts';

const USER = '0123456789abcdef0123456789abcdef';
const STRONG = 'lantern quiet marble oyster';
const FINGERPRINT = '12345 67890 12345 67890 12345 67890 12345 67890';
// Never called: the fake key operations stand in for the API and the identity's keys.
const api = {} as KeyApi;
const identity = { userId: USER, fingerprint: FINGERPRINT } as UnlockedIdentity;
const unlocked: KeysUnlocked = { identity, recoveryBlob: new Uint8Array([1, 2, 3]), persisted: false };

function props(ready: UnlockedIdentity[]): KeyPageProps {
  return { api, userId: USER, email: 'ada@example.test', onReady: (id) => ready.push(id) };
}

/** Key operations that answer `outcome` and record the passphrases and steps they were given. */
function fakeKeys(outcome: () => Promise<KeysUnlocked>) {
  const seen: string[] = [];
  const keys: KeyOperations = {
    setupKeys: async (_api, _user, passphrase, onStep?: (step: SetupStep) => void) => {
      seen.push(`setup ${passphrase}`);
      onStep?.('generating');
      return outcome();
    },
    restoreKeys: async (_api, _user, passphrase) => {
      seen.push(`restore ${passphrase}`);
      return outcome();
    },
    restoreFromKit: async (_api, _user, kitText, passphrase) => {
      seen.push(`kit ${kitText} ${passphrase}`);
      return outcome();
    },
  };
  return { keys, seen };
}

describe('KeySetupFlow', () => {
  it('lets “Create my keys” be pressed only for a strong passphrase typed twice', () => {
    const flow = new KeySetupFlow(props([]), fakeKeys(() => Promise.resolve(unlocked)).keys);
    flow.passphrase = 'password';
    flow.confirmation = 'password';
    expect(flow.canSubmit).toBe(false);

    flow.passphrase = STRONG;
    flow.confirmation = 'lantern';
    // A correct start of the passphrase is not yet a mismatch.
    expect(flow.mismatch).toBe(false);
    expect(flow.canSubmit).toBe(false);
    flow.confirmation = 'lanterns';
    expect(flow.mismatch).toBe(true);
    flow.confirmation = STRONG;
    expect(flow.canSubmit).toBe(true);
  });

  it('says in words why “Create my keys” is refused, and makes nothing', async () => {
    const { keys, seen } = fakeKeys(() => Promise.resolve(unlocked));
    const flow = new KeySetupFlow(props([]), keys);
    await flow.submit();
    expect(flow.error).toBe('Choose a recovery passphrase first.');
    flow.passphrase = 'password';
    flow.confirmation = 'password';
    await flow.submit();
    expect(flow.error).toMatch(/^This passphrase is too easy to guess \(very weak\)\. /);
    flow.passphrase = STRONG;
    flow.confirmation = '';
    await flow.submit();
    expect(flow.error).toBe('Type the passphrase again to confirm it.');
    flow.confirmation = `${STRONG}x`;
    await flow.submit();
    expect(flow.error).toBe('The two passphrases are not the same.');
    expect(flow.phase).toBe('choose');
    expect(seen).toEqual([]);
    flow.confirmation = STRONG;
    expect(flow.refusal).toBeNull();
  });

  it('makes the keys, forgets the passphrase, offers the kit, and hands the keys over on finish', async () => {
    const ready: UnlockedIdentity[] = [];
    const { keys, seen } = fakeKeys(() => Promise.resolve(unlocked));
    const flow = new KeySetupFlow(props(ready), keys);
    flow.passphrase = STRONG;
    flow.confirmation = STRONG;
    const done = flow.submit();
    expect(flow.phase).toBe('working');
    expect(flow.step).toBe('generating');
    await done;

    expect(seen).toEqual([`setup ${STRONG}`]);
    expect(flow).toMatchObject({ phase: 'kit', passphrase: '', confirmation: '', persisted: false, step: null, error: null });
    expect(flow.kitUrl).toMatch(/^blob:/);
    expect(flow.printData).toMatchObject({ userId: USER, email: 'ada@example.test', fingerprint: FINGERPRINT });
    expect(ready).toEqual([]);

    flow.finish();
    expect(ready).toEqual([identity]);
    expect(flow.kitUrl).toBeNull();
  });

  it('goes to restore when another device set the keys up first', async () => {
    const flow = new KeySetupFlow(props([]), fakeKeys(() => Promise.reject(new RecoveryCopyExistsError())).keys);
    flow.passphrase = STRONG;
    flow.confirmation = STRONG;
    await flow.submit();
    expect(flow.phase).toBe('restore');
    expect(flow.error).toBe(new RecoveryCopyExistsError().message);
  });

  it('returns to the passphrase with the problem in plain words when setup fails', async () => {
    const flow = new KeySetupFlow(props([]), fakeKeys(() => Promise.reject(new DOMException('full', 'QuotaExceededError'))).keys);
    flow.passphrase = STRONG;
    flow.confirmation = STRONG;
    await flow.submit();
    expect(flow).toMatchObject({ phase: 'choose', error: 'Storage is full. Delete some files you no longer need, then try again.', step: null });
    expect(flow.passphrase).toBe(STRONG);
  });
});

describe('KeyRestoreFlow', () => {
  it('restores from the copy in storage and hands the keys over', async () => {
    const ready: UnlockedIdentity[] = [];
    const { keys, seen } = fakeKeys(() => Promise.resolve(unlocked));
    const flow = new KeyRestoreFlow(props(ready), keys);
    expect(await flow.submit()).toBe(false);
    flow.passphrase = STRONG;
    expect(await flow.submit()).toBe(true);
    expect(seen).toEqual([`restore ${STRONG}`]);
    expect(ready).toEqual([identity]);
    expect(flow).toMatchObject({ passphrase: '', working: false, error: null });
  });

  it('marks a wrong passphrase and keeps it for correction', async () => {
    const flow = new KeyRestoreFlow(props([]), fakeKeys(() => Promise.reject(new WrongPassphraseError())).keys);
    flow.passphrase = 'not it';
    expect(await flow.submit()).toBe(false);
    expect(flow).toMatchObject({ wrongPassphrase: true, error: WRONG_PASSPHRASE_MESSAGE, passphrase: 'not it', working: false });
  });

  it('uses a chosen kit file instead of storage, refuses one too large to be a kit, and goes back to storage', async () => {
    const { keys, seen } = fakeKeys(() => Promise.reject(new NoRecoveryCopyError()));
    const flow = new KeyRestoreFlow(props([]), keys);
    flow.passphrase = STRONG;

    await flow.chooseKit(new File(['x'.repeat(64 * 1024 + 1)], 'huge.txt'));
    expect(flow.error).toBe('This file is not a Sealdrop recovery kit, or it is damaged.');
    expect(flow.kitName).toBeNull();

    await flow.chooseKit(new File(['KIT'], 'kit.txt'));
    expect(flow).toMatchObject({ kitName: 'kit.txt', error: null });
    await flow.submit();

    await flow.chooseKit(null);
    await flow.submit();
    expect(seen).toEqual([`kit KIT ${STRONG}`, `restore ${STRONG}`]);
    expect(flow.error).toBe(new NoRecoveryCopyError().message);
  });
});
