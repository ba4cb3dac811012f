import { expect, test } from 'vitest';
import { onlineAgain, pause, pauseOrOnline } from './wait-for-network.ts';

test('pause resolves after its time and rejects at once when aborted', async () => {
  const controller = new AbortController();
  const started = performance.now();
  await pause(30, controller.signal);
  expect(performance.now() - started).toBeGreaterThanOrEqual(25);

  const waiting = pause(10_000, controller.signal);
  controller.abort();
  await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
  await expect(pause(10, controller.signal)).rejects.toMatchObject({ name: 'AbortError' });
});

test('onlineAgain resolves at once when online and rejects when aborted', async () => {
  expect(navigator.onLine).toBe(true);
  await expect(onlineAgain(new AbortController().signal)).resolves.toBeUndefined();
  await expect(onlineAgain(AbortSignal.abort())).rejects.toMatchObject({ name: 'AbortError' });
});

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
