import type { Config, Context } from "@netlify/functions";
import { jsonResponse } from "../../lib/http/json-response.ts";
import { loadRuntime, type Runtime } from "../../lib/runtime.ts";
import { SCHEDULED_FLUSH_BUDGET_MS } from "../../lib/spool/flusher.ts";

let runtime: Runtime | undefined;

/** The safety net: drains what ingestion-triggered flushes left (after a crash, a rate limit, the pace). */
export default async function flushSpool(_request: Request, context: Context): Promise<Response> {
  runtime ??= loadRuntime(context.deploy);
  const report = runtime.ok && runtime.spool ? await runtime.spool.flush(SCHEDULED_FLUSH_BUDGET_MS) : undefined;
  if (runtime.ok && runtime.spool) await runtime.spool.prune();
  return jsonResponse(200, { status: "ok", flush: report ?? null });
}

export const config: Config = { schedule: "* * * * *" };
