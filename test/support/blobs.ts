import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getStore } from "@netlify/blobs";
import { BlobsServer } from "@netlify/blobs/server";
import { fetchWholeBody, SPOOL_STORE_NAME } from "../../lib/netlify-blobs.ts";

export interface LocalBlobs {
  url: string;
  token: string;
  siteID: string;
  /** A strongly consistent store on the server, as a function gets from `getStore`. */
  store(name?: string): ReturnType<typeof getStore>;
  close(): Promise<void>;
}

/** `@netlify/blobs`' own local server on a loopback port, over a fresh temp folder. */
export async function startBlobs(): Promise<LocalBlobs> {
  const directory = await mkdtemp(join(tmpdir(), "telemetry-blobs-"));
  const token = "blobs-test-token";
  const server = new BlobsServer({ directory, token });
  const { port } = await server.start();
  const url = `http://127.0.0.1:${port}`;
  const siteID = "test-site";
  return {
    url,
    token,
    siteID,
    store: (name = SPOOL_STORE_NAME) =>
      getStore({ name, siteID, token, edgeURL: url, uncachedEdgeURL: url, consistency: "strong", fetch: fetchWholeBody }),
    close: async () => {
      await server.stop();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
