import { messageOf } from "../../lib/log.ts";
import { healthAnswerSchema, type HealthAnswer } from "../../lib/http/endpoints/report-health.ts";
import type { Check } from "../../lib/storage/check-github-access.ts";

const HEALTH_PATH = "/api/v1/health";
const CALL_TIMEOUT_MS = 15_000;

/** What the site's health says, read once: the lines it gives, and the answer for the checks that compare with it. */
export interface SiteHealth {
  site: Check;
  health: HealthAnswer | undefined;
}

/**
 * Asks the site's health (with the jobs' key, when there is one, so that it names its repository): whether
 * the site answers at all, and health's answer. A failing health is answered 503, and read all the same.
 */
export async function readSiteHealth(site: string, key: string | undefined): Promise<SiteHealth> {
  const url = new URL(HEALTH_PATH, site);
  let answer: Response;
  try {
    answer = await fetch(url, {
      headers: key ? { "x-telemetry-key": key } : {},
      signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
    });
  } catch (error) {
    const detail = `cannot reach ${url.origin} (${messageOf(error)}): is it running? npm start serves it locally; name a deployed one with --url`;
    return { site: { name: "site", ok: false, detail }, health: undefined };
  }
  const parsed = healthAnswerSchema.safeParse(await answer.json().catch(() => undefined));
  if (!parsed.success) {
    const detail = `${url.origin} answered ${answer.status}, not with health's answer: is --url the telemetry site?`;
    return { site: { name: "site", ok: false, detail }, health: undefined };
  }
  return {
    site: { name: "site", ok: true, detail: `${url.origin} answers (health: ${answer.status})` },
    health: parsed.data,
  };
}

/** Health's status, with each reason's message when it is not ok. */
export function healthCheck(health: HealthAnswer): Check {
  if (health.status === "ok") return { name: "health", ok: true, detail: "ok, no reason given" };
  const reasons = health.reasons.map((reason) => `${reason.reason}: ${reason.message}`).join("; ");
  return { name: "health", ok: false, detail: `${health.status}: ${reasons}` };
}

/** The last flush health reports: when, what it stored, or its error. */
export function lastFlushCheck(health: HealthAnswer, now: number): Check | undefined {
  const { spool } = health;
  if (!spool) return undefined;
  if (!spool.enabled)
    return { name: "last flush", ok: true, detail: "none: without the spool each request commits its own events" };
  const flush = spool.last_flush;
  if (!flush) return { name: "last flush", ok: true, detail: "none yet: no event has been stored" };
  const when = `${flush.at} (${ago(now - Date.parse(flush.at))})`;
  if (flush.error) {
    return {
      name: "last flush",
      ok: false,
      detail: `${when} failed: ${flush.error}; the next one tries again (the GitHub lines say what GitHub refuses)`,
    };
  }
  // An idle flush stores nothing: when events were last stored is what a reader of "0 events" wants.
  const stored = spool.last_stored_at;
  const last = stored
    ? `events last stored ${stored} (${ago(now - Date.parse(stored))})`
    : "none stored since the state began";
  return {
    name: "last flush",
    ok: true,
    detail: `${when}: ${flush.events} event(s) in ${flush.commits} commit(s)${flush.events === 0 ? `; ${last}` : ""}`,
  };
}

/** The spool's oldest waiting event, against health's limit. */
export function spoolCheck(health: HealthAnswer): Check | undefined {
  const { spool } = health;
  if (!spool) return undefined;
  if (!spool.enabled) return { name: "spool", ok: true, detail: "off (TELEMETRY_SPOOL=off)" };
  const late = health.reasons.find((reason) => reason.reason === "oldest_event_waiting");
  if (late) {
    return {
      name: "spool",
      ok: false,
      detail: `${spool.waiting_events ?? "some"} event(s) wait: ${late.message}; see the last flush and the GitHub lines for why`,
    };
  }
  const age = spool.oldest_waiting_age_s;
  if (!spool.waiting_events || age === null || age === undefined)
    return { name: "spool", ok: true, detail: "nothing waits" };
  return {
    name: "spool",
    ok: true,
    detail: `${spool.waiting_events} event(s) wait, the oldest for ${age} s`,
  };
}

/** `5 min ago`, `3 h ago`: how long ago, roughly. */
export function ago(ms: number): string {
  const minutes = Math.max(0, Math.round(ms / 60_000));
  if (minutes < 1) return "just now";
  if (minutes < 120) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  return hours < 48 ? `${hours} h ago` : `${Math.round(hours / 24)} days ago`;
}
