/**
 * `npm run bench -- --breakdown [--sizes 1MiB,16MiB]`: where the time of a
 * small or medium upload goes. For each size: one warm-up, then `repeats`
 * traced seal-and-uploads alternating with the SDK's plain upload of the
 * same file; prints the run with the median total, step by step (the app's
 * trace hook) with every storage request it made, and the crypto steps
 * timed alone. Writes bench/results/breakdown.json. Not part of the smoke run.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { BenchStorage } from './bench-storage.ts';
import { formatSize } from './options.ts';
import type { PageDriver } from './page-driver.ts';
import type { TransferParams } from './results-schema.ts';
import { writeRandomFile } from './source-file.ts';

interface BreakdownContext {
  driver: PageDriver;
  storage: BenchStorage;
  params: TransferParams;
  sizes: number[];
  repeats: number;
  tempDir: string;
  outPath: string;
  log: (line: string) => void;
}

const MiB = 1024 * 1024;

/** Runs the breakdown and prints it; returns 0, or 1 when an upload failed. */
export async function runBreakdown(ctx: BreakdownContext): Promise<number> {
  const { driver, storage, params, log } = ctx;
  const out: unknown[] = [];
  const crypto = await driver.cryptoSteps(7);
  const lines: string[] = ['', 'Crypto steps alone (median of 7):'];
  for (const [name, ms] of Object.entries(crypto)) lines.push(`  ${ms.toFixed(2).padStart(8)} ms  ${name}`);
  for (const size of ctx.sizes) {
    const label = formatSize(size);
    const path = join(ctx.tempDir, `breakdown-${size}.bin`);
    await writeRandomFile(path, size);
    await driver.useSourceFile(path, size);
    await driver.sealUploadTraced(storage.sealedUrls(), params); // warm-up
    const traced: Awaited<ReturnType<PageDriver['sealUploadTraced']>>[] = [];
    const plain: number[] = [];
    for (let rep = 0; rep < ctx.repeats; rep++) {
      const sealed = async (): Promise<void> => {
        traced.push(await driver.sealUploadTraced(storage.sealedUrls(), params));
      };
      const sdk = async (): Promise<void> => {
        const m = await driver.plainUpload(storage.plainUrl(`breakdown-${rep}`));
        plain.push(m.result.ms);
      };
      for (const op of rep % 2 === 0 ? [sdk, sealed] : [sealed, sdk]) await op();
      await storage.deleteAll();
    }
    await driver.dropData();
    await rm(path, { force: true });
    traced.sort((a, b) => a.totalMs - b.totalMs);
    const mid = traced[Math.floor(traced.length / 2)];
    const plainMs = [...plain].sort((a, b) => a - b)[Math.floor(plain.length / 2)] ?? Number.NaN;
    if (mid === undefined) return 1;
    lines.push(
      '',
      `${label}: seal+upload ${mid.totalMs.toFixed(1)} ms (median of ${traced.length}; all: ${traced.map((t) => t.totalMs.toFixed(0)).join(', ')}), ` +
        `SDK uploadData ${plainMs.toFixed(1)} ms (all: ${plain.map((p) => p.toFixed(0)).join(', ')}); ` +
        `${(size / MiB / (mid.totalMs / 1000)).toFixed(1)} vs ${(size / MiB / (plainMs / 1000)).toFixed(1)} MiB/s`,
      '  steps (ms since sendFile was called):',
    );
    for (const s of mid.steps) lines.push(`  ${s.atMs.toFixed(1).padStart(8)}  ${s.step}`);
    lines.push('  storage requests (start – end, duration):');
    for (const r of mid.requests) {
      lines.push(`  ${r.startMs.toFixed(1).padStart(8)} – ${r.endMs.toFixed(1).padStart(8)} (${(r.endMs - r.startMs).toFixed(1).padStart(7)})  ${r.kind}`);
    }
    out.push({ sizeBytes: size, sealUploadMs: traced.map((t) => t.totalMs), plainUploadMs: plain, median: mid });
    log(`${label}: done`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  await mkdir(dirname(ctx.outPath), { recursive: true });
  await writeFile(ctx.outPath, `${JSON.stringify({ date: new Date().toISOString(), params, crypto, sizes: out }, null, 2)}\n`);
  process.stdout.write(`\nJSON: ${ctx.outPath}\n`);
  return 0;
}
