import { describe, expect, it } from 'vitest';
import { deriveUserId } from '../auth/user-id.ts';
import { directoryBlob, fileBlob, isHexId, newFileId, parseFileBlobName, publicKeyBlob, recoveryBlob, userFilesPrefix } from './blob-layout.ts';

const u = '0123456789abcdef0123456789abcdef';
const f = 'fedcba9876543210fedcba9876543210';

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
    expect(recoveryBlob(u)).toBe(`keys/${u}/recovery`);
    expect(directoryBlob(' Alice@Example.COM ')).toBe('directory/ff8d9819fc0e12bf0d24892e45987e249a28dce836a85cad60e28eaaa8c6d976');
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
    expect(parseFileBlobName(prefix, `${prefix}${f}/other`)).toBeNull();
    expect(parseFileBlobName(prefix, `${prefix}${f}/payload/x`)).toBeNull();
    expect(parseFileBlobName(prefix, `${prefix}nothex/payload`)).toBeNull();
    expect(parseFileBlobName(prefix, `files/${f}/${f}/payload`)).toBeNull();
  });
});
