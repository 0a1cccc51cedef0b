import { gitBlobSha, toBuffer } from "./git-blob-sha.ts";
import type { GitHubClient } from "./github-client.ts";
import { statusOf } from "./octokit-error.ts";

/** A file through the contents API, as it was at its sha. */
export interface ContentsFile {
  sha: string;
  bytes: Buffer;
}

/**
 * A file's bytes and sha through the contents API; undefined when there is none (404); "changed"
 * when the file changed between the two reads a file over 1 MB takes (the JSON answer then
 * carries no content, and the bytes fetched with the raw media type are checked against the sha).
 */
export async function readContentsFile(
  client: GitHubClient,
  at: { owner: string; repo: string; ref?: string },
  path: string,
  request: () => { signal: AbortSignal; deadline: number },
): Promise<ContentsFile | undefined | "changed"> {
  let data;
  try {
    ({ data } = await client.rest.repos.getContent({ ...at, path, request: request() }));
  } catch (error) {
    if (statusOf(error) === 404) return undefined;
    throw error;
  }
  if (Array.isArray(data) || data.type !== "file") throw new Error(`${path} is not a file`);
  if (data.encoding !== "none") return { sha: data.sha, bytes: Buffer.from(data.content, "base64") };
  const raw = await client.rest.repos.getContent({ ...at, path, mediaType: { format: "raw" }, request: request() });
  const bytes = toBuffer(raw.data as unknown);
  return gitBlobSha(bytes) === data.sha ? { sha: data.sha, bytes } : "changed";
}
