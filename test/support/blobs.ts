import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getStore } from "@netlify/blobs";
import { BlobsServer } from "@netlify/blobs/server";
import { fetchWholeBody, SPOOL_STORE_NAME } from "../../lib/platform/spool-blobs.ts";

export interface LocalBlobs {
  url: string;
  token: string;
  siteID: string;
  /** A strongly consistent store on the server, as a function gets from `getStore`. */
  store(name?: string): ReturnType<typeof getStore>;
  close(): Promise<void>;
}

/** A strongly consistent store on a Blobs server at `url`, as a function gets from `getStore`. */
export function blobsStoreAt(
  url: string,
  token: string,
  siteID: string,
  name = SPOOL_STORE_NAME,
): ReturnType<typeof getStore> {
  return getStore({
    name,
    siteID,
    token,
    edgeURL: url,
    uncachedEdgeURL: url,
    consistency: "strong",
    fetch: fetchWholeBody,
  });
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
    store: (name = SPOOL_STORE_NAME) => blobsStoreAt(url, token, siteID, name),
    close: async () => {
      await server.stop();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
