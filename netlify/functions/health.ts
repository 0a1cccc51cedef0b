import type { Context } from "@netlify/functions";
import { reportHealth } from "../../lib/http/report-health.ts";
import { loadRuntime, type Runtime } from "../../lib/runtime.ts";

let runtime: Runtime | undefined;

export default async function health(request: Request, context: Context): Promise<Response> {
  runtime ??= loadRuntime(context.deploy);
  return reportHealth(request, runtime);
}
