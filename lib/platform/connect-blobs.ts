import { setEnvironmentContext } from "@netlify/blobs";
import type { HandlerEvent } from "@netlify/functions";

/**
 * A Lambda-compatible function gets its Blobs context in the event (`blobs`), not in the
 * environment. `@netlify/blobs`' own `connectLambda` keeps only the URL and token: it drops the
 * uncached URL, without which no read can be strongly consistent (the spool needs those reads),
 * and the site's region (`primary_region`), without which no deploy's own store opens (a
 * preview's spool). This takes all of them, as the Request/Response bootstrap does
 * (@netlify/serverless-functions-api 2.16.0, dist/index.js, `NETLIFY_BLOBS_CONTEXT`).
 */
export function connectBlobs(event: HandlerEvent): void {
  const encoded = (event as HandlerEvent & { blobs?: string }).blobs;
  if (!encoded) return;
  const context = JSON.parse(Buffer.from(encoded, "base64").toString("utf8")) as {
    url?: string;
    url_uncached?: string;
    token?: string;
    primary_region?: string;
  };
  const fields = {
    deployID: event.headers["x-nf-deploy-id"],
    siteID: event.headers["x-nf-site-id"],
    edgeURL: context.url,
    uncachedEdgeURL: context.url_uncached,
    token: context.token,
    primaryRegion: context.primary_region,
  };
  // The context travels as JSON, where an undefined field is no field: leave those out here already.
  setEnvironmentContext(
    Object.fromEntries(Object.entries(fields).filter((field): field is [string, string] => field[1] !== undefined)),
  );
}
