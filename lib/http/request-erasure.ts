import { z } from "zod";
import { pseudonymizeHwid } from "../events/pseudonymize-hwid.ts";
import { telemetryEventSchema } from "../events/telemetry-event.ts";
import { describeIssues, issuesOf } from "../issue.ts";
import { log, messageOf } from "../log.ts";
import type { Runtime } from "../runtime.ts";
import { corsHeaders, preflightResponse } from "./cors-headers.ts";
import { refuseClient } from "./refuse-client.ts";
import { errorResponse, jsonResponse, methodNotAllowed, withHeaders } from "./json-response.ts";

/** Where requests are taken: the `netlify.toml` redirects that carry Netlify's rate limit. */
const ERASURE_PATH = "/api/v1/erasure";
const STATUS_PATH = /^\/api\/v1\/erasure\/([^/]+)$/;
const ERASURE_METHODS = ["GET", "POST", "OPTIONS"];
/** A request names one id: anything longer is not one. */
const MAX_BODY_BYTES = 4096;

/** What `POST /api/v1/erasure` takes: the install's id, as its client sends it with every event. */
export const erasureRequestSchema = z.object({ hwid: telemetryEventSchema.shape.hwid });

/**
 * The install asks for its data to be erased: `POST /api/v1/erasure` with `{"hwid": "…"}` answers
 * 202 with a request id once the request is durably kept (the erasure job does it, in the
 * background); `GET /api/v1/erasure/{id}` tells `pending` or `done`, with the lines removed.
 * Knowing the random per-install id is the proof of being that install. The same rules as the
 * ingest endpoint apply: the shared secret when set, the allowed origins, Netlify's rate limit.
 */
export async function requestErasure(
  request: Request,
  { runtime, startErasure }: { runtime: Runtime; startErasure?: () => Promise<void> },
): Promise<Response> {
  const path = new URL(request.url).pathname;
  const statusId = STATUS_PATH.exec(path)?.[1];
  if (path !== ERASURE_PATH && statusId === undefined) {
    return errorResponse(404, { error: "not_found", message: `Ask for an erasure with POST ${ERASURE_PATH}` });
  }
  const cors = runtime.ok ? corsHeaders(request, runtime.ingest.allowedOrigins) : {};
  if (request.method === "OPTIONS") {
    return preflightResponse(request, runtime.ok ? runtime.ingest.allowedOrigins : [], ERASURE_METHODS);
  }
  const allowed = statusId === undefined ? "POST" : "GET";
  if (request.method !== allowed) return withHeaders(methodNotAllowed([allowed, "OPTIONS"]), cors);
  if (!runtime.ok || !runtime.erasure) {
    return errorResponse(
      503,
      { error: "erasure_unavailable", message: "Erasure needs the service configured with its spool (Netlify Blobs)" },
      cors,
    );
  }
  const refused = refuseClient(request, runtime.ingest, cors);
  if (refused) return refused;

  if (statusId !== undefined) {
    const status = await runtime.erasure.requests.status(statusId);
    if (!status) return errorResponse(404, { error: "not_found", message: "No erasure request has this id" }, cors);
    return jsonResponse(200, status, cors);
  }

  const text = await request.text();
  if (Buffer.byteLength(text) > MAX_BODY_BYTES) {
    return errorResponse(
      413,
      { error: "body_too_large", message: `An erasure request is at most ${MAX_BODY_BYTES} bytes` },
      cors,
    );
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return errorResponse(400, { error: "invalid_json", message: 'Send {"hwid": "<the install\'s id>"} as JSON' }, cors);
  }
  const parsed = erasureRequestSchema.safeParse(body);
  if (!parsed.success) {
    const issues = issuesOf(parsed.error.issues);
    return errorResponse(400, { error: "invalid_request", message: describeIssues(issues), issues }, cors);
  }
  const { hwidMode, hwidSalt } = runtime.ingest;
  const accepted = await runtime.erasure.requests.submit(pseudonymizeHwid(parsed.data.hwid, hwidMode, hwidSalt));
  // The request is kept whatever happens here: the job's schedule takes it if this wake-up is lost.
  await startErasure?.().catch((error: unknown) => log("warn", "erasure_not_started", { reason: messageOf(error) }));
  return jsonResponse(
    202,
    { status: "accepted", request_id: accepted.request_id, status_url: `${ERASURE_PATH}/${accepted.request_id}` },
    cors,
  );
}
