import { HOUR_MS, MINUTE_MS, type Clock } from "../clock.ts";
import type { WriteLimits } from "../config.ts";
import { StoreUnavailableError } from "../storage/event-store.ts";

/**
 * Share of the hour's budget that may go at the per-minute pace (10 writes of 400), so that quiet
 * traffic lands at once; kept small because under load each of these writes is a small commit.
 */
const BURST_SHARE_OF_HOUR = 0.025;
/**
 * The most writes the pace looks back on: GitHub's 500 an hour, above which no limit may be set.
 * Without a limit (a local folder) the log would otherwise hold every write of the hour, and the
 * lease that carries it grow with them.
 */
const KEPT_WRITES = 500;

/**
 * When the next content write may start, given the times of the writes of the last hour
 * (ascending): never more than `perMinute` in any minute nor `perHour` in any hour, and once the
 * hour has seen its burst share, one write every `hour / perHour`, so that steady traffic is spread
 * over the hour (and gathers into large commits) instead of spending the hour's budget at once.
 */
export function nextWriteAt(writes: readonly number[], now: number, limits: WriteLimits): number {
  const recent = writes.filter((at) => at > now - HOUR_MS);
  const last = recent.at(-1);
  if (last === undefined) return now;
  const burst = Math.max(1, Math.floor(limits.perHour * BURST_SHARE_OF_HOUR));
  const spacing = recent.length >= burst ? HOUR_MS / limits.perHour : MINUTE_MS / limits.perMinute;
  let next = Math.max(now, last + spacing);
  const inMinute = recent.filter((at) => at > now - MINUTE_MS);
  if (inMinute.length >= limits.perMinute)
    next = Math.max(next, inMinute[inMinute.length - limits.perMinute]! + MINUTE_MS);
  if (recent.length >= limits.perHour) next = Math.max(next, recent[recent.length - limits.perHour]! + HOUR_MS);
  return next;
}

/** Holds a flusher's write log and makes each write wait for its turn, or refuse when the turn is past the deadline. */
export class WritePacer {
  private log: number[];

  constructor(
    writes: readonly number[],
    private readonly limits: WriteLimits,
    private readonly clock: Clock,
  ) {
    this.log = [...writes].sort((a, b) => a - b);
  }

  /** The writes of the last hour, to keep in the shared state. */
  writes(): number[] {
    const now = this.clock.now();
    this.log = this.log.filter((at) => at > now - HOUR_MS).slice(-KEPT_WRITES);
    return [...this.log];
  }

  /** When the next write may start. */
  nextAt(): number {
    return nextWriteAt(this.log, this.clock.now(), this.limits);
  }

  /** Logs a write made now without waiting: a request that belongs to a write already paced (a commit's tree, then its ref). */
  record(): void {
    this.log.push(this.clock.now());
  }

  async wait(deadline: number): Promise<void> {
    const at = this.nextAt();
    if (at > deadline) {
      throw new StoreUnavailableError(
        "The write pace allows no write before the deadline",
        Math.ceil((at - this.clock.now()) / 1000),
        {
          reason: "paced",
        },
      );
    }
    await this.clock.sleep(at - this.clock.now());
    this.log.push(this.clock.now());
  }
}
