import { HOUR_MS } from "../clock.ts";
import { messageOf } from "../log.ts";
import { errorResponse, jsonResponse, methodNotAllowed } from "./json-response.ts";
import type { Runtime } from "../runtime.ts";

/**
 * GET /api/v1/health: which store events go to, and where; with the spool, how many events wait,
 * how old the oldest is, how the last flush went, and how many events of dropped client types were
 * answered and not stored. 503 when there is no store.
 */
export async function reportHealth(request: Request, runtime: Runtime): Promise<Response> {
  if (request.method !== "GET" && request.method !== "HEAD") return methodNotAllowed(["GET", "HEAD"]);
  if (!runtime.ok) {
    return errorResponse(503, { error: "storage_not_configured", message: runtime.error.message });
  }
  const body = { status: "ok", ...runtime.store.describe() };
  if (!runtime.spool) return jsonResponse(200, { ...body, spool: { enabled: false } });
  try {
    const [depth, state] = await Promise.all([runtime.spool.spool.depth(), runtime.spool.lease.read()]);
    const at = runtime.clock.now();
    return jsonResponse(200, {
      ...body,
      spool: {
        enabled: true,
        waiting_events: depth.events,
        waiting_entries: depth.entries,
        oldest_waiting_age_s: depth.oldest_at === null ? null : Math.max(0, Math.round((at - depth.oldest_at) / 1000)),
        flushing: state.holder !== null && state.expires_at > at,
        writes_last_hour: state.writes.filter((time) => time > at - HOUR_MS).length,
        blocked_until: state.blocked_until > at ? new Date(state.blocked_until).toISOString() : null,
        last_flush: state.last_flush,
        dropped_events: state.dropped,
        quarantined_events: state.quarantined,
      },
    });
  } catch (error) {
    return errorResponse(503, {
      error: "spool_unavailable",
      message: `The spool cannot be read: ${messageOf(error)}`,
    });
  }
}
