import { MINUTE_MS, type Clock } from "../clock.ts";
import type { AlertKind } from "../config.ts";
import { addDays, dayOf } from "../day.ts";
import { scrubMetadata } from "../events/scrub-metadata.ts";
import { log, messageOf } from "../log.ts";
import type { FlushLease } from "../spool/flush-lease.ts";
import type { Spool } from "../spool/spool.ts";
import { StoreUnavailableError } from "../storage/event-store.ts";
import { IssuesNotPermittedError, type RepositoryIssue, type RepositoryIssues } from "../storage/repository-issues.ts";
import { ALERT_LABEL, markerKey, type AlertAction } from "./alert-marker.ts";
import { errorGroupAlerts, type AlertDay } from "./error-group-alerts.ts";
import { pipelineAlerts } from "./pipeline-alerts.ts";

/** The days the alerts judge from, today included: a group not seen in them before the last 7 is new. */
export const ALERT_WINDOW_DAYS = 30;
/** Issues opened a run at most: the rest wait for the next run, oldest first. */
const MAX_OPENED = 5;
/** Issue writes (opened, reopened, commented, closed) a run at most, and fewer when the flusher's pace leaves fewer (AlertDeps.writesLeft). */
const MAX_WRITES = 20;
const NO_ROOM =
  "TELEMETRY_WRITES_PER_MINUTE and TELEMETRY_WRITES_PER_HOUR leave the alerts fewer writes than they need of GitHub's limits (80 a minute, 500 an hour): the rest waits for the next run";

/** How the alerts pass went, in the hourly job's report. */
export interface AlertsReport {
  /** checked: every alert judged; off: none asked for, or no GitHub; not_permitted: the credential may not write issues; stopped: cut short (see message). */
  outcome: "checked" | "off" | "not_permitted" | "stopped";
  opened: number;
  reopened: number;
  commented: number;
  closed: number;
  /** Changes left for the next run (the limits of a run, or a stop). */
  waiting: number;
  message: string | null;
}

/** What the alerts work with: the repository's issues (none for the local folder), the kinds turned on, and the spool when there is one. */
export interface AlertDeps {
  issues: RepositoryIssues | undefined;
  kinds: readonly AlertKind[];
  clock: Clock;
  spool: { spool: Spool; lease: FlushLease } | undefined;
  /** TELEMETRY_HEALTH_MAX_WAIT_MINUTES, in ms. */
  maxWaitMs: number;
  /** Content writes GitHub's limits leave beside the flusher's pace (TELEMETRY_WRITES_PER_MINUTE, _PER_HOUR), a minute or an hour. */
  writesLeft: number;
}

/**
 * The hourly job's last pass: judges every alert kind turned on from `days` (the window, as the job
 * has it) and the pipeline's state, then opens, comments on, closes and reopens the alert issues in
 * the data repository, found again by their markers. It never throws: what it could not do (no
 * permission, a rate limit, out of time) is its report's outcome, and the next run goes on from
 * what the issues then say. `complete`: no day is left to read, so a group that looks quiet is.
 */
export async function runAlerts(
  deps: AlertDeps,
  { days, complete, deadline }: { days: () => Promise<readonly AlertDay[]>; complete: boolean; deadline: number },
): Promise<AlertsReport> {
  const report: AlertsReport = {
    outcome: "checked",
    opened: 0,
    reopened: 0,
    commented: 0,
    closed: 0,
    waiting: 0,
    message: null,
  };
  const { issues, kinds, clock } = deps;
  if (!issues || kinds.length === 0) {
    const message = issues
      ? "no alert kind is on (TELEMETRY_ALERTS, TELEMETRY_ALERTS_OFF)"
      : "the local store has no issues to open";
    return { ...report, outcome: "off", message };
  }
  let planned: AlertAction[] = [];
  let done = 0;
  try {
    const known = byMarker(await issues.list(ALERT_LABEL, { deadline }));
    const now = clock.now();
    const first = addDays(dayOf(now), -(ALERT_WINDOW_DAYS - 1));
    const window = (await days()).filter(({ day }) => day >= first);
    const state = await deps.spool?.lease.read();
    const depth = await deps.spool?.spool.recentDepth(now - MINUTE_MS);
    const tokenExpiresAt = issues.credentialsExpireAt();
    planned = [
      ...(kinds.includes("error_group") ? errorGroupAlerts(window, known, { now, complete }) : []),
      ...pipelineAlerts({ days: window, now, kinds, state, depth, maxWaitMs: deps.maxWaitMs, tokenExpiresAt }, known),
    ];
    // Changes to issues first, then the new issues, oldest first.
    const opens = planned.filter((action) => action.do === "open").sort((a, b) => a.since - b.since);
    const maxWrites = Math.max(0, Math.min(MAX_WRITES, deps.writesLeft));
    let message: string | null = null;
    for (const action of [...planned.filter((action) => action.do !== "open"), ...opens]) {
      if (action.do === "open" && report.opened >= MAX_OPENED) break;
      if (writes(report) + cost(action) > maxWrites) {
        if (maxWrites < MAX_WRITES) message = NO_ROOM;
        break;
      }
      await apply(issues, action, report, deadline);
      done += 1;
    }
    return { ...report, waiting: planned.length - done, message };
  } catch (error) {
    const waiting = planned.length - done;
    if (error instanceof IssuesNotPermittedError) {
      return { ...report, outcome: "not_permitted", waiting, message: `${error.message}: no alert this run` };
    }
    const limited = error instanceof StoreUnavailableError && error.reason === "rate_limited";
    const message = limited ? "GitHub's rate limit was reached: the rest waits for the next run" : messageOf(error);
    log("warn", "alerts_stopped", { message });
    return { ...report, outcome: "stopped", waiting, message };
  }
}

async function apply(
  issues: RepositoryIssues,
  action: AlertAction,
  report: AlertsReport,
  deadline: number,
): Promise<void> {
  const call = { deadline };
  switch (action.do) {
    case "open":
      await issues.create({ title: scrubbed(action.title), body: scrubbed(action.body), labels: [ALERT_LABEL] }, call);
      report.opened += 1;
      return;
    case "reopen":
      await issues.update(action.number, { state: "open", state_reason: "reopened" }, call);
      await issues.comment(action.number, scrubbed(action.comment), call);
      report.reopened += 1;
      return;
    case "close":
      await issues.comment(action.number, scrubbed(action.comment), call);
      await issues.update(action.number, { state: "closed", state_reason: "completed" }, call);
      report.closed += 1;
      return;
    case "comment":
      if ((await issues.comments(action.number, call)).some((body) => body.includes(action.once))) return;
      await issues.comment(action.number, scrubbed(action.comment), call);
      report.commented += 1;
  }
}

/**
 * An alert's text as the scrubber leaves it: the rollups scrub an error's message and traceback, but
 * keep an exception type, a client's error_hash and an app version as sent (or as a file edited by
 * hand holds them), and an issue notifies people. The markers are made so that it leaves them alone (keyPart).
 */
function scrubbed(text: string): string {
  return String(scrubMetadata({ text }).metadata.text);
}

function writes(report: AlertsReport): number {
  return report.opened + report.commented + 2 * (report.reopened + report.closed);
}

/** The writes an action makes: a reopening and a closing comment and change the issue. */
function cost(action: AlertAction): number {
  return action.do === "reopen" || action.do === "close" ? 2 : 1;
}

/** The alert issues by their markers' keys; of two with one key (a person copied a body), the first opened. */
function byMarker(list: readonly RepositoryIssue[]): Map<string, RepositoryIssue> {
  const known = new Map<string, RepositoryIssue>();
  for (const issue of [...list].sort((a, b) => a.number - b.number)) {
    const key = markerKey(issue.body);
    if (key !== undefined && !known.has(key)) known.set(key, issue);
  }
  return known;
}
