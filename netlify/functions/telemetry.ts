import type { Handler } from "@netlify/functions";
import { ingest } from "../../lib/http/endpoints/ingest.ts";
import { connectBlobs } from "../../lib/platform/connect-blobs.ts";
import { toldByHeaders } from "../../lib/platform/deploy-of.ts";
import { requestFromEvent, resultFromResponse } from "../../lib/platform/request-from-event.ts";
import { runtimeLoader } from "../../lib/runtime.ts";

// Kept across invocations of a warm instance.
const runtimeOf = runtimeLoader();

/**
 * POST /api/v1/telemetry: events in, kept in the spool, a flush woken. In the Lambda-compatible
 * form, which `netlify dev` serves warm (see lib/platform/request-from-event.ts); its deploy is
 * read from the event's headers, as the Request/Response form's bootstrap reads it.
 */
export const handler: Handler = async (event) => {
  connectBlobs(event);
  const runtime = runtimeOf(toldByHeaders(event.headers));
  const spool = runtime.ok ? runtime.spool : undefined;
  const response = await ingest(requestFromEvent(event), {
    runtime,
    platformIp: event.headers["x-nf-client-connection-ip"],
    // netlify dev's functions server inflates a compressed body before any function sees it.
    bodyDecoded: runtime.ok && runtime.netlifyDev,
    startFlush: spool && (() => spool.startFlush(event.rawUrl)),
  });
  return resultFromResponse(response);
};
