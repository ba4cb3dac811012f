/**
 * One-call sealing of a whole file held in memory, for the crypto and
 * storage tests (not used by the app, which seals drafts, blocks and
 * manifests separately so uploads can stream and resume).
 */
import { concatBytes, type Bytes } from './bytes.ts';
import { finishManifest, sealDraft, type ManifestSigner, type SealedDraft } from './manifest.ts';
import type { FileMetadata } from './metadata.ts';
import { PayloadHasher } from './payload-digest.ts';
import type { Recipient } from './recipients.ts';
import { createSealStream } from './stream.ts';
import { readAll, streamOf } from './test-streams.ts';

/**
 * Seals `plaintext` as file `fileId`: returns the manifest, the payload, the
 * payload digest and the draft (for its content key). `metadata.size` is set
 * to the plaintext's length unless given.
 */
export async function sealForTest(opts: {
  fileId: string;
  plaintext: Uint8Array;
  recipients: Recipient[];
  signer: ManifestSigner;
  metadata?: Partial<FileMetadata>;
  segmentSize?: number;
}): Promise<{ manifest: Bytes; payload: Bytes; payloadDigest: Bytes; draft: SealedDraft }> {
  const metadata: FileMetadata = { name: 'test.bin', type: '', size: opts.plaintext.length, lastModified: 0, ...opts.metadata };
  const draft = await sealDraft({ fileId: opts.fileId, metadata, recipients: opts.recipients, segmentSize: opts.segmentSize });
  const hasher = new PayloadHasher();
  const payload = concatBytes(
    await readAll(streamOf(opts.plaintext, 4096).pipeThrough(createSealStream(draft.contentKey, draft.segmentSize, { hasher }))),
  );
  const payloadDigest = await hasher.digest();
  const manifest = await finishManifest(draft, { payloadDigest, signer: opts.signer });
  if (manifest.length !== draft.manifestLength) throw new Error('manifestLength does not match the finished manifest');
  return { manifest, payload, payloadDigest, draft };
}
