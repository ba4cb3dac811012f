/**
 * Gzipped size of the app shell's initial JavaScript and of every lazy chunk.
 *
 * The initial JavaScript is what `index.html` loads before any user action:
 * its module scripts and modulepreload links. Every other `.js` file under
 * `assets/` is loaded on demand (or belongs to another entry, such as the
 * MSAL redirect bridge) and is listed apart. Gzip at level 9, as a static
 * host or CDN would serve it.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { gzipSync, constants } from 'node:zlib';

/** One JavaScript file of the build with its sizes. */
export interface ChunkSize {
  file: string;
  rawBytes: number;
  gzipBytes: number;
}

/** The JavaScript one first screen loads (gzipped), from the build's manifest. */
export interface FirstScreen {
  screen: string;
  gzipBytes: number;
  files: string[];
}

/** What `measureShell` returns. */
export interface ShellSize {
  /**
   * What each first screen loads: the entry's static imports, plus the
   * chunks the app imports on demand that this screen always needs (see
   * FIRST_SCREENS). Empty when the build has no `.vite/manifest.json`.
   */
  firstScreens?: FirstScreen[];
  gzipLevel: number;
  /** Sum of `initial[].gzipBytes`. */
  shellGzipBytes: number;
  initial: ChunkSize[];
  /** Chunks loaded on demand by the app, largest first. */
  lazy: ChunkSize[];
  /** JavaScript loaded by other HTML entries or the service worker, never by the shell. */
  otherEntries: ChunkSize[];
}

const GZIP_LEVEL = constants.Z_BEST_COMPRESSION;

/**
 * The modules (Vite manifest keys) each first screen imports on demand as
 * soon as it starts, besides `index.html`'s own imports. The sign-in page
 * needs nothing more: it loads MSAL only when this browser has a session or
 * a sign-in coming back (src/auth/session.svelte.ts), i.e. never on a first
 * visit. "My files" (signed in) needs MSAL for its tokens and everything
 * behind sign-in (SignedInView and what it imports statically).
 */
const FIRST_SCREENS: readonly { screen: string; dynamic: readonly string[] }[] = [
  { screen: 'sign-in page (first visit)', dynamic: [] },
  { screen: 'My files (signed in)', dynamic: ['node_modules/@azure/msal-browser/dist/index.mjs', 'src/ui/SignedInView.svelte'] },
];

type ViteManifest = Record<string, { file: string; imports?: string[] }>;

/** The files `keys` load, following static imports. Throws when a key is missing from the manifest. */
function closure(manifest: ViteManifest, keys: readonly string[]): string[] {
  const seen = new Set<string>();
  const stack = [...keys];
  for (let key = stack.pop(); key !== undefined; key = stack.pop()) {
    if (seen.has(key)) continue;
    const chunk = manifest[key];
    if (chunk === undefined) throw new Error(`The build's manifest has no ${key}: update FIRST_SCREENS in bench/shell-size.ts.`);
    seen.add(key);
    stack.push(...(chunk.imports ?? []));
  }
  return [...new Set([...seen].map((k) => manifest[k]?.file ?? ''))].filter((f) => /\.m?js$/.test(f));
}

function scriptsOf(html: string): string[] {
  const found: string[] = [];
  for (const tag of html.match(/<(script|link)\b[^>]*>/gi) ?? []) {
    const isModuleScript = /^<script/i.test(tag) && /\btype=["']?module/i.test(tag);
    const isPreload = /^<link/i.test(tag) && /\brel=["']?modulepreload/i.test(tag);
    const src = /\b(?:src|href)=["']([^"']+)["']/i.exec(tag)?.[1];
    if ((isModuleScript || isPreload) && src !== undefined && /\.m?js$/.test(src)) found.push(src.replace(/^\//, ''));
  }
  return found;
}

async function sizeOf(distDir: string, file: string): Promise<ChunkSize> {
  const bytes = await readFile(join(distDir, file));
  return { file, rawBytes: bytes.length, gzipBytes: gzipSync(bytes, { level: GZIP_LEVEL }).length };
}

async function jsFiles(dir: string, root: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await jsFiles(path, root)));
    else if (/\.m?js$/.test(entry.name)) out.push(relative(root, path));
  }
  return out;
}

/**
 * Returns the gzipped sizes of a Vite build in `distDir`. Throws when
 * `index.html` is missing or loads no module script.
 */
export async function measureShell(distDir: string): Promise<ShellSize> {
  const indexHtml = await readFile(join(distDir, 'index.html'), 'utf8');
  const initialFiles = scriptsOf(indexHtml);
  if (initialFiles.length === 0) throw new Error(`${distDir}/index.html loads no module script.`);

  const otherEntryFiles = new Set<string>();
  for (const entry of await readdir(distDir)) {
    if (entry.endsWith('.html') && entry !== 'index.html') {
      for (const f of scriptsOf(await readFile(join(distDir, entry), 'utf8'))) otherEntryFiles.add(f);
    }
  }
  const all = await jsFiles(distDir, distDir);
  // Service worker scripts (vite-plugin-pwa's sw.js / sw.mjs, workbox-*.js) sit at the top level.
  for (const f of all) if (!f.startsWith('assets/')) otherEntryFiles.add(f);

  const initial = await Promise.all(initialFiles.map((f) => sizeOf(distDir, f)));
  const rest = all.filter((f) => !initialFiles.includes(f));
  const lazy = await Promise.all(rest.filter((f) => !otherEntryFiles.has(f)).map((f) => sizeOf(distDir, f)));
  const otherEntries = await Promise.all(rest.filter((f) => otherEntryFiles.has(f)).map((f) => sizeOf(distDir, f)));
  lazy.sort((a, b) => b.gzipBytes - a.gzipBytes);

  const manifestText = await readFile(join(distDir, '.vite', 'manifest.json'), 'utf8').catch(() => null);
  let firstScreens: FirstScreen[] | undefined;
  if (manifestText !== null) {
    const manifest = JSON.parse(manifestText) as ViteManifest;
    const bySize = new Map([...initial, ...lazy, ...otherEntries].map((c) => [c.file, c.gzipBytes]));
    firstScreens = FIRST_SCREENS.map(({ screen, dynamic }) => {
      const files = closure(manifest, ['index.html', ...dynamic]);
      return { screen, files, gzipBytes: files.reduce((sum, f) => sum + (bySize.get(f) ?? Number.NaN), 0) };
    });
  }
  return {
    ...(firstScreens === undefined ? {} : { firstScreens }),
    gzipLevel: GZIP_LEVEL,
    shellGzipBytes: initial.reduce((sum, c) => sum + c.gzipBytes, 0),
    initial,
    lazy,
    otherEntries,
  };
}
