import type { Context } from "@netlify/functions";
import { unauthorized } from "../../lib/http/check-secret.ts";
import { mayStartJob } from "../../lib/http/may-start-job.ts";
import { jsonResponse, methodNotAllowed } from "../../lib/http/json-response.ts";
import { RETENTION_CALLED_BUDGET_MS } from "../../lib/lifecycle/apply-retention.ts";
import { loadRuntime, type Runtime } from "../../lib/runtime.ts";

let runtime: Runtime | undefined;

/** The daily retention on demand (`telemetry retention`), for a caller with the flush key, as the publish function. */
export default async function retention(request: Request, context: Context): Promise<Response> {
  if (request.method !== "POST") return methodNotAllowed(["POST"]);
  runtime ??= loadRuntime(context.deploy);
  if (!runtime.ok) return jsonResponse(503, { status: "not_configured", message: runtime.error.message });
  if (!mayStartJob(request, runtime)) return unauthorized();
  return jsonResponse(200, { status: "ok", retention: (await runtime.retain(RETENTION_CALLED_BUDGET_MS)) ?? null });
}
