/**
 * Builds the token endpoint's Azure Functions package: `npm run
 * package:functions` writes `dist-functions/` (index.mjs, host.json,
 * package.json), the one folder to zip and deploy (docs/DEPLOY.md).
 *
 * The package is the bundle of `server/endpoint/functions/index.ts` and what
 * it imports, taken from one folder: `server/endpoint/` (plus the wire
 * contract `src/contract/` that the app shares, and node_modules). The local
 * stand-ins (identity provider, Azurite launcher and proxy, local stack,
 * static server) live in `server/local/`, the test helpers in
 * `server/test-support/`; the build refuses to write a package that took in
 * anything of the project from elsewhere, or a test.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { build, type BuildOptions, type Metafile } from 'esbuild';

const root = resolve(import.meta.dirname, '..');
/** Where `npm run package:functions` writes the package. */
export const FUNCTIONS_OUT_DIR = resolve(root, 'dist-functions');
/** The one folder of the project the package is built from. */
export const FUNCTIONS_SOURCE_DIR = 'server/endpoint';
/** The package's entry, relative to the project. */
export const FUNCTIONS_ENTRY = `${FUNCTIONS_SOURCE_DIR}/functions/index.ts`;
/** Shared with the app: the API's paths and schemas (imports nothing else of ours). */
const WIRE_CONTRACT_DIR = 'src/contract';

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

/** Thrown when the bundle would take in project code from outside {@link FUNCTIONS_SOURCE_DIR}. */
export class FunctionsPackageError extends Error {
  override name = 'FunctionsPackageError';
}

/**
 * The project files among `inputs` (relative, `/`-separated) that may not be
 * in the package: anything outside {@link FUNCTIONS_SOURCE_DIR} and the wire
 * contract, and any test. Empty when the package is clean.
 */
export function strayInputs(inputs: string[]): string[] {
  const allowed = (p: string): boolean => (p.startsWith(`${FUNCTIONS_SOURCE_DIR}/`) || p.startsWith(`${WIRE_CONTRACT_DIR}/`)) && !p.endsWith('.test.ts');
  return inputs.filter((p) => !allowed(p));
}

/** The project files of a build's metafile, node_modules left out, sorted. */
function projectInputs(metafile: Metafile | undefined): string[] {
  return Object.keys(metafile?.inputs ?? {})
    .map((p) => relative(root, resolve(root, p)).split('\\').join('/'))
    .filter((p) => !p.startsWith('node_modules/'))
    .sort();
}

/** The project files (relative paths, `/`-separated) the package is built from; node_modules left out. Rejects if the bundle fails. */
export async function functionsPackageInputs(): Promise<string[]> {
  const result = await build({ ...options, write: false, outfile: resolve(FUNCTIONS_OUT_DIR, 'index.mjs') });
  return projectInputs(result.metafile);
}

/** host.json: HTTP routes under /api (the default, stated), logs sampled. */
const HOST_JSON = {
  version: '2.0',
  extensions: { http: { routePrefix: 'api' } },
  logging: { applicationInsights: { samplingSettings: { isEnabled: true, excludedTypes: 'Request' } } },
};

/**
 * Writes the package to `outDir` (emptied first), bundling `entry` (the
 * endpoint's; a test names another); resolves the files written. Rejects with {@link FunctionsPackageError}, writing nothing, when
 * the bundle takes in project code from outside {@link FUNCTIONS_SOURCE_DIR}.
 */
export async function writeFunctionsPackage(outDir = FUNCTIONS_OUT_DIR, entry = FUNCTIONS_ENTRY): Promise<string[]> {
  const result = await build({ ...options, entryPoints: [resolve(root, entry)], write: false, outfile: resolve(outDir, 'index.mjs') });
  const stray = strayInputs(projectInputs(result.metafile));
  if (stray.length > 0) {
    throw new FunctionsPackageError(`The Functions package may take only ${FUNCTIONS_SOURCE_DIR}/ (and ${WIRE_CONTRACT_DIR}/), but it imports ${stray.join(', ')}.`);
  }
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  for (const file of result.outputFiles ?? []) {
    await mkdir(dirname(file.path), { recursive: true });
    await writeFile(file.path, file.contents);
  }
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
