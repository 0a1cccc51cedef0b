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

/** A file to read as a listing named it: its path, and git's id of its bytes. */
export interface ListedFile {
  path: string;
  sha: string;
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
  /**
   * Commit only on top of this commit (what `readTree` said it read): if the branch has moved since,
   * fail with HeadMovedError and commit nothing, since `changes` were computed from files that may
   * have changed meanwhile. Undefined: on top of whatever the branch holds.
   */
  expectedHead?: string | undefined;
}

/** How a history is squashed (see RepositoryFiles.squashHistory). */
export interface SquashHistoryOptions extends FilesCallOptions {
  /** The commit the squashed history must hold (the branch at it, or descending from it); undefined: any head. */
  expectedHead?: string | undefined;
  /** Awaited before every content-creating request, as for a commit. */
  beforeWrite?: () => Promise<void>;
  /** Awaited just before the branch is forced; what it throws leaves the history as it is (a lost lease, say). */
  beforeForce?: () => Promise<void>;
}

/** The branch is no longer at the commit the changes were computed from. */
export class HeadMovedError extends Error {
  override name = "HeadMovedError";
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
  /**
   * Every file under `dir` ("" for all), each handed to `visit` as it arrives, read from one
   * snapshot of the branch at the cost of a few requests, never one a file (GitHub: one archive
   * download); gives the commit read (undefined for a local folder, which has none).
   */
  readTree(
    dir: string,
    visit: (path: string, bytes: Buffer) => Promise<void> | void,
    options: FilesCallOptions,
  ): Promise<{ head: string | undefined }>;
  /**
   * The files named (as a listing gave them), each handed to `visit` as it arrives; one gone meanwhile
   * is not given. Many come in one download, in path order (GitHub: one archive of a tree of just
   * those blobs, see readBlobsArchive), so that reading many files costs a few requests, not one a file.
   */
  readFiles(
    files: readonly ListedFile[],
    visit: (path: string, bytes: Buffer) => Promise<void> | void,
    options: FilesCallOptions,
  ): Promise<void>;
  /**
   * Replaces the branch's history by one commit with no parent holding the tree of its head, so that
   * no commit reachable from it holds what earlier ones did. The branch is moved by a compare-and-swap:
   * a commit landing meanwhile is never dropped, the squash is made again on top of it. Fails with
   * HeadMovedError, changing nothing, when the head no longer holds `expectedHead`, or kept moving.
   * Gives the new root commit (undefined for a local folder, which keeps no history).
   */
  squashHistory(message: string, options: SquashHistoryOptions): Promise<string | undefined>;
  /** Makes every change in one commit, on top of whatever the branch holds then (or `expectedHead`). */
  commitFiles(changes: readonly FileChange[], message: string, options: CommitFilesOptions): Promise<CommitFilesResult>;
}
