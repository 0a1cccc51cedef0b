import type { RepositoryEntry } from "../repository-files.ts";
import type { GitHubAdapter, GitHubCall } from "./github-adapter.ts";
import { statusOf } from "./octokit-error.ts";
import { readHead } from "./read-head.ts";

/** The contents API lists at most this many entries of a folder. */
const CONTENTS_LISTING_LIMIT = 1000;

/**
 * The entries of `dir` ("" for the root) on the configured branch; [] for a missing folder or an
 * empty repository. The contents API lists at most 1,000 entries of a folder; a listing that long
 * may be cut, so the folder is then listed whole through the Git Trees API (100,000 entries), and
 * a listing that even that cuts fails rather than give part of a folder.
 */
export async function listFolder(github: GitHubAdapter, dir: string, call: GitHubCall): Promise<RepositoryEntry[]> {
  let data;
  try {
    ({ data } = await github.client.rest.repos.getContent({
      ...github.contentsRef(),
      path: dir,
      request: github.request(call),
    }));
  } catch (error) {
    // A missing folder and an empty repository (no commit yet) both answer 404.
    if (statusOf(error) === 404) return [];
    throw error;
  }
  if (!Array.isArray(data)) return [];
  if (data.length >= CONTENTS_LISTING_LIMIT) return listWhole(github, dir, call);
  return data.flatMap((entry): RepositoryEntry[] =>
    entry.type === "file" || entry.type === "dir"
      ? [
          {
            path: entry.path,
            name: entry.name,
            type: entry.type,
            sha: entry.sha,
            size: entry.type === "dir" ? 0 : entry.size,
          },
        ]
      : [],
  );
}

/** The entries of the tree `sha`, the folder `dir`, through the Git Trees API. */
export async function listTree(
  github: GitHubAdapter,
  sha: string,
  dir: string,
  call: GitHubCall,
): Promise<RepositoryEntry[]> {
  const { data } = await github.client.rest.git.getTree({
    ...github.repository(),
    tree_sha: sha,
    request: github.request(call),
  });
  if (data.truncated) throw new Error(`GitHub cut the listing of ${dir || "the root"} short: too many entries to list`);
  return data.tree.flatMap((entry): RepositoryEntry[] => {
    const type = entry.type === "blob" ? "file" : entry.type === "tree" ? "dir" : undefined;
    if (!type || !entry.path || !entry.sha) return [];
    const path = dir === "" ? entry.path : `${dir}/${entry.path}`;
    return [{ path, name: entry.path, type, sha: entry.sha, size: type === "file" ? (entry.size ?? 0) : 0 }];
  });
}

/** A folder's parent folder ("" for the root's children). */
export function parentOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash === -1 ? "" : path.slice(0, slash);
}

/** A folder through the Git Trees API, found by its sha in its parent's listing (the root by the head's tree). */
async function listWhole(github: GitHubAdapter, dir: string, call: GitHubCall): Promise<RepositoryEntry[]> {
  let sha: string | undefined;
  if (dir === "") {
    const head = await readHead(github, await github.branch(call), call);
    sha = typeof head === "string" ? undefined : head.tree;
  } else {
    const parent = await listFolder(github, parentOf(dir), call);
    sha = parent.find((entry) => entry.type === "dir" && entry.path === dir)?.sha;
  }
  // Gone since it was listed: there is no such folder now.
  if (sha === undefined) return [];
  return listTree(github, sha, dir, call);
}
