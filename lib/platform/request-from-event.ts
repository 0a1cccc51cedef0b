import type { HandlerEvent, HandlerResponse } from "@netlify/functions";

/**
 * The ingest endpoint runs in Netlify's Lambda-compatible mode: `netlify dev` serves such a
 * function inside its own process, where a function in the newer Request/Response mode gets a fresh
 * worker thread on every request (about 170 ms of start-up each, seconds under a burst). These two
 * conversions keep the core on web `Request`/`Response` all the same.
 */
export function requestFromEvent(event: HandlerEvent): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(event.headers)) if (value !== undefined) headers.set(name, value);
  // No body arrives as null or as undefined, depending on the platform.
  const hasBody = event.body != null && event.httpMethod !== "GET" && event.httpMethod !== "HEAD";
  const body = hasBody ? Buffer.from(event.body!, event.isBase64Encoded ? "base64" : "utf8") : undefined;
  return new Request(event.rawUrl, { method: event.httpMethod, headers, body: body ?? null });
}

export async function resultFromResponse(response: Response): Promise<HandlerResponse> {
  return {
    statusCode: response.status,
    headers: Object.fromEntries(response.headers),
    body: await response.text(),
  };
}
