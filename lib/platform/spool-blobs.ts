import { getDeployStore, getStore } from "@netlify/blobs";
import type { BlobStore } from "../spool/blob-store.ts";

/** The store the spool lives in; strongly consistent, so a flusher lists every entry acknowledged before it looked. */
export const SPOOL_STORE_NAME = "telemetry-spool";

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
 * The spool's store for `scope`. Netlify gives the Blobs context per invocation (and a
 * Lambda-compatible function through its event, see connectBlobs), so the store is looked up on every call
 * rather than kept.
 */
export function spoolBlobs(scope: SpoolScope): BlobStore {
  const options = { name: SPOOL_STORE_NAME, consistency: "strong", fetch: fetchWholeBody } as const;
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
