/** What a browser may send to the ingest endpoint. */
const INGEST_METHODS = ["POST", "OPTIONS"];
export const CORS_ALLOWED_HEADERS = "content-type, content-encoding, x-telemetry-key, idempotency-key, authorization";
/** How long a browser may reuse a preflight answer (the most Chromium honours). */
const PREFLIGHT_MAX_AGE_SECONDS = 7200;

/**
 * The CORS headers for a request's `Origin`: none when the origin is not allowed (the browser then
 * withholds the answer from the page), and `Vary: Origin` whenever the answer depends on it.
 */
export function corsHeaders(request: Request, allowed: "*" | readonly string[]): Record<string, string> {
  const origin = request.headers.get("origin");
  if (!origin) return {};
  if (allowed === "*") return { "access-control-allow-origin": "*" };
  if (!allowed.includes(origin)) return { vary: "Origin" };
  return { "access-control-allow-origin": origin, vary: "Origin" };
}

/**
 * Whether a request may be taken from where it comes: one without `Origin` (a desktop client, a
 * server) always may; one a browser sent from a page only from an allowed origin, since any page
 * could otherwise make its visitors post events (a `text/plain` POST needs no preflight).
 */
export function isOriginAllowed(request: Request, allowed: "*" | readonly string[]): boolean {
  const origin = request.headers.get("origin");
  return origin === null || allowed === "*" || allowed.includes(origin);
}

/** The answer to a preflight (`OPTIONS`): 204, with the allowed methods and headers when the origin is allowed. */
export function preflightResponse(
  request: Request,
  allowed: "*" | readonly string[],
  methods: readonly string[] = INGEST_METHODS,
): Response {
  const headers = corsHeaders(request, allowed);
  const permitted = "access-control-allow-origin" in headers;
  return new Response(null, {
    status: 204,
    headers: {
      ...headers,
      allow: methods.join(", "),
      ...(permitted
        ? {
            "access-control-allow-methods": methods.join(", "),
            "access-control-allow-headers": CORS_ALLOWED_HEADERS,
            "access-control-max-age": String(PREFLIGHT_MAX_AGE_SECONDS),
          }
        : {}),
    },
  });
}
