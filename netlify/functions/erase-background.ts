import type { Context } from "@netlify/functions";
import { unauthorized } from "../../lib/http/check-secret.ts";
import { jsonResponse, methodNotAllowed } from "../../lib/http/json-response.ts";
import { mayStartJob } from "../../lib/http/may-start-job.ts";
import { ERASURE_BUDGET_MS } from "../../lib/lifecycle/erase-installs.ts";
import { loadRuntime, type Runtime } from "../../lib/runtime.ts";

let runtime: Runtime | undefined;

/** A background function (15 minutes): does every waiting erasure, for a caller with the flush key. */
export default async function eraseBackground(request: Request, context: Context): Promise<Response> {
  if (request.method !== "POST") return methodNotAllowed(["POST"]);
  runtime ??= loadRuntime(context.deploy);
  if (!runtime.ok || !mayStartJob(request, runtime)) return unauthorized();
  return jsonResponse(200, { status: "ok", erasure: (await runtime.erasure?.run(ERASURE_BUDGET_MS)) ?? null });
}
