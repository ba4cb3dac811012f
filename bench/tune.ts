/**
 * `--tune`: tries segment size × block size × requests in flight for
 * Sealdrop's upload and download at one file size, against plain references
 * measured before and after the grid, and prints a table sorted by speed.
 */
import { join } from 'node:path';
import type { BenchStorage } from './bench-storage.ts';
import { formatSize } from './options.ts';
import type { Measured, PageDriver } from './page-driver.ts';
import type { TransferParams } from './results-schema.ts';
import { writeRandomFile } from './source-file.ts';

const MiB = 1024 * 1024;
const SEGMENT_SIZES = [256 * 1024, MiB, 4 * MiB];
const BLOCK_BYTES = [4 * MiB, 8 * MiB, 16 * MiB];
const IN_FLIGHT = [2, 4, 8];

function speed(m: Measured): number {
  return m.result.bytes / MiB / (m.result.ms / 1000);
}

/**
 * Runs the grid and prints one line per combination (upload uses
 * `concurrency`, download `downloadConcurrency`, both set to the same value).
 * Throws when a page operation fails.
 */
export async function runTune(opts: {
  driver: PageDriver;
  storage: BenchStorage;
  sizeBytes: number;
  base: TransferParams;
  log: (line: string) => void;
  tempDir: string;
}): Promise<void> {
  const { driver, storage, sizeBytes, log } = opts;
  const sourcePath = join(opts.tempDir, 'tune-source.bin');
  await writeRandomFile(sourcePath, sizeBytes);
  await driver.useSourceFile(sourcePath, sizeBytes);
  const plain = async (): Promise<{ up: number; down: number }> => {
    const url = storage.plainUrl('tune');
    const up = speed(await driver.plainUpload(url));
    const down = speed(await driver.plainDownload(url, false));
    await storage.deleteAll();
    return { up, down };
  };
  const before = await plain();
  const rows: { label: string; up: number; down: number }[] = [];
  let n = 0;
  for (const segmentSize of SEGMENT_SIZES) {
    for (const blockBytes of BLOCK_BYTES) {
      for (const inFlight of IN_FLIGHT) {
        const params: TransferParams = {
          segmentSize,
          segmentsPerBlock: Math.max(1, Math.floor(blockBytes / segmentSize)),
          concurrency: inFlight,
          downloadConcurrency: inFlight,
        };
        const key = `tune-${n++}`;
        const up = speed(await driver.sealUpload(key, storage.sealedUrls(), params));
        const down = speed(await driver.openDownload(key, false));
        await storage.deleteAll();
        const label = `segment ${formatSize(segmentSize)}, block ${formatSize(blockBytes)}, ${inFlight} in flight`;
        log(`${label}: up ${up.toFixed(1)} MiB/s, down ${down.toFixed(1)} MiB/s`);
        rows.push({ label, up, down });
      }
    }
  }
  const after = await plain();
  const plainUp = (before.up + after.up) / 2;
  const plainDown = (before.down + after.down) / 2;
  console.log(`Tuning at ${formatSize(sizeBytes)}; plain upload ${before.up.toFixed(1)} / ${after.up.toFixed(1)} MiB/s, plain download ${before.down.toFixed(1)} / ${after.down.toFixed(1)} MiB/s (before / after)`);
  console.log('combination | seal+upload MiB/s (× plain) | download+open MiB/s (× plain)');
  for (const r of rows.sort((a, b) => b.up / plainUp + b.down / plainDown - (a.up / plainUp + a.down / plainDown))) {
    console.log(`${r.label} | ${r.up.toFixed(1)} (${(r.up / plainUp).toFixed(2)}) | ${r.down.toFixed(1)} (${(r.down / plainDown).toFixed(2)})`);
  }
  await driver.dropData();
}
