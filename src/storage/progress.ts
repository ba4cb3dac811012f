/**
 * Progress maths for uploads and downloads: bytes done, speed over a
 * sliding window, time left.
 */

/** What the UI shows for a running transfer. */
export interface TransferProgress {
  /** Plaintext bytes of the file sent (upload) or delivered (download) so far. */
  bytesDone: number;
  /** Plaintext size of the file. */
  totalBytes: number;
  /** Recent speed in plaintext bytes per second; 0 until there is a measurement. */
  bytesPerSecond: number;
  /** Estimated seconds left, or null while the speed is unknown. */
  secondsLeft: number | null;
}

/** Width of the window the speed is averaged over. */
const WINDOW_MS = 5_000;

/** Counts transferred bytes and derives speed and time left. */
export class ProgressMeter {
  private done = 0;
  private readonly started: number;
  private readonly samples: { at: number; done: number }[] = [];

  /**
   * @param totalBytes plaintext size of the file
   * @param now clock in milliseconds, injectable for tests
   */
  constructor(
    private readonly totalBytes: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.started = this.now();
    this.samples.push({ at: this.started, done: 0 });
  }

  /** Records `bytes` more as done and returns the new progress. */
  add(bytes: number): TransferProgress {
    this.done = Math.min(this.totalBytes, this.done + bytes);
    const at = this.now();
    this.samples.push({ at, done: this.done });
    // Keep one sample older than the window so the window is always spanned.
    while (this.samples.length > 2 && (this.samples[1]?.at ?? at) <= at - WINDOW_MS) this.samples.shift();
    return this.snapshot();
  }

  /** Returns the current progress without recording anything. */
  snapshot(): TransferProgress {
    const at = this.now();
    const oldest = this.samples[0] ?? { at: this.started, done: 0 };
    const span = (at - oldest.at) / 1000;
    const bytesPerSecond = span > 0 ? (this.done - oldest.done) / span : 0;
    const left = this.totalBytes - this.done;
    return {
      bytesDone: this.done,
      totalBytes: this.totalBytes,
      bytesPerSecond,
      secondsLeft: left === 0 ? 0 : bytesPerSecond > 0 ? left / bytesPerSecond : null,
    };
  }
}
