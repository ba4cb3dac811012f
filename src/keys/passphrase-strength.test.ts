import { describe, expect, it } from 'vitest';
import {
  MIN_PASSPHRASE_LENGTH,
  MIN_PASSPHRASE_SCORE,
  STRENGTH_LABELS,
  estimatePassphraseStrength,
} from './passphrase-strength.ts';

describe('estimatePassphraseStrength', () => {
  it('rejects the empty passphrase and says how many characters are missing', () => {
    const r = estimatePassphraseStrength('');
    expect(r.score).toBe(0);
    expect(r.acceptable).toBe(false);
    expect(r.advice[0]).toContain(`${MIN_PASSPHRASE_LENGTH} more to go`);
  });

  it.each([
    ['password1234', 'well-known'],
    ['P@ssw0rd1234!', 'well-known'],
    ['Qwertyuiop12', 'runs like'],
    ['123456789012', 'runs like'],
    ['aaaaaaaaaaaaaaaa', 'repeat'],
    ['hellohellohello', 'repeat'],
    ['correct horse battery staple', 'well-known'],
    ['abcdefghijklmnop', 'runs like'],
  ])('scores %j as very weak and names the flaw', (passphrase, hint) => {
    const r = estimatePassphraseStrength(passphrase);
    expect(r.score).toBe(0);
    expect(r.acceptable).toBe(false);
    expect(r.advice.join(' ')).toContain(hint);
  });

  it('treats digits-only input as weak and says to use words', () => {
    const r = estimatePassphraseStrength('804177395521');
    expect(r.score).toBeLessThan(MIN_PASSPHRASE_SCORE);
    expect(r.advice.join(' ')).toContain('Digits alone');
  });

  it.each([
    'glacier-tuba-nostril-pamphlet',
    'lantern quiet marble oyster',
    'Télévision rouge qui chante',
  ])('scores %j, a few unrelated words, as very strong', (passphrase) => {
    const r = estimatePassphraseStrength(passphrase);
    expect(r.score).toBe(4);
    expect(r.acceptable).toBe(true);
    expect(r.advice).toEqual([]);
  });

  it('accepts a random-looking 12-character password', () => {
    const r = estimatePassphraseStrength('k8#Qz!m2Lp9x');
    expect(r.score).toBeGreaterThanOrEqual(3);
    expect(r.acceptable).toBe(true);
  });

  it('does not accept a strong but too short passphrase', () => {
    const r = estimatePassphraseStrength('k8#Qz!m2Lp9');
    expect(r.length).toBe(MIN_PASSPHRASE_LENGTH - 1);
    expect(r.acceptable).toBe(false);
    expect(r.advice[0]).toContain('1 more to go');
  });

  it('counts characters, not UTF-16 units', () => {
    expect(estimatePassphraseStrength('🔒🔑').length).toBe(2);
  });

  it('never scores a longer extension of a passphrase lower', () => {
    const base = 'lantern quiet';
    const longer = estimatePassphraseStrength(`${base} marble`);
    const longest = estimatePassphraseStrength(`${base} marble oyster`);
    expect(longer.bits).toBeGreaterThan(estimatePassphraseStrength(base).bits);
    expect(longest.bits).toBeGreaterThan(longer.bits);
  });

  it('labels every score in plain words', () => {
    for (const p of ['', 'lantern quiet marble', 'lantern quiet marble oyster']) {
      const r = estimatePassphraseStrength(p);
      expect(r.label).toBe(STRENGTH_LABELS[r.score]);
    }
  });
});
