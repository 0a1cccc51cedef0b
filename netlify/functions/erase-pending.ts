import type { Config, Context } from "@netlify/functions";
import { jsonResponse } from "../../lib/http/json-response.ts";
import { loadRuntime, type Runtime } from "../../lib/runtime.ts";

let runtime: Runtime | undefined;

/** The safety net: starts the erasure job when requests wait (a wake-up lost, a run that failed). */
export default async function erasePending(request: Request, context: Context): Promise<Response> {
  runtime ??= loadRuntime(context.deploy);
  const jobs = runtime.ok ? runtime.erasure : undefined;
  const waiting = jobs ? (await jobs.requests.pending()).length : 0;
  if (jobs && waiting > 0) await jobs.start(request.url);
  return jsonResponse(200, { status: "ok", waiting });
}

export const config: Config = { schedule: "*/10 * * * *" };
