import type { Config, Context } from "@netlify/functions";
import { jsonResponse } from "../../lib/http/json-response.ts";
import { RETENTION_BUDGET_MS } from "../../lib/lifecycle/apply-retention.ts";
import { loadRuntime, type Runtime } from "../../lib/runtime.ts";

let runtime: Runtime | undefined;

/** Every day: the raw files past TELEMETRY_RETENTION_DAYS removed in one commit (rollups stay). */
export default async function applyRetentionDaily(_request: Request, context: Context): Promise<Response> {
  runtime ??= loadRuntime(context.deploy);
  if (!runtime.ok) return jsonResponse(503, { status: "not_configured" });
  return jsonResponse(200, { status: "ok", retention: (await runtime.retain(RETENTION_BUDGET_MS)) ?? null });
}

export const config: Config = { schedule: "@daily" };
