import { z } from "zod";
import { MINUTE_MS } from "../clock.ts";
import { DAY_MS } from "../day.ts";
import { flusherBehind, type FlushState } from "./flush-lease.ts";
import type { SpoolDepth } from "./spool.ts";

/** A token that expires within this long makes the service degraded: time to renew it. */
const TOKEN_WARNING_MS = 7 * DAY_MS;
/** Events set aside within this long make the service degraded. */
const QUARANTINE_WINDOW_MS = DAY_MS;

export const healthReasonSchema = z.object({
  reason: z
    .string()
    .describe("What is wrong, as a code: writes_refused, oldest_event_waiting, events_stalled, token_expires_soon, …"),
  severity: z.enum(["degraded", "failing"]),
  message: z.string(),
});

export type HealthReason = z.output<typeof healthReasonSchema>;

/**
 * What is wrong with the pipeline, from the flushers' shared state and the spool's depth: the one
 * definition that health answers and the hourly job's alerts open issues from. `maxWaitMs` is how
 * long the oldest waiting event may wait (TELEMETRY_HEALTH_MAX_WAIT_MINUTES).
 */
export function healthReasons(state: FlushState, depth: SpoolDepth, now: number, maxWaitMs: number): HealthReason[] {
  const reasons: HealthReason[] = [];
  if (depth.oldest_at !== null && now - depth.oldest_at > maxWaitMs) {
    reasons.push({
      reason: "oldest_event_waiting",
      severity: "failing",
      message: `The oldest waiting event was accepted ${minutes(now - depth.oldest_at)} ago; the limit is ${minutes(maxWaitMs)}`,
    });
  }
  if (depth.oldest_at !== null && flusherBehind(state, depth.oldest_at, now)) {
    reasons.push({
      reason: "events_stalled",
      severity: "degraded",
      message: `The oldest waiting event was accepted ${minutes(now - depth.oldest_at)} ago, though the write pace would have let it be written: no flush is taking the spool, or not fast enough`,
    });
  }
  if (state.refused_since > 0) {
    reasons.push({
      reason: "writes_refused",
      severity: "failing",
      message: `GitHub has refused every write since ${new Date(state.refused_since).toISOString()}: check the credentials, their expiry and their access to the repository`,
    });
  }
  if (state.token_expires_at !== null && state.token_expires_at - now < TOKEN_WARNING_MS) {
    reasons.push({
      reason: "token_expires_soon",
      severity: "degraded",
      message: `The GitHub token expires at ${new Date(state.token_expires_at).toISOString()}: renew it, or use a GitHub App`,
    });
  }
  if (state.quarantined_at > now - QUARANTINE_WINDOW_MS) {
    reasons.push({
      reason: "events_quarantined",
      severity: "degraded",
      message: `Events that could not be stored were set aside in the spool's quarantine/, the last at ${new Date(state.quarantined_at).toISOString()}`,
    });
  }
  if (state.last_flush?.error) {
    reasons.push({ reason: "last_flush_failed", severity: "degraded", message: state.last_flush.error });
  }
  return reasons;
}

function minutes(ms: number): string {
  return `${Math.round(ms / MINUTE_MS)} min`;
}
