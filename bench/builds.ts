/**
 * The two Vite builds the bench needs: the bench page (bench/page) and the
 * app itself (for the shell's gzipped size). Both go to temp folders so the
 * bench never touches `dist/`, which other commands own.
 */
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const projectRoot = fileURLToPath(new URL('..', import.meta.url));

/** Builds bench/page into `outDir` (emptied first). Throws Vite's error on failure. */
export async function buildBenchPage(outDir: string): Promise<void> {
  await build({
    configFile: false,
    root: fileURLToPath(new URL('./page', import.meta.url)),
    logLevel: 'warn',
    build: { outDir, emptyOutDir: true, target: 'es2022', sourcemap: false, reportCompressedSize: false },
  });
}

/** Builds the app with the project's vite.config.ts into `outDir` (emptied first). Throws Vite's error on failure. */
export async function buildApp(outDir: string): Promise<void> {
  await build({
    root: projectRoot,
    configFile: fileURLToPath(new URL('../vite.config.ts', import.meta.url)),
    logLevel: 'warn',
    // The manifest tells the shell measurement which chunk imports which (bench/shell-size.ts).
    build: { outDir, emptyOutDir: true, reportCompressedSize: false, manifest: true },
  });
}
