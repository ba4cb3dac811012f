import { expect, test } from 'vitest';
import { onlineAgain, pause } from './wait-for-network.ts';

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
