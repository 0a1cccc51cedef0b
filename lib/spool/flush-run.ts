import type { Clock } from "../clock.ts";
import type { WriteLimits } from "../config.ts";
import type { StoredEvent } from "../events/stored-event.ts";
import { groupByDay } from "../storage/layout/partition.ts";
import { PushProtectedError, type CommitResult, type EventStore } from "../storage/event-store.ts";
import { settledState, type FlushLease, type FlushState, type LastFlush } from "./flush-lease.ts";
import type { BlobStore } from "./blob-store.ts";
import { endOfRun, RunFigures } from "./end-of-run.ts";
import { SeenIds } from "./seen-ids.ts";
import type { Spool, SpoolEntry, SpoolRecord } from "./spool.ts";
import { WritePacer } from "./write-pacer.ts";

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
 * (the next write's turn is after this run's budget), `blocked` (a rate limit or a refusal's
 * back-off is in force), `refused` (GitHub refused the write: the token, the repository or the
 * branch is wrong), `lost` (the lease was taken over), `failed` (GitHub failed or timed out, or
 * Blobs did; the events wait for the next run).
 */
export type FlushOutcome = "idle" | "busy" | "paced" | "blocked" | "refused" | "lost" | "failed";

/**
 * One flusher's run while it holds the lease: rounds of reading the oldest entries and committing
 * them day by day, until the spool is empty, the budget or the pace stops it, or a write fails.
 * It keeps the run's figures across the rounds (a run may take the lease more than once).
 */
export class FlushRun {
  private readonly figures = new RunFigures();
  private error: string | null = null;
  /** Entries read in an earlier round of this run and not yet stored, by key. */
  private readonly cache = new Map<string, SpoolRecord>();
  private readonly seen: SeenIds;
  /** The oldest entries as last listed, less what this run has stored: a run lists again once it has worked through them. */
  private queue: SpoolEntry[] = [];
  /** The shared state as this run has changed it, saved with every renewal of the lease. */
  private state!: FlushState;
  private pacer!: WritePacer;

  constructor(
    private readonly deps: FlushDeps,
    readonly deadline: number,
  ) {
    this.seen = new SeenIds(deps.blobs, deps.clock);
  }

  /** Works from the state the lease guards; how it ended, and the state to save. */
  async rounds(initial: FlushState): Promise<{ outcome: FlushOutcome; state: FlushState }> {
    this.state = initial;
    this.pacer = new WritePacer(initial.writes, this.deps.limits, this.deps.clock);
    try {
      for (;;) {
        const stop = await this.stopBeforeRound();
        if (stop) return { outcome: stop, state: { ...this.state, resume_at: this.resumeAt() } };
        for (const day of await this.nextDays()) await this.commitDay(day);
      }
    } catch (error) {
      const { clock, store } = this.deps;
      const state = { ...this.state, writes: this.pacer.writes(), resume_at: this.pacer.nextAt() };
      const end = endOfRun(error, state, { head: this.queue[0]?.key ?? null, clock, store });
      if (end.message !== undefined) this.error = end.message;
      return { outcome: end.outcome, state: end.state };
    }
  }

  summary(started: number, outcome: FlushOutcome): LastFlush {
    return this.figures.summary(started, this.deps.clock.now(), outcome === "busy" ? null : this.error);
  }

  private resumeAt(): number {
    return Math.max(this.state.blocked_until, this.pacer.nextAt());
  }

  /** Why no round can start now, if none can; an empty spool is found by the round itself. */
  private async stopBeforeRound(): Promise<FlushOutcome | undefined> {
    const { clock } = this.deps;
    const now = clock.now();
    if (this.state.refusals > 0 && this.state.refused_credentials !== this.deps.store.credentialsId()) {
      // Someone set new credentials: the back-off was the old ones'.
      this.state = { ...this.state, refusals: 0, blocked_until: 0, resume_at: 0, refused_credentials: null };
    }
    // A stop that ends within the run is waited out here: a run woken just before its end (as
    // ingestion wakes one) would otherwise end at once, and the next request wake another.
    if (this.state.blocked_until > now && this.state.blocked_until <= this.deadline - WRITE_BUDGET_MS) {
      // A timer may wake a moment before the wall clock reaches its end: the stop is waited out whole.
      while (this.state.blocked_until > clock.now()) await clock.sleep(this.state.blocked_until - clock.now());
    }
    // A refusal's back-off is no rate limit: nothing changes until someone acts, so no run hands over.
    if (this.state.blocked_until > clock.now()) return this.state.refusals > 0 ? "refused" : "blocked";
    // No write possible in this run: reading the spool and GitHub now would be wasted.
    if (clock.now() > this.deadline - WRITE_BUDGET_MS || this.resumeAt() > this.deadline - LAST_WRITE_START_MS) {
      return (await this.deps.spool.oldest(1)).length > 0 ? "paced" : "idle";
    }
    if (this.queue.length === 0) this.queue = await this.deps.spool.oldest(MAX_ENTRIES_PER_ROUND);
    return this.queue.length === 0 ? "idle" : undefined;
  }

  /** The round's entries, read, by the day their events belong to, oldest day first. */
  private async nextDays(): Promise<SpoolEntry[][]> {
    const loaded = await this.load(this.queue.slice(0, MAX_ENTRIES_PER_ROUND));
    return groupByDay(loaded, (entry) => this.cache.get(entry.key)?.events[0]?.created_at ?? "");
  }

  /**
   * One commit per file; a day with more than its newest part can take goes on into the next part.
   * Entries known to hold a secret GitHub refuses are searched first, a step a write.
   */
  private async commitDay(day: readonly SpoolEntry[]): Promise<void> {
    let waiting = day;
    while (waiting.length > 0) {
      const suspects = this.suspectsIn(waiting);
      if (suspects.length > 0) await this.narrow(suspects);
      else {
        try {
          const result = await this.commit(await this.batchesOf(waiting));
          await this.settle(waiting.slice(0, result.batches), result);
        } catch (error) {
          if (!(error instanceof PushProtectedError)) throw error;
          await this.suspectOnly(waiting);
        }
      }
      waiting = waiting.filter((entry) => this.cache.has(entry.key));
    }
  }

  /** The entries of `waiting` in the range known to hold a secret; the range is forgotten once none waits in it. */
  private suspectsIn(waiting: readonly SpoolEntry[]): SpoolEntry[] {
    const { suspect } = this.state;
    if (!suspect) return [];
    const inRange = waiting.filter((entry) => entry.key >= suspect.first && entry.key <= suspect.last);
    if (inRange.length === 0 && !this.queue.some((entry) => entry.key >= suspect.first && entry.key <= suspect.last)) {
      this.state = { ...this.state, suspect: null };
    }
    return inRange;
  }

  /**
   * One step of the search for the secret among `suspects`: commit the older half; stored, the
   * secret is in the other half, refused, in this one. A single entry left is searched event by
   * event and its secret set aside. The range is saved at every step, so a run that ends mid-search
   * leaves the next one to go on rather than begin again.
   */
  private async narrow(suspects: readonly SpoolEntry[]): Promise<void> {
    if (suspects.length === 1) {
      const [entry] = suspects as [SpoolEntry];
      await this.isolate(entry, await this.unseen(this.cache.get(entry.key)!));
      this.state = { ...this.state, suspect: null };
      await this.settle(suspects, undefined);
      return;
    }
    const older = suspects.slice(0, Math.ceil(suspects.length / 2));
    try {
      const result = await this.commit(await this.batchesOf(older));
      await this.settle(older.slice(0, result.batches), result);
      if (result.batches === older.length) await this.suspectOnly(suspects.slice(older.length));
    } catch (error) {
      if (!(error instanceof PushProtectedError)) throw error;
      await this.suspectOnly(older);
    }
  }

  private async suspectOnly(entries: readonly SpoolEntry[]): Promise<void> {
    this.state = { ...this.state, suspect: { first: entries[0]!.key, last: entries.at(-1)!.key } };
    await this.deps.lease.renew(this.state);
  }

  private batchesOf(entries: readonly SpoolEntry[]): Promise<StoredEvent[][]> {
    return Promise.all(entries.map((entry) => this.unseen(this.cache.get(entry.key)!)));
  }

  private commit(batches: readonly (readonly StoredEvent[])[]): Promise<CommitResult> {
    return this.deps.store.commit(batches, {
      deadline: this.deadline + COMMIT_GRACE_MS,
      beforeWrite: () => this.pacer.wait(this.deadline - LAST_WRITE_START_MS),
    });
  }

  /**
   * The events of one entry suspected of holding a secret GitHub refuses: committed whole; refused,
   * in halves, down to the single events that hold it, which are set aside. The entry is rewritten
   * without what is done after each step, so that a successor never stores an event twice nor
   * sends the secret again.
   */
  private async isolate(entry: SpoolEntry, events: readonly StoredEvent[]): Promise<void> {
    if (events.length === 0) return;
    try {
      this.figures.add(await this.commit([events]));
    } catch (error) {
      if (!(error instanceof PushProtectedError)) throw error;
      if (events.length > 1) {
        const half = Math.ceil(events.length / 2);
        await this.isolate(entry, events.slice(0, half));
        await this.isolate(entry, events.slice(half));
        return;
      }
      await this.deps.spool.quarantine.setAside(`${entry.key}/${events[0]!.event_id}`, events[0], [
        { path: "body", message: error.message },
      ]);
      this.cache.get(entry.key)!.quarantined += 1;
    }
    await this.drop(entry, events);
  }

  /** Takes `events` out of the entry, in the spool too: they are stored or set aside. */
  private async drop(entry: SpoolEntry, events: readonly StoredEvent[]): Promise<void> {
    const record = this.cache.get(entry.key)!;
    const done = new Set(events.map((event) => event.event_id));
    record.events = record.events.filter((event) => !done.has(event.event_id));
    await this.deps.spool.rewrite(entry, record);
  }

  /**
   * Counts a landed commit (if any) and clears its entries. They are deleted only now that the commit
   * landed, and before the next commit: a flusher that dies before this leaves the entries for its
   * successor, whose first read is the file just written, where it finds their events and skips them.
   */
  private async settle(stored: readonly SpoolEntry[], result: CommitResult | undefined): Promise<void> {
    if (result) this.figures.add(result);
    const records = stored.map((entry) => this.cache.get(entry.key)!);
    await this.seen.remember(records.flatMap((record) => record.client_ids));
    this.state = settledState(this.state, records, this.pacer.writes(), this.deps.clock);
    await this.deps.spool.remove(stored);
    const done = new Set(stored.map((entry) => entry.key));
    for (const key of done) this.cache.delete(key);
    this.queue = this.queue.filter((entry) => !done.has(entry.key));
    await this.deps.lease.renew(this.state);
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
