import { getStore } from "@netlify/blobs";
import type { BlobStore } from "./blob-store.ts";

/** The store the spool lives in; strongly consistent, so a flusher lists every entry acknowledged before it looked. */
export const SPOOL_STORE_NAME = "telemetry-spool";

/**
 * The site's spool store. Netlify gives the Blobs context per invocation (and a Lambda-compatible
 * function through `connectLambda`), so the store is looked up on every call rather than kept.
 */
export const spoolBlobs: BlobStore = {
  get: (key, options) => open().get(key, options),
  setJSON: (key, value, options) => open().setJSON(key, value, options as Parameters<ReturnType<typeof getStore>["setJSON"]>[2]),
  delete: (key) => open().delete(key),
  list: (options) => open().list(options),
};

function open() {
  return getStore({ name: SPOOL_STORE_NAME, consistency: "strong" });
}
