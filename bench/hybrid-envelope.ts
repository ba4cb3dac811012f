/**
 * `npx tsx bench/hybrid-envelope.ts [N]` on Node ≥ 24 (ML-KEM-768 in
 * WebCrypto; Node 20 prints why and stops): the cost of the hybrid
 * ML-KEM-768 + RSA-OAEP envelope (FORMAT.md §7.7) next to RSA-OAEP alone
 * (§7.1), in Node's WebCrypto: key generation, wrap (what a sender pays
 * per recipient), unwrap (what a reader pays per file), and the manifest
 * bytes per recipient. Wrap and unwrap are timed in alternating rounds of
 * 25 so machine load falls on both alike. Medians are per operation.
 */
import { cpus, loadavg } from 'node:os';
import { encodeHeader } from '../src/crypto/format.ts';
import { exportMlKemPublicKey, generateMlKemKeyPair, hybridIdentity, hybridRecipient, postQuantumSupported } from '../src/crypto/hybrid.ts';
import { manifestLengthFor } from '../src/crypto/manifest.ts';
import { rsaIdentity, rsaRecipient, type Identity, type Recipient, type Stanza } from '../src/crypto/recipients.ts';

if (!(await postQuantumSupported())) {
  console.log(`hybrid-envelope bench: skipped, ${process.version} has no ML-KEM-768 in WebCrypto (run it on Node >= 24)`);
  process.exit(0);
}

const n = Number(process.argv[2] ?? '100');
const rsaKeygenRuns = Number(process.argv[3] ?? '5');
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};
async function timed(f: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
}
const before = loadavg();

// Key generation.
const rsaGen: number[] = [];
let rsa: CryptoKeyPair | undefined;
for (let i = 0; i < rsaKeygenRuns; i++) {
  rsaGen.push(
    await timed(async () => {
      rsa = await crypto.subtle.generateKey(
        { name: 'RSA-OAEP', hash: 'SHA-256', modulusLength: 3072, publicExponent: new Uint8Array([1, 0, 1]) },
        true,
        ['encrypt', 'decrypt'],
      );
    }),
  );
}
const mlkemGen: number[] = [];
let mlkem: CryptoKeyPair | undefined;
for (let i = 0; i < n; i++) mlkemGen.push(await timed(async () => (mlkem = await generateMlKemKeyPair())));
if (rsa === undefined || mlkem === undefined) throw new Error('no keys');
const rsaKeys = rsa;
const mlkemPublic = await exportMlKemPublicKey(mlkem.publicKey);

const header = encodeHeader({ segmentSize: 262144, fileId: '00112233445566778899aabbccddeeff', salt: crypto.getRandomValues(new Uint8Array(32)) });
const fileKey = crypto.getRandomValues(new Uint8Array(32));
const recipients: Record<'rsa' | 'hybrid', Recipient> = {
  rsa: rsaRecipient(rsaKeys.publicKey),
  hybrid: hybridRecipient({ rsa: rsaKeys.publicKey, mlkem: mlkemPublic }),
};
const identities: Record<'rsa' | 'hybrid', Identity> = {
  rsa: rsaIdentity(rsaKeys.privateKey),
  hybrid: hybridIdentity({ rsa: rsaKeys, mlkem }),
};
const wrapMs = { rsa: [] as number[], hybrid: [] as number[] };
const unwrapMs = { rsa: [] as number[], hybrid: [] as number[] };
const stanzas: Record<'rsa' | 'hybrid', Stanza[]> = { rsa: [], hybrid: [] };
for (let at = 0; at < n; at += 25) {
  for (const kind of ['rsa', 'hybrid'] as const) {
    for (let i = at; i < Math.min(n, at + 25); i++) {
      let s: Stanza | undefined;
      wrapMs[kind].push(await timed(async () => (s = await recipients[kind].wrap(fileKey, header))));
      if (s !== undefined) stanzas[kind].push(s);
    }
  }
}
for (let at = 0; at < n; at += 25) {
  for (const kind of ['rsa', 'hybrid'] as const) {
    for (const s of stanzas[kind].slice(at, at + 25)) {
      unwrapMs[kind].push(
        await timed(async () => {
          const k = await identities[kind].unwrap(s, header);
          if (k === null || k.length !== 32) throw new Error(`${kind} did not open`);
        }),
      );
    }
  }
}

// Manifest size per recipient: exact, from manifestLengthFor.
const metadata = { name: 'report.pdf', type: 'application/pdf', size: 1, lastModified: 0 };
const size = (kind: 'rsa' | 'hybrid', count: number): number => manifestLengthFor({ metadata, recipients: Array.from({ length: count }, () => recipients[kind]) });
const ms = (x: number): number => Number(x.toFixed(3));
console.log(
  JSON.stringify(
    {
      node: process.version,
      cores: cpus().length,
      loadavg: { before: before.map((x) => x.toFixed(2)), after: loadavg().map((x) => x.toFixed(2)) },
      runs: { keygenRsa3072: rsaKeygenRuns, other: n },
      medianMs: {
        keygen: { rsa3072: ms(median(rsaGen)), mlkem768: ms(median(mlkemGen)) },
        wrap: { rsaOaep: ms(median(wrapMs.rsa)), hybrid: ms(median(wrapMs.hybrid)) },
        unwrap: { rsaOaep: ms(median(unwrapMs.rsa)), hybrid: ms(median(unwrapMs.hybrid)) },
      },
      manifestBytes: {
        perRecipient: { rsaOaep: size('rsa', 2) - size('rsa', 1), hybrid: size('hybrid', 2) - size('hybrid', 1) },
        oneRecipient: { rsaOaep: size('rsa', 1), hybrid: size('hybrid', 1) },
        sixtyFourRecipients: { rsaOaep: size('rsa', 64), hybrid: size('hybrid', 64) },
      },
    },
    null,
    2,
  ),
);
