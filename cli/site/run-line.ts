import type { AlertsReport } from "../../lib/alerts/run-alerts.ts";
import type { PublishReport } from "../../lib/insights/publish-insights.ts";
import type { RetentionReport } from "../../lib/lifecycle/apply-retention.ts";
import { addDays } from "../../lib/day.ts";

/** A commit as git shows it in one line. */
const SHORT_SHA = 7;
/** Up to this many days that do not follow one another are named; more, spanned. */
const FEW_DAYS = 4;

/**
 * One run of a job, readable: outcome, the days it did, its commit and what is left, e.g.
 * `published: 2 day(s) (2026-11-20 to 2026-11-21), commit a1b2c3d, 1 pending`.
 */
export function runLine(run: PublishReport | RetentionReport): string {
  const days = run.days.map((d) => d.day);
  const range = daysShown(days);
  const removed = "keep_from" in run ? run.days.reduce((sum, d) => sum + d.files.length, 0) : undefined;
  const what = [range, ...(removed ? [`${removed} file(s)`] : [])].filter(Boolean).join(", ");
  const parts = [
    `${days.length} day(s)${what ? ` (${what})` : ""}`,
    run.commit ? `commit ${short(run.commit)}` : "no commit",
    `${run.pending} pending`,
  ];
  if ("alerts" in run && run.alerts) parts.push(...alertsPart(run.alerts));
  if ("keep_from" in run) {
    if (run.waiting.length) parts.push(`${run.waiting.length} waiting for rollups`);
    if (run.squashed) parts.push(`history squashed to ${short(run.squashed)}`);
    if (run.squash_error) parts.push(`squash not made: ${run.squash_error}`);
  }
  return `${run.outcome}: ${parts.join(", ")}${run.error ? `: ${run.error}` : ""}`;
}

/** The last line of `telemetry publish`: what the runs did and what is left; `failed` when the last run failed. */
export function publishSummary(runs: readonly PublishReport[]): { line: string; failed: boolean } {
  const last = runs.at(-1);
  const days = runs.reduce((sum, run) => sum + run.days.length, 0);
  const commit = runs.findLast((run) => run.commit)?.commit;
  const left =
    last && (last.pending > 0 || last.error)
      ? `${last.pending} day(s) left: the last run ended ${last.outcome}${last.error ? ` (${last.error})` : ""}, run it again`
      : "nothing pending";
  return {
    line: `telemetry: publish: ${days} day(s) rolled up in ${runs.length} run(s), ${commit ? `last commit ${short(commit)}` : "no commit"}; ${left}`,
    failed: last?.outcome === "failed",
  };
}

/** What the alerts pass did, when it did or met something: `alerts: 1 opened, 2 closed`, or why it could not. */
function alertsPart(alerts: AlertsReport): string[] {
  if (alerts.outcome === "off") return [];
  const counts = (["opened", "reopened", "commented", "closed", "waiting"] as const)
    .filter((field) => alerts[field] > 0)
    .map((field) => `${alerts[field]} ${field}`);
  if (alerts.outcome === "checked") {
    return counts.length > 0 ? [`alerts: ${counts.join(", ")}${alerts.message ? `: ${alerts.message}` : ""}`] : [];
  }
  return [`alerts ${alerts.outcome}${counts.length > 0 ? ` (${counts.join(", ")})` : ""}: ${alerts.message ?? ""}`];
}

/** The days a run did, whatever order it did them in (publish: today and yesterday first, then the backlog). */
function daysShown(done: readonly string[]): string {
  const days = [...done].sort();
  if (days.length <= 1) return days[0] ?? "";
  const consecutive = days.every((day, i) => i === 0 || addDays(days[i - 1]!, 1) === day);
  return !consecutive && days.length <= FEW_DAYS ? days.join(", ") : `${days[0]} to ${days.at(-1)}`;
}

function short(sha: string): string {
  return sha.slice(0, SHORT_SHA);
}
