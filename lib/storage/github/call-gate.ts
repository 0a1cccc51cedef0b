import type { Clock } from "../../clock.ts";
import { DEFAULT_RETRY_AFTER_SECONDS, StoreUnavailableError } from "../event-store.ts";

/** Don't start a GitHub call with less time than this before the deadline: it would only add an unknown outcome. */
export const MIN_CALL_BUDGET_MS = 300;

/** What every GitHub call carries: its abort signal, and the deadline a rate-limit handler reads. */
export interface CallOptions {
  signal: AbortSignal;
  deadline: number;
}

/**
 * Whether a GitHub call may start now, and the options it carries (its abort signal, and the
 * deadline a rate-limit handler reads): none while GitHub's rate limit holds (failing at once
 * instead of adding to it), none without time left for an answer.
 */
export class CallGate {
  private blockedUntil = 0;

  constructor(private readonly clock: Clock) {}

  /** GitHub said to wait `seconds`: every call before then fails at once. */
  block(seconds: number): void {
    this.blockedUntil = this.clock.now() + seconds * 1000;
  }

  options(deadline: number): CallOptions {
    const now = this.clock.now();
    if (now < this.blockedUntil) {
      throw new StoreUnavailableError("GitHub's rate limit is in force", Math.ceil((this.blockedUntil - now) / 1000), {
        reason: "rate_limited",
      });
    }
    if (deadline - now < MIN_CALL_BUDGET_MS) {
      throw new StoreUnavailableError("Out of time to call GitHub", DEFAULT_RETRY_AFTER_SECONDS, {
        reason: "out_of_time",
      });
    }
    return { signal: this.clock.timeout(deadline - now), deadline };
  }
}
