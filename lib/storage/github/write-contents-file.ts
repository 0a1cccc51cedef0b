import type { GitHubAdapter, GitHubCall } from "./github-adapter.ts";

/**
 * Makes `text` the content of the file at `path` on the configured branch, in one commit, through
 * the contents API: over the file read at `sha`, or a new file without one (GitHub answers 409
 * when the sha is stale, 422 when a file appeared meanwhile). Sent once: the caller plans and
 * paces every attempt. Gives the commit made, as GitHub names it.
 */
export async function writeContentsFile(
  github: GitHubAdapter,
  { path, text, sha, message }: { path: string; text: string; sha: string | undefined; message: string },
  call: GitHubCall,
): Promise<string | undefined> {
  const { data } = await github.client.rest.repos.createOrUpdateFileContents({
    ...github.repository(),
    ...(github.config.branch ? { branch: github.config.branch } : {}),
    path,
    message,
    content: Buffer.from(text, "utf8").toString("base64"),
    ...(sha ? { sha } : {}),
    request: github.writeRequest(call),
  });
  return data.commit.sha;
}
