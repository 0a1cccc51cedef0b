import { addDays, DAY_MS, dayOf } from "../day.ts";
import type { RepositoryIssue } from "../storage/repository-issues.ts";
import { EventTally } from "../tally/event-tally.ts";
import { maskMessage } from "../tally/fingerprint-error.ts";
import { alertMarker, keyPart, type AlertAction } from "./alert-marker.ts";

/** A group first seen this recently (and not before it in the window) is new: older ones never open an issue. */
const NEW_WITHIN_MS = 7 * DAY_MS;
/** A group's issue is closed once it has not occurred for this long. */
const QUIET_MS = 14 * DAY_MS;
/** A spike: a day's count at least this many times its mean of the days before, and at least SPIKE_MIN. */
const SPIKE_FACTOR = 3;
const SPIKE_MIN = 10;
const SPIKE_BASE_DAYS = 7;
const TITLE_CHARS = 120;
const FENCE = "```";

/** One day's figures, as the hourly job has them: read this run, or from the day's rollup. */
export interface AlertDay {
  day: string;
  tally: EventTally;
}

type Group = ReturnType<EventTally["errorFigures"]>[number];

/**
 * What the error groups of `days` (the window, today last) ask of their issues (`issues`, by marker
 * key): a group first seen in the last 7 days and without an issue opens one; an open issue gets a
 * comment when its group spikes (once a day), and is closed after 14 days without an occurrence
 * (only when `complete`: with days still to read, a quiet group may only look quiet); a closed
 * issue whose group occurred after it was closed is reopened as a regression, unless a maintainer
 * closed it as not planned.
 */
export function errorGroupAlerts(
  days: readonly AlertDay[],
  issues: ReadonlyMap<string, RepositoryIssue>,
  { now, complete }: { now: number; complete: boolean },
): AlertAction[] {
  const period = new EventTally();
  const daily = new Map<string, Map<string, Group>>();
  for (const { day, tally } of days) {
    period.merge(tally);
    for (const group of tally.errorFigures()) {
      const byDay = daily.get(group.fingerprint) ?? new Map<string, Group>();
      daily.set(group.fingerprint, byDay.set(day, group));
    }
  }
  const actions: AlertAction[] = [];
  const seen = new Set<string>();
  for (const group of period.errorFigures()) {
    const key = `error-group:${keyPart(group.fingerprint)}`;
    seen.add(key);
    const issue = issues.get(key);
    const byDay = daily.get(group.fingerprint) ?? new Map<string, Group>();
    const lastSeen = Date.parse(group.last_seen);
    if (!issue) {
      const since = Date.parse(group.first_seen);
      if (since >= now - NEW_WITHIN_MS)
        actions.push({ do: "open", key, kind: "error_group", ...issueOf(group), since });
    } else if (issue.state === "closed") {
      if (issue.stateReason !== "not_planned" && issue.closedAt !== null && lastSeen > issue.closedAt) {
        actions.push({ do: "reopen", key, number: issue.number, comment: regression(byDay, issue.closedAt) });
      }
    } else if (lastSeen < now - QUIET_MS) {
      if (complete) actions.push({ do: "close", key, number: issue.number, comment: quiet(group.last_seen) });
    } else {
      actions.push(...spikes(group, byDay, now).map((spike) => ({ ...spike, key, number: issue.number })));
    }
  }
  // An open issue whose group is not in the window at all has been quiet for longer than it.
  for (const [key, issue] of issues) {
    if (complete && key.startsWith("error-group:") && !seen.has(key) && issue.state === "open") {
      actions.push({ do: "close", key, number: issue.number, comment: quiet(null) });
    }
  }
  return actions;
}

function issueOf(group: Group): { title: string; body: string } {
  const masked = maskMessage(group.message).replace(/\s+/g, " ");
  const title = `Error: ${group.exception_type}${masked ? `: ${masked}` : ""}`;
  const traceback = group.traceback?.replace(/\r\n?/g, "\n").trimEnd();
  const longestRun = Math.max(0, ...(traceback?.match(/`+/g) ?? []).map((run) => run.length));
  const fence = longestRun < FENCE.length ? FENCE : "`".repeat(longestRun + 1);
  return {
    title: title.length > TITLE_CHARS ? `${title.slice(0, TITLE_CHARS - 1)}…` : title,
    body: [
      alertMarker(`error-group:${keyPart(group.fingerprint)}`),
      `A new error group, first seen ${utc(group.first_seen)}${group.first_version ? ` in version ${group.first_version}` : ""}.`,
      "",
      "| | |",
      "|---|---|",
      `| type | ${cell(group.exception_type)} |`,
      `| message (masked) | ${cell(masked || "—")} |`,
      `| occurrences | ${Math.round(group.estimated)} |`,
      `| installs | ${group.installs.estimate()} |`,
      `| versions | ${cell(group.versions.join(", "))} |`,
      `| first seen | ${utc(group.first_seen)} |`,
      `| fingerprint | ${cell(group.fingerprint)} |`,
      "",
      ...(traceback
        ? ["The earliest sample's traceback, scrubbed as stored:", "", `${fence}text`, traceback, fence, ""]
        : []),
      "The hourly job comments here when the group spikes, closes this issue after 14 days without an occurrence, and reopens it if the error comes back.",
    ].join("\n"),
  };
}

/** Yesterday's and today's counts that spike: at least 3× the mean of the 7 days before, and at least 10; not on the group's first day. */
function spikes(
  group: Group,
  byDay: ReadonlyMap<string, Group>,
  now: number,
): Omit<AlertAction & { do: "comment" }, "key" | "number">[] {
  const today = dayOf(now);
  const firstDay = group.first_seen.slice(0, 10);
  const countOn = (day: string) => Math.round(byDay.get(day)?.estimated ?? 0);
  return [addDays(today, -1), today].flatMap((day) => {
    const count = countOn(day);
    const base = Array.from({ length: SPIKE_BASE_DAYS }, (_, i) => countOn(addDays(day, -1 - i)));
    const mean = base.reduce((sum, n) => sum + n, 0) / SPIKE_BASE_DAYS;
    if (day <= firstDay || count < SPIKE_MIN || count < SPIKE_FACTOR * mean) return [];
    const once = `<!-- telemetry-alert-spike:${day} -->`;
    return [
      {
        do: "comment" as const,
        once,
        comment: `${once}\nSpike: ${count} occurrences on ${day}${day === today ? " (so far)" : ""}, against a daily mean of ${mean.toFixed(1)} over the 7 days before (a spike is at least ${SPIKE_FACTOR}× that mean, and at least ${SPIKE_MIN}).`,
      },
    ];
  });
}

/** Says it is back: the first day it occurred on after the issue was closed, and the versions that reported it then. */
function regression(byDay: ReadonlyMap<string, Group>, closedAt: number): string {
  const closedDay = dayOf(closedAt);
  const [day, group] =
    [...byDay].filter(([d, g]) => d >= closedDay && Date.parse(g.last_seen) > closedAt).sort()[0] ?? [];
  const versions = group?.versions ?? [];
  const where = versions.length > 0 ? ` in version ${versions.join(", ")}` : "";
  return `Regression: the error occurred again${day ? ` on ${day}` : ""}${where}, after this issue was closed on ${utc(new Date(closedAt).toISOString())}; reopened by the hourly job.`;
}

function quiet(lastSeen: string | null): string {
  const when = lastSeen ? `since ${utc(lastSeen)}` : "in the hourly job's window of days";
  return `No occurrence ${when}: closed by the hourly job after 14 days without one. It reopens if the error comes back.`;
}

function utc(iso: string): string {
  return `${iso.slice(0, 16).replace("T", " ")} UTC`;
}

/** A table cell's text: its pipes escaped, on one line, in code so that Markdown leaves it as it is. */
function cell(text: string): string {
  return `\`${text.replace(/\s+/g, " ").replaceAll("`", "'").replaceAll("|", "\\|")}\``;
}
