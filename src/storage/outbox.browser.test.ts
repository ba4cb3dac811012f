/** The IndexedDB outbox in a real browser: what is at rest is ciphertext, and it survives reopening the database. */
import { openDB } from 'idb';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateIdentityKeys } from '../crypto/index.ts';
import { openOutbox } from './outbox.ts';
import type { OwnerKeys } from './owner-keys.ts';

let owner: OwnerKeys;
beforeAll(async () => {
  owner = await generateIdentityKeys();
}, 60_000);

describe('outbox (IndexedDB)', () => {
  it('stores the payload sealed (no plaintext, no name at rest) and opens it after reopening the database', async () => {
    const name = `outbox-test-${crypto.randomUUID()}`;
    const marker = 'PLAINTEXT-MARKER-'.repeat(4000);
    const file = new File([marker], 'secret-plan.txt', { type: 'text/plain', lastModified: 42 });
    await openOutbox(name).put('u-1', 'alice', file, owner, 'plans/secret-plan.txt');

    const db = await openDB(name, 1);
    const stored: unknown = await db.get('sealed', 'u-1');
    db.close();
    const record = stored as { payload: Blob; draft: Uint8Array };
    const atRest = new TextDecoder('latin1').decode(await record.payload.arrayBuffer()) + new TextDecoder('latin1').decode(record.draft);
    expect(record.payload.size).toBeGreaterThan(marker.length);
    expect(atRest).not.toContain('PLAINTEXT-MARKER');
    expect(atRest).not.toContain('secret-plan');

    const opened = await openOutbox(name).open('u-1', owner);
    expect(await opened?.file.text()).toBe(marker);
    expect(opened?.relativePath).toBe('plans/secret-plan.txt');
  });
});
