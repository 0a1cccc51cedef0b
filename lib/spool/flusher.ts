import type { BlobStore } from "./blob-store.ts";
import { MINUTE_MS, type Clock } from "../clock.ts";
import type { WriteLimits } from "../config.ts";
import type { StoredEvent } from "../events/event.ts";
import { FlushLease, LeaseLostError, type FlushState, type LastFlush } from "./flush-lease.ts";
import { log, messageOf } from "../log.ts";
import { WritePacer } from "./write-pacer.ts";
import { partitionOf } from "../storage/partition.ts";
import { SeenIds } from "./seen-ids.ts";
import type { Spool, SpoolEntry, SpoolRecord } from "./spool.ts";
import { StoreUnavailableError, type EventStore } from "../storage/store.ts";

/**
 * A run stops reading the spool this long before its deadline, so that the commit (GitHub's
 * listing and file read, the write, up to a few MB each way) and its clean-up fit.
 */
export const WRITE_BUDGET_MS = 3000;
/** The last moment a write may start, before the run's deadline. */
const LAST_WRITE_START_MS = 1000;
/** Entries one round reads at most: a thousand events per commit, and a round short enough for a woken flush's budget. */
const MAX_ENTRIES_PER_ROUND = 1000;
/**
 * The budget says when a run stops starting work; a commit under way may finish this much later.
 * Cutting it short would waste the write (GitHub counts it) and, with a file near its cap, fail
 * the same way on every run.
 */
const COMMIT_GRACE_MS = 2000;
/** How far off the next write may be for a stopped run to hand over rather than leave it to the schedule. */
const CHAIN_HORIZON_MS = MINUTE_MS;
/** Entries read between two looks at the clock. */
const READ_CHUNK = 100;

export interface FlushDeps {
  /** The store the spool lives in, where the flusher also keeps the client-given ids it stored. */
  blobs: BlobStore;
  spool: Spool;
  lease: FlushLease;
  store: EventStore;
  clock: Clock;
  limits: WriteLimits;
}

/**
 * How a run ended: `idle` (the spool is empty), `busy` (another flusher holds the lease), `paced`
 * (the next write's turn is after this run's budget), `blocked` (GitHub's rate limit is in force),
 * `lost` (the lease was taken over), `failed` (GitHub or Blobs refused; the events wait for the next run).
 */
export type FlushOutcome = "idle" | "busy" | "paced" | "blocked" | "lost" | "failed";

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
export async function flushSpool(deps: FlushDeps, budgetMs: number): Promise<FlushReport> {
  const { spool, lease, clock } = deps;
  const started = clock.now();
  const run = new FlushRun(deps, started + budgetMs);
  for (;;) {
    const state = await lease.acquire();
    if (!state) break;
    const { outcome, state: after, lost } = await run.rounds(state);
    if (!lost) {
      await lease
        .release({ ...after, last_flush: run.summary(started, outcome) })
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

/**
 * Whether a run that stopped should hand over to another, and after how long: it stopped with
 * events waiting (out of budget, by the pace or by a rate limit), so another run is due once the
 * next write is allowed, less the `leadMs` a run needs before its write; but a run may wait at most
 * `maxDelayMs` before handing over (its function's time is nearly up), so a wait of up to a minute
 * becomes a chain of short runs that each end at once; longer waits are left to the schedule. A failed run (GitHub answered 5xx or timed out until its time was up)
 * hands over after the longest wait: about one attempt every 10 s while GitHub is down.
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

class FlushRun {
  private events = 0;
  private commits = 0;
  private bytes = 0;
  private readonly files = new Set<string>();
  private error: string | null = null;
  /** Entries read in an earlier round of this run and not yet stored, by key. */
  private readonly cache = new Map<string, SpoolRecord>();
  private readonly seen: SeenIds;
  /** The oldest entries as last listed, less what this run has stored: a run lists again once it has worked through them. */
  private queue: SpoolEntry[] = [];

  constructor(
    private readonly deps: FlushDeps,
    readonly deadline: number,
  ) {
    this.seen = new SeenIds(deps.blobs, deps.clock);
  }

  async rounds(initial: FlushState): Promise<{ outcome: FlushOutcome; state: FlushState; lost: boolean }> {
    const { spool, lease, store, clock, limits } = this.deps;
    let state = initial;
    const pacer = new WritePacer(state.writes, limits, clock);
    try {
      for (;;) {
        const resumeAt = Math.max(state.blocked_until, pacer.nextAt());
        const stopped = (outcome: FlushOutcome) => ({ outcome, state: { ...state, resume_at: resumeAt }, lost: false });
        if (state.blocked_until > clock.now()) return stopped("blocked");
        // No write possible in this run: reading the spool and GitHub now would be wasted.
        if (clock.now() > this.deadline - WRITE_BUDGET_MS || resumeAt > this.deadline - LAST_WRITE_START_MS) {
          return stopped((await spool.oldest(1)).length > 0 ? "paced" : "idle");
        }
        if (this.queue.length === 0) this.queue = await spool.oldest(MAX_ENTRIES_PER_ROUND);
        const entries = this.queue.slice(0, MAX_ENTRIES_PER_ROUND);
        if (entries.length === 0) return { outcome: "idle", state: { ...state, resume_at: resumeAt }, lost: false };
        const loaded = await this.load(entries);

        for (let day of groupByDay(loaded, this.cache)) {
          // One commit per file; a day with more than its newest part can take goes on into the next part.
          while (day.length > 0) {
            const result = await store.commit(
              await Promise.all(day.map((entry) => this.unseen(this.cache.get(entry.key)!))),
              {
                deadline: this.deadline + COMMIT_GRACE_MS,
                beforeWrite: () => pacer.wait(this.deadline - LAST_WRITE_START_MS),
              },
            );
            state = { ...state, writes: pacer.writes() };
            if (result.path) {
              this.commits += 1;
              this.files.add(result.path);
            }
            this.events += result.events;
            this.bytes += result.bytes;
            const stored = day.slice(0, result.batches);
            const records = stored.map((entry) => this.cache.get(entry.key)!);
            await this.seen.remember(records.flatMap((record) => record.client_ids));
            state = {
              ...state,
              dropped: addCounts(
                state.dropped,
                records.map((record) => record.dropped),
              ),
            };
            // Deleted only now that the commit landed, and before the next commit: a flusher that dies
            // before this line leaves the entries for its successor, whose first read is the file
            // just written, where it finds their events and skips them.
            await spool.remove(stored);
            for (const entry of stored) this.cache.delete(entry.key);
            const done = new Set(stored.map((entry) => entry.key));
            this.queue = this.queue.filter((entry) => !done.has(entry.key));
            await lease.renew(state);
            day = day.slice(result.batches);
          }
        }
      }
    } catch (error) {
      state = { ...state, writes: pacer.writes(), resume_at: pacer.nextAt() };
      if (error instanceof LeaseLostError) {
        this.error = error.message;
        return { outcome: "lost", state, lost: true };
      }
      // Out of budget, by the pace or the clock: not a failure, the next run goes on.
      if (error instanceof StoreUnavailableError && (error.reason === "paced" || error.reason === "out_of_time")) {
        return { outcome: "paced", state, lost: false };
      }
      this.error = messageOf(error);
      if (error instanceof StoreUnavailableError && error.reason === "rate_limited") {
        const blockedUntil = clock.now() + error.retryAfterSeconds * 1000;
        state = { ...state, blocked_until: blockedUntil, resume_at: Math.max(state.resume_at, blockedUntil) };
        return { outcome: "blocked", state, lost: false };
      }
      return { outcome: "failed", state, lost: false };
    }
  }

  summary(started: number, outcome: FlushOutcome): LastFlush {
    const now = this.deps.clock.now();
    return {
      at: new Date(now).toISOString(),
      events: this.events,
      commits: this.commits,
      files: this.files.size,
      bytes: this.bytes,
      duration_ms: now - started,
      error: outcome === "busy" ? null : this.error,
    };
  }

  /** An entry's events less those whose client-given id was stored before (sent again, maybe a day ago, or in this run). */
  private async unseen(record: SpoolRecord): Promise<StoredEvent[]> {
    const before = await this.seen.seen(record.client_ids);
    return before.size === 0 ? record.events : record.events.filter((event) => !before.has(event.event_id));
  }

  /**
   * Reads the entries not read yet, a chunk at a time, while the run has time to spare for its
   * commit (at least one chunk, so that a run always makes progress); returns those it has.
   */
  private async load(entries: readonly SpoolEntry[]): Promise<SpoolEntry[]> {
    const { spool, clock } = this.deps;
    const unread = entries.filter((entry) => !this.cache.has(entry.key));
    for (let start = 0; start < unread.length; start += READ_CHUNK) {
      if (start > 0 && clock.now() > this.deadline - WRITE_BUDGET_MS) break;
      const chunk = unread.slice(start, start + READ_CHUNK);
      const records = await spool.read(chunk);
      chunk.forEach((entry, index) => this.cache.set(entry.key, records[index]!));
    }
    return entries.filter((entry) => this.cache.has(entry.key));
  }
}

/** Entries by the UTC day of their events, oldest day first; an entry's events all share one `created_at`. */
function groupByDay(entries: readonly SpoolEntry[], records: ReadonlyMap<string, SpoolRecord>): SpoolEntry[][] {
  const days = new Map<string, SpoolEntry[]>();
  for (const entry of entries) {
    const first = records.get(entry.key)?.events[0];
    const day = first ? partitionOf(first.created_at, "").day : "";
    days.set(day, [...(days.get(day) ?? []), entry]);
  }
  return [...days.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, group]) => group);
}

function addCounts(
  total: Readonly<Record<string, number>>,
  counts: readonly Readonly<Record<string, number>>[],
): Record<string, number> {
  const sum = new Map(Object.entries(total));
  for (const count of counts) for (const [name, n] of Object.entries(count)) sum.set(name, (sum.get(name) ?? 0) + n);
  return Object.fromEntries(sum);
}
