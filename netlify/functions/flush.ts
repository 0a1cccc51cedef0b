import type { Context } from "@netlify/functions";
import { checkSecret, unauthorized } from "../../lib/http/check-secret.ts";
import { jsonResponse, methodNotAllowed } from "../../lib/http/json-response.ts";
import { loadRuntime, type Runtime } from "../../lib/runtime.ts";
import { WOKEN_FLUSH_BUDGET_MS } from "../../lib/spool/flusher.ts";

let runtime: Runtime | undefined;

/**
 * Woken by ingestion: answers 202 at once and flushes the spool after the answer; when it stops
 * with events waiting, wakes itself again. Only a caller with the flush key (ingestion, a previous
 * flush) may start one; without a key (the local store) no caller may.
 */
export default async function flush(request: Request, context: Context): Promise<Response> {
  if (request.method !== "POST") return methodNotAllowed(["POST"]);
  runtime ??= loadRuntime(context.deploy);
  if (!runtime.ok || runtime.flushKey === undefined || !checkSecret(request, runtime.flushKey)) return unauthorized();
  const { spool } = runtime;
  if (spool) context.waitUntil(spool.flush(WOKEN_FLUSH_BUDGET_MS, () => spool.startFlush(request.url)));
  return jsonResponse(202, { status: "accepted" });
}
