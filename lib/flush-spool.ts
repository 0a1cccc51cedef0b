import type { Clock } from "./clock.ts";
import type { StoredEvent } from "./event.ts";
import { FlushLease, LeaseLostError, type FlushState, type LastFlush } from "./flush-lease.ts";
import { log } from "./log.ts";
import { WritePacer, type WriteLimits } from "./pace-writes.ts";
import { partitionOf } from "./partition.ts";
import type { Spool, SpoolEntry } from "./spool.ts";
import { StoreUnavailableError, type EventStore } from "./store.ts";

/** A write's turn must come this long before the run's deadline, so that the write itself fits. */
const WRITE_BUDGET_MS = 1500;
/** Entries one round reads at most: enough for a full file of every waiting day, bounded in memory. */
const MAX_ENTRIES_PER_ROUND = 5000;

export interface FlushDeps {
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
    if (outcome !== "idle" || clock.now() > run.deadline - WRITE_BUDGET_MS || (await spool.list()).length === 0) {
      const report = { outcome, ...run.summary(started, outcome) };
      log(report.error ? "warn" : "info", "spool_flushed", { ...report });
      return report;
    }
  }
  return { outcome: "busy", ...run.summary(started, "busy") };
}

class FlushRun {
  private events = 0;
  private commits = 0;
  private bytes = 0;
  private readonly files = new Set<string>();
  private error: string | null = null;
  /** Entries read in an earlier round of this run and not yet stored, by key. */
  private readonly cache = new Map<string, StoredEvent[]>();

  constructor(
    private readonly deps: FlushDeps,
    readonly deadline: number,
  ) {}

  async rounds(initial: FlushState): Promise<{ outcome: FlushOutcome; state: FlushState; lost: boolean }> {
    const { spool, lease, store, clock, limits } = this.deps;
    let state = initial;
    const pacer = new WritePacer(state.writes, limits, clock);
    try {
      for (;;) {
        if (state.blocked_until > clock.now()) return { outcome: "blocked", state, lost: false };
        if (clock.now() > this.deadline - WRITE_BUDGET_MS) return { outcome: "paced", state, lost: false };
        const entries = (await spool.list()).slice(0, MAX_ENTRIES_PER_ROUND);
        if (entries.length === 0) return { outcome: "idle", state, lost: false };
        await this.load(entries);

        for (const day of groupByDay(entries, this.cache)) {
          const result = await store.commit(
            day.map((entry) => this.cache.get(entry.key)!),
            { deadline: this.deadline, beforeWrite: () => pacer.wait(this.deadline - WRITE_BUDGET_MS) },
          );
          state = { ...state, writes: pacer.writes() };
          if (result.path) {
            this.commits += 1;
            this.files.add(result.path);
          }
          this.events += result.events;
          this.bytes += result.bytes;
          const stored = day.slice(0, result.batches);
          // Deleted only now that the commit landed: a flusher that dies before this line leaves the
          // entries for its successor, which finds their events in the file and skips them.
          await spool.remove(stored);
          for (const entry of stored) this.cache.delete(entry.key);
          await lease.renew(state);
        }
      }
    } catch (error) {
      state = { ...state, writes: pacer.writes() };
      if (error instanceof LeaseLostError) {
        this.error = error.message;
        return { outcome: "lost", state, lost: true };
      }
      if (error instanceof StoreUnavailableError && error.reason === "paced") return { outcome: "paced", state, lost: false };
      this.error = messageOf(error);
      if (error instanceof StoreUnavailableError && error.reason === "rate_limited") {
        state = { ...state, blocked_until: clock.now() + error.retryAfterSeconds * 1000 };
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

  private async load(entries: readonly SpoolEntry[]): Promise<void> {
    const unread = entries.filter((entry) => !this.cache.has(entry.key));
    const events = await this.deps.spool.read(unread);
    unread.forEach((entry, index) => this.cache.set(entry.key, events[index]!));
  }
}

/** Entries by the UTC day of their events, oldest day first; an entry's events all share one `created_at`. */
function groupByDay(entries: readonly SpoolEntry[], events: ReadonlyMap<string, StoredEvent[]>): SpoolEntry[][] {
  const days = new Map<string, SpoolEntry[]>();
  for (const entry of entries) {
    const first = events.get(entry.key)?.[0];
    const day = first ? partitionOf(first.created_at, "").day : "";
    days.set(day, [...(days.get(day) ?? []), entry]);
  }
  return [...days.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, group]) => group);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
