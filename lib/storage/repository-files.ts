/** One entry of a folder listing: a file or a folder, with git's id of its content. */
export interface RepositoryEntry {
  /** The path from the repository's root, e.g. `telemetry/2026/11/22/0001.ndjson`. */
  path: string;
  name: string;
  type: "file" | "dir";
  /** Git's object id (for a file, the blob sha of its bytes), as GitHub reports it; "" where the store has none (a local folder). */
  sha: string;
  /** Bytes; 0 for a folder. */
  size: number;
}

/** A file a commit writes (`content`), or removes (`content: null`). */
export interface FileChange {
  path: string;
  content: string | null;
}

export interface FilesCallOptions {
  /** Epoch ms (of the caller's clock) by which to give up. */
  deadline: number;
}

export interface CommitFilesOptions extends FilesCallOptions {
  /** Awaited before every content-creating request: where a caller paces them against GitHub's limits. */
  beforeWrite?: () => Promise<void>;
}

export interface CommitFilesResult {
  /** The new commit, or undefined when no change was needed (every file already held its content). */
  commit: string | undefined;
  /** Content-creating requests made, for the write pace. */
  writes: number;
}

/**
 * The data repository (or a local folder with the same tree) as the read path uses it: whole
 * listings, whole files, and several files changed in one commit.
 */
export interface RepositoryFiles {
  /** What the files are, for messages: `owner/repo@branch` or a folder; never a secret. */
  describe(): string;
  /** The entries of `dir` ("" for the root), all of them however many; [] when there is no such folder. */
  list(dir: string, options: FilesCallOptions): Promise<RepositoryEntry[]>;
  /** A file's bytes; undefined when there is no such file. */
  read(path: string, options: FilesCallOptions): Promise<Buffer | undefined>;
  /** Makes every change in one commit, on top of whatever the branch holds then. */
  commitFiles(changes: readonly FileChange[], message: string, options: CommitFilesOptions): Promise<CommitFilesResult>;
}
