import type { Clock } from "./clock.ts";
import type { FlushLease, FlushState } from "./flush-lease.ts";

/** A wake-up whose flush has not reported back within this long is sent again. */
const REWAKE_AFTER_MS = 2000;
/**
 * After finding a flush under way (or none possible yet), this instance does not look again for
 * this long: under a burst that saves a Blobs read per request. An event accepted in that window
 * after the flusher's last look is carried by the next wake-up or the scheduled flush.
 */
const RECHECK_AFTER_MS = 1000;

/**
 * Starts a flush after an event was accepted, unless one is under way. A flusher holding the lease
 * lists the spool once more after releasing it, so an event accepted while the lease was held is
 * seen without a wake-up of its own; no flush is woken that could not write before its budget ends
 * (the pace or a rate limit), those events wait for the next one; and this instance sends no second
 * wake-up while its last one has not yet produced a flush, so a burst of requests makes one, not hundreds.
 */
export class FlushWaker {
  private sentAt = Number.NEGATIVE_INFINITY;
  private quietUntil = Number.NEGATIVE_INFINITY;
  /** One read of the lease shared by the requests that arrive while it is on its way. */
  private reading: Promise<FlushState> | undefined;

  constructor(
    private readonly lease: FlushLease,
    private readonly clock: Clock,
    /** How far ahead of the next allowed write a woken flush can still make it (its budget, less the write). */
    private readonly leadMs: number,
  ) {}

  /** Calls `start` (which should return once the flush is started, not done) if a flush is needed; true if it did. */
  async wake(start: () => Promise<void>): Promise<boolean> {
    if (this.clock.now() < this.quietUntil) return false;
    const state = await (this.reading ??= this.lease.read().finally(() => {
      this.reading = undefined;
    }));
    const now = this.clock.now();
    const underWay = state.holder !== null && state.expires_at > now;
    if (underWay || state.resume_at > now + this.leadMs) {
      this.quietUntil = now + RECHECK_AFTER_MS;
      return false;
    }
    const lastFlushAt = state.last_flush ? Date.parse(state.last_flush.at) : Number.NEGATIVE_INFINITY;
    if (now - this.sentAt < REWAKE_AFTER_MS && lastFlushAt < this.sentAt) return false;
    this.sentAt = now;
    await start();
    return true;
  }
}
