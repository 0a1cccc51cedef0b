import type { Context } from "@netlify/functions";
import { handleTelemetryRequest } from "../../lib/ingest.ts";
import { loadRuntime, type Runtime } from "../../lib/runtime.ts";

// Kept across invocations of a warm instance, so that concurrent requests share one committer.
let runtime: Runtime | undefined;

export default async function telemetry(request: Request, context: Context): Promise<Response> {
  runtime ??= loadRuntime(context.deploy?.context);
  return handleTelemetryRequest(request, { runtime, platformIp: context.ip });
}
