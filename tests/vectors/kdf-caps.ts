/**
 * Measures what one passphrase attempt costs at the KDF caps (and at the
 * defaults), in Node and in headless Chromium, to choose the caps in
 * docs/FORMAT.md §6.2. A tool, not a test:
 *
 *   npx tsx tests/vectors/kdf-caps.ts [rounds]
 *
 * scrypt runs in hash-wasm (WebAssembly) as the app does; PBKDF2 in WebCrypto.
 * Prints milliseconds per attempt, the median of `rounds` runs, and the load
 * average so a run on a busy machine can be told from a quiet one.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { chromium } from '@playwright/test';
import { chromiumArgs, chromiumPath } from '../chromium.ts';

interface Case {
  name: string;
  kdf: 'scrypt' | 'pbkdf2';
  logN?: number;
  r?: number;
  p?: number;
  iterations?: number;
}

const CASES: Case[] = [
  { name: 'scrypt default logN 17 r 8 p 1 (128 MiB)', kdf: 'scrypt', logN: 17, r: 8, p: 1 },
  { name: 'scrypt logN 18 r 8 p 1 (256 MiB)', kdf: 'scrypt', logN: 18, r: 8, p: 1 },
  { name: 'scrypt logN 17 r 8 p 2 (work 256 MiB)', kdf: 'scrypt', logN: 17, r: 8, p: 2 },
  { name: 'scrypt logN 18 r 8 p 2 (work 512 MiB)', kdf: 'scrypt', logN: 18, r: 8, p: 2 },
  { name: 'pbkdf2 600,000', kdf: 'pbkdf2', iterations: 600_000 },
  { name: 'pbkdf2 5,000,000', kdf: 'pbkdf2', iterations: 5_000_000 },
  { name: 'pbkdf2 10,000,000', kdf: 'pbkdf2', iterations: 10_000_000 },
];
const ROUNDS = Number(process.argv[2] ?? 3);

type ScryptFn = (o: {
  password: Uint8Array;
  salt: Uint8Array;
  costFactor: number;
  blockSize: number;
  parallelism: number;
  hashLength: number;
  outputType: 'binary';
}) => Promise<Uint8Array>;

/** Returns the median milliseconds per case; runs in Node and in the page alike. */
async function measure(cases: Case[], rounds: number, scrypt: ScryptFn): Promise<Record<string, number>> {
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  const password = new TextEncoder().encode('a passphrase to measure');
  const salt = new Uint8Array(32);
  const out: Record<string, number> = {};
  for (const c of cases) {
    const runs: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const t = performance.now();
      if (c.kdf === 'scrypt') {
        await scrypt({
          password,
          salt,
          costFactor: 2 ** (c.logN ?? 0),
          blockSize: c.r ?? 0,
          parallelism: c.p ?? 0,
          hashLength: 32,
          outputType: 'binary',
        });
      } else {
        const base = await crypto.subtle.importKey('raw', password, 'PBKDF2', false, ['deriveBits']);
        await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations: c.iterations ?? 0 }, base, 256);
      }
      runs.push(performance.now() - t);
    }
    out[c.name] = Math.round(median(runs));
  }
  return out;
}

const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');
const loadBefore = load();
const { scrypt } = await import('hash-wasm');
const node = await measure(CASES, ROUNDS, scrypt as ScryptFn);
const loadAfterNode = load();

const browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
const page = await browser.newPage();
const scryptJs = readFileSync(new URL('../../node_modules/hash-wasm/dist/scrypt.umd.min.js', import.meta.url), 'utf8');
await page.route('http://localhost/', (route) => route.fulfill({ contentType: 'text/html', body: '<!doctype html>' }));
await page.goto('http://localhost/');
await page.addScriptTag({ content: scryptJs });
// tsx compiles with esbuild's keepNames, which wraps inner functions in __name().
await page.evaluate('globalThis.__name = (f) => f');
const inChromium = await page.evaluate(
  `(${measure.toString()})(${JSON.stringify(CASES)}, ${ROUNDS}, globalThis.hashwasm.scrypt)`,
);
await browser.close();
console.log(
  JSON.stringify(
    { rounds: ROUNDS, unit: 'ms per attempt (median)', load: { before: loadBefore, afterNode: loadAfterNode, end: load() }, node, chromium: inChromium },
    null,
    2,
  ),
);
