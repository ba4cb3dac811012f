/**
 * Each user's change log (docs/CONTRACTS.md §5, issue 16): an append-only
 * record of the files completed and deleted, in Azure append blobs the
 * server alone names (`index/<userId>/log-<n>`) and writes. A warm listing
 * reads the events after its position instead of walking every blob.
 *
 * A record is one JSON line; a block holds one or more whole lines, so a
 * reader that stops at a newline never sees half a record. An append blob
 * takes at most 50,000 blocks: a segment counts as full at
 * `segmentBlocks` (below that limit, leaving room for appends that race
 * past it), and the append that fills it creates the next segment. An
 * append that lands past the limit (it raced with the rollover) is written
 * again to the next segment, and a reader moves on from a full segment only
 * after reading it to its end: every record reaches every reader, at worst
 * twice (records are upserts, so twice is harmless).
 *
 * A user without a log gets one seeded from a walk of their files (drives
 * older than the log); the walk is given by the caller.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { base64Bytes, ERROR_CODES, hexId, MAX_INLINE_MANIFEST_BYTES } from '../../../src/contract/index.ts';
import { changeLogBlob, changeLogPrefix, parseChangeLogBlob } from '../storage/blob-layout.ts';
import { AppendBlobFullError, type BlobStore } from '../storage/blob-store.ts';
import { ApiError } from './api-error.ts';

/** Blocks after which a segment counts as full (storage's hard limit is 50,000). */
export const DEFAULT_SEGMENT_BLOCKS = 49_000;
/** Largest block the seed writes (storage takes up to 4 MiB per append). */
const SEED_BLOCK_BYTES = 1024 * 1024;
/** Most bytes read from a segment at once. */
const READ_CHUNK_BYTES = 1024 * 1024;
/** Metadata key of the log id every segment carries. */
const LOG_ID_KEY = 'sealdroplog';

/** A record of the log, as stored (never secret: ids, sizes, ETags, times). */
export const changeRecord = z.discriminatedUnion('op', [
  z
    .object({
      op: z.literal('add'),
      fileId: hexId,
      payloadBytes: z.number().int().nonnegative(),
      manifestBytes: z.number().int().nonnegative(),
      createdAt: z.iso.datetime({ offset: true }),
      etag: z.string().max(200),
      /** The sealed manifest when it was small enough (ciphertext the server stores anyway). */
      manifest: base64Bytes(MAX_INLINE_MANIFEST_BYTES).optional(),
    })
    .strict(),
  z.object({ op: z.literal('delete'), fileId: hexId, at: z.iso.datetime({ offset: true }) }).strict(),
]);
/** One record of the change log. */
export type ChangeRecord = z.infer<typeof changeRecord>;

/** What the log needs. */
export interface ChangeLogContext {
  store: BlobStore;
  userId: string;
  segmentBlocks: number;
  /** Every complete file of the user, as add records: the seed of a new log. */
  walk: () => Promise<ChangeRecord[]>;
}

interface Position {
  logId: string;
  segment: number;
  offset: number;
}

function formatPosition(p: Position): string {
  return `${p.logId}.${p.segment}.${p.offset}`;
}

function parsePosition(raw: string): Position {
  // The contract's schema has checked the shape already.
  const [logId = '', segment = '', offset = ''] = raw.split('.');
  return { logId, segment: Number(segment), offset: Number(offset) };
}

function unknownPosition(): ApiError {
  return new ApiError(410, ERROR_CODES.logPositionUnknown, 'This place in the change log is not known (the log was rebuilt). List the whole drive instead.');
}

function encodeLines(records: readonly ChangeRecord[]): Uint8Array {
  return new TextEncoder().encode(records.map((r) => `${JSON.stringify(r)}\n`).join(''));
}

/**
 * The segment each user last appended to, per store, in this process: a
 * hint that saves a listing per append. A stale one (another instance
 * rolled over) is safe: appending to a full segment moves on to the next.
 */
const currentSegments = new WeakMap<BlobStore, Map<string, number>>();
/** Users whose hint is kept at most (the map is cleared beyond). */
const MAX_HINTS = 10_000;

function hints(store: BlobStore): Map<string, number> {
  let map = currentSegments.get(store);
  if (map === undefined) currentSegments.set(store, (map = new Map()));
  if (map.size > MAX_HINTS) map.clear();
  return map;
}

/** The user's segment numbers, in order. */
async function segments(ctx: ChangeLogContext): Promise<number[]> {
  const prefix = changeLogPrefix(ctx.userId);
  const found: number[] = [];
  let token: string | undefined;
  do {
    const page = await ctx.store.list(prefix, { maxPageSize: 1000, ...(token === undefined ? {} : { continuationToken: token }) });
    for (const b of page.blobs) {
      const n = parseChangeLogBlob(prefix, b.name);
      if (n !== null) found.push(n);
    }
    token = page.continuationToken ?? undefined;
  } while (token !== undefined);
  return found.sort((a, b) => a - b);
}

/**
 * Creates segment 0 with the walk's records, unless a log exists; a file
 * the caller is appending is written as the caller's record (it may carry
 * the inline manifest the walk's lacks). Two seeders at once: one creates
 * the segment and writes its walk; the other writes nothing (its records
 * are the same files).
 */
async function seed(ctx: ChangeLogContext, appending: readonly ChangeRecord[] = []): Promise<Set<string>> {
  const own = new Map(appending.filter((r) => r.op === 'add').map((r) => [r.fileId, r]));
  const records = (await ctx.walk()).map((r) => own.get(r.fileId) ?? r);
  const name = changeLogBlob(ctx.userId, 0);
  if (!(await ctx.store.createAppendIfAbsent(name, { [LOG_ID_KEY]: randomBytes(8).toString('hex') }))) return new Set();
  let block: ChangeRecord[] = [];
  let bytes = 0;
  const flush = async (): Promise<void> => {
    if (block.length === 0) return;
    await ctx.store.append(name, encodeLines(block));
    block = [];
    bytes = 0;
  };
  for (const r of records) {
    const size = JSON.stringify(r).length + 1;
    if (bytes + size > SEED_BLOCK_BYTES) await flush();
    block.push(r);
    bytes += size;
  }
  await flush();
  return new Set(records.map((r) => r.fileId));
}

/** Creates segment `n + 1` with segment `n`'s log id, if it does not exist. */
async function createNext(ctx: ChangeLogContext, n: number): Promise<void> {
  const current = await ctx.store.stat(changeLogBlob(ctx.userId, n));
  const logId = current?.metadata?.[LOG_ID_KEY];
  if (logId === undefined) throw new Error('A change-log segment has no log id.');
  await ctx.store.createAppendIfAbsent(changeLogBlob(ctx.userId, n + 1), { [LOG_ID_KEY]: logId });
}

/**
 * Appends `records` (one block) to the user's log, seeding the log first if
 * there is none, and rolling over to a new segment when the current one is
 * full. Rejects with storage's errors.
 */
export async function appendChanges(ctx: ChangeLogContext, records: readonly ChangeRecord[]): Promise<void> {
  let pending = records;
  let n = hints(ctx.store).get(ctx.userId);
  if (n === undefined) {
    let found = await segments(ctx);
    if (found.length === 0) {
      // The walk saw every file complete by now, very likely these too: not twice.
      const seeded = await seed(ctx, records);
      pending = records.filter((r) => r.op !== 'add' || !seeded.has(r.fileId));
      if (pending.length === 0) return;
      found = await segments(ctx);
    }
    n = found.at(-1) ?? 0;
  }
  const bytes = encodeLines(pending);
  for (;;) {
    let count: number;
    try {
      const res = await ctx.store.append(changeLogBlob(ctx.userId, n), bytes);
      if (res === null) {
        // The hint named a segment that is not there (a log rebuilt): ask storage.
        if (hints(ctx.store).delete(ctx.userId)) return appendChanges(ctx, pending);
        throw new Error('A change-log segment vanished while appending.');
      }
      count = res.blockCount;
    } catch (err) {
      if (!(err instanceof AppendBlobFullError)) throw err;
      count = Infinity;
    }
    if (count < ctx.segmentBlocks) {
      hints(ctx.store).set(ctx.userId, n);
      return;
    }
    await createNext(ctx, n);
    hints(ctx.store).set(ctx.userId, n + 1);
    // Exactly at the limit: this append is in the segment readers finish before moving on.
    if (count === ctx.segmentBlocks) return;
    // Past it: a reader may have moved on already, so the record goes to the next segment too.
    n += 1;
  }
}

/** The events after a position, as {@link readChanges} returns them. */
export interface ChangesRead {
  records: ChangeRecord[];
  next: string;
  exhausted: boolean;
}

/**
 * Reads at most `limit` records after `after` (from the start without it),
 * seeding the log when it does not exist yet. Throws a 410 ApiError for a
 * position this log never had (another log id, a missing segment, an offset
 * past the end or not at a record's start).
 */
export async function readChanges(ctx: ChangeLogContext, after: string | undefined, limit: number): Promise<ChangesRead> {
  let pos: Position | null = after === undefined ? null : parsePosition(after);
  let segment = pos?.segment ?? 0;
  let offset = pos?.offset ?? 0;
  const records: ChangeRecord[] = [];
  let movedOn = false;
  for (;;) {
    // One byte before the offset must be a record's newline: a position inside a record is not ours.
    const from = offset === 0 ? 0 : offset - 1;
    let slice = await ctx.store.readFrom(changeLogBlob(ctx.userId, segment), from, READ_CHUNK_BYTES);
    if (slice === null && pos === null && segment === 0) {
      await seed(ctx);
      slice = await ctx.store.readFrom(changeLogBlob(ctx.userId, 0), 0, READ_CHUNK_BYTES);
    }
    if (slice === null) {
      // A full segment whose successor was never created (its creator failed): nothing more yet.
      if (movedOn && pos !== null) return { records, next: formatPosition(pos), exhausted: true };
      throw unknownPosition();
    }
    const logId = slice.metadata[LOG_ID_KEY];
    if (logId === undefined || (pos !== null && pos.logId !== logId)) throw unknownPosition();
    if (offset > slice.length) throw unknownPosition();
    let bytes = slice.bytes;
    if (offset > 0) {
      if (bytes[0] !== 0x0a) throw unknownPosition();
      bytes = bytes.subarray(1);
    }
    // Whole lines only, and no more than asked for.
    let consumed = 0;
    while (records.length < limit) {
      const nl = bytes.indexOf(0x0a, consumed);
      if (nl === -1) break;
      const line = new TextDecoder().decode(bytes.subarray(consumed, nl));
      records.push(changeRecord.parse(JSON.parse(line)));
      consumed = nl + 1;
    }
    if (consumed === 0 && records.length < limit && offset + bytes.length < slice.length) {
      throw new Error('A change-log record is longer than a read.');
    }
    offset += consumed;
    pos = { logId, segment, offset };
    const atEnd = offset >= slice.length;
    // A full page that ends exactly at the end of a segment still open is the end: no call just to hear so.
    if (records.length >= limit) return { records, next: formatPosition(pos), exhausted: atEnd && slice.blockCount < ctx.segmentBlocks };
    if (!atEnd) continue;
    // At the end of the segment: a full one goes on in the next.
    if (slice.blockCount < ctx.segmentBlocks) return { records, next: formatPosition(pos), exhausted: true };
    segment += 1;
    offset = 0;
    movedOn = true;
  }
}
