/**
 * The objects a repository holds, by id, as the Git Data API reads and writes them: blobs, trees (kept as
 * the files under them) and commits. Branches point into it; every commit the fake makes, whatever the
 * route, is stored here, so that a commit made one way can be the parent or the base of one made another.
 */
import { folderShas, gitObjectSha, treeSha, type CommitDetails, type StoredFile } from "./git-objects.ts";

/**
 * Whole trees kept for lookup by id, newest first, besides every branch's head. A real repository keeps
 * them all; a long benchmark makes thousands of commits, each a copy of the whole file map.
 */
const KEPT_TREES = 1000;

export type Files = ReadonlyMap<string, StoredFile>;

export class GitDatabase {
  private readonly blobs = new Map<string, Uint8Array<ArrayBuffer>>();
  private readonly trees = new Map<string, Files>();
  private readonly commits = new Map<string, CommitDetails>();

  /** `heads` gives the files at every branch's head, which stay found however many trees were made since. */
  constructor(private readonly heads: () => Iterable<Files>) {}

  addBlob(bytes: Uint8Array<ArrayBuffer>): StoredFile {
    const sha = gitObjectSha("blob", bytes);
    this.blobs.set(sha, bytes);
    return { bytes, sha };
  }

  blob(sha: string): StoredFile | undefined {
    const bytes = this.blobs.get(sha);
    return bytes && { bytes, sha };
  }

  /** Stores the tree of `files` and their blobs; returns its id. */
  addTree(files: Files): string {
    for (const file of files.values()) this.blobs.set(file.sha, file.bytes);
    const sha = treeSha(files);
    this.trees.delete(sha);
    this.trees.set(sha, files);
    if (this.trees.size > KEPT_TREES) this.trees.delete(this.trees.keys().next().value!);
    return sha;
  }

  /** The files of tree `sha`, by path within it: a tree stored whole, or a folder of one. */
  tree(sha: string): Files | undefined {
    const heads = [...this.heads()];
    const whole = heads.find((files) => treeSha(files) === sha) ?? this.trees.get(sha);
    if (whole) return whole;
    for (const files of [...heads, ...[...this.trees.values()].reverse()]) {
      const dir = [...folderShas(files)].find(([, id]) => id === sha)?.[0];
      if (dir !== undefined) return within(files, dir);
    }
    return undefined;
  }

  addCommit(commit: CommitDetails): void {
    this.commits.set(commit.sha, commit);
  }

  commit(sha: string): CommitDetails | undefined {
    return this.commits.get(sha);
  }

  /** Whether `descendant` is `ancestor` or has it among its ancestors: what makes a ref update a fast forward. */
  descends(descendant: string, ancestor: string): boolean {
    const seen = new Set<string>();
    const queue = [descendant];
    for (let sha = queue.pop(); sha !== undefined; sha = queue.pop()) {
      if (sha === ancestor) return true;
      if (seen.has(sha)) continue;
      seen.add(sha);
      queue.push(...(this.commits.get(sha)?.parents ?? []));
    }
    return false;
  }
}

/** The files under `dir`, by path within it. */
function within(files: Files, dir: string): Files {
  const prefix = `${dir}/`;
  const inner = new Map<string, StoredFile>();
  for (const [path, file] of files) if (path.startsWith(prefix)) inner.set(path.slice(prefix.length), file);
  return inner;
}
