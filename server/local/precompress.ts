/**
 * Precompression of the built app: every text file of `dist/` gets a
 * brotli (`.br`) and a gzip (`.gz`) copy beside it at build time (the Vite
 * plugin below), so the server sends compressed bytes without compressing
 * on each request (`server/local/static.ts` picks the copy the browser accepts).
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import type { Plugin } from 'vite';

const brotli = promisify(brotliCompress);
const gz = promisify(gzip);

/** Extensions worth compressing (text); images and fonts are compressed already. */
export const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.json', '.webmanifest', '.svg', '.txt', '.map']);

/** Files smaller than this are sent as they are: the saving would not pay for a second file. */
export const MIN_COMPRESS_BYTES = 1024;

/** The encodings made at build time, in the order the server prefers them. */
export const PRECOMPRESSED = [
  { encoding: 'br', suffix: '.br' },
  { encoding: 'gzip', suffix: '.gz' },
] as const;

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(path)));
    else out.push(path);
  }
  return out;
}

/**
 * Writes `<file>.br` (brotli, best quality) and `<file>.gz` (gzip level 9)
 * beside every compressible file of at least {@link MIN_COMPRESS_BYTES}
 * under `dir`, skipping a copy that would not be smaller. Returns how many
 * copies it wrote. Throws file system errors.
 */
export async function precompressDir(dir: string): Promise<number> {
  let written = 0;
  for (const file of await filesUnder(dir)) {
    if (!COMPRESSIBLE.has(extname(file).toLowerCase())) continue;
    const bytes = await readFile(file);
    if (bytes.length < MIN_COMPRESS_BYTES) continue;
    const copies = await Promise.all([
      brotli(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length } }),
      gz(bytes, { level: constants.Z_BEST_COMPRESSION }),
    ]);
    for (const [i, { suffix }] of PRECOMPRESSED.entries()) {
      const copy = copies[i];
      if (copy === undefined || copy.length >= bytes.length) continue;
      await writeFile(`${file}${suffix}`, copy);
      written++;
    }
  }
  return written;
}

/**
 * A Vite plugin that precompresses the whole output folder once the build
 * (and the service worker build, which also ends in `closeBundle`) is done.
 */
export function precompressPlugin(): Plugin {
  let outDir = 'dist';
  return {
    name: 'sealdrop-precompress',
    apply: 'build',
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
    },
    closeBundle: {
      order: 'post',
      sequential: true,
      async handler() {
        await precompressDir(outDir);
      },
    },
  };
}
