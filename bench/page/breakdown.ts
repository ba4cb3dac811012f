/**
 * Where the time of one seal-and-upload goes (`npm run bench -- --breakdown`):
 * the app's `sendFile` run with its `trace` hook (each step's name and time)
 * and the browser's resource timings of every storage request it made
 * (which request, when it started and ended). Also times the crypto steps
 * alone: the manifest's size function, the draft (file key wrapped for the
 * owner: RSA-OAEP, and the drive key when present), the finished manifest
 * (payload digest, MAC, ECDSA signature), and one IndexedDB journal write.
 */
import { finishManifest, generateIdentityKeys, manifestLengthFor, PayloadHasher, rsaRecipient, sealDraft, type IdentityKeys } from '../../src/crypto/index.ts';
import { sendFile } from '../../src/storage/sender.ts';
import { openUploadJournal } from '../../src/storage/upload-journal.ts';
import type { GrantApi } from '../../src/storage/grants.ts';
import { transportOf, type Params, type SealedUrls } from './sealdrop-side.ts';

/** One step of the trace, in ms since sendFile was called. */
export interface TracedStep {
  step: string;
  atMs: number;
}

/** One storage request, in ms since sendFile was called. */
export interface TracedRequest {
  kind: string;
  startMs: number;
  endMs: number;
}

/** What one traced upload returns. */
export interface TracedUpload {
  totalMs: number;
  steps: TracedStep[];
  requests: TracedRequest[];
}

function kindOf(url: string, urls: SealedUrls): string {
  const u = new URL(url);
  const blob = url.startsWith(urls.payloadUrl.split('?')[0] ?? '') ? 'payload' : url.startsWith(urls.manifestUrl.split('?')[0] ?? '') ? 'manifest' : 'other';
  const comp = u.searchParams.get('comp');
  if (comp === 'block') return `${blob} Put Block`;
  if (comp === 'blocklist') return `${blob} block list`;
  return `${blob} Put Blob (or HEAD)`;
}

/** Runs `sendFile` once with the trace hook on; returns the steps and the storage requests in order. */
export async function tracedUpload(
  source: Blob,
  urls: SealedUrls,
  params: Params,
  api: GrantApi,
  identity: IdentityKeys,
): Promise<TracedUpload> {
  const file = new File([source], 'bench.bin', { type: 'application/octet-stream', lastModified: 0 });
  const steps: TracedStep[] = [];
  performance.clearResourceTimings();
  const t0 = performance.now();
  await sendFile({
    api,
    identity,
    userId: 'bench',
    file,
    transport: {
      ...transportOf(params),
      trace: (step) => steps.push({ step, atMs: performance.now() - t0 }),
    },
  });
  const totalMs = performance.now() - t0;
  const requests = performance
    .getEntriesByType('resource')
    .filter((e): e is PerformanceResourceTiming => e instanceof PerformanceResourceTiming && e.startTime >= t0 && e.name.includes('/files/'))
    .map((e) => ({ kind: kindOf(e.name, urls), startMs: e.startTime - t0, endMs: e.responseEnd - t0 }))
    .sort((a, b) => a.startMs - b.startMs);
  return { totalMs, steps, requests };
}

let keys: IdentityKeys | undefined;

/** Milliseconds of each crypto step of an upload's manifest, and of one journal write, each the median of `n`. */
export async function cryptoSteps(n: number): Promise<Record<string, number>> {
  keys ??= await generateIdentityKeys();
  const identity = keys;
  const recipients = [rsaRecipient(identity.encrypt.publicKey)];
  const metadata = { name: 'holiday photo.jpg', type: 'image/jpeg', size: 1_048_576, lastModified: 1_767_225_600_000 };
  const fileId = '0123456789abcdef0123456789abcdef';
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
  const time = async (op: () => Promise<unknown>): Promise<number> => {
    const samples: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      await op();
      samples.push(performance.now() - t);
    }
    return median(samples);
  };
  const draft = await sealDraft({ fileId, metadata, recipients });
  const hasher = new PayloadHasher();
  hasher.addDigest(0, new Uint8Array(32));
  const digest = await hasher.digest();
  const signer = { privateKey: identity.sign.privateKey, publicKey: identity.sign.publicKey };
  const journal = openUploadJournal();
  const record = {
    version: 2 as const,
    fileId,
    userId: 'bench-breakdown',
    draft: draft.draft,
    source: { name: 'x', size: 1, lastModified: 0 },
    segmentSize: draft.segmentSize,
    segmentsPerBlock: 1,
    blockDigests: [],
    createdAt: 0,
  };
  const out = {
    'manifest size function (manifestLengthFor)': await time(() => Promise.resolve(manifestLengthFor({ metadata, recipients }))),
    'draft: key wrapped to RSA-OAEP-3072, metadata sealed (sealDraft)': await time(() => sealDraft({ fileId, metadata, recipients })),
    'manifest finished: MAC + ECDSA P-256 signature (finishManifest)': await time(() => finishManifest(draft, { payloadDigest: digest, signer })),
    'one IndexedDB journal write (put)': await time(() => journal.put(record)),
  };
  await journal.delete(fileId);
  return out;
}
