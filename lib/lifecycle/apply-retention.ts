import type { Clock } from "../clock.ts";
import { addDays, dayOf } from "../day.ts";
import { listDaySources } from "../storage/layout/list-day-sources.ts";
import { dayParts, type DayPart } from "../storage/layout/day-parts.ts";
import { mapLimit } from "../spool/map-limit.ts";
import { readRollup, type DayRollup, rollupPath } from "../tally/day-rollup.ts";
import type { HistoryMode } from "../config.ts";
import type { LeasedFiles } from "../jobs/commit-under-lease.ts";
import { runJob } from "../jobs/run-job.ts";
import type { RepositoryFiles } from "../storage/repository-files.ts";

/** Files one commit removes at most: a tree request names each, and a year's backlog is ~100,000 parts. */
const MAX_FILES_PER_RUN = 5_000;
/** A scheduled run has 30 s, a called one a synchronous function's 10 s. */
export const RETENTION_BUDGET_MS = 25_000;
export const RETENTION_CALLED_BUDGET_MS = 8_000;
/**
 * What a run keeps for itself after planning: the lease and the commit, at most this share of a
 * short budget (a called run's 8 s plans for 5), the lease looked for until most of it is left.
 */
const COMMIT_RESERVE_MS = 8_000;
const COMMIT_RESERVE_SHARE = 0.375;
const LEASE_RESERVE_SHARE = 0.8;
/** Days planned at once (a listing of the day's folder and a read of its rollup each); the first batch whatever the time. */
const PLAN_CONCURRENCY = 16;

export interface RetentionPlan {
  /** The first day kept: every day before it goes. */
  keep_from: string;
  /** The days whose files go this run, oldest first, with their files and bytes. */
  days: { day: string; files: string[]; bytes: number }[];
  /** Days past the period whose rollup does not cover their files yet: kept until it does (a later run removes them). */
  waiting: string[];
  /** Days past the period, covered by their rollups, that this run leaves to the next (its budget, one commit's files). */
  pending: number;
}

export interface RetentionReport extends RetentionPlan {
  outcome: "removed" | "nothing" | "busy" | "paced" | "failed";
  commit: string | null;
  /** The root commit that replaced the history (TELEMETRY_HISTORY=squash). */
  squashed: string | null;
  /** Why the squash due after the commit was not made (see JobCommitted.squash_error). */
  squash_error: string | null;
  error: string | null;
}

/**
 * The raw files a retention of `keepDays` days removes now: every file of every day before the
 * last `keepDays` (today, UTC, included) whose rollup covers them (the day is closed and its cursor
 * is at the end of each of its files, as they are listed now), oldest first, up to one commit's
 * worth. A day not covered yet waits, so that no day is lost from the dashboard. Planning reads
 * listings and rollups, never raw files. Rollups are not raw files: they stay.
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
  const expired = await listDaySources(files, { prefix, to: addDays(keepFrom, -1), deadline });
  const plan: RetentionPlan = { keep_from: keepFrom, days: [], waiting: [], pending: 0 };
  let count = 0;
  for (let at = 0; at < expired.length; at += PLAN_CONCURRENCY) {
    if (clock.now() >= planUntil && at > 0) {
      plan.pending += expired.length - at;
      break;
    }
    const batch = expired.slice(at, at + PLAN_CONCURRENCY);
    const planned = await mapLimit(batch, PLAN_CONCURRENCY, async (source) => {
      const parts = await dayParts(files, source, deadline);
      return { source, parts, covered: covers(await storedRollup(files, source.day, deadline), parts) };
    });
    for (const { source, parts, covered } of planned) {
      if (!covered) plan.waiting.push(source.day);
      else if (count + parts.length > MAX_FILES_PER_RUN && plan.days.length > 0) plan.pending += 1;
      else {
        plan.days.push({
          day: source.day,
          files: parts.map((part) => part.path),
          bytes: parts.reduce((sum, part) => sum + part.size, 0),
        });
        count += parts.length;
      }
    }
  }
  return plan;
}

/** The rollup was read to the end of every file the day has now: removing them loses nothing of the dashboard. */
function covers(rollup: DayRollup | undefined, parts: readonly DayPart[]): boolean {
  if (!rollup?.complete) return false;
  return parts.every((part) =>
    rollup.parts.some(
      (read) =>
        read.name === part.name &&
        read.bytes === part.size &&
        (part.sha === "" || read.blob === null || read.blob === part.sha),
    ),
  );
}

async function storedRollup(files: RepositoryFiles, day: string, deadline: number): Promise<DayRollup | undefined> {
  const bytes = await files.read(rollupPath(day), { deadline });
  if (!bytes) return undefined;
  try {
    const read = readRollup(JSON.parse(bytes.toString("utf8")));
    // An upgraded rollup of format 2 covers nothing: the hourly job rebuilds the day from its files first.
    return read && !read.upgraded ? read.rollup : undefined;
  } catch {
    return undefined;
  }
}

/** The daily job: removes the raw files past the retention period in one commit, under the flusher's lease and within its pace. */
export async function applyRetention(
  deps: LeasedFiles & { prefix: string; history: HistoryMode },
  { keepDays, budgetMs }: { keepDays: number; budgetMs: number },
): Promise<RetentionReport> {
  return runJob<RetentionReport>(deps, {
    event: "retention_applied",
    budgetMs,
    commitReserveMs: commitReserve(budgetMs) * LEASE_RESERVE_SHARE,
    history: deps.history,
    report: { keep_from: "", days: [], waiting: [], pending: 0, commit: null, squashed: null, squash_error: null },
    logged: (report) => ({
      outcome: report.outcome,
      keep_from: report.keep_from,
      days: report.days.length,
      files: report.days.reduce((sum, d) => sum + d.files.length, 0),
      waiting: report.waiting.length,
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
        planUntil: deadline - commitReserve(budgetMs),
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

/** A called run's budget is short: planning takes what the commit does not keep. */
function commitReserve(budgetMs: number): number {
  return Math.min(COMMIT_RESERVE_MS, budgetMs * COMMIT_RESERVE_SHARE);
}
