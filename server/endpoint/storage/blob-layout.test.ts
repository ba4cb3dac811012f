import { describe, expect, it } from 'vitest';
import { deriveUserId } from '../auth/user-id.ts';
import { createHash } from 'node:crypto';
import {
  declarationBlob,
  directoryBlob,
  fileBlob,
  isHexId,
  newFileId,
  parseFileBlobName,
  resealedFromBlob,
  publicKeyBlob,
  recoveryBlob,
  rotationBlob,
  userFilesPrefix,
} from './blob-layout.ts';

const u = '0123456789abcdef0123456789abcdef';
const f = 'fedcba9876543210fedcba9876543210';
const key = new Uint8Array(32).fill(0x2a);
const otherKey = new Uint8Array(32).fill(0x2b);

describe('user ids', () => {
  it('match known answers (first 16 bytes of SHA-256, hex)', () => {
    // Computed independently with Python's hashlib.
    expect(deriveUserId({ scheme: 'entra', tid: '72f988bf-86f1-41af-91ab-2d7cd011db47', oid: '00000000-0000-0000-0000-000000000001' })).toBe(
      '65f5c2043f80096a44c3dbf603690a14',
    );
    expect(deriveUserId({ scheme: 'oidc', iss: 'http://localhost:5173/oidc', sub: 'alice' })).toBe('129394d5a9030b467a5561701202c8e6');
  });
  it('differ between schemes with the same parts', () => {
    expect(deriveUserId({ scheme: 'entra', tid: 'a', oid: 'b' })).not.toBe(deriveUserId({ scheme: 'oidc', iss: 'a', sub: 'b' }));
  });
});

describe('blob names', () => {
  it('follow docs/CONTRACTS.md §1', () => {
    expect(fileBlob(u, f, 'payload')).toBe(`files/${u}/${f}/payload`);
    expect(fileBlob(u, f, 'manifest')).toBe(`files/${u}/${f}/manifest`);
    expect(publicKeyBlob(u)).toBe(`keys/${u}/public`);
    expect(rotationBlob(u, 3)).toBe(`keys/${u}/rotations/0003`);
    expect(declarationBlob(u, f, { payloadBytes: 0, manifestBytes: 517 })).toBe(`files/${u}/${f}/declared-0-517`);
  });
  it('key the directory and the recovery copy with the server secret (known answers from Python hmac)', () => {
    expect(directoryBlob(' Alice@Example.COM ', key)).toBe('directory/5fcf5a6a71a4075457379bf5e4c426d923a287cac6e65a044c2ad9dd86e2aa18');
    expect(recoveryBlob(u, key)).toBe(`keys/${u}/recovery-875c5c05a932f4dde5134ad9fc2e7bb4fbe0a499a00936cd0a9c71c17e2abf79`);
  });
  it('never name a directory entry by the plain SHA-256 of the address, and change with the key', () => {
    const plain = createHash('sha256').update('alice@example.com').digest('hex');
    expect(directoryBlob('alice@example.com', key)).not.toBe(`directory/${plain}`);
    expect(directoryBlob('alice@example.com', key)).not.toBe(directoryBlob('alice@example.com', otherKey));
    expect(recoveryBlob(u, key)).not.toBe(recoveryBlob(u, otherKey));
    expect(recoveryBlob(u, key)).not.toBe(`keys/${u}/recovery`);
  });
  it('refuse malformed ids instead of building a path from them', () => {
    for (const bad of ['..', '', 'A'.repeat(32), `${'a'.repeat(31)}/`, 'a'.repeat(33), `${'a'.repeat(31)}\u0430`]) {
      expect(isHexId(bad)).toBe(false);
      expect(() => fileBlob(u, bad, 'payload')).toThrow(/malformed/);
      expect(() => userFilesPrefix(bad)).toThrow(/malformed/);
      expect(() => publicKeyBlob(bad)).toThrow(/malformed/);
    }
  });
  it('new file ids are 32 hex chars and do not repeat', () => {
    const ids = new Set(Array.from({ length: 1000 }, newFileId));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(isHexId(id)).toBe(true);
  });
  it('parse listed names back, ignoring anything else', () => {
    const prefix = userFilesPrefix(u);
    expect(parseFileBlobName(prefix, `${prefix}${f}/payload`)).toEqual({ fileId: f, part: 'payload' });
    expect(parseFileBlobName(prefix, `${prefix}${f}/manifest`)).toEqual({ fileId: f, part: 'manifest' });
    expect(parseFileBlobName(prefix, `${prefix}${f}/declared-10-20`)).toEqual({ fileId: f, part: 'declared', payloadBytes: 10, manifestBytes: 20 });
    expect(parseFileBlobName(prefix, `${prefix}${f}/declared-010-20`)).toBeNull();
    expect(parseFileBlobName(prefix, `${prefix}${f}/declared-10-0`)).toBeNull();
    expect(parseFileBlobName(prefix, `${prefix}${f}/other`)).toBeNull();
    const old = 'e'.repeat(32);
    expect(resealedFromBlob(u, f, old)).toBe(`${prefix}${f}/from-${old}`);
    expect(parseFileBlobName(prefix, resealedFromBlob(u, f, old))).toEqual({ fileId: f, part: 'from', oldFileId: old });
    expect(parseFileBlobName(prefix, `${prefix}${f}/from-nothex`)).toBeNull();
    expect(() => resealedFromBlob(u, f, '../x')).toThrow('Refusing to build a blob name from a malformed file id.');
    expect(parseFileBlobName(prefix, `${prefix}${f}/payload/x`)).toBeNull();
    expect(parseFileBlobName(prefix, `${prefix}nothex/payload`)).toBeNull();
    expect(parseFileBlobName(prefix, `files/${f}/${f}/payload`)).toBeNull();
  });
});
