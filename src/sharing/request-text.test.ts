import { describe, expect, it } from 'vitest';
import {
  MAX_LABEL_BYTES,
  RequestLinkError,
  parseRequestFragment,
  parseRequestLink,
  requestFragment,
  requestIdOfPath,
  requestLinkText,
  type RequestLinkProblem,
} from './request-text.ts';

const ID = '0123456789abcdef0123456789abcdef';
const FP = '01234 56789 01234 56789 01234 56789 01234 56789';
const D = FP.replaceAll(' ', '');
/** base64url of "Tax 2026 ✓" */
const L = requestFragment(FP, 'Tax 2026 ✓').split('&l=')[1] ?? '';

function problemOf(fn: () => unknown): RequestLinkProblem | string {
  try {
    fn();
    return 'accepted';
  } catch (error) {
    if (error instanceof RequestLinkError) return error.problem;
    throw error;
  }
}

describe('request link text', () => {
  it('round-trips with and without a label', () => {
    for (const label of [null, 'Tax 2026 ✓', 'x'.repeat(MAX_LABEL_BYTES)]) {
      const text = requestLinkText('https://drive.example/', { requestId: ID, fingerprint: FP, label });
      expect(text.startsWith(`https://drive.example/r/${ID}#v=1&f=${D}`)).toBe(true);
      expect(parseRequestLink(text)).toEqual({ requestId: ID, fingerprint: FP, label });
    }
    expect(L).toBe('VGF4IDIwMjYg4pyT');
  });

  it('refuses to write a bad fingerprint, label or id (RangeError)', () => {
    expect(() => requestFragment('0123456789', null)).toThrow(RangeError);
    expect(() => requestFragment(FP, '')).toThrow(/1 to 96 bytes/);
    expect(() => requestFragment(FP, 'é'.repeat(49))).toThrow(/1 to 96 bytes/);
    expect(() => requestLinkText('https://x', { requestId: 'ABC', fingerprint: FP, label: null })).toThrow(/32 lowercase hex/);
  });

  it.each([
    ['malformed: parameters out of order', `#f=${D}&v=1`, 'malformed'],
    ['malformed: fingerprint with a letter', `#v=1&f=${D.slice(0, 39)}a`, 'malformed'],
    ['malformed: fingerprint with spaces', `#v=1&f=${FP.replaceAll(' ', '%20')}`, 'malformed'],
    ['malformed: fingerprint too many digits', `#v=1&f=${D}1`, 'malformed'],
    ['malformed: label not base64url', `#v=1&f=${D}&l=a+b`, 'malformed'],
    ['malformed: label not canonical (unused bits set)', `#v=1&f=${D}&l=VGF`, 'malformed'],
    ['malformed: label not UTF-8', `#v=1&f=${D}&l=_w`, 'malformed'],
    ['malformed: version not a number', `#v=x&f=${D}`, 'malformed'],
    ['truncated: empty fragment', `#`, 'truncated'],
    ['truncated: fingerprint cut short', `#v=1&f=${D.slice(0, 25)}`, 'truncated'],
    ['truncated: fingerprint missing', `#v=1`, 'truncated'],
    ['truncated: fingerprint empty', `#v=1&f=`, 'truncated'],
    ['truncated: label empty', `#v=1&f=${D}&l=`, 'truncated'],
    ['truncated: version empty', `#v=&f=${D}`, 'truncated'],
    ['wrong version', `#v=2&f=${D}`, 'wrong-version'],
    ['extra parameter', `#v=1&f=${D}&k=abc`, 'extra-parameter'],
    ['parameter given twice', `#v=1&f=${D}&f=${D}`, 'extra-parameter'],
    ['a share link fragment', `#v=1&k=${'A'.repeat(43)}&p=0`, 'extra-parameter'],
    ['over-long', `#v=1&f=${D}&l=${'A'.repeat(200)}`, 'too-long'],
  ])('%s', (_what, fragment, problem) => {
    expect(problemOf(() => parseRequestFragment(fragment))).toBe(problem);
  });

  it.each([
    ['a share path', `/s/${ID}`, null],
    ['a request path', `/r/${ID}`, ID],
  ])('knows %s', (_what, path, id) => {
    expect(requestIdOfPath(path)).toBe(id);
  });

  it.each([
    ['truncated id', `/r/${ID.slice(0, 20)}`, 'truncated'],
    ['over-long id', `/r/${ID}00`, 'too-long'],
    ['uppercase id', `/r/${ID.toUpperCase()}`, 'malformed'],
  ])('refuses a path with a %s', (_what, path, problem) => {
    expect(problemOf(() => requestIdOfPath(path))).toBe(problem);
  });

  it('refuses whole links that are cut before the fragment, carry a query, or are not request links', () => {
    expect(problemOf(() => parseRequestLink(`https://x/r/${ID}`))).toBe('truncated');
    expect(problemOf(() => parseRequestLink(`https://x/r/${ID}?a=1#v=1&f=${D}`))).toBe('extra-parameter');
    expect(problemOf(() => parseRequestLink(`https://x/s/${ID}#v=1&f=${D}`))).toBe('malformed');
  });

  it('gives plain-word messages', () => {
    expect(new RequestLinkError('truncated').message).toBe('This link is incomplete: part of it was cut off when it was copied.');
    expect(new RequestLinkError('wrong-version').message).toMatch(/different version of Sealdrop/);
  });
});
