import { z } from "zod";
import { telemetryEventSchema } from "../../events/telemetry-event.ts";
import { describeIssues, issuesOf } from "../../issue.ts";
import { ErasureQueueFullError, QUEUE_FULL_RETRY_AFTER_SECONDS } from "../../lifecycle/erasure-requests.ts";
import { hwidForms } from "../../events/hwid-forms.ts";
import { log, messageOf } from "../../log.ts";
import type { ErasureRuntime, Runtime } from "../../runtime.ts";
import { defineEndpoint, type ReadyRuntime } from "../define-endpoint.ts";
import { HttpError } from "../http-error.ts";
import { jsonResponse } from "../json-response.ts";

/** Where requests are taken: the `netlify.toml` redirects that carry Netlify's rate limit. */
const ERASURE_PATH = "/api/v1/erasure";
const STATUS_PATH = /^\/api\/v1\/erasure\/([^/]+)$/;
/** A request names one id: anything longer is not one. */
const MAX_BODY_BYTES = 4096;

/** What `POST /api/v1/erasure` takes: the install's id, as its client sends it with every event. */
export const erasureRequestSchema = z.object({ hwid: telemetryEventSchema.shape.hwid });

/**
 * The install asks for its data to be erased: `POST /api/v1/erasure` with `{"hwid": "…"}` answers
 * 202 with a request id once the request is durably kept (the erasure job does it, in the
 * background); `GET /api/v1/erasure/{id}` tells `pending` or `done`, with the lines removed.
 * A second request for an install that waits is answered with the waiting request's id; past
 * 10,000 waiting requests, 429 with Retry-After. Knowing the random per-install id is the proof of being that install. The same rules as the
 * ingest endpoint apply: the shared secret when set, the allowed origins, Netlify's rate limit.
 * `startErasure` wakes the job (by default, the runtime's background function).
 */
export const requestErasure = defineEndpoint<{ runtime: Runtime; startErasure?: () => Promise<void> }>({
  path: {
    matches: (pathname) => pathname === ERASURE_PATH || STATUS_PATH.test(pathname),
    elsewhere: `Ask for an erasure with POST ${ERASURE_PATH}`,
  },
  methods: (pathname) => (pathname === ERASURE_PATH ? ["POST"] : ["GET"]),
  preflight: ["GET", "POST", "OPTIONS"],
  caller: "client",
  needs: erasureOf,
  handle: async (request, runtime, { startErasure }, cors) => {
    const erasure = erasureOf(runtime);
    const statusId = STATUS_PATH.exec(new URL(request.url).pathname)?.[1];
    if (statusId !== undefined) {
      const status = await erasure.requests.status(statusId);
      if (!status) throw new HttpError(404, "not_found", "No erasure request has this id");
      return jsonResponse(200, status, cors);
    }
    const hwid = await readHwid(request);
    const accepted = await erasure.requests.submit(hwidForms(hwid, runtime.ingest)).catch((error: unknown) => {
      if (!(error instanceof ErasureQueueFullError)) throw error;
      throw new HttpError(429, "erasure_queue_full", "Too many erasure requests wait: ask again later", {
        headers: { "retry-after": String(QUEUE_FULL_RETRY_AFTER_SECONDS) },
        details: { retry_after_seconds: QUEUE_FULL_RETRY_AFTER_SECONDS },
      });
    });
    // The request is kept whatever happens here: the job's schedule takes it if this wake-up is lost.
    // Requests are coalesced: one wakes a run at most every few minutes, whatever their number.
    await erasure
      .wake(startErasure ?? (() => erasure.start(request.url)))
      .catch((error: unknown) => log("warn", "erasure_not_started", { reason: messageOf(error) }));
    return jsonResponse(
      202,
      { status: "accepted", request_id: accepted.request_id, status_url: `${ERASURE_PATH}/${accepted.request_id}` },
      cors,
    );
  },
});

/** Erasure needs the spool's Netlify Blobs, where requests wait. */
function erasureOf(runtime: ReadyRuntime): ErasureRuntime {
  if (runtime.erasure) return runtime.erasure;
  throw new HttpError(
    503,
    "erasure_unavailable",
    "Erasure needs the service configured with its spool (Netlify Blobs)",
  );
}

async function readHwid(request: Request): Promise<string> {
  const text = await request.text();
  if (Buffer.byteLength(text) > MAX_BODY_BYTES) {
    throw new HttpError(413, "body_too_large", `An erasure request is at most ${MAX_BODY_BYTES} bytes`);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new HttpError(400, "invalid_json", 'Send {"hwid": "<the install\'s id>"} as JSON');
  }
  const parsed = erasureRequestSchema.safeParse(body);
  if (!parsed.success) {
    const issues = issuesOf(parsed.error.issues);
    throw new HttpError(400, "invalid_request", describeIssues(issues), { details: { issues } });
  }
  return parsed.data.hwid;
}
