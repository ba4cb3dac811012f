import { describe, expect, it } from 'vitest';
import { webcrypto } from 'node:crypto';
import { newTestKeys, publicIdentityV1, publicIdentityV2, rotationStatement } from '../../test-support/key-proofs.ts';
import { checkPublicIdentity, checkRotation, KeyProofError } from './public-identity.ts';
import { MAX_PUBLIC_IDENTITY_BYTES, publishBody } from '../../../src/contract/schemas.ts';

describe('the server’s public identity check', () => {
  it('accepts a self-signed SDPI v2 and refuses v1, which never shipped', async () => {
    const keys = await newTestKeys();
    await expect(checkPublicIdentity(await publicIdentityV2(keys))).resolves.toHaveProperty('verifyKey');
    await expect(checkPublicIdentity(await publicIdentityV1(keys))).rejects.toThrow(/version the server does not accept/);
  });

  it('refuses a signing key in the hybrid point form, which Node itself would import', async () => {
    const keys = await newTestKeys();
    const good = await publicIdentityV2(keys);
    // The signing key's point tag (0x04) sits 27 bytes into its SPKI; the
    // hybrid form tags the same point 0x06 or 0x07 by the parity of Y.
    const ecAt = good.length - 64 - 91;
    const hybrid = good.slice();
    const y = hybrid[ecAt + 90] ?? 0;
    hybrid[ecAt + 26] = (y & 1) === 1 ? 0x07 : 0x06;
    await expect(checkPublicIdentity(hybrid)).rejects.toThrow(/one accepted P-256 form/);
  });

  it('refuses a flipped byte, a foreign signature, trailing bytes, another version and a missing key', async () => {
    const keys = await newTestKeys();
    const other = await newTestKeys();
    const good = await publicIdentityV2(keys);
    const flipped = good.slice();
    flipped[40] = (flipped[40] ?? 0) ^ 1;
    const version3 = good.slice();
    version3[4] = 3;
    const oneKey = good.slice();
    oneKey[5] = 1; // count 1: only the RSA key is read, the rest becomes "trailing"
    const cases: [Uint8Array, RegExp][] = [
      [flipped, /signature|not a valid/],
      [await publicIdentityV2(keys, other.sign.privateKey), /self-signature/],
      [Uint8Array.of(...good, 0), /after its signature|self-signature/],
      [version3, /version/],
      [oneKey, /lacks/],
      [new TextEncoder().encode('not a key at all'), /not a Sealdrop public key/],
    ];
    for (const [bytes, message] of cases) {
      await expect(checkPublicIdentity(bytes)).rejects.toThrow(KeyProofError);
      await expect(checkPublicIdentity(bytes)).rejects.toThrow(message);
    }
  });
});

describe('a public identity that also publishes an ML-KEM-768 key (kind 3, docs/FORMAT.md §7.7, §10.1)', () => {
  it('passes the server’s check and the contract’s size limit (the server skips kind 3 like any later kind)', async () => {
    const keys = await newTestKeys();
    const plain = await publicIdentityV2(keys);
    // Rebuild the same list with a third entry: kind 3, 1,184 bytes (an ML-KEM-768 encapsulation key's length).
    const body = plain.slice(0, plain.length - 64);
    body[5] = 3;
    const mlkem = Uint8Array.from({ length: 1184 }, (_, i) => (i * 7) % 256);
    const withKem = new Uint8Array([...body, 3, 1184 >> 8, 1184 & 0xff, ...mlkem]);
    const label = new TextEncoder().encode('sealdrop/v2/public-identity\0');
    const signature = new Uint8Array(
      await webcrypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, keys.sign.privateKey, new Uint8Array([...label, ...withKem])),
    );
    const identity = new Uint8Array([...withKem, ...signature]);
    expect(identity.length).toBeLessThanOrEqual(MAX_PUBLIC_IDENTITY_BYTES);
    await expect(checkPublicIdentity(identity)).resolves.toHaveProperty('verifyKey');
    expect(publishBody.safeParse({ publicIdentity: Buffer.from(identity).toString('base64') }).success).toBe(true);
  });
});

describe('the server’s rotation check', () => {
  it('accepts a statement from the current key to the new one, signed by the current signing key, and nothing else', async () => {
    const oldKeys = await newTestKeys();
    const newKeys = await newTestKeys();
    const current = await publicIdentityV2(oldKeys);
    const next = await publicIdentityV2(newKeys);
    const identity = await checkPublicIdentity(current);
    await expect(checkRotation(await rotationStatement(current, next, oldKeys.sign.privateKey), { bytes: current, identity }, next)).resolves.toBeUndefined();

    const signedByNew = await rotationStatement(current, next, newKeys.sign.privateKey);
    await expect(checkRotation(signedByNew, { bytes: current, identity }, next)).rejects.toThrow(/not signed by the key published now/);
    const fromElsewhere = await rotationStatement(next, next, oldKeys.sign.privateKey);
    await expect(checkRotation(fromElsewhere, { bytes: current, identity }, next)).rejects.toThrow(/does not start from the key published now/);
    const toOther = await rotationStatement(current, current, oldKeys.sign.privateKey);
    await expect(checkRotation(toOther, { bytes: current, identity }, next)).rejects.toThrow(/names another new key/);
    await expect(checkRotation(new Uint8Array(133), { bytes: current, identity }, next)).rejects.toThrow(KeyProofError);
  });
});
