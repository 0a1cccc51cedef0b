import type { Context } from "@netlify/functions";
import { requestErasure } from "../../lib/http/request-erasure.ts";
import { loadRuntime, type Runtime } from "../../lib/runtime.ts";

let runtime: Runtime | undefined;

/** POST /api/v1/erasure and GET /api/v1/erasure/{id}: an install asks for its data to be erased, and how it stands. */
export default async function erasure(request: Request, context: Context): Promise<Response> {
  runtime ??= loadRuntime(context.deploy);
  const jobs = runtime.ok ? runtime.erasure : undefined;
  return requestErasure(request, { runtime, ...(jobs ? { startErasure: () => jobs.start(request.url) } : {}) });
}
