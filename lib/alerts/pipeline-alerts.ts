import { HOUR_MS } from "../clock.ts";
import type { AlertKind } from "../config.ts";
import { addDays, dayOf } from "../day.ts";
import { EMPTY_FLUSH_STATE, type FlushState } from "../spool/flush-lease.ts";
import { healthReasons } from "../spool/health-reasons.ts";
import type { SpoolDepth } from "../spool/spool.ts";
import type { RepositoryIssue } from "../storage/repository-issues.ts";
import { EventTally } from "../tally/event-tally.ts";
import { versionOrder } from "../tally/figures/app-versions.ts";
import { alertMarker, keyPart, type AlertAction } from "./alert-marker.ts";
import type { AlertDay } from "./error-group-alerts.ts";

/** Release health compares the last 7 days (today so far included), each version over at least 100 sessions. */
const RELEASE_DAYS = 7;
const RELEASE_MIN_SESSIONS = 100;
const RELEASE_GAP_POINTS = 2;
/** Silence: no event stored for 6 hours, where the 7 days before today averaged more than 20 events an hour. */
const SILENCE_MS = 6 * HOUR_MS;
const SILENCE_BASE_DAYS = 7;
const SILENCE_MIN_PER_HOUR = 20;

/** What the pipeline's alerts are judged from; the spool's parts are undefined without a spool. */
export interface PipelineInput {
  days: readonly AlertDay[];
  now: number;
  kinds: readonly AlertKind[];
  /** The flushers' shared state and the spool's depth. */
  state: FlushState | undefined;
  depth: SpoolDepth | undefined;
  /** TELEMETRY_HEALTH_MAX_WAIT_MINUTES, in ms. */
  maxWaitMs: number;
  /** When the token expires, as GitHub said to this run (epoch ms); null when it does not, or did not say. */
  tokenExpiresAt: number | null;
}

/** One condition judged this run: `held` when it holds (its issue's title, body, and what a reopening says). */
interface Judged {
  key: string;
  kind: AlertKind;
  held?: { title: string; text: string; since: number };
  /** What the comment that closes its issue says. */
  cleared: string;
}

/**
 * What release health, silence and credentials ask of their issues: a condition that holds opens
 * its issue (or reopens it, unless a maintainer closed it as not planned), one that cleared closes
 * it. A condition that cannot be judged (no spool to read) leaves its issue as it is.
 */
export function pipelineAlerts(input: PipelineInput, issues: ReadonlyMap<string, RepositoryIssue>): AlertAction[] {
  const judged = [
    ...(input.kinds.includes("release_health") ? releaseHealth(input, issues) : []),
    ...(input.kinds.includes("silence") ? silence(input) : []),
    ...(input.kinds.includes("credentials") ? credentials(input) : []),
  ];
  return judged.flatMap(({ key, kind, held, cleared }): AlertAction[] => {
    const issue = issues.get(key);
    if (held && !issue) {
      const body = `${alertMarker(key)}\n${held.text}\n\nThe hourly job closes this issue when it clears.`;
      return [{ do: "open", key, kind, title: held.title, body, since: held.since }];
    }
    if (held && issue?.state === "closed" && issue.stateReason !== "not_planned") {
      return [{ do: "reopen", key, number: issue.number, comment: `Again: ${held.text}` }];
    }
    if (!held && issue?.state === "open") return [{ do: "close", key, number: issue.number, comment: cleared }];
    return [];
  });
}

/** The newest version's crash-free sessions against the version before it, over the last 7 days; every release-health issue is judged. */
function releaseHealth({ days, now }: PipelineInput, issues: ReadonlyMap<string, RepositoryIssue>): Judged[] {
  const from = addDays(dayOf(now), -(RELEASE_DAYS - 1));
  const period = new EventTally();
  for (const { day, tally } of days) if (day >= from) period.merge(tally);
  const [newest, previous] = period
    .versionFigures()
    .filter((v) => v.sessions >= RELEASE_MIN_SESSIONS)
    .sort((a, b) => versionOrder(b.app_version, a.app_version));
  const points = (v: { sessions: number; crashed_sessions: number }) => 100 * (1 - v.crashed_sessions / v.sessions);
  const judged = new Map<string, Judged>();
  for (const key of issues.keys()) {
    if (key.startsWith("release-health:")) {
      judged.set(key, { key, kind: "release_health", cleared: "Cleared: no longer the case over the last 7 days." });
    }
  }
  if (newest && previous && points(previous) - points(newest) >= RELEASE_GAP_POINTS) {
    const key = `release-health:${keyPart(newest.app_version)}`;
    const percent = (v: typeof newest) => `${points(v).toFixed(1)}%`;
    judged.set(key, {
      key,
      kind: "release_health",
      held: {
        title: `Release health: ${newest.app_version} has fewer crash-free sessions than ${previous.app_version}`,
        text: `Over the last 7 days (from ${from}), ${newest.app_version}'s crash-free sessions are ${percent(newest)} of ${Math.round(newest.sessions)}, ${(points(previous) - points(newest)).toFixed(1)} points below ${previous.app_version}'s ${percent(previous)} of ${Math.round(previous.sessions)} (an alert is ${RELEASE_GAP_POINTS} points or more, each version over at least ${RELEASE_MIN_SESSIONS} sessions).`,
        since: now,
      },
      cleared: `Cleared: over the last 7 days ${newest.app_version} is no longer ${RELEASE_GAP_POINTS} points below the version before it, or a newer version has taken over.`,
    });
  }
  return [...judged.values()];
}

/** No event stored for 6 hours where there were plenty, and events left waiting in the spool: both told by the spool. */
function silence({ days, now, state, depth, maxWaitMs }: PipelineInput): Judged[] {
  if (!state || !depth) return [];
  const judged: Judged[] = [];
  const waiting = healthReasons(state, depth, now, maxWaitMs).find((r) => r.reason === "oldest_event_waiting");
  judged.push({
    key: "silence:spool-waiting",
    kind: "silence",
    ...(waiting && {
      held: {
        title: "Silence: events wait in the spool and are not stored",
        text: `${waiting.message}.`,
        since: depth.oldest_at ?? now,
      },
    }),
    cleared: "Cleared: no event waits in the spool longer than the health threshold.",
  });
  if (state.stored_at > 0) {
    const today = dayOf(now);
    const from = addDays(today, -SILENCE_BASE_DAYS);
    const received = days.filter(({ day }) => day >= from && day < today).reduce((sum, d) => sum + d.tally.received, 0);
    const perHour = received / (SILENCE_BASE_DAYS * 24);
    const quiet = now - state.stored_at >= SILENCE_MS && perHour > SILENCE_MIN_PER_HOUR;
    const last = new Date(state.stored_at).toISOString();
    judged.push({
      key: "silence:no-events",
      kind: "silence",
      ...(quiet && {
        held: {
          title: "Silence: no event stored for 6 hours",
          text: `No event has been stored since ${last}, where the 7 days before today averaged ${perHour.toFixed(1)} events an hour (an alert is 6 hours without one, after more than ${SILENCE_MIN_PER_HOUR} an hour). A broken client release, or clients that cannot reach the service, look like this.`,
          since: state.stored_at,
        },
      }),
      cleared: `Cleared: events are stored again (the last at ${last}).`,
    });
  }
  return judged;
}

/** The token expires within 7 days, or GitHub refuses the service's writes: as health tells them. */
function credentials({ now, state, depth, maxWaitMs, tokenExpiresAt }: PipelineInput): Judged[] {
  const known = {
    ...(state ?? EMPTY_FLUSH_STATE),
    token_expires_at: tokenExpiresAt ?? state?.token_expires_at ?? null,
  };
  const reasons = healthReasons(known, depth ?? { entries: 0, events: 0, oldest_at: null }, now, maxWaitMs);
  const expiry = reasons.find((r) => r.reason === "token_expires_soon");
  const refused = reasons.find((r) => r.reason === "writes_refused");
  return [
    {
      key: "credentials:expiry",
      kind: "credentials",
      ...(expiry && {
        held: { title: "Credentials: the GitHub token expires within 7 days", text: `${expiry.message}.`, since: now },
      }),
      cleared: "Cleared: the credential no longer expires within 7 days.",
    },
    ...(state
      ? [
          {
            key: "credentials:refused",
            kind: "credentials" as const,
            ...(refused && {
              held: {
                title: "Credentials: GitHub refuses the service's writes",
                text: `${refused.message}.`,
                since: state.refused_since,
              },
            }),
            cleared: "Cleared: GitHub takes the service's writes again.",
          },
        ]
      : []),
  ];
}
