/**
 * `npx tsx bench/manifest-open.ts [N]`: what opening one manifest costs the
 * owner, with the drive key (HKDF + AES-GCM unwrap, FORMAT.md §7.5) and with
 * the RSA-OAEP-3072 key alone (as before drive keys), in Node's WebCrypto.
 * The two are timed in alternating rounds of 50, so machine load falls on
 * both alike; the signature check and the MAC are in both.
 */
import { cpus, loadavg } from 'node:os';
import {
  driveKeyIdentity,
  driveKeyRecipient,
  finishManifest,
  generateIdentityKeys,
  newDriveKey,
  openManifest,
  rsaIdentity,
  rsaRecipient,
  sealDraft,
} from '../src/crypto/index.ts';

const n = Number(process.argv[2] ?? '400');
const keys = await generateIdentityKeys();
const { driveKey } = await newDriveKey(keys);
const files: { fileId: string; manifest: Uint8Array }[] = [];
for (let i = 0; i < n; i++) {
  const fileId = i.toString(16).padStart(32, '0');
  const draft = await sealDraft({
    fileId,
    metadata: { name: `f${i}.txt`, type: 'text/plain', size: 3, lastModified: 0 },
    recipients: [driveKeyRecipient(driveKey), rsaRecipient(keys.encrypt.publicKey)],
  });
  files.push({ fileId, manifest: await finishManifest(draft, { payloadDigest: new Uint8Array(32), signer: keys.sign }) });
}
const withDrive = [driveKeyIdentity(driveKey), rsaIdentity(keys.encrypt.privateKey)];
const rsaOnly = [rsaIdentity(keys.encrypt.privateKey)];
const spent = { drive: 0, rsa: 0 };
const before = loadavg();
for (let at = 0; at < n; at += 50) {
  const round = files.slice(at, at + 50);
  for (const [name, identities] of [['drive', withDrive], ['rsa', rsaOnly]] as const) {
    const t0 = performance.now();
    for (const f of round) await openManifest(f.manifest, identities, { fileId: f.fileId });
    spent[name] += performance.now() - t0;
  }
}
const per = (ms: number): string => `${((ms / n) * 1000).toFixed(0)} µs`;
console.log(
  JSON.stringify({
    manifests: n,
    perManifest: { driveKey: per(spent.drive), rsaOnly: per(spent.rsa) },
    ratio: Number((spent.rsa / spent.drive).toFixed(1)),
    cores: cpus().length,
    loadavg: { before: before.map((x) => x.toFixed(2)), after: loadavg().map((x) => x.toFixed(2)) },
    node: process.version,
  }),
);
