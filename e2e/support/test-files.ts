/**
 * Files the end-to-end specs upload: a temporary folder per spec file,
 * written from Node, and their SHA-256 to compare with what comes back.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from '@playwright/test';

/**
 * Makes a fresh temporary folder before the spec file's tests and removes it
 * after them. Returns a getter for its path (valid inside tests).
 */
export function useWorkDir(prefix: string): () => string {
  let dir = '';
  test.beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), `sealdrop-${prefix}-`));
  });
  test.afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  return () => dir;
}

/** Writes `bytes` to `dir/name` (making `dir`) and returns the path. */
export function writeFile(dir: string, name: string, bytes: Uint8Array): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

/** Returns the lowercase hex SHA-256 of `bytes`. */
export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
