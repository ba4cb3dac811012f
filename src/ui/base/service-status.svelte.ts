/**
 * The signed-in page's notice of what is down: told when a request to the
 * endpoint or to storage got no answer, it asks `/health` (on our own
 * origin) and says which part is not answering, in the words of
 * handle-error.ts. It checks again on request, when the browser comes back
 * online and while a problem is shown.
 */
import { ApiError, OfflineError } from '../../auth/api-client.ts';
import type { HealthReport } from '../../contract/index.ts';
import { messageFor, type UserMessage } from './handle-error.ts';
import { diagnose, type FailedPart, type HealthAnswer } from './service-status.ts';

/** Asks the endpoint's `/health`; throws as the API client does. */
export type HealthProbe = () => Promise<HealthReport>;

export class ServiceStatus {
  /** What to tell the person, or null when nothing is known to be down. */
  problem = $state<UserMessage | null>(null);
  #checking = false;
  #last: FailedPart = 'server';
  readonly #probe: HealthProbe;
  readonly #online: () => boolean;

  constructor(probe: HealthProbe, online: () => boolean = () => typeof navigator === 'undefined' || navigator.onLine !== false) {
    this.#probe = probe;
    this.#online = online;
  }

  /** A request to `part` got no answer (or a 5xx): find out what is down. Ignored while a check runs. */
  async failed(part: FailedPart): Promise<void> {
    if (this.#checking) return;
    this.#last = part;
    await this.recheck();
  }

  /** Checks again, for the part that last failed; clears the notice when nothing is down. */
  async recheck(): Promise<void> {
    if (this.#checking) return;
    this.#checking = true;
    try {
      let health: HealthAnswer;
      try {
        health = await this.#probe();
      } catch (error) {
        health = error instanceof ApiError ? 'error-answer' : error instanceof OfflineError ? 'no-answer' : 'error-answer';
      }
      const kind = diagnose(this.#last, this.#online(), health);
      this.problem = kind === null ? null : messageFor(kind);
    } finally {
      this.#checking = false;
    }
  }

  /** Hides the notice until the next failure. */
  dismiss(): void {
    this.problem = null;
  }
}
