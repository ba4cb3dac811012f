/**
 * Holds an upload at a known point, however slow the machine: the first
 * Put Block requests go through, every later one waits until the test
 * opens the gate. Without it, a busy test process can react after the whole
 * upload has already finished.
 */
import type { Page, Request, Route } from '@playwright/test';

/** Put Block (not Put Block List) requests to storage. */
export const PUT_BLOCK = /[?&]comp=block(&|$)/;

/** Whether `request` stores one block of a payload. */
export function isPutBlock(request: Request): boolean {
  return request.method() === 'PUT' && PUT_BLOCK.test(request.url());
}

/** A gate on a page's Put Block requests. */
export interface BlockGate {
  /**
   * Lets the held requests go on (or, with `drop`, fails them as a lost
   * connection would) and stops holding new ones.
   */
  open(opts?: { drop?: boolean }): Promise<void>;
}

/** Lets the first `pass` Put Blocks of `page` through and holds the rest until `open()`. */
export async function gateBlocks(page: Page, pass = 1): Promise<BlockGate> {
  let passed = 0;
  let drop = false;
  let release: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => {
    release = resolve;
  });
  const handler = async (route: Route): Promise<void> => {
    if (!isPutBlock(route.request())) return route.fallback();
    if (passed < pass) {
      passed += 1;
      return route.continue();
    }
    await opened;
    // The page may have navigated away meanwhile (a reload is a crash test).
    await (drop ? route.abort('internetdisconnected') : route.continue()).catch(() => undefined);
  };
  await page.route(PUT_BLOCK, handler);
  return {
    open: async (opts) => {
      drop = opts?.drop === true;
      release();
      await page.unroute(PUT_BLOCK, handler);
    },
  };
}
