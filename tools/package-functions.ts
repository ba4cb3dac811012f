/**
 * Builds the token endpoint's Azure Functions package: `npm run
 * package:functions` writes `dist-functions/` (index.mjs, host.json,
 * package.json), the one folder to zip and deploy (docs/DEPLOY.md).
 *
 * The package is the bundle of `server/functions/index.ts` and what it
 * imports, and nothing else: the local stand-ins (identity provider,
 * Azurite launcher and proxy, local stack, static server) and the tests sit
 * beside the deployable code in `server/` but are never imported by it, so
 * they cannot reach the package. `functionsPackageInputs` lets a test check
 * exactly that.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import { build, type BuildOptions } from 'esbuild';

const root = resolve(import.meta.dirname, '..');
/** Where `npm run package:functions` writes the package. */
export const FUNCTIONS_OUT_DIR = resolve(root, 'dist-functions');
/** The package's entry, relative to the project. */
export const FUNCTIONS_ENTRY = 'server/endpoint/functions/index.ts';

/** Node major version the Functions app runs (Bicep's `linuxFxVersion` and `engines` say the same). */
export const FUNCTIONS_NODE_MAJOR = 22;

const options: BuildOptions = {
  entryPoints: [resolve(root, FUNCTIONS_ENTRY)],
  bundle: true,
  platform: 'node',
  target: `node${FUNCTIONS_NODE_MAJOR}`,
  format: 'esm',
  // Provided by the Functions worker at run time, not an npm package.
  external: ['@azure/functions-core'],
  // CommonJS dependencies bundled into an ES module still call require().
  banner: { js: "import { createRequire as __sealdropRequire } from 'node:module'; const require = __sealdropRequire(import.meta.url);" },
  sourcemap: false,
  legalComments: 'linked',
  logLevel: 'warning',
  metafile: true,
};

/** The project files (relative paths, `/`-separated) the package is built from; node_modules left out. Rejects if the bundle fails. */
export async function functionsPackageInputs(): Promise<string[]> {
  const result = await build({ ...options, write: false, outfile: resolve(FUNCTIONS_OUT_DIR, 'index.mjs') });
  return Object.keys(result.metafile?.inputs ?? {})
    .map((p) => relative(root, resolve(root, p)).split('\\').join('/'))
    .filter((p) => !p.startsWith('node_modules/'))
    .sort();
}

/** host.json: HTTP routes under /api (the default, stated), logs sampled. */
const HOST_JSON = {
  version: '2.0',
  extensions: { http: { routePrefix: 'api' } },
  logging: { applicationInsights: { samplingSettings: { isEnabled: true, excludedTypes: 'Request' } } },
};

/** Writes the package to `outDir` (emptied first); resolves the files written. */
export async function writeFunctionsPackage(outDir = FUNCTIONS_OUT_DIR): Promise<string[]> {
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  await build({ ...options, outfile: resolve(outDir, 'index.mjs') });
  await writeFile(resolve(outDir, 'host.json'), `${JSON.stringify(HOST_JSON, null, 2)}\n`);
  await writeFile(
    resolve(outDir, 'package.json'),
    `${JSON.stringify({ name: 'sealdrop-token-endpoint', private: true, type: 'module', main: 'index.mjs', engines: { node: `>=${FUNCTIONS_NODE_MAJOR}` } }, null, 2)}\n`,
  );
  return ['index.mjs', 'host.json', 'package.json'];
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  try {
    const files = await writeFunctionsPackage();
    process.stdout.write(`Wrote the Functions package to ${relative(process.cwd(), FUNCTIONS_OUT_DIR)}/ (${files.join(', ')}): zip its contents and deploy them (docs/DEPLOY.md).\n`);
  } catch (err) {
    process.stderr.write(`The Functions package could not be built: ${err instanceof Error ? err.message.split('\n')[0] : 'no reason given'}\n`);
    process.exitCode = 1;
  }
}
