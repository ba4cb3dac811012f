/**
 * What the drive tells the person besides the lists: one alert banner (the
 * latest error worth showing) and a polite live-region announcement.
 * Every part of the drive reports through one instance.
 */
import { handleError, type UserMessage } from '../base/handle-error.ts';

/** The drive's alert banner and live-region text. */
export class DriveNotices {
  /** The latest error worth a banner (download refused, delete failed…). */
  alert = $state<UserMessage | null>(null);
  /** Polite live-region text: uploads finished, files deleted. */
  announcement = $state('');

  /** Shows `error` in the alert banner, in plain words. */
  report(error: unknown): void {
    this.alert = handleError(error);
  }

  /** Shows an already-worded problem in the alert banner. */
  show(problem: UserMessage): void {
    this.alert = problem;
  }

  /** Hides the alert banner. */
  dismiss(): void {
    this.alert = null;
  }

  /** Says `text` in the live region. */
  announce(text: string): void {
    this.announcement = text;
  }
}
