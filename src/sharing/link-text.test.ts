import { describe, expect, it } from 'vitest';
import { LinkTextError, linkFragment, parseLinkFragment, parseShareLink, shareIdOfPath, shareLinkText, type LinkTextProblem } from './link-text.ts';

const SECRET = Uint8Array.from({ length: 32 }, (_, i) => (i * 7 + 3) % 256);
const ID = '0123456789abcdef0123456789abcdef';
const K = linkFragment(SECRET, false).slice('#v=1&k='.length, '#v=1&k='.length + 43);

function problemOf(fn: () => unknown): LinkTextProblem | string {
  try {
    fn();
    return 'accepted';
  } catch (error) {
    if (error instanceof LinkTextError) return error.problem;
    throw error;
  }
}

describe('share link text', () => {
  it('round-trips with and without the passphrase flag', () => {
    for (const passphrase of [false, true]) {
      const text = shareLinkText('https://drive.example/', { shareId: ID, secret: SECRET, passphrase });
      expect(text).toBe(`https://drive.example/s/${ID}#v=1&k=${K}&p=${passphrase ? 1 : 0}`);
      const parsed = parseShareLink(text);
      expect(parsed.shareId).toBe(ID);
      expect(parsed.secret).toEqual(SECRET);
      expect(parsed.passphrase).toBe(passphrase);
    }
  });

  it.each([
    ['malformed: not a fragment of ours', `#hello`, 'extra-parameter'],
    ['malformed: parameters out of order', `#k=${K}&v=1&p=0`, 'malformed'],
    ['malformed: secret with a character outside base64url', `#v=1&k=${K.slice(0, 42)}+&p=0`, 'malformed'],
    ['malformed: secret not canonical (unused bits set)', `#v=1&k=${K.slice(0, 42)}B&p=0`, 'malformed'],
    ['malformed: flag other than 0/1', `#v=1&k=${K}&p=7`, 'malformed'],
    ['malformed: version not a number', `#v=x&k=${K}&p=0`, 'malformed'],
    ['truncated: empty fragment', `#`, 'truncated'],
    ['truncated: secret cut short', `#v=1&k=${K.slice(0, 30)}`, 'truncated'],
    ['truncated: flag missing', `#v=1&k=${K}`, 'truncated'],
    ['truncated: flag empty', `#v=1&k=${K}&p=`, 'truncated'],
    ['truncated: only the version', `#v=1`, 'truncated'],
    ['over-long: characters appended', `#v=1&k=${K}&p=0xxxxxxxxx`, 'too-long'],
    ['over-long: secret one character too long', `#v=1&k=${K}A&p=0`, 'too-long'],
    ['malformed: secret one character too long without the flag', `#v=1&k=${K}A`, 'malformed'],
    ['wrong version', `#v=2&k=${K}&p=0`, 'wrong-version'],
    ['wrong version 0', `#v=0&k=${K}&p=0`, 'wrong-version'],
    ['extra parameter', `#v=1&k=${K}&x=0`, 'extra-parameter'],
    ['parameter given twice', `#v=1&v=1&p=0`, 'extra-parameter'],
  ])('fragment %s → %s', (_name, fragment, problem) => {
    expect(problemOf(() => parseLinkFragment(fragment))).toBe(problem);
  });

  it('refuses an extra parameter even when the fragment fits the length cap', () => {
    expect(problemOf(() => parseLinkFragment(`#v=1&k=${K}&p=0&q`))).toBe('too-long');
    expect(problemOf(() => parseLinkFragment(`#v=1&k=${K.slice(0, 40)}&q=1`))).toBe('extra-parameter');
  });

  it('checks the share path', () => {
    expect(shareIdOfPath('/')).toBeNull();
    expect(shareIdOfPath(`/s/${ID}`)).toBe(ID);
    expect(problemOf(() => shareIdOfPath(`/s/${ID.slice(0, 20)}`))).toBe('truncated');
    expect(problemOf(() => shareIdOfPath(`/s/${ID}0`))).toBe('too-long');
    expect(problemOf(() => shareIdOfPath(`/s/${ID.toUpperCase()}`))).toBe('malformed');
    expect(problemOf(() => parseShareLink(`https://x.example/s/${ID}`))).toBe('truncated');
    expect(problemOf(() => parseShareLink(`https://x.example/s/${ID}?a=b#v=1&k=${K}&p=0`))).toBe('extra-parameter');
    expect(problemOf(() => parseShareLink(`https://x.example/files/${ID}#v=1&k=${K}&p=0`))).toBe('malformed');
  });

  it('says what is wrong in plain words', () => {
    expect(() => parseLinkFragment(`#v=2&k=${K}&p=0`)).toThrow('This link was made by a different version of Sealdrop and cannot be opened here.');
    expect(() => parseLinkFragment(`#v=1&k=${K.slice(0, 10)}`)).toThrow('This link is incomplete: part of it was cut off when it was copied.');
  });
});
