import { errorResponse, jsonResponse, methodNotAllowed } from "./http.ts";
import type { Runtime } from "./runtime.ts";

/** GET /api/v1/health: which store events go to, and where; 503 when there is none. */
export function handleHealthRequest(request: Request, runtime: Runtime): Response {
  if (request.method !== "GET" && request.method !== "HEAD") return methodNotAllowed(["GET", "HEAD"]);
  if (!runtime.ok) {
    return errorResponse(503, { error: "storage_not_configured", message: runtime.error.message });
  }
  return jsonResponse(200, { status: "ok", ...runtime.store.describe() });
}
