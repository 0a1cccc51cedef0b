import { gitBlobSha, toBuffer } from "../git-blob-sha.ts";
import type { GitHubAdapter, GitHubCall } from "./github-adapter.ts";
import { statusOf } from "./octokit-error.ts";

/** A file through the contents API, as it was at its sha. */
export interface ContentsFile {
  sha: string;
  bytes: Buffer;
}

/**
 * A file's bytes and sha through the contents API, on the configured branch; undefined when there
 * is none (404); "changed" when the file changed between the two reads a file over 1 MB takes (the
 * JSON answer then carries no content, and the bytes fetched with the raw media type are checked
 * against the sha).
 */
export async function readContentsFile(
  github: GitHubAdapter,
  path: string,
  call: GitHubCall,
): Promise<ContentsFile | undefined | "changed"> {
  const at = github.contentsRef();
  let data;
  try {
    ({ data } = await github.client.rest.repos.getContent({ ...at, path, request: github.request(call) }));
  } catch (error) {
    if (statusOf(error) === 404) return undefined;
    throw error;
  }
  if (Array.isArray(data) || data.type !== "file") throw new Error(`${path} is not a file`);
  if (data.encoding !== "none") return { sha: data.sha, bytes: Buffer.from(data.content, "base64") };
  const raw = await github.client.rest.repos.getContent({
    ...at,
    path,
    mediaType: { format: "raw" },
    request: github.request(call),
  });
  const bytes = toBuffer(raw.data);
  return gitBlobSha(bytes) === data.sha ? { sha: data.sha, bytes } : "changed";
}
