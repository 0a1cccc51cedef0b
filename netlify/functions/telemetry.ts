import type { Handler } from "@netlify/functions";
import { callFlush, FLUSH_FUNCTION_PATH } from "../../lib/platform/call-flush.ts";
import { ingest } from "../../lib/http/ingest.ts";
import { connectBlobs } from "../../lib/platform/connect-blobs.ts";
import { requestFromEvent, resultFromResponse } from "../../lib/platform/request-from-event.ts";
import { loadRuntime, type Runtime } from "../../lib/runtime.ts";

// Kept across invocations of a warm instance.
let runtime: Runtime | undefined;

export const handler: Handler = async (event) => {
  connectBlobs(event);
  runtime ??= loadRuntime();
  const secret = runtime.ok ? runtime.ingest.secret : undefined;
  const response = await ingest(requestFromEvent(event), {
    runtime,
    platformIp: event.headers["x-nf-client-connection-ip"],
    bodyDecoded: runtime.ok && runtime.netlifyDev,
    startFlush: () => callFlush(new URL(FLUSH_FUNCTION_PATH, event.rawUrl), secret),
  });
  return resultFromResponse(response);
};
