import type { Context } from "@netlify/functions";
import { unauthorized } from "../../lib/http/check-secret.ts";
import { mayStartJob } from "../../lib/http/may-start-job.ts";
import { PUBLISH_CALLED_BUDGET_MS } from "../../lib/insights/publish-insights.ts";
import { jsonResponse, methodNotAllowed } from "../../lib/http/json-response.ts";
import { loadRuntime, type Runtime } from "../../lib/runtime.ts";

let runtime: Runtime | undefined;

/**
 * The hourly job on demand (`telemetry publish`; a scheduled function cannot be called by URL once
 * deployed): for a caller with the flush key, or anyone under `netlify dev` with the local store,
 * which has no key and nothing to guard.
 */
export default async function publish(request: Request, context: Context): Promise<Response> {
  if (request.method !== "POST") return methodNotAllowed(["POST"]);
  runtime ??= loadRuntime(context.deploy);
  if (!runtime.ok) return jsonResponse(503, { status: "not_configured", message: runtime.error.message });
  if (!mayStartJob(request, runtime)) return unauthorized();
  return jsonResponse(200, { status: "ok", publish: await runtime.publish(PUBLISH_CALLED_BUDGET_MS) });
}
