import { describe, expect, it } from 'vitest';
import { RECEIVED_PARAM as written, receivedLink } from '../../sharing/person-share.ts';
import { RECEIVED_PARAM } from './received-param.ts';

describe('RECEIVED_PARAM', () => {
  it('is the parameter the person-share links are written with', () => {
    expect(RECEIVED_PARAM).toBe(written);
    const link = new URL(receivedLink('https://sealdrop.test', 'a'.repeat(32)));
    expect(link.searchParams.get(RECEIVED_PARAM)).toBe('a'.repeat(32));
  });
});
