import { MINUTE_MS } from "../clock.ts";
import { log, messageOf } from "../log.ts";
import type { LastFlush } from "./flush-lease.ts";
import { FlushRun, WRITE_BUDGET_MS, type FlushDeps, type FlushOutcome } from "./flush-run.ts";

/**
 * A flush woken by ingestion runs after its function's answer, inside that function's time limit
 * (10 s by default on Netlify), a commit under way allowed 2 s more; a scheduled one inside the
 * 30 s of scheduled functions.
 */
export const WOKEN_FLUSH_BUDGET_MS = 7_000;
export const SCHEDULED_FLUSH_BUDGET_MS = 25_000;
/** How far ahead of the next allowed write a woken flush can still make it: its budget, less the write. */
export const WOKEN_FLUSH_LEAD_MS = WOKEN_FLUSH_BUDGET_MS - WRITE_BUDGET_MS;
/** The longest a flush waits, after its run, before handing over: what is left of a 10 s function. */
const HAND_OVER_MAX_DELAY_MS = 1500;
/** How far off the next write may be for a stopped run to hand over rather than leave it to the schedule. */
const CHAIN_HORIZON_MS = MINUTE_MS;

export interface FlushReport extends LastFlush {
  outcome: FlushOutcome;
  /** When the next write may start (epoch ms). */
  resume_at: number;
}

/**
 * Drains the spool into the store in group commits, if no other flusher is at it: every round takes
 * all that waits, groups it by day file, makes one commit per file, and only then deletes the
 * entries it stored; it goes on while events keep arriving and the run's budget lasts.
 *
 * Exactly once rests on the store, not on the lease: a commit is conditional on the file's sha and
 * skips events the file already holds, so two flushers at once (a lease that expired under a slow
 * holder) make a conflict and a retry, never a duplicate; the lease only keeps them from wasting
 * writes and lets them share one write pace.
 */
export class Flusher {
  private running: Promise<FlushReport | undefined> | undefined;

  constructor(private readonly deps: FlushDeps) {}

  /**
   * Runs a flush of at most `budgetMs`; one at a time per instance, later calls share the running
   * one. When it stopped with events waiting, calls `handOver` to start the next run (another
   * invocation: this one's time is up), at most 1.5 s later (see handOverDelay), once this run is
   * over, so that a hand-over within this instance starts a run rather than share the ended one. A
   * failure is logged, and the events wait for the next run.
   */
  flush(budgetMs: number, handOver?: () => Promise<void>): Promise<FlushReport | undefined> {
    const { clock } = this.deps;
    if (this.running) return this.running;
    const running = this.run(budgetMs)
      .catch((error: unknown) => {
        log("error", "spool_flush_failed", { message: messageOf(error) });
        return undefined;
      })
      .finally(() => {
        this.running = undefined;
      });
    this.running = running;
    if (!handOver) return running;
    return running.then(async (report) => {
      const delay = report && handOverDelay(report, clock.now(), WOKEN_FLUSH_LEAD_MS, HAND_OVER_MAX_DELAY_MS);
      if (delay === undefined) return report;
      await clock.sleep(delay);
      await handOver().catch((error: unknown) => log("error", "spool_flush_failed", { message: messageOf(error) }));
      return report;
    });
  }

  /** One run of at most `budgetMs`: takes the lease, drains what it can, releases it, and reports. */
  async run(budgetMs: number): Promise<FlushReport> {
    const { spool, lease, clock, store } = this.deps;
    const started = clock.now();
    const run = new FlushRun(this.deps, started + budgetMs);
    for (;;) {
      const state = await lease.acquire();
      if (!state) break;
      const { outcome, state: after } = await run.rounds(state);
      if (outcome !== "lost") {
        await lease
          .release({
            ...after,
            token_expires_at: store.credentialsExpireAt() ?? after.token_expires_at,
            last_flush: run.summary(started, outcome),
          })
          .catch((error: unknown) => log("warn", "flush_lease_not_released", { message: messageOf(error) }));
      }
      // An event accepted while this run held the lease had its own flush turned away: look once more.
      const waiting = outcome === "idle" && (await spool.oldest(1)).length > 0;
      if (!waiting || clock.now() > run.deadline - WRITE_BUDGET_MS) {
        const final = waiting ? "paced" : outcome;
        const report = { outcome: final, resume_at: after.resume_at, ...run.summary(started, final) };
        log(report.error ? "warn" : "info", "spool_flushed", {
          ...report,
          resume_at: new Date(report.resume_at).toISOString(),
        });
        return report;
      }
    }
    return { outcome: "busy", resume_at: 0, ...run.summary(started, "busy") };
  }
}

/**
 * Whether a run that stopped should hand over to another, and after how long: it stopped with
 * events waiting (out of budget, by the pace or by a rate limit), so another run is due once the
 * next write is allowed, less the `leadMs` a run needs before its write; but a run may wait at most
 * `maxDelayMs` before handing over (its function's time is nearly up), so a wait of up to a minute
 * becomes a chain of short runs that each end at once; longer waits are left to the schedule. A
 * failed run (GitHub answered 5xx or timed out until its time was up) hands over after the longest
 * wait: about one attempt every 10 s while GitHub is down.
 */
export function handOverDelay(
  report: FlushReport,
  now: number,
  leadMs: number,
  maxDelayMs: number,
): number | undefined {
  if (report.outcome === "failed") return maxDelayMs;
  if (report.outcome !== "paced" && report.outcome !== "blocked") return undefined;
  const wait = report.resume_at - leadMs - now;
  // A longer wait (the hour's budget spent, a long retry-after) is the schedule's: a chain would spin.
  if (wait > CHAIN_HORIZON_MS) return undefined;
  return Math.min(maxDelayMs, Math.max(0, wait));
}
