/**
 * The layer rules of eslint.config.js fire when an arrow points the wrong
 * way (and stay quiet for the allowed ones): ESLint's Node API lints small
 * fixture strings as if they sat at the given paths.
 */
import { ESLint } from 'eslint';
import ts from 'typescript-eslint';
import { describe, expect, it } from 'vitest';

// Type information is not needed for these rules, and the fixtures are not files.
const eslint = new ESLint({ cwd: process.cwd(), overrideConfig: [ts.configs.disableTypeChecked] });

async function messages(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports' || m.ruleId === 'no-restricted-syntax').map((m) => m.message);
}

describe('the layer lint rules', () => {
  it.each([
    ['src/crypto/fixture.ts', "import { x } from '../ui/x.ts';\nvoid x;", /src\/crypto imports nothing of ours/],
    ['src/crypto/fixture.ts', "import { ApiError } from '../contract/index.ts';\nvoid ApiError;", /src\/crypto imports nothing of ours/],
    ['src/contract/fixture.ts', "import { sealedSize } from '../crypto/index.ts';\nvoid sealedSize;", /src\/contract imports nothing of ours/],
    ['src/keys/fixture.ts', "import { getBlob } from '../storage/blob-rest.ts';\nvoid getBlob;", /keys imports only crypto and contract/],
    ['src/keys/fixture.ts', "import { ApiClient } from '../auth/api-client.ts';\nvoid ApiClient;", /keys imports only crypto and contract/],
    ['src/storage/fixture.ts', "import { toBase64 } from '../keys/base64.ts';\nvoid toBase64;", /storage imports only crypto, contract/],
    ['src/storage/fixture.ts', "import { x } from '../sw/sw.ts';\nvoid x;", /only the page↔worker message types/],
    ['src/auth/fixture.ts', "import { x } from '../storage/grants.ts';\nvoid x;", /auth imports only contract/],
    ['src/storage/fixture.ts', "import { x } from '../ui/base/handle-error.ts';\nvoid x;", /nothing below ui imports ui/],
    ['server/endpoint/api/fixture.ts', "import { x } from '../../../src/storage/grants.ts';\nvoid x;", /server\/ imports only src\/contract/],
    ['server/local/fixture.ts', "import { x } from '../../src/storage/grants.ts';\nvoid x;", /server\/ imports only src\/contract/],
    ['server/endpoint/api/fixture.ts', "import { startAzurite } from '../../local/azurite.ts';\nvoid startAzurite;", /server\/endpoint is what gets deployed/],
    ['server/endpoint/fixture.ts', "import { startLocalStack } from '../local/local-stack.ts';\nvoid startLocalStack;", /server\/endpoint is what gets deployed/],
    ['server/endpoint/storage/fixture.ts', "import { memoryStore } from '../../test-support/memory-store.ts';\nvoid memoryStore;", /server\/endpoint is what gets deployed/],
    ['server/endpoint/functions/fixture.ts', "import { writeFunctionsPackage } from '../../../tools/package-functions.ts';\nvoid writeFunctionsPackage;", /server\/endpoint is what gets deployed/],
    ['server/fixture.ts', "import { x } from '../src/crypto/index.ts';\nvoid x;", /server\/ imports only src\/contract/],
    ['src/ui/keys/fixture.ts', "void crypto.subtle.digest('SHA-256', new Uint8Array());", /Only src\/crypto calls crypto.subtle/],
    ['src/ui/keys/Fixture.svelte', "<script lang=\"ts\">\n  void globalThis.crypto.subtle.digest('SHA-256', new Uint8Array());\n</script>\n", /Only src\/crypto calls crypto.subtle/],
    ['src/keys/fixture.ts', 'const { subtle } = crypto;\nvoid subtle;', /Only src\/crypto calls crypto.subtle/],
    ['src/storage/fixture.ts', 'const s = window.crypto.subtle;\nvoid s;', /Only src\/crypto calls crypto.subtle/],
  ])('refuse %s: %s', async (filePath, code, expected) => {
    const found = await messages(filePath, code);
    expect(found.some((m) => expected.test(m)), found.join('\n')).toBe(true);
  });

  it.each([
    ['src/keys/fixture.ts', "import { ROUTES } from '../contract/index.ts';\nimport { fingerprint } from '../crypto/index.ts';\nvoid ROUTES; void fingerprint;"],
    ['src/storage/fixture.ts', "import { DOWNLOAD_PREFIX } from '../sw/messages.ts';\nvoid DOWNLOAD_PREFIX;"],
    ['server/endpoint/api/fixture.ts', "import { ROUTES } from '../../../src/contract/index.ts';\nimport { loadConfig } from '../config.ts';\nvoid ROUTES; void loadConfig;"],
    ['server/endpoint/api/fixture.test.ts', "import { startAzurite } from '../../local/azurite.ts';\nimport { call } from '../../test-support/test-api.ts';\nvoid startAzurite; void call;"],
    ['server/local/fixture.ts', "import { createApiFromConfig } from '../endpoint/api/from-config.ts';\nvoid createApiFromConfig;"],
    ['src/crypto/fixture.ts', "import { toHex } from './bytes.ts';\nvoid crypto.subtle.digest('SHA-256', toHex);"],
    ['src/ui/base/fixture.ts', "export const ok = typeof globalThis.crypto.subtle === 'object';"],
  ])('allow %s: %s', async (filePath, code) => {
    expect(await messages(filePath, code)).toEqual([]);
  });
});
