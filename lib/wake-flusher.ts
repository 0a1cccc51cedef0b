import type { Clock } from "./clock.ts";
import type { FlushLease } from "./flush-lease.ts";

/** A wake-up whose flush has not reported back within this long is sent again. */
const REWAKE_AFTER_MS = 2000;

/**
 * Starts a flush after an event was accepted, unless one is under way. A flusher holding the lease
 * lists the spool once more after releasing it, so an event accepted while the lease was held is
 * seen without a wake-up of its own; and this instance sends no second wake-up while its last one
 * has not yet produced a flush, so a burst of requests makes one, not hundreds.
 */
export class FlushWaker {
  private sentAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly lease: FlushLease,
    private readonly clock: Clock,
  ) {}

  /** Calls `start` (which should return once the flush is started, not done) if a flush is needed; true if it did. */
  async wake(start: () => Promise<void>): Promise<boolean> {
    const state = await this.lease.read();
    const now = this.clock.now();
    if (state.holder !== null && state.expires_at > now) return false;
    const lastFlushAt = state.last_flush ? Date.parse(state.last_flush.at) : Number.NEGATIVE_INFINITY;
    if (now - this.sentAt < REWAKE_AFTER_MS && lastFlushAt < this.sentAt) return false;
    this.sentAt = now;
    await start();
    return true;
  }
}
