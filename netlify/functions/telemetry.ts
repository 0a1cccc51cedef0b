import type { Handler } from "@netlify/functions";
import { handleTelemetryRequest } from "../../lib/ingest.ts";
import { connectBlobs, requestFromEvent, resultFromResponse } from "../../lib/lambda-http.ts";
import { loadRuntime, type Runtime } from "../../lib/runtime.ts";

/** The function that runs a flush after answering; a request to it returns at once. */
const FLUSH_FUNCTION_PATH = "/.netlify/functions/flush";
const WAKE_TIMEOUT_MS = 1000;

// Kept across invocations of a warm instance.
let runtime: Runtime | undefined;

export const handler: Handler = async (event) => {
  connectBlobs(event);
  runtime ??= loadRuntime();
  const secret = runtime.ok ? runtime.ingest.secret : undefined;
  const response = await handleTelemetryRequest(requestFromEvent(event), {
    runtime,
    platformIp: event.headers["x-nf-client-connection-ip"],
    bodyDecoded: runtime.ok && runtime.netlifyDev,
    startFlush: async () => {
      const woken = await fetch(new URL(FLUSH_FUNCTION_PATH, event.rawUrl), {
        method: "POST",
        headers: secret ? { "x-telemetry-key": secret } : {},
        signal: AbortSignal.timeout(WAKE_TIMEOUT_MS),
      });
      await woken.body?.cancel();
    },
  });
  return resultFromResponse(response);
};
