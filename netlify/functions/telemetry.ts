import type { Handler } from "@netlify/functions";
import { ingest } from "../../lib/http/endpoints/ingest.ts";
import { connectBlobs } from "../../lib/platform/connect-blobs.ts";
import { requestFromEvent, resultFromResponse } from "../../lib/platform/request-from-event.ts";
import { loadRuntime, type Runtime } from "../../lib/runtime.ts";

// Kept across invocations of a warm instance.
let runtime: Runtime | undefined;

export const handler: Handler = async (event) => {
  connectBlobs(event);
  runtime ??= loadRuntime();
  const spool = runtime.ok ? runtime.spool : undefined;
  const response = await ingest(requestFromEvent(event), {
    runtime,
    platformIp: event.headers["x-nf-client-connection-ip"],
    bodyDecoded: runtime.ok && runtime.netlifyDev,
    startFlush: spool && (() => spool.startFlush(event.rawUrl)),
  });
  return resultFromResponse(response);
};
