import type { UserDelegationKey } from '@azure/storage-blob';
import { describe, expect, it } from 'vitest';
import { AZURITE_ACCOUNT_KEY } from '../../local/azurite.ts';
import { sasProtocolFor, sharedKeySasSigner, userDelegationSasSigner, type SasRequest, type UserDelegationKeySource } from './sas-signer.ts';

const MIN = 60_000;

/** A fake Entra key service: records calls, hands out keys for the window asked. */
function fakeKeySource(): UserDelegationKeySource & { calls: { startsOn: Date; expiresOn: Date }[]; failNext: boolean } {
  const calls: { startsOn: Date; expiresOn: Date }[] = [];
  const source = {
    calls,
    failNext: false,
    getUserDelegationKey(startsOn: Date, expiresOn: Date): Promise<UserDelegationKey> {
      source.calls.push({ startsOn, expiresOn });
      if (source.failNext) {
        source.failNext = false;
        return Promise.reject(new Error('identity unavailable'));
      }
      return Promise.resolve({
        signedObjectId: '11111111-1111-1111-1111-111111111111',
        signedTenantId: '22222222-2222-2222-2222-222222222222',
        signedStartsOn: startsOn,
        signedExpiresOn: expiresOn,
        signedService: 'b',
        signedVersion: '2025-01-05',
        value: Buffer.from(`key-${source.calls.length}`.padEnd(32, '.')).toString('base64'),
      });
    },
  };
  return source;
}

function request(now: number, minutes = 15): SasRequest {
  return { blobName: 'files/u/f/payload', permissions: 'rcw', startsOn: new Date(now - 5 * MIN), expiresOn: new Date(now + minutes * MIN) };
}

describe('user delegation SAS signer', () => {
  it('signs a blob-scoped SAS carrying the delegation key identity, https only for an https endpoint', async () => {
    const keys = fakeKeySource();
    const t = Date.UTC(2026, 0, 1, 12);
    const signer = userDelegationSasSigner({ container: 'sealdrop', accountName: 'acct', protocol: sasProtocolFor('https://acct.blob.core.windows.net'), keys, now: () => new Date(t) });
    const q = new URLSearchParams(await signer.sign(request(t)));
    expect(q.get('sr')).toBe('b');
    expect(q.get('sp')).toBe('rcw');
    expect(q.get('spr')).toBe('https');
    expect(q.get('skoid')).toBe('11111111-1111-1111-1111-111111111111');
    expect(q.get('sktid')).toBe('22222222-2222-2222-2222-222222222222');
    expect(q.get('st')).toBe('2026-01-01T11:55:00Z');
    expect(q.get('se')).toBe('2026-01-01T12:15:00Z');
    expect(q.get('sig')).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(keys.calls).toHaveLength(1);
    expect(keys.calls[0]?.startsOn.getTime()).toBe(t - 5 * MIN);
    expect(keys.calls[0]?.expiresOn.getTime()).toBe(t + 120 * MIN);
  });

  it('reuses one key while it covers the SAS, shares a fetch between concurrent requests, and refreshes before expiry', async () => {
    const keys = fakeKeySource();
    let t = Date.UTC(2026, 0, 1, 12);
    const signer = userDelegationSasSigner({ container: 'c', accountName: 'acct', protocol: sasProtocolFor('https://x'), keys, now: () => new Date(t) });
    const first = await Promise.all([signer.sign(request(t)), signer.sign(request(t)), signer.sign(request(t))]);
    expect(keys.calls).toHaveLength(1);
    expect(new Set(first).size).toBe(1);
    t += 90 * MIN; // key ends at +120; this SAS ends at +105: still covered with the 5-minute margin
    await signer.sign(request(t));
    expect(keys.calls).toHaveLength(1);
    t += 11 * MIN; // SAS would end at +116: inside the key's last 5 minutes
    const later = await signer.sign(request(t));
    expect(keys.calls).toHaveLength(2);
    expect(new URLSearchParams(later).get('skt')).toBe(new Date(t - 5 * MIN).toISOString().replace(/\.\d{3}Z$/, 'Z'));
  });

  it('does not cache a failed key fetch', async () => {
    const keys = fakeKeySource();
    const t = Date.UTC(2026, 0, 1, 12);
    const signer = userDelegationSasSigner({ container: 'c', accountName: 'acct', protocol: sasProtocolFor('https://x'), keys, now: () => new Date(t) });
    keys.failNext = true;
    await expect(signer.sign(request(t))).rejects.toThrow('identity unavailable');
    await expect(signer.sign(request(t))).resolves.toContain('sig=');
    expect(keys.calls).toHaveLength(2);
  });

  it('signs with the key value: another key gives another signature', async () => {
    const t = Date.UTC(2026, 0, 1, 12);
    const a = fakeKeySource();
    const b = fakeKeySource();
    b.calls.push({ startsOn: new Date(0), expiresOn: new Date(0) }); // shifts b's key value
    const sign = (keys: UserDelegationKeySource): Promise<string> =>
      userDelegationSasSigner({ container: 'c', accountName: 'acct', protocol: sasProtocolFor('https://x'), keys, now: () => new Date(t) }).sign(request(t));
    const sigA = new URLSearchParams(await sign(a)).get('sig');
    const sigB = new URLSearchParams(await sign(b)).get('sig');
    expect(sigA).not.toBe(sigB);
  });
});

describe('shared key SAS signer', () => {
  it('allows http only when the endpoint is http (Azurite on loopback)', async () => {
    const t = Date.now();
    const http = sharedKeySasSigner({ container: 'c', accountName: 'devstoreaccount1', accountKey: AZURITE_ACCOUNT_KEY, protocol: sasProtocolFor('http://127.0.0.1:1/devstoreaccount1') });
    const https = sharedKeySasSigner({ container: 'c', accountName: 'devstoreaccount1', accountKey: AZURITE_ACCOUNT_KEY, protocol: sasProtocolFor('https://acct.blob.core.windows.net') });
    expect(new URLSearchParams(await http.sign(request(t))).get('spr')).toBe('https,http');
    expect(new URLSearchParams(await https.sign(request(t))).get('spr')).toBe('https');
  });
});
