/**
 * Shapes the server keeps to itself (never on the wire, so not in the
 * contract): what it stores in a directory entry and what its listing
 * cursor holds.
 */
import { z } from 'zod';
import { hexId } from '../../../src/contract/index.ts';

/** What the server stores in a directory blob. */
export const directoryEntry = z.object({ userId: hexId });

/** The listing cursor handed to clients (opaque to them): Azure's continuation plus a file id already returned. */
export const listCursor = z.object({
  t: z.string().min(1).max(3000).nullable(),
  skip: hexId.nullable(),
});
