import type { Clock } from "../clock.ts";
import type { FlushLease, FlushState } from "./flush-lease.ts";
import { log, messageOf } from "../log.ts";

/** A wake-up whose flush has not reported back within this long is sent again. */
const REWAKE_AFTER_MS = 2000;
/**
 * After finding a flush under way (or none possible yet), this instance does not look again for
 * this long: under a burst that saves a Blobs read per request.
 */
const RECHECK_AFTER_MS = 1000;

/**
 * Starts a flush after an event was accepted, unless one is under way. No flush is woken that could
 * not write before its budget ends (the pace or a rate limit), and this instance sends no second
 * wake-up while its last one has not yet produced a flush, so a burst of requests makes one, not hundreds.
 *
 * An event turned away is not left to chance: the instance looks again once the flush under way
 * should be done (or the next write is allowed) and wakes one then. The flusher also lists the
 * spool once more after releasing the lease, but a listing may miss entries (`netlify dev`'s local
 * Blobs server cuts a listing short when a write lands during it), and a burst can end inside that
 * flush, leaving no later request to wake the next.
 */
export class FlushWaker {
  private sentAt = Number.NEGATIVE_INFINITY;
  private quietUntil = Number.NEGATIVE_INFINITY;
  /** When the armed look-again is due (epoch ms); infinite when none is armed. */
  private followUpAt = Number.POSITIVE_INFINITY;
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
    const retryAt = await this.turnedAwayUntil();
    if (retryAt !== undefined) {
      this.followUp(start, retryAt);
      return false;
    }
    await start();
    return true;
  }

  /**
   * When to look again if no flush should be started now; undefined when one should, and then this
   * call is the one that starts it (decided with no await between the check and the claim).
   */
  private async turnedAwayUntil(): Promise<number | undefined> {
    if (this.clock.now() < this.quietUntil) return this.quietUntil;
    const state = await (this.reading ??= this.lease.read().finally(() => {
      this.reading = undefined;
    }));
    const now = this.clock.now();
    const underWay = state.holder !== null && state.expires_at > now;
    if (underWay || state.resume_at > now + this.leadMs) {
      this.quietUntil = now + RECHECK_AFTER_MS;
      return underWay ? this.quietUntil : Math.max(this.quietUntil, state.resume_at - this.leadMs);
    }
    const lastFlushAt = state.last_flush ? Date.parse(state.last_flush.at) : Number.NEGATIVE_INFINITY;
    if (now - this.sentAt < REWAKE_AFTER_MS && lastFlushAt < this.sentAt) return this.sentAt + REWAKE_AFTER_MS;
    this.sentAt = now;
    return undefined;
  }

  /** Looks again at `at`, unless a look is already due by then. */
  private followUp(start: () => Promise<void>, at: number): void {
    if (this.followUpAt <= at) return;
    this.followUpAt = at;
    void this.clock
      .sleep(at - this.clock.now())
      .then(() => {
        if (this.followUpAt === at) this.followUpAt = Number.POSITIVE_INFINITY;
        return this.wake(start);
      })
      .catch((error: unknown) => log("warn", "flush_not_woken", { reason: messageOf(error) }));
  }
}
