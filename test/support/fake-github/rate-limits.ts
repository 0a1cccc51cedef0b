/**
 * GitHub's rate limits, kept as the in-memory fake keeps them and answered with its helpers. The primary limit:
 * 5,000 API requests an hour for the token, its `x-ratelimit-*` headers on every answer, and 403 "API rate limit
 * exceeded" once the hour's requests are spent. The secondary limit on content creation: a PUT, POST, PATCH or
 * DELETE past `writesPerMinute` in the last minute or `writesPerHour` in the last hour is refused with 403 "You
 * have exceeded a secondary rate limit" and `retry-after`, before it reaches the repository; a refused write does
 * not count towards either window.
 */
import { primaryLimitError, secondaryLimitError, type Answer } from "./answers.ts";

// GitHub's documented secondary limit on content creation, and the retry-after it usually sends.
const DEFAULT_WRITES_PER_MINUTE = 80;
const DEFAULT_WRITES_PER_HOUR = 500;
const DEFAULT_RETRY_AFTER_SECONDS = 60;
const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
/** Primary limit of a personal access token: requests per hour. */
const PRIMARY_LIMIT = 5000;
const WRITE_METHODS = new Set(["PUT", "POST", "PATCH", "DELETE"]);

/** The limits' options, named as the in-memory fake names them. */
export interface RateLimitOptions {
  /** Secondary limit on content-creating requests (PUT/POST/PATCH/DELETE); GitHub documents 80 and 500. */
  writesPerMinute?: number;
  writesPerHour?: number;
  /** `retry-after` sent with secondary-limit answers. */
  retryAfterSeconds?: number;
  /** Clock for the rate windows (commit dates come from the repository's own counter). */
  now?: () => number;
}

export interface Admission {
  /** The rate limit's answer, when the request is refused; otherwise the request goes on. */
  refused?: Answer;
  /** Which limit refused it. */
  limit?: "primary" | "secondary";
  /** The primary limit's headers, for whatever the request is answered. */
  headers: Record<string, string>;
}

export class RateLimits {
  private readonly writesPerMinute: number;
  private readonly writesPerHour: number;
  private readonly retryAfterSeconds: number;
  private readonly now: () => number;
  /** `now` of each write admitted past the secondary limit within the last hour. */
  private admittedWrites: number[] = [];
  private primaryUsed = 0;
  private primaryResetAt = 0;
  /** Every content write is refused until then (a test's injected window). */
  private secondaryUntil = 0;

  constructor(options: RateLimitOptions = {}) {
    this.writesPerMinute = options.writesPerMinute ?? DEFAULT_WRITES_PER_MINUTE;
    this.writesPerHour = options.writesPerHour ?? DEFAULT_WRITES_PER_HOUR;
    this.retryAfterSeconds = options.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS;
    this.now = options.now ?? Date.now;
  }

  /** Counts an API request as it arrives (its credentials already taken), and says whether a limit refuses it. */
  admit(method: string, requestId: string): Admission {
    const now = this.now();
    const primary = this.spendPrimary(now);
    if (primary.exhausted) {
      return { refused: primaryLimitError(requestId, now), limit: "primary", headers: primary.headers };
    }
    if (WRITE_METHODS.has(method)) {
      this.admittedWrites = this.admittedWrites.filter((at) => now - at < HOUR_MS);
      // GitHub sends the primary limit's headers beside `retry-after` here too, `x-ratelimit-remaining` not 0.
      if (this.overSecondaryLimit(now)) {
        return {
          refused: secondaryLimitError(requestId, this.retryAfterSeconds),
          limit: "secondary",
          headers: primary.headers,
        };
      }
      this.admittedWrites.push(now);
    }
    return { headers: primary.headers };
  }

  /** Every content write answers the secondary-limit 403 for the next `ms`. */
  refuseWritesFor(ms: number): void {
    this.secondaryUntil = this.now() + ms;
  }

  private spendPrimary(now: number): { exhausted: boolean; headers: Record<string, string> } {
    if (now >= this.primaryResetAt) {
      this.primaryResetAt = now + HOUR_MS;
      this.primaryUsed = 0;
    }
    const exhausted = this.primaryUsed >= PRIMARY_LIMIT;
    if (!exhausted) this.primaryUsed += 1;
    return {
      exhausted,
      headers: {
        "x-ratelimit-limit": String(PRIMARY_LIMIT),
        "x-ratelimit-remaining": String(PRIMARY_LIMIT - this.primaryUsed),
        "x-ratelimit-reset": String(Math.ceil(this.primaryResetAt / 1000)),
        "x-ratelimit-used": String(this.primaryUsed),
        "x-ratelimit-resource": "core",
      },
    };
  }

  private overSecondaryLimit(now: number): boolean {
    const lastMinute = this.admittedWrites.filter((at) => now - at < MINUTE_MS).length;
    return (
      now < this.secondaryUntil ||
      lastMinute >= this.writesPerMinute ||
      this.admittedWrites.length >= this.writesPerHour
    );
  }
}
