import type { Context } from "@netlify/functions";
import { callFlush } from "../../lib/platform/call-flush.ts";
import { checkSecret, unauthorized } from "../../lib/http/check-secret.ts";
import { jsonResponse, methodNotAllowed } from "../../lib/http/json-response.ts";
import { loadRuntime, type Runtime } from "../../lib/runtime.ts";
import { WOKEN_FLUSH_BUDGET_MS } from "../../lib/spool/flusher.ts";

let runtime: Runtime | undefined;

/**
 * Woken by ingestion: answers 202 at once and flushes the spool after the answer; when it stops
 * with events waiting, wakes itself again. A flush is idempotent and paced; with a shared secret
 * set, only a caller that has it (ingestion, a previous flush) may start one.
 */
export default async function flush(request: Request, context: Context): Promise<Response> {
  if (request.method !== "POST") return methodNotAllowed(["POST"]);
  runtime ??= loadRuntime(context.deploy?.context);
  const secret = runtime.ok ? runtime.ingest.secret : undefined;
  if (secret !== undefined && !checkSecret(request, secret)) return unauthorized();
  if (runtime.ok && runtime.spool)
    context.waitUntil(runtime.spool.flush(WOKEN_FLUSH_BUDGET_MS, () => callFlush(request.url, secret)));
  return jsonResponse(202, { status: "accepted" });
}
