import type { Clock } from "../clock.ts";
import { addDays, dayOf } from "../day.ts";
import { listDaySources } from "../storage/layout/list-day-sources.ts";
import { dayParts } from "../storage/layout/day-parts.ts";
import type { HistoryMode } from "../config.ts";
import type { LeasedFiles } from "../jobs/commit-under-lease.ts";
import { runJob } from "../jobs/run-job.ts";
import type { RepositoryFiles } from "../storage/repository-files.ts";

/** Files one commit removes at most: a tree request names each, and a year's backlog is ~100,000 parts. */
const MAX_FILES_PER_RUN = 5_000;
/** A scheduled run has 30 s, a called one a synchronous function's 10 s. */
export const RETENTION_BUDGET_MS = 25_000;
export const RETENTION_CALLED_BUDGET_MS = 8_000;
/** What a run keeps for itself after planning: the lease and the commit. */
const COMMIT_RESERVE_MS = 8_000;

export interface RetentionPlan {
  /** The first day kept: every day before it goes. */
  keep_from: string;
  /** The days whose files go this run, oldest first, with their files and bytes. */
  days: { day: string; files: string[]; bytes: number }[];
  /** More days are past the period than one run removes: the next run goes on. */
  pending: boolean;
}

export interface RetentionReport extends RetentionPlan {
  outcome: "removed" | "nothing" | "busy" | "paced" | "failed";
  commit: string | null;
  /** The root commit that replaced the history (TELEMETRY_HISTORY=squash). */
  squashed: string | null;
  error: string | null;
}

/**
 * The raw files a retention of `keepDays` days removes now: every file of every day before the
 * last `keepDays` (today, UTC, included), oldest first, up to one commit's worth. Rollups are not
 * raw files: they stay, and the dashboard keeps its history.
 */
export async function planRetention(
  files: RepositoryFiles,
  {
    prefix,
    keepDays,
    clock,
    deadline,
    planUntil = deadline,
  }: { prefix: string; keepDays: number; clock: Clock; deadline: number; planUntil?: number },
): Promise<RetentionPlan> {
  const today = dayOf(clock.now());
  const keepFrom = addDays(today, -(keepDays - 1));
  const expired = await listDaySources(files, {
    prefix,
    to: addDays(keepFrom, -1),
    deadline,
  });
  const days: RetentionPlan["days"] = [];
  let count = 0;
  for (const source of expired) {
    if (clock.now() >= planUntil && days.length > 0) return { keep_from: keepFrom, days, pending: true };
    const parts = await dayParts(files, source, deadline);
    if (count + parts.length > MAX_FILES_PER_RUN && days.length > 0)
      return { keep_from: keepFrom, days, pending: true };
    days.push({
      day: source.day,
      files: parts.map((part) => part.path),
      bytes: parts.reduce((sum, part) => sum + part.size, 0),
    });
    count += parts.length;
  }
  return { keep_from: keepFrom, days, pending: false };
}

/** The daily job: removes the raw files past the retention period in one commit, under the flusher's lease and within its pace. */
export async function applyRetention(
  deps: LeasedFiles & { prefix: string; history: HistoryMode },
  { keepDays, budgetMs }: { keepDays: number; budgetMs: number },
): Promise<RetentionReport> {
  return runJob<RetentionReport>(deps, {
    event: "retention_applied",
    budgetMs,
    commitReserveMs: COMMIT_RESERVE_MS / 2,
    history: deps.history,
    report: { keep_from: "", days: [], pending: false, commit: null, squashed: null },
    logged: (report) => ({
      outcome: report.outcome,
      keep_from: report.keep_from,
      days: report.days.length,
      files: report.days.reduce((sum, d) => sum + d.files.length, 0),
      pending: report.pending,
      error: report.error,
    }),
    run: async ({ deadline, note, underLease }) => {
      const { files, prefix, clock } = deps;
      const plan = await planRetention(files, {
        prefix,
        keepDays,
        clock,
        deadline,
        planUntil: deadline - COMMIT_RESERVE_MS,
      });
      note(plan);
      if (plan.days.length === 0) return { outcome: "nothing" };
      const changes = plan.days.flatMap((day) => day.files.map((path) => ({ path, content: null })));
      const first = plan.days[0]!.day;
      const last = plan.days.at(-1)!.day;
      const message = `Remove raw telemetry past ${keepDays} days: ${first === last ? first : `${first} to ${last}`}`;
      return { outcome: "removed", ...(await underLease((commit) => commit(changes, message))) };
    },
  });
}
