import { MINUTE_MS, type Clock } from "../clock.ts";
import { messageOf } from "../log.ts";
import { StoreUnavailableError, type CommitResult, type EventStore } from "../storage/event-store.ts";
import { LeaseLostError, type FlushState, type LastFlush } from "./flush-lease.ts";

/**
 * After GitHub refused a write (a revoked or expired token, lost access), no write for this long,
 * doubled after each refusal in a row up to the longest: a refusal lasts until someone acts, and
 * each try re-reads the spool.
 */
const REFUSED_BACKOFF_MS = 15_000;
const REFUSED_BACKOFF_MAX_MS = 10 * MINUTE_MS;

interface RunEnd {
  outcome: "lost" | "paced" | "blocked" | "refused" | "failed";
  state: FlushState;
  /** The run's error to report, when this end sets one (a paced end keeps what the run had). */
  message?: string;
}

/**
 * How an error ends a flusher's run, from the state it leaves (`head` is the oldest entry still
 * waiting): out of budget is not a failure (the next run goes on); a rate limit blocks every
 * flusher; a refusal backs off.
 */
export function endOfRun(
  error: unknown,
  state: FlushState,
  { head, clock, store }: { head: string | null; clock: Clock; store: EventStore },
): RunEnd {
  if (error instanceof LeaseLostError) return { outcome: "lost", state, message: error.message };
  if (error instanceof StoreUnavailableError && error.reason === "paced") return { outcome: "paced", state };
  if (error instanceof StoreUnavailableError && error.reason === "out_of_time") {
    // Once is the clock; twice in a row for the same entry is an upload that never fits a run: say so.
    if (head === null || head !== state.timed_out_entry) {
      return { outcome: "paced", state: { ...state, timed_out_entry: head } };
    }
    const message = `The commit that begins with spool entry ${head} ran out of time in two runs in a row: its upload does not fit a run (lower TELEMETRY_MAX_FILE_BYTES)`;
    return { outcome: "failed", state, message };
  }
  const message = messageOf(error);
  if (error instanceof StoreUnavailableError && error.reason === "refused") {
    const now = clock.now();
    const refusals = state.refusals + 1;
    const blockedUntil = now + Math.min(REFUSED_BACKOFF_MAX_MS, REFUSED_BACKOFF_MS * 2 ** (refusals - 1));
    return {
      outcome: "refused",
      message,
      state: {
        ...state,
        refusals,
        refused_since: state.refused_since || now,
        refused_credentials: store.credentialsId(),
        blocked_until: blockedUntil,
        resume_at: Math.max(state.resume_at, blockedUntil),
      },
    };
  }
  if (error instanceof StoreUnavailableError && error.reason === "rate_limited") {
    const blockedUntil = clock.now() + error.retryAfterSeconds * 1000;
    return {
      outcome: "blocked",
      message,
      state: { ...state, blocked_until: blockedUntil, resume_at: Math.max(state.resume_at, blockedUntil) },
    };
  }
  return { outcome: "failed", state, message };
}

/** What a flusher's run stored, across all its rounds: the figures its `last_flush` reports. */
export class RunFigures {
  private events = 0;
  private commits = 0;
  private bytes = 0;
  private readonly files = new Set<string>();

  /** Counts a commit; one that wrote no file (its events were all stored before) is no commit. */
  add(result: CommitResult): void {
    if (result.path) {
      this.commits += 1;
      this.files.add(result.path);
    }
    this.events += result.events;
    this.bytes += result.bytes;
  }

  summary(started: number, now: number, error: string | null): LastFlush {
    return {
      at: new Date(now).toISOString(),
      events: this.events,
      commits: this.commits,
      files: this.files.size,
      bytes: this.bytes,
      duration_ms: now - started,
      error,
    };
  }
}
