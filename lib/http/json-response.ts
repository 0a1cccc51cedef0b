export interface ErrorBody {
  error: string;
  message: string;
  [detail: string]: unknown;
}

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...headers },
  });
}

/** Every error answer has one shape: `{"status":"error","error":<code>,"message":<why>, ...details}`. */
export function errorResponse(status: number, body: ErrorBody, headers: Record<string, string> = {}): Response {
  return jsonResponse(status, { status: "error", ...body }, headers);
}

export function methodNotAllowed(allowed: readonly string[]): Response {
  return errorResponse(
    405,
    { error: "method_not_allowed", message: `Use ${allowed.join(" or ")}` },
    { allow: allowed.join(", ") },
  );
}

/** `response` with `headers` added (CORS on an answer made elsewhere). */
export function withHeaders(response: Response, headers: Record<string, string>): Response {
  for (const [name, value] of Object.entries(headers)) response.headers.set(name, value);
  return response;
}
