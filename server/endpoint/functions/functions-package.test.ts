/**
 * The Functions package takes the deployable code and nothing else, and it
 * starts: built for real with esbuild (tools/package-functions.ts) and run
 * with Node, which is what the Functions worker does with `main`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FUNCTIONS_NODE_MAJOR,
  FUNCTIONS_SOURCE_DIR,
  FunctionsPackageError,
  functionsPackageInputs,
  strayInputs,
  writeFunctionsPackage,
} from '../../../tools/package-functions.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sealdrop-functions-'));
  await writeFunctionsPackage(dir);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the Functions package', () => {
  it('is built from one folder, server/endpoint/, plus the wire contract: no local stand-in, launcher, test helper or test', async () => {
    const inputs = await functionsPackageInputs();
    expect(FUNCTIONS_SOURCE_DIR).toBe('server/endpoint');
    expect(inputs).toContain('server/endpoint/functions/index.ts');
    expect(inputs).toContain('server/endpoint/api/functions-adapter.ts');
    expect(strayInputs(inputs)).toEqual([]);
    expect(inputs.filter((p) => !p.startsWith('server/endpoint/') && !p.startsWith('src/contract/'))).toEqual([]);
    // The container host's entry and adapter sit in the folder, but the Functions entry does not import them.
    expect(inputs).not.toContain('server/endpoint/api/serve.ts');
    expect(inputs).not.toContain('server/endpoint/api/node-adapter.ts');
  });

  it('names every project file from outside the folder, and every test, as stray', () => {
    const inputs = [
      'server/endpoint/config.ts',
      'src/contract/index.ts',
      'server/local/azurite.ts',
      'server/test-support/test-api.ts',
      'server/endpoint/config.test.ts',
      'src/crypto/index.ts',
      'tools/swa-config.ts',
    ];
    expect(strayInputs(inputs)).toEqual(['server/local/azurite.ts', 'server/test-support/test-api.ts', 'server/endpoint/config.test.ts', 'src/crypto/index.ts', 'tools/swa-config.ts']);
  });

  it('refuses to write a package whose entry reaches dev-only code, and writes nothing', async () => {
    const out = await mkdtemp(join(tmpdir(), 'sealdrop-functions-stray-'));
    try {
      const attempt = writeFunctionsPackage(join(out, 'pkg'), 'server/local/local-stack-api.ts');
      await expect(attempt).rejects.toThrow(FunctionsPackageError);
      await expect(attempt).rejects.toThrow(/may take only server\/endpoint\/ .* but it imports server\/local\/local-stack-api\.ts/);
      expect(await readdir(out)).toEqual([]);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });

  it('holds one folder: the bundle, host.json with routes under /api, and a package.json naming the bundle', async () => {
    expect((await readdir(dir)).sort()).toEqual(['host.json', 'index.mjs', 'index.mjs.LEGAL.txt', 'package.json']);
    expect(JSON.parse(await readFile(join(dir, 'host.json'), 'utf8'))).toMatchObject({ version: '2.0', extensions: { http: { routePrefix: 'api' } } });
    expect(JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'))).toMatchObject({ type: 'module', main: 'index.mjs' });
  });

  it('targets the Node LTS the template deploys, one the project supports (22 or 24)', async () => {
    const root = resolve(import.meta.dirname, '../../..');
    const bicep = await readFile(join(root, 'deploy/main.bicep'), 'utf8');
    expect(bicep).toMatch(new RegExp(`runtime: \\{ name: 'node', version: '${FUNCTIONS_NODE_MAJOR}' \\}`));
    expect([22, 24]).toContain(FUNCTIONS_NODE_MAJOR);
    const engines = (JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
    expect(engines.split('||').map((r) => r.trim())).toContainEqual(expect.stringMatching(new RegExp(`^(\\^|>=)${FUNCTIONS_NODE_MAJOR}(\\.|$)`)));
    expect(JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'))).toMatchObject({ engines: { node: `>=${FUNCTIONS_NODE_MAJOR}` } });
  });

  it('refuses to start without its settings, naming the variables and no value', () => {
    const run = spawnSync(process.execPath, [join(dir, 'index.mjs')], { env: { PATH: process.env.PATH ?? '' }, encoding: 'utf8', timeout: 20_000 });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('SEALDROP_OIDC_ISSUER is missing');
    expect(run.stderr).toContain('SEALDROP_DIRECTORY_KEY is missing');
  });

  it('starts with valid settings and registers the API (outside Azure the package says it is in test mode)', () => {
    const env = {
      PATH: process.env.PATH ?? '',
      SEALDROP_STORAGE_MODE: 'userDelegation',
      SEALDROP_BLOB_ENDPOINT: 'https://acct.blob.core.windows.net',
      SEALDROP_STORAGE_ACCOUNT: 'acct',
      SEALDROP_OIDC_ISSUER: 'https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/v2.0',
      SEALDROP_DIRECTORY_KEY: Buffer.alloc(32, 7).toString('base64'),
    };
    const run = spawnSync(process.execPath, [join(dir, 'index.mjs')], { env, encoding: 'utf8', timeout: 20_000 });
    expect(run.stderr).toContain('Skipping call to register function "api"');
    expect(run.status).toBe(0);
  });
});
