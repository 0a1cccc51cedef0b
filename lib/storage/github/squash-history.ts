import { HeadMovedError } from "../repository-files.ts";
import type { GitHubAdapter } from "./github-adapter.ts";
import { readHead, readHeadCommit } from "./read-head.ts";

/**
 * Replaces the branch's history by one commit with no parent holding the tree of `expectedHead`
 * (a forced update of the branch); HeadMovedError, changing nothing, when the branch is no longer
 * there. Gives the new root commit.
 */
export async function squashHistory(
  github: GitHubAdapter,
  message: string,
  {
    deadline,
    expectedHead,
    beforeWrite,
  }: { deadline: number; expectedHead: string; beforeWrite?: () => Promise<void> },
): Promise<string> {
  const call = { deadline };
  const branch = await github.branch(call);
  const head = await readHead(github, branch, call);
  if (head === "empty" || head === "missing" || head.sha !== expectedHead) {
    throw new HeadMovedError(`${branch} is no longer at ${expectedHead.slice(0, 7)}: its history is left as it is`);
  }
  await beforeWrite?.();
  const { data: root } = await github.client.rest.git.createCommit({
    ...github.repository(),
    message,
    tree: head.tree,
    parents: [],
    request: github.writeRequest(call),
  });
  // Looked at again just before the forced update, which would undo a commit that landed meanwhile.
  const now = await readHeadCommit(github, branch, call);
  if (now === "empty" || now === "missing" || now.sha !== expectedHead) {
    throw new HeadMovedError(`${branch} moved while its history was squashed: left as it is`);
  }
  await beforeWrite?.();
  await github.client.rest.git.updateRef({
    ...github.repository(),
    ref: `heads/${branch}`,
    sha: root.sha,
    force: true,
    request: github.writeRequest(call),
  });
  return root.sha;
}
