import type { IngestConfig } from "../config.ts";
import { checkSecret, unauthorized } from "./check-secret.ts";
import { isOriginAllowed } from "./cors-headers.ts";
import { errorResponse } from "./json-response.ts";

/**
 * The answer to a client the endpoints do not take (ingest and erasure alike), or undefined: a
 * page of an origin not allowed (a browser would keep the answer from the page, but not stop the
 * request: refused here), or a request without the shared secret when one is set.
 */
export function refuseClient(
  request: Request,
  ingest: Pick<IngestConfig, "allowedOrigins" | "secret">,
  cors: Record<string, string>,
): Response | undefined {
  if (!isOriginAllowed(request, ingest.allowedOrigins)) {
    return errorResponse(
      403,
      { error: "origin_not_allowed", message: "Requests from this page's origin are not accepted" },
      cors,
    );
  }
  if (ingest.secret !== undefined && !checkSecret(request, ingest.secret)) return unauthorized(cors);
  return undefined;
}
