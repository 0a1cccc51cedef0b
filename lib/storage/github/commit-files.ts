import {
  HeadMovedError,
  type CommitFilesOptions,
  type CommitFilesResult,
  type FileChange,
  type RepositoryEntry,
} from "../repository-files.ts";
import type { GitHubAdapter, GitHubCall } from "./github-adapter.ts";
import { listTree, parentOf } from "./list-folder.ts";
import { isTransient, pushProtectionFindings, statusOf } from "./octokit-error.ts";
import { readHead } from "./read-head.ts";
import { writeContentsFile } from "./write-contents-file.ts";

/** Commits started again from the branch's new head when it moved meanwhile, or when GitHub failed. */
const MAX_COMMIT_ATTEMPTS = 5;
const FILE_MODE = "100644" as const;
/** GitHub documents no size for a request: a tree request's body stays under this, several chained when needed. */
const MAX_TREE_REQUEST_BYTES = 3 * 1024 ** 2;
/** A file larger than this goes in a blob request of its own first, and into the tree by its sha. */
const MAX_INLINE_BYTES = 256 * 1024;
/** An attempt that made the repository's first commit, through the contents API: the rest goes on top of it. */
const AGAIN = Symbol("again");
const BUSY = "the files could not be committed";

/** Sends one content-creating request, counted and paced. */
type Write = <T>(send: () => Promise<T>) => Promise<T>;

interface Attempt {
  github: GitHubAdapter;
  message: string;
  call: GitHubCall;
  write: Write;
  /** The newest commit this call put on the branch. */
  landed: string | undefined;
  /** Commits holding every change, whose ref update may have landed though its answer was lost. */
  created: Set<string>;
  /** The blob made for a large file's content, kept for the next attempt. */
  blobs: Map<FileChange, string>;
}

type TreeItem = { path: string; mode: typeof FILE_MODE; type: "blob"; sha?: string | null; content?: string };

/**
 * Makes every change in one commit through the Git Database API: a tree on the head's tree, a
 * commit on the head, and the branch moved to it only as a fast forward, so that a commit landing
 * meanwhile (a flush's, through the contents API) is never undone: the commit is made again on the
 * new head (or, given the head the changes were computed from, refused with HeadMovedError).
 */
export async function commitFiles(
  github: GitHubAdapter,
  changes: readonly FileChange[],
  message: string,
  { deadline, beforeWrite, expectedHead }: CommitFilesOptions,
): Promise<CommitFilesResult> {
  let writes = 0;
  const write: Write = async (send) => {
    await beforeWrite?.();
    writes += 1;
    return send();
  };
  // The last change to a path is the one that counts.
  const latest = [...new Map(changes.map((change) => [change.path, change])).values()];
  const attempt: Attempt = {
    github,
    message,
    call: { deadline },
    write,
    landed: undefined,
    created: new Set(),
    blobs: new Map(),
  };
  let lastError: unknown;
  for (let tries = 0; tries < MAX_COMMIT_ATTEMPTS; tries += 1) {
    if (lastError !== undefined) await github.backOff(tries, { deadline }, lastError, BUSY);
    try {
      const outcome = await commitOnce(attempt, latest, expectedHead);
      lastError = undefined;
      if (outcome !== AGAIN) return { commit: outcome ?? attempt.landed, writes };
    } catch (error) {
      if (!(error instanceof BranchMovedError) && !isTransient(error)) throw github.failure(error, "request");
      lastError = error;
    }
  }
  throw github.busy(lastError, BUSY);
}

/** One attempt: the commit made, undefined when the branch already held every change, or AGAIN. */
async function commitOnce(
  attempt: Attempt,
  changes: readonly FileChange[],
  expectedHead: string | undefined,
): Promise<string | undefined | typeof AGAIN> {
  const { github, call, write, created } = attempt;
  const branch = await github.branch(call);
  const head = await readHead(github, branch, call);
  if (head !== "empty" && head !== "missing" && created.has(head.sha)) return head.sha;
  if (expectedHead !== undefined) {
    // Ours landed though its answer was lost, and another writer's commit went on top: ours stands.
    const ours = typeof head === "string" ? undefined : head.parents.find((parent) => created.has(parent));
    if (ours !== undefined) return ours;
    // Before the first commit, or without the branch, there is no commit at all: not the one expected.
    if (typeof head === "string" || head.sha !== expectedHead)
      throw new HeadMovedError(`${branch} is no longer at ${expectedHead}`);
  }
  if (head === "empty") return firstCommit(attempt, changes);

  // A branch that does not exist yet is made holding these files alone, as git's orphan branch would.
  const base = head === "missing" ? undefined : head;
  const tree = await createTree(attempt, base?.tree, changes);
  if (tree === undefined || tree === base?.tree) return undefined;
  const { data: commit } = await write(() =>
    github.client.rest.git.createCommit({
      ...github.repository(),
      message: attempt.message,
      tree,
      parents: base ? [base.sha] : [],
      request: github.writeRequest(call),
    }),
  );
  created.add(commit.sha);
  try {
    if (base) {
      await write(() =>
        github.client.rest.git.updateRef({
          ...github.repository(),
          ref: `heads/${branch}`,
          sha: commit.sha,
          force: false,
          request: github.writeRequest(call),
        }),
      );
    } else {
      await write(() =>
        github.client.rest.git.createRef({
          ...github.repository(),
          ref: `refs/heads/${branch}`,
          sha: commit.sha,
          request: github.writeRequest(call),
        }),
      );
    }
  } catch (error) {
    // 422: not a fast forward (a commit landed since the head was read), or the branch was created meanwhile.
    if (statusOf(error) === 422 && expectedHead !== undefined)
      throw new HeadMovedError(`${branch} moved from ${expectedHead} while it was committed to`, { cause: error });
    if (statusOf(error) === 422)
      throw new BranchMovedError(`${branch} moved while it was committed to`, { cause: error });
    throw error;
  }
  attempt.landed = commit.sha;
  return commit.sha;
}

/**
 * GitHub's Git Database API refuses every call on a repository without a commit, and says to make the first
 * one through the contents API: the first file written is, and the rest follows on top of it.
 */
async function firstCommit(attempt: Attempt, changes: readonly FileChange[]): Promise<undefined | typeof AGAIN> {
  const first = changes.find((change) => change.content !== null);
  if (!first) return undefined;
  try {
    attempt.landed = await attempt.write(() =>
      writeContentsFile(
        attempt.github,
        { path: first.path, text: first.content!, sha: undefined, message: attempt.message },
        attempt.call,
      ),
    );
  } catch (error) {
    // Another writer made the first commit meanwhile (409: the branch moved; 422: the file is there now).
    const status = statusOf(error);
    if ((status === 409 && !pushProtectionFindings(error)) || status === 422)
      throw new BranchMovedError("the repository's first commit was made meanwhile", { cause: error });
    throw error;
  }
  return AGAIN;
}

/** The tree of `changes` on `baseTree` (written files alone on none); the base itself when nothing is sent. */
async function createTree(
  attempt: Attempt,
  baseTree: string | undefined,
  changes: readonly FileChange[],
): Promise<string | undefined> {
  const { github, call } = attempt;
  const wanted = baseTree === undefined ? changes.filter((change) => change.content !== null) : changes;
  const send = async (entries: readonly FileChange[]) => {
    // One request at a time: each is paced as it goes.
    const items: TreeItem[] = [];
    for (const change of entries) items.push(await treeItem(attempt, change));
    let tree = baseTree;
    for (const run of bounded(items)) {
      const base = tree;
      const { data } = await attempt.write(() =>
        github.client.rest.git.createTree({
          ...github.repository(),
          ...(base ? { base_tree: base } : {}),
          tree: run,
          request: github.writeRequest(call),
        }),
      );
      tree = data.sha;
    }
    return tree;
  };
  try {
    return await send(wanted);
  } catch (error) {
    const removed = wanted.filter((change) => change.content === null).map((change) => change.path);
    if (statusOf(error) !== 422 || removed.length === 0 || baseTree === undefined) throw error;
    // GitHub refuses to remove a path that its base tree does not hold: leave out those already gone.
    const held = await heldFiles(github, baseTree, removed, call);
    const kept = wanted.filter((change) => change.content !== null || held.has(change.path));
    if (kept.length === wanted.length) throw error;
    return send(kept);
  }
}

/** A change as a tree entry: a small file inline (GitHub makes its blob), a large one by the blob made for it, a removed one as `sha: null`. */
async function treeItem(attempt: Attempt, change: FileChange): Promise<TreeItem> {
  const { path, content } = change;
  const entry = { path, mode: FILE_MODE, type: "blob" as const };
  if (content === null) return { ...entry, sha: null };
  if (Buffer.byteLength(content) <= MAX_INLINE_BYTES) return { ...entry, content };
  const made = attempt.blobs.get(change);
  if (made !== undefined) return { ...entry, sha: made };
  const { github, call } = attempt;
  const { data } = await attempt.write(() =>
    github.client.rest.git.createBlob({
      ...github.repository(),
      content,
      encoding: "utf-8",
      request: github.writeRequest(call),
    }),
  );
  attempt.blobs.set(change, data.sha);
  return { ...entry, sha: data.sha };
}

/** The entries split into runs whose tree request stays under MAX_TREE_REQUEST_BYTES, each tree on the one before. */
function bounded(items: readonly TreeItem[]): TreeItem[][] {
  const runs: TreeItem[][] = [];
  let run: TreeItem[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = Buffer.byteLength(JSON.stringify(item)) + 1;
    if (run.length > 0 && bytes + size > MAX_TREE_REQUEST_BYTES) {
      runs.push(run);
      run = [];
      bytes = 0;
    }
    run.push(item);
    bytes += size;
  }
  if (run.length > 0) runs.push(run);
  return runs;
}

/** Which of `paths` are files of tree `root`, looked up folder by folder. */
async function heldFiles(
  github: GitHubAdapter,
  root: string,
  paths: readonly string[],
  call: GitHubCall,
): Promise<Set<string>> {
  const listings = new Map<string, Promise<RepositoryEntry[] | undefined>>();
  const folder = (dir: string): Promise<RepositoryEntry[] | undefined> => {
    let listing = listings.get(dir);
    if (!listing) {
      listing = (async () => {
        if (dir === "") return listTree(github, root, "", call);
        const parent = await folder(parentOf(dir));
        const sha = parent?.find((entry) => entry.type === "dir" && entry.path === dir)?.sha;
        return sha === undefined ? undefined : listTree(github, sha, dir, call);
      })();
      listings.set(dir, listing);
    }
    return listing;
  };
  const held = new Set<string>();
  for (const path of paths) {
    const entries = await folder(parentOf(path));
    if (entries?.some((entry) => entry.type === "file" && entry.path === path)) held.add(path);
  }
  return held;
}

/** The branch moved (or came to be) between reading its head and moving it: try again from the new head. */
class BranchMovedError extends Error {
  override name = "BranchMovedError";
}
