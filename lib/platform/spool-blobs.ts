import { getStore } from "@netlify/blobs";
import type { BlobStore } from "../spool/blob-store.ts";

/** The store the spool lives in; strongly consistent, so a flusher lists every entry acknowledged before it looked. */
export const SPOOL_STORE_NAME = "telemetry-spool";

/**
 * The site's spool store. Netlify gives the Blobs context per invocation (and a Lambda-compatible
 * function through `connectLambda`), so the store is looked up on every call rather than kept.
 */
export const spoolBlobs: BlobStore = {
  get: (key, options) => open().get(key, options),
  setJSON: (key, value, options) =>
    open().setJSON(key, value, options as Parameters<ReturnType<typeof getStore>["setJSON"]>[2]),
  delete: (key) => open().delete(key),
  list: (options) => open().list(options),
};

function open() {
  return getStore({ name: SPOOL_STORE_NAME, consistency: "strong", fetch: fetchWholeBody });
}

/**
 * `fetch` that reads each answer to its end before handing it over. The Blobs client leaves the
 * bodies of writes and deletes unread, and a connection whose answer was not read is not reused:
 * every call would open a new connection (a new TLS handshake in production; on a busy local
 * sandbox, thousands of sockets in TIME_WAIT until no port is left).
 */
export const fetchWholeBody: typeof fetch = async (input, init) => {
  const response = await fetch(input, init);
  const body = await response.arrayBuffer();
  return new Response(body.byteLength > 0 ? body : null, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
};
