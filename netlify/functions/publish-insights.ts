import type { Config, Context } from "@netlify/functions";
import { PUBLISH_SCHEDULED_BUDGET_MS } from "../../lib/insights/publish-insights.ts";
import { jsonResponse } from "../../lib/http/json-response.ts";
import { loadRuntime, type Runtime } from "../../lib/runtime.ts";

let runtime: Runtime | undefined;

/** Every hour: the rollups of the days that changed, and the dashboard, in one commit to the data repository. */
export default async function publishInsightsHourly(_request: Request, context: Context): Promise<Response> {
  runtime ??= loadRuntime(context.deploy);
  if (!runtime.ok) return jsonResponse(503, { status: "not_configured" });
  return jsonResponse(200, { status: "ok", publish: await runtime.publish(PUBLISH_SCHEDULED_BUDGET_MS) });
}

export const config: Config = { schedule: "@hourly" };
