import { expect, test } from 'vitest';
import { pauseOrOnline } from './wait-for-network.ts';

test("pauseOrOnline ends a long pause at the browser's online event, and rejects when aborted", async () => {
  const controller = new AbortController();
  const started = performance.now();
  const waiting = pauseOrOnline(60_000, controller.signal);
  window.dispatchEvent(new Event('online'));
  await waiting;
  expect(performance.now() - started).toBeLessThan(5_000);

  await pauseOrOnline(20, controller.signal);
  const stopped = pauseOrOnline(60_000, controller.signal);
  controller.abort();
  await expect(stopped).rejects.toMatchObject({ name: 'AbortError' });
});
