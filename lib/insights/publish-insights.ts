import { z } from "zod";
import { addDays, dayOf } from "../day.ts";
import { log } from "../log.ts";
import type { LeasedFiles } from "../jobs/commit-under-lease.ts";
import { runJob, type JobRun } from "../jobs/run-job.ts";
import { mapLimit } from "../spool/map-limit.ts";
import type { FileChange, RepositoryEntry, RepositoryFiles } from "../storage/repository-files.ts";
import { readRollup, ROLLUP_VERSION, rollupPath, ROLLUPS_DIR, type ReadRollup } from "../tally/day-rollup.ts";
import { EventTally } from "../tally/event-tally.ts";
import type { DayTally } from "../present/period-report.ts";
import { daySources, type DaySource } from "../storage/layout/day-sources.ts";
import { dashboardFiles, dashboardStart, ROOT_README } from "./dashboard-files.ts";
import { rollUpDay, sourceSignature } from "./roll-up-day.ts";
import { ALERT_WINDOW_DAYS, runAlerts, type AlertDeps, type AlertsReport } from "../alerts/run-alerts.ts";

/** Where the dashboard lives in the data repository, beside the rollups. */
const INDEX_PATH = `${ROLLUPS_DIR}/index.json`;
/** A scheduled run has 30 s; a called one a synchronous function's 10 s (26 s at most): `telemetry publish` calls again while days are pending. */
export const PUBLISH_SCHEDULED_BUDGET_MS = 25_000;
export const PUBLISH_CALLED_BUDGET_MS = 8_000;
/** What a run keeps for itself after reading: the lease, the render, the commit. */
const COMMIT_RESERVE_MS = 8_000;
const READ_CONCURRENCY = 8;
const FOUR_DIGITS = /^\d{4}$/;
const TWO_DIGITS = /^\d{2}$/;
const LEGACY_INDEX_VERSION = 2;

/** What the last run knew of each day and month: a day whose files are unchanged is not read again. */
const rollupIndexSchema = z.object({
  version: z.literal(ROLLUP_VERSION),
  /** Month folders' git ids (`YYYY-MM` → tree sha): a month that did not change is not listed. */
  months: z.record(z.string(), z.string()),
  days: z.record(z.string(), z.object({ source: z.string().nullable(), complete: z.boolean() })),
});
type RollupIndex = z.output<typeof rollupIndexSchema>;

/** The files, and the flusher's lease and pace (a publish never races a flush nor spends GitHub's limits twice). */
export interface PublishDeps extends LeasedFiles {
  /** The folder of the raw NDJSON tree ("" for the root). */
  prefix: string;
  /** The key of the keyed hash a rollup's samples name their install by (the erasure forgets them by it). */
  installKey?: () => Promise<string>;
  /** The alerts pass the job ends with (see runAlerts); none: no alerts pass. */
  alerts?: AlertDeps;
}

export interface PublishReport {
  outcome: "published" | "unchanged" | "busy" | "paced" | "failed";
  /** Days read this run, with what was read. */
  days: { day: string; bytes_read: number; files_read: number; caught_up: boolean; malformed: number }[];
  /** Days still to read (a backlog, or a day too big for one run): the next run goes on. */
  pending: number;
  commit: string | null;
  files_written: number;
  duration_ms: number;
  error: string | null;
  /** What the alerts pass did, whatever the run's outcome; null without one (absent from an older site's report). */
  alerts?: AlertsReport | null;
}

/**
 * The hourly job: brings the rollups of the days whose files changed up to date (today and
 * yesterday first, then any day with files and no rollup, oldest first), reading only what was
 * appended since the last run, renders the dashboard from the rollups, and commits it all in one
 * commit, holding the flusher's lease and within its write pace. Whatever the budget leaves
 * unread is read by the next run.
 */
export async function publishInsights(deps: PublishDeps, budgetMs: number): Promise<PublishReport> {
  // The days this run has in hand for the dashboard, which the alerts then judge without reading them again.
  let window: DayTally[] | undefined;
  return runJob<PublishReport>(deps, {
    event: "insights_published",
    budgetMs,
    commitReserveMs: COMMIT_RESERVE_MS / 2,
    report: { days: [], pending: 0, commit: null, files_written: 0, duration_ms: 0, alerts: null },
    logged: (report) => ({ ...report, days: report.days.length }),
    run: (job) => publish(deps, job, budgetMs, (days) => void (window = days)),
    after: async (report, deadline) => {
      if (!deps.alerts) return {};
      const days = async () => window ?? (await alertWindow(deps.files, dayOf(deps.clock.now()), deadline));
      const complete = report.pending === 0 && report.outcome !== "failed";
      return { alerts: await runAlerts(deps.alerts, { days, complete, deadline }) };
    },
  });
}

/** The rollups of the alerts' window, for a run that read none (nothing changed). */
async function alertWindow(files: RepositoryFiles, today: string, deadline: number): Promise<DayTally[]> {
  const first = addDays(today, -(ALERT_WINDOW_DAYS - 1));
  const index = await readIndex(files, deadline);
  const days = Object.keys(index.days).filter((day) => day >= first && day <= today);
  const rollups = await mapLimit(days, READ_CONCURRENCY, (day) => storedRollup(files, day, deadline));
  return rollups.flatMap((stored) =>
    stored ? [{ day: stored.rollup.day, tally: EventTally.fromRollup(stored.rollup) }] : [],
  );
}

async function publish(
  deps: PublishDeps,
  { started, deadline, note, underLease }: JobRun<PublishReport>,
  budgetMs: number,
  hold: (window: DayTally[]) => void,
): Promise<Pick<PublishReport, "outcome"> & Partial<PublishReport>> {
  const { files, clock, prefix } = deps;
  const readUntil = deadline - Math.min(COMMIT_RESERVE_MS, budgetMs / 2);
  const today = dayOf(started);
  const index = await readIndex(files, deadline);
  const { sources, months } = await listDays(files, prefix, index, deadline);
  const due = [...sources.values()]
    .filter((source) => isDue(source, index.days[source.day], today))
    .sort((a, b) => priority(a.day, today) - priority(b.day, today) || (a.day < b.day ? -1 : 1));
  if (due.length === 0) return { outcome: "unchanged" };

  const { read, days, changes } = await readDays(deps, index, due, { readUntil, deadline });
  // Months are remembered only once every day of theirs is read: a month left half-read is listed again.
  for (const [month, sha] of months) {
    if (
      [...sources.values()].every((s) => !s.day.startsWith(month) || index.days[s.day]?.source === sourceSignature(s))
    ) {
      index.months[month] = sha;
    }
  }
  note({ days, pending: due.length });

  const state = deps.lease ? await deps.lease.read() : undefined;
  const window = await windowTallies(files, index, read, today, deadline);
  hold(window);
  const rootReadme = (await files.read(ROOT_README, { deadline }))?.toString("utf8");
  const updatedAt = new Date(clock.now()).toISOString();
  changes.push(...(await dashboardFiles({ days: window, today, updatedAt, state, rootReadme })));
  changes.push({ path: INDEX_PATH, content: `${JSON.stringify(index, null, 1)}\n` });

  const message = `Roll up telemetry: ${days.map((d) => d.day).join(", ")}`;
  const { commit } = await underLease((commitFiles) => commitFiles(changes, message));
  const pending = due.length - days.filter((d) => d.caught_up).length;
  return { outcome: "published", pending, commit, files_written: changes.length };
}

/** Reads the due days in order until `readUntil`: each day's tally, what was read, and its rollup and index entry. */
async function readDays(
  { files, clock, installKey }: PublishDeps,
  index: RollupIndex,
  due: readonly DaySource[],
  { readUntil, deadline }: { readUntil: number; deadline: number },
): Promise<{ read: Map<string, DayTally>; days: PublishReport["days"]; changes: FileChange[] }> {
  const read = new Map<string, DayTally>();
  const days: PublishReport["days"] = [];
  const changes: FileChange[] = [];
  const key = await installKey?.();
  for (const source of due) {
    if (clock.now() >= readUntil) break;
    const stored = index.days[source.day] ? await storedRollup(files, source.day, deadline) : undefined;
    // A day of format 2 with its files is rebuilt from them: exact beats the older sketches.
    const previous = stored?.upgraded ? undefined : stored?.rollup;
    const result = await rollUpDay(files, source, previous, {
      deadline: readUntil,
      clock,
      ...(key === undefined ? {} : { installKey: key }),
    });
    for (const line of result.malformed.slice(0, 10)) log("warn", "malformed_line", { ...line });
    read.set(source.day, { day: source.day, tally: result.tally });
    days.push({
      day: source.day,
      bytes_read: result.bytesRead,
      files_read: result.filesRead,
      caught_up: result.caughtUp,
      malformed: result.malformed.length,
    });
    changes.push({ path: rollupPath(source.day), content: `${JSON.stringify(result.rollup)}\n` });
    index.days[source.day] = { source: result.rollup.source, complete: result.rollup.complete };
  }
  return { read, days, changes };
}

/**
 * The index, or a new one. An index of format 2 keeps its days, each as if never read: every day with
 * files is read again and rebuilt, and a day whose files are gone stays in the dashboard from its rollup.
 */
export async function readIndex(files: Pick<RepositoryFiles, "read">, deadline: number): Promise<RollupIndex> {
  const bytes = await files.read(INDEX_PATH, { deadline });
  const json = bytes && parseJson(bytes);
  const parsed = rollupIndexSchema.safeParse(json);
  if (parsed.success) return parsed.data;
  const older = rollupIndexSchema.safeParse({ ...(json as object), version: ROLLUP_VERSION });
  const days = older.success && (json as { version?: unknown }).version === LEGACY_INDEX_VERSION ? older.data.days : {};
  return {
    version: ROLLUP_VERSION,
    months: {},
    days: Object.fromEntries(Object.keys(days).map((day) => [day, { source: null, complete: false }])),
  };
}

/** The days that have files, from the listings of the months that changed since the index was written. */
async function listDays(
  files: RepositoryFiles,
  prefix: string,
  index: RollupIndex,
  deadline: number,
): Promise<{ sources: Map<string, DaySource>; months: Map<string, string> }> {
  const root = await files.list(prefix, { deadline });
  const years = root.filter((entry) => entry.type === "dir" && FOUR_DIGITS.test(entry.name));
  const monthEntries = (await mapLimit(years, READ_CONCURRENCY, (year) => files.list(year.path, { deadline }))).flatMap(
    (entries, i) =>
      entries
        .filter((entry) => entry.type === "dir" && TWO_DIGITS.test(entry.name))
        .map((entry): [string, RepositoryEntry] => [`${years[i]!.name}-${entry.name}`, entry]),
  );
  const changed = monthEntries.filter(([month, entry]) => entry.sha === "" || index.months[month] !== entry.sha);
  const listings = await mapLimit(changed, READ_CONCURRENCY, ([, entry]) => files.list(entry.path, { deadline }));
  const sources = new Map<string, DaySource>();
  changed.forEach(([month], i) => daySources(month, listings[i]!).forEach((source, day) => sources.set(day, source)));
  return { sources, months: new Map(changed.map(([month, entry]) => [month, entry.sha])) };
}

/** A day is read again when its files changed since its rollup, or (without git ids to tell) until it is closed. */
function isDue(source: DaySource, known: RollupIndex["days"][string] | undefined, today: string): boolean {
  if (source.day > today) return false;
  if (!known) return true;
  const signature = sourceSignature(source);
  return signature === undefined ? !known.complete : known.source !== signature;
}

/** Today and yesterday first: the dashboard's freshest figures; then the backlog, oldest first. */
function priority(day: string, today: string): number {
  return day >= addDays(today, -1) ? 0 : 1;
}

/** The tallies of the dashboard's two periods: those read this run, the others from their rollups. */
async function windowTallies(
  files: RepositoryFiles,
  index: RollupIndex,
  read: Map<string, DayTally>,
  today: string,
  deadline: number,
): Promise<DayTally[]> {
  const first = dashboardStart(today);
  const others = Object.keys(index.days).filter((day) => day >= first && day <= today && !read.has(day));
  const rollups = await mapLimit(others, READ_CONCURRENCY, (day) => storedRollup(files, day, deadline));
  return [
    ...read.values(),
    ...rollups.flatMap((stored) =>
      stored ? [{ day: stored.rollup.day, tally: EventTally.fromRollup(stored.rollup) }] : [],
    ),
  ];
}

/** A day's rollup, upgraded if of format 2; undefined when there is none, or one that does not parse (rebuilt from the files). */
export async function storedRollup(
  files: Pick<RepositoryFiles, "read">,
  day: string,
  deadline: number,
): Promise<ReadRollup | undefined> {
  const bytes = await files.read(rollupPath(day), { deadline });
  // One that does not parse is rebuilt from the day's files.
  return bytes ? readRollup(parseJson(bytes)) : undefined;
}

function parseJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString("utf8"));
  } catch {
    return undefined;
  }
}
