export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;

/**
 * Time as the write path sees it. Production uses the system clock; the benchmark scales it so
 * that an hour of pacing and GitHub's hourly limit pass in seconds.
 */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
  /** A signal that aborts after `ms` of this clock's time. */
  timeout(ms: number): AbortSignal;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
  timeout: (ms) => AbortSignal.timeout(Math.max(1, Math.ceil(ms))),
};
