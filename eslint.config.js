import js from '@eslint/js';
import ts from 'typescript-eslint';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';

// ---- Layers (STYLE.md "The house"), enforced ----
// Allowed arrows, and only these:
//   ui → sharing, storage, keys, auth, sw, crypto, contract
//   sharing → storage, keys, crypto, contract     (it composes them; never ui or auth)
//   storage → crypto, contract, sw/messages.ts    (the page↔worker message union)
//   keys → crypto, contract                       (key material goes through the API client,
//                                                  handed in as a structural KeyApi: no storage)
//   auth → contract
//   sw → crypto, contract
//   crypto → nothing of ours;  contract → nothing of ours (zod only)
//   server/ → src/contract only (server/storage-transport.test.ts and server/reseal-flow.azurite.test.ts
//             drive the browser code against Azurite and are the exceptions)
//   server/endpoint (deployed) → never server/local, server/test-support or tools (dev-only);
//             its tests may (STYLE.md habit 13, docs/DEPLOY.md "Code layout")
// storage, keys and auth never import each other: what they share is in contract.
const MATH_RANDOM = { selector: "MemberExpression[object.name='Math'][property.name='random']", message: 'Use crypto.getRandomValues for anything random.' };
const SUBTLE_MESSAGE = 'Only src/crypto calls crypto.subtle: ask the crypto core for what you need.';
const NO_SUBTLE = [
  // crypto.subtle.x(), globalThis.crypto.subtle.x(), window.crypto.subtle.x(), …
  { selector: "CallExpression > MemberExpression.callee > MemberExpression.object[property.name='subtle']", message: SUBTLE_MESSAGE },
  // const s = crypto.subtle;  const { subtle } = crypto;
  { selector: "VariableDeclarator > MemberExpression.init[property.name='subtle']", message: SUBTLE_MESSAGE },
  { selector: "VariableDeclarator > ObjectPattern.id > Property[key.name='subtle']", message: SUBTLE_MESSAGE },
];
const LAYER = 'Layers point one way (see eslint.config.js and STYLE.md):';
/** A no-restricted-imports rule forbidding the given groups of (relative) import paths. */
const forbid = (...groups) => ['error', { patterns: groups.map(([group, why]) => ({ group, message: `${LAYER} ${why}` })) }];
const UP_TO_UI = [['../ui', '../ui/**', '../../ui/**'], 'nothing below ui imports ui.'];
const UP_TO_SHARING = [['../sharing', '../sharing/**'], 'only ui imports sharing.'];
const SERVER_TO_SRC = [['**/src/**', '!**/src/contract', '!**/src/contract/**'], 'server/ imports only src/contract from src/.'];
const ENDPOINT_TO_DEV_ONLY = [
  ['**/local', '**/local/**', '**/test-support', '**/test-support/**', '**/tools/**', '**/e2e/**', '**/bench/**'],
  'server/endpoint is what gets deployed: it never imports dev-only code (server/local, server/test-support, tools); only its tests may.',
];

export const layerRules = [
  { files: ['src/crypto/**'], rules: { 'no-restricted-imports': forbid([['../*', '../**', 'svelte', 'svelte/**'], 'src/crypto imports nothing of ours (and no Svelte).']) } },
  { files: ['src/contract/**'], rules: { 'no-restricted-imports': forbid([['../*', '../**'], 'src/contract imports nothing of ours (zod only).']) } },
  {
    files: ['src/keys/**'],
    rules: {
      'no-restricted-imports': forbid(
        [['../storage', '../storage/**', '../auth', '../auth/**', '../sw', '../sw/**'], 'keys imports only crypto and contract; storage and auth are its siblings.'],
        UP_TO_SHARING,
        UP_TO_UI,
      ),
    },
  },
  {
    files: ['src/storage/**'],
    rules: {
      'no-restricted-imports': forbid(
        [['../keys', '../keys/**', '../auth', '../auth/**'], 'storage imports only crypto, contract and sw/messages.ts; keys and auth are its siblings.'],
        [['../sw/**', '!../sw/messages.ts'], 'storage may use only the page↔worker message types of sw.'],
        UP_TO_SHARING,
        UP_TO_UI,
      ),
    },
  },
  {
    files: ['src/auth/**'],
    rules: {
      'no-restricted-imports': forbid(
        [['../keys', '../keys/**', '../storage', '../storage/**', '../crypto', '../crypto/**', '../sw', '../sw/**'], 'auth imports only contract.'],
        UP_TO_SHARING,
        UP_TO_UI,
      ),
    },
  },
  { files: ['src/sharing/**'], rules: { 'no-restricted-imports': forbid([['../auth', '../auth/**'], 'sharing takes the API client as an interface, never auth.'], UP_TO_UI) } },
  { files: ['src/sw/**'], rules: { 'no-restricted-imports': forbid([['../keys', '../keys/**', '../auth', '../auth/**'], 'the service worker holds no keys and no sign-in.'], UP_TO_SHARING, UP_TO_UI) } },
  {
    files: ['server/**/*.ts'],
    ignores: ['server/storage-transport.test.ts', 'server/reseal-flow.azurite.test.ts'],
    rules: { 'no-restricted-imports': forbid(SERVER_TO_SRC) },
  },
  {
    // The deployed code: a rule for the same files replaces the one above, so it repeats SERVER_TO_SRC.
    files: ['server/endpoint/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: { 'no-restricted-imports': forbid(SERVER_TO_SRC, ENDPOINT_TO_DEV_ONLY) },
  },
  {
    files: ['src/ui/**', 'src/storage/**', 'src/keys/**', 'src/auth/**', 'src/sharing/**', 'src/contract/**', 'src/sw/**'],
    ignores: ['**/*.test.ts'],
    rules: { 'no-restricted-syntax': ['error', MATH_RANDOM, ...NO_SUBTLE] },
  },
];

export default ts.config(
  { ignores: ['dist/', 'node_modules/', '.sealdrop/', 'test-results/', 'playwright-report/', 'bench/results/', 'dev-dist/', 'dist-functions/'] },
  js.configs.recommended,
  ...ts.configs.recommended,
  ...svelte.configs.recommended,
  {
    languageOptions: {
      globals: { ...globals.browser, ...globals.node },
      parserOptions: {
        projectService: true,
        extraFileExtensions: ['.svelte'],
        tsconfigRootDir: import.meta.dirname,
      },
    },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: ts.parser } },
  },
  {
    files: ['**/*.ts', '**/*.svelte'],
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': ['error', MATH_RANDOM],
    },
  },
  ...layerRules,
  {
    files: ['**/*.js', '**/*.mjs'],
    ...ts.configs.disableTypeChecked,
  },
);
