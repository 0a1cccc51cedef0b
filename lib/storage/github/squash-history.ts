import { HeadMovedError, type SquashHistoryOptions } from "../repository-files.ts";
import type { GitHubAdapter, GitHubCall } from "./github-adapter.ts";
import { graphqlErrorsOf, isTransient } from "./octokit-error.ts";
import { readHead, readHeadCommit, type Head } from "./read-head.ts";

/** Squashes started again on the branch's new head when a commit landed meanwhile. */
const MAX_SQUASH_ATTEMPTS = 4;
/** Commits looked through for the job's own below a head that moved: a few pushes, not a whole history. */
const MAX_ANCESTRY_STEPS = 50;
/** GraphQL's one compare-and-swap on a branch: applied only while the ref is still at `beforeOid`. */
const UPDATE_REFS = `mutation ($input: UpdateRefsInput!) { updateRefs(input: $input) { clientMutationId } }`;

/**
 * Replaces the branch's history by one commit with no parent holding the tree of its head, moved there
 * with a compare-and-swap (GraphQL `updateRefs` with `beforeOid`, forced): a commit that lands meanwhile
 * makes the swap fail, and the squash is made again on the new head, whose tree holds that commit too. The
 * head must hold `expectedHead` (be it, or descend from it), else HeadMovedError, changing nothing.
 * `beforeForce` is awaited before each swap (the caller's lease). Gives the new root commit, or the head
 * itself when it has no parent already.
 */
export async function squashHistory(
  github: GitHubAdapter,
  message: string,
  { deadline, expectedHead, beforeWrite, beforeForce }: SquashHistoryOptions,
): Promise<string> {
  const call = { deadline };
  const branch = await github.branch(call);
  const repositoryId = await github.repositoryId(call);
  for (let attempt = 0; attempt < MAX_SQUASH_ATTEMPTS; attempt += 1) {
    const head = await readHead(github, branch, call);
    if (head === "empty" || head === "missing") throw new HeadMovedError(`${branch} has no commit: nothing to squash`);
    if (expectedHead !== undefined && !(await holds(github, head, expectedHead, call))) {
      throw new HeadMovedError(`${branch} no longer holds ${expectedHead.slice(0, 7)}: its history is left as it is`);
    }
    if (head.parents.length === 0) return head.sha;
    await beforeWrite?.();
    const { data: root } = await github.client.rest.git.createCommit({
      ...github.repository(),
      message,
      tree: head.tree,
      parents: [],
      request: github.writeRequest(call),
    });
    await beforeForce?.();
    await beforeWrite?.();
    if (await swapRef(github, { repositoryId, branch, before: head.sha, after: root.sha }, call)) return root.sha;
  }
  throw new HeadMovedError(`${branch} kept moving while its history was squashed: left as it is`);
}

/** Moves `branch` from `before` to `after` (forced) if it is still at `before`; false when it moved meanwhile. */
async function swapRef(
  github: GitHubAdapter,
  { repositoryId, branch, before, after }: { repositoryId: string; branch: string; before: string; after: string },
  call: GitHubCall,
): Promise<boolean> {
  try {
    await github.client.graphql(UPDATE_REFS, {
      input: {
        repositoryId,
        refUpdates: [{ name: `refs/heads/${branch}`, beforeOid: before, afterOid: after, force: true }],
      },
      request: github.writeRequest(call),
    });
    return true;
  } catch (error) {
    // GitHub tells a stale beforeOid by a generic error, and a lost answer by none: the ref, read again, does.
    if (graphqlErrorsOf(error) === undefined && !isTransient(error)) throw error;
    const now = await readHeadCommit(github, branch, call);
    if (now !== "empty" && now !== "missing" && now.sha === after) return true;
    if (now !== "empty" && now !== "missing" && now.sha !== before) return false;
    throw error;
  }
}

/** Whether `head` is commit `sha` or descends from it, looked for among a few commits below it. */
async function holds(
  github: GitHubAdapter,
  head: Exclude<Head, "empty" | "missing">,
  sha: string,
  call: GitHubCall,
): Promise<boolean> {
  if (head.sha === sha) return true;
  const queue = [...head.parents];
  const seen = new Set(queue);
  for (let steps = 0; queue.length > 0 && steps < MAX_ANCESTRY_STEPS; steps += 1) {
    const commit = queue.shift()!;
    if (commit === sha) return true;
    const { data } = await github.client.rest.git.getCommit({
      ...github.repository(),
      commit_sha: commit,
      request: github.request(call),
    });
    for (const { sha: parent } of data.parents) {
      if (seen.has(parent)) continue;
      seen.add(parent);
      queue.push(parent);
    }
  }
  return false;
}
