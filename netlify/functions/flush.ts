import type { Context } from "@netlify/functions";
import { jsonResponse, methodNotAllowed } from "../../lib/http.ts";
import { loadRuntime, WOKEN_FLUSH_BUDGET_MS, type Runtime } from "../../lib/runtime.ts";

let runtime: Runtime | undefined;

const HAND_OVER_TIMEOUT_MS = 1000;

/**
 * Woken by ingestion: answers 202 at once and flushes the spool after the answer; when it stops
 * with events waiting, wakes itself again. Safe to call by anyone: a flush is idempotent and paced.
 */
export default async function flush(request: Request, context: Context): Promise<Response> {
  if (request.method !== "POST") return methodNotAllowed(["POST"]);
  runtime ??= loadRuntime(context.deploy?.context);
  const handOver = async () => {
    const next = await fetch(request.url, { method: "POST", signal: AbortSignal.timeout(HAND_OVER_TIMEOUT_MS) });
    await next.body?.cancel();
  };
  if (runtime.ok && runtime.spool) context.waitUntil(runtime.spool.flush(WOKEN_FLUSH_BUDGET_MS, handOver));
  return jsonResponse(202, { status: "accepted" });
}
