import type { GitHubAdapter, GitHubCall } from "./github-adapter.ts";
import { statusOf } from "./octokit-error.ts";

/** A branch's head commit, its tree and parents; "empty" for a repository without a commit, "missing" for no such branch. */
export type Head = { sha: string; tree: string; parents: string[] } | "empty" | "missing";

/** The head of `branch`, through the Git Database API. */
export async function readHead(github: GitHubAdapter, branch: string, call: GitHubCall): Promise<Head> {
  const head = await readHeadCommit(github, branch, call);
  if (head === "empty" || head === "missing") return head;
  const { sha } = head;
  const { data } = await github.client.rest.git.getCommit({
    ...github.repository(),
    commit_sha: sha,
    request: github.request(call),
  });
  return { sha, tree: data.tree.sha, parents: data.parents.map((parent) => parent.sha) };
}

/** The sha of the branch's head commit alone, as `readHead` tells it. */
export async function readHeadCommit(
  github: GitHubAdapter,
  branch: string,
  call: GitHubCall,
): Promise<{ sha: string } | "empty" | "missing"> {
  try {
    const { data } = await github.client.rest.git.getRef({
      ...github.repository(),
      ref: `heads/${branch}`,
      request: github.request(call),
    });
    return { sha: data.object.sha };
  } catch (error) {
    // The Git Database API answers 409 "Git Repository is empty." until the first commit.
    if (statusOf(error) === 409) return "empty";
    if (statusOf(error) === 404) return "missing";
    throw error;
  }
}
