import { setEnvironmentContext } from "@netlify/blobs";
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
  return new Request(event.rawUrl, { method: event.httpMethod, headers, body });
}

export async function resultFromResponse(response: Response): Promise<HandlerResponse> {
  return {
    statusCode: response.status,
    headers: Object.fromEntries(response.headers),
    body: await response.text(),
  };
}

/**
 * A Lambda-compatible function gets its Blobs context in the event (`blobs`), not in the
 * environment. `@netlify/blobs`' own `connectLambda` drops the uncached URL the context carries,
 * without which no read can be strongly consistent; the spool needs those reads, so keep it.
 */
export function connectBlobs(event: HandlerEvent): void {
  const encoded = (event as HandlerEvent & { blobs?: string }).blobs;
  if (!encoded) return;
  const context = JSON.parse(Buffer.from(encoded, "base64").toString("utf8")) as {
    url?: string;
    url_uncached?: string;
    token?: string;
  };
  setEnvironmentContext({
    deployID: event.headers["x-nf-deploy-id"],
    siteID: event.headers["x-nf-site-id"],
    edgeURL: context.url,
    uncachedEdgeURL: context.url_uncached,
    token: context.token,
  });
}
