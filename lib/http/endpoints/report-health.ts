import { z } from "zod";
import { HOUR_MS, MINUTE_MS } from "../../clock.ts";
import { messageOf } from "../../log.ts";
import type { Runtime } from "../../runtime.ts";
import { lastFlushSchema, type FlushState } from "../../spool/flush-lease.ts";
import { healthReasons, healthReasonSchema, type HealthReason } from "../../spool/health-reasons.ts";
import type { SpoolDepth } from "../../spool/spool.ts";
import { checkSecret } from "../check-secret.ts";
import { defineEndpoint, type ReadyRuntime } from "../define-endpoint.ts";
import { jsonResponse } from "../json-response.ts";

/** How old a count of the spool (and of its quarantine) health may report: each is listed at most once a minute, whatever the checks. */
const DEPTH_MAX_AGE_MS = MINUTE_MS;

/** The spool's part of the answer, as far as a reader of it (telemetry doctor) relies on it; the README lists the rest. */
const spoolHealthSchema = z.looseObject({
  enabled: z.boolean(),
  waiting_events: z.number().int().optional(),
  oldest_waiting_age_s: z.number().int().nullable().optional(),
  last_flush: lastFlushSchema.nullable().optional(),
  last_stored_at: z
    .string()
    .nullable()
    .optional()
    .describe("When a flush last stored events: an idle flush stores none, so the last flush alone may say 0"),
});

/** What health answers: the status and its reasons, then the store and the spool (see the README). */
export const healthAnswerSchema = z.looseObject({
  status: z.enum(["ok", "degraded", "failing"]).describe("failing is answered 503, the others 200"),
  reasons: z.array(healthReasonSchema),
  storage: z.enum(["github", "local"]).optional(),
  repository: z.string().optional().describe("Where events go (owner/name), shown only to a caller with the jobs' key"),
  spool: spoolHealthSchema.optional(),
});

export type HealthAnswer = z.output<typeof healthAnswerSchema>;

const healthEndpoint = defineEndpoint({
  methods: ["GET", "HEAD"],
  caller: "anyone",
  unready: (error) => answer([{ reason: error.code, severity: "failing", message: error.message }], {}),
  handle: (request, runtime) => healthOf(request, runtime),
});

/**
 * GET /api/v1/health: whether the pipeline works, for people and uptime monitors alike. `status`
 * is `failing` (HTTP 503) when no event can reach the store: no usable configuration (its code and
 * message, as every endpoint answers it), an unreadable spool, GitHub refusing writes, or an event
 * waiting longer than allowed; `degraded` (200) when it works but needs a look: events wait longer
 * than the write pace explains, the token expires within 7 days, events were set aside, or the last
 * flush failed; else `ok` (200). Each reason is
 * named. Where events go (repository, branch, folder) is shown only to a caller with the jobs' key.
 */
export function reportHealth(request: Request, runtime: Runtime): Promise<Response> {
  return healthEndpoint(request, { runtime });
}

async function healthOf(request: Request, runtime: ReadyRuntime): Promise<Response> {
  const described = runtime.store.describe();
  // The operator's, never the clients' secret: every install of the app holds that one.
  const shown = runtime.flushKey !== undefined && checkSecret(request, runtime.flushKey);
  const target = shown ? described : { storage: described.storage };
  if (!runtime.spool) return answer([], { ...target, spool: { enabled: false } });

  const now = runtime.clock.now();
  let state: FlushState;
  let depth: SpoolDepth;
  let quarantined: number;
  try {
    state = await runtime.spool.lease.read();
    // A count from before the last flush would still show what it stored as waiting.
    const lastFlushAt = state.last_flush ? Date.parse(state.last_flush.at) : 0;
    const notBefore = Math.max(now - DEPTH_MAX_AGE_MS, lastFlushAt);
    depth = await runtime.spool.spool.recentDepth(notBefore);
    quarantined = await runtime.spool.spool.quarantine.recentCount(notBefore);
  } catch (error) {
    const message = `The spool cannot be read: ${messageOf(error)}`;
    return answer([{ reason: "spool_unavailable", severity: "failing", message }], target);
  }
  return answer(healthReasons(state, depth, now, runtime.health.maxWaitMs), {
    ...target,
    spool: {
      enabled: true,
      waiting_events: depth.events,
      waiting_entries: depth.entries,
      oldest_waiting_age_s: depth.oldest_at === null ? null : Math.max(0, Math.round((now - depth.oldest_at) / 1000)),
      flushing: state.holder !== null && state.expires_at > now,
      writes_last_hour: state.writes.filter((time) => time > now - HOUR_MS).length,
      blocked_until: state.blocked_until > now ? new Date(state.blocked_until).toISOString() : null,
      refused_since: state.refused_since > 0 ? new Date(state.refused_since).toISOString() : null,
      token_expires_at: state.token_expires_at === null ? null : new Date(state.token_expires_at).toISOString(),
      last_flush: state.last_flush,
      last_stored_at: state.stored_at > 0 ? new Date(state.stored_at).toISOString() : null,
      dropped_events: state.dropped,
      quarantined_events: state.quarantined,
      quarantined_waiting: quarantined,
    },
  });
}

/** 503 when failing, so that any uptime monitor catches it; 200 otherwise. */
function answer(reasons: HealthReason[], details: Record<string, unknown>): Response {
  const status = reasons.some((r) => r.severity === "failing") ? "failing" : reasons.length > 0 ? "degraded" : "ok";
  const body: HealthAnswer = { status, reasons, ...details };
  return jsonResponse(status === "failing" ? 503 : 200, body);
}
