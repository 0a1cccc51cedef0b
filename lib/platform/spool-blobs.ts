import { createHash } from "node:crypto";
import { resolve } from "node:path";
import { getDeployStore, getStore } from "@netlify/blobs";
import type { StorageConfig } from "../config.ts";
import type { BlobStore } from "../spool/blob-store.ts";

/** The store the spool lives in; strongly consistent, so a flusher lists every entry acknowledged before it looked. */
export const SPOOL_STORE_NAME = "telemetry-spool";
/** Enough of a folder's digest to tell apart the folders one machine uses. */
const FOLDER_DIGEST_CHARS = 16;

/**
 * The spool's store for the events of `storage`: GitHub's is `telemetry-spool`. Every `netlify dev`
 * of a checkout shares one Blobs sandbox (`.netlify/blobs-serve`), so over the local folder store
 * each folder (by its absolute path) has a spool of its own: two servers on two folders never
 * flush each other's events, and a server started again on a folder finds what its last one left.
 */
export function spoolStoreName(storage: StorageConfig): string {
  if (storage.kind === "github") return SPOOL_STORE_NAME;
  const digest = createHash("sha256").update(resolve(storage.dir)).digest("hex").slice(0, FOLDER_DIGEST_CHARS);
  return `${SPOOL_STORE_NAME}-local-${digest}`;
}

/** Whose spool a deploy uses: the site's (production's), or one of the deploy's own. */
export type SpoolScope = "site" | "deploy";

/**
 * Only the published production deploy (and `netlify dev`, whose sandbox is local, or a process
 * outside Netlify) uses the site's spool. Any other deploy (a deploy preview, a branch deploy, an
 * old deploy's permalink) runs other code and settings: on the site's spool it would flush
 * production's events to another repository or prefix, or set them aside under a stricter
 * schema. It gets a store of its own, scoped to the deploy.
 *
 * @param published Netlify's `context.deploy.published`, where the function has it.
 */
export function spoolStoreOf(deployContext: string | undefined, published: boolean | undefined): SpoolScope {
  const local = deployContext === undefined || deployContext === "" || deployContext === "dev";
  return local || (deployContext === "production" && published !== false) ? "site" : "deploy";
}

/**
 * The spool's store `name` (see spoolStoreName) for `scope`. Netlify gives the Blobs context per
 * invocation (and a Lambda-compatible function through its event, see connectBlobs), so the store
 * is looked up on every call rather than kept.
 */
export function spoolBlobs(scope: SpoolScope, name: string): BlobStore {
  const options = { name, consistency: "strong", fetch: fetchWholeBody } as const;
  const open = () => (scope === "site" ? getStore(options) : getDeployStore(options));
  return {
    get: (key, getOptions) => open().get(key, getOptions),
    setJSON: (key, value, setOptions) =>
      open().setJSON(key, value, setOptions as Parameters<ReturnType<typeof getStore>["setJSON"]>[2]),
    delete: (key) => open().delete(key),
    list: (listOptions) => open().list(listOptions),
  };
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
