import type {
  CommitFilesOptions,
  CommitFilesResult,
  FileChange,
  FilesCallOptions,
  ListedFile,
  RepositoryEntry,
  RepositoryFiles,
  SquashHistoryOptions,
} from "../repository-files.ts";
import { commitFiles } from "./commit-files.ts";
import type { GitHubAdapter } from "./github-adapter.ts";
import { listFolder } from "./list-folder.ts";
import { readArchive, readBlobsArchive } from "./read-archive.ts";
import { log, messageOf } from "../../log.ts";
import { readContentsFile } from "./read-contents-file.ts";
import { squashHistory } from "./squash-history.ts";

/** Raw reads of a file over 1 MB whose bytes did not match its sha, which means it changed between the two requests. */
const MAX_READ_ATTEMPTS = 3;
/** Up to this many files, a request each costs no more than an archive's three (two of them writes). */
const FEW_FILES = 6;
/** Files read at once when each is a request: GitHub serves reads in parallel. */
const READS_AT_ONCE = 8;

/**
 * The data repository's files as the read path and the jobs use them, on the instance's GitHub
 * adapter: listings and files from the contents API (see listFolder), commits through the Git
 * Database API (see commitFiles), a whole tree from one archive download (see readArchive). Every
 * failure is told as the adapter tells it.
 */
export class GitHubFiles implements RepositoryFiles {
  constructor(private readonly github: GitHubAdapter) {}

  describe(): string {
    return this.github.describe();
  }

  list(dir: string, call: FilesCallOptions): Promise<RepositoryEntry[]> {
    return this.answering(() => listFolder(this.github, trimSlashes(dir), call));
  }

  read(path: string, call: FilesCallOptions): Promise<Buffer | undefined> {
    return this.answering(async () => {
      for (let attempt = 1; ; attempt += 1) {
        const file = await readContentsFile(this.github, path, call);
        if (file !== "changed") return file?.bytes;
        if (attempt >= MAX_READ_ATTEMPTS) throw new Error(`${path} kept changing while it was read`);
      }
    });
  }

  async readTree(
    dir: string,
    visit: (path: string, bytes: Buffer) => Promise<void> | void,
    call: FilesCallOptions,
  ): Promise<{ head: string | undefined }> {
    const refused: unknown[] = [];
    const guarded = async (path: string, bytes: Buffer) => {
      try {
        await visit(path, bytes);
      } catch (error) {
        refused.push(error);
        throw error;
      }
    };
    try {
      return await readArchive(this.github, trimSlashes(dir), guarded, call);
    } catch (error) {
      // The caller's own failure stands as it is; GitHub's are told as the other reads tell them.
      if (refused.length > 0) throw refused[0];
      throw this.github.failure(error, "request");
    }
  }

  /**
   * More than a few files from one archive of just them (readBlobsArchive); a request each for a few, and
   * for those the archive did not give when it could not be made (a credential that may only read: 403
   * or 404) or failed on its way. The caller's own failure stands as it is.
   */
  async readFiles(
    files: readonly ListedFile[],
    visit: (path: string, bytes: Buffer) => Promise<void> | void,
    call: FilesCallOptions,
  ): Promise<void> {
    const given = new Set<string>();
    const refused: unknown[] = [];
    const guarded = async (path: string, bytes: Buffer) => {
      given.add(path);
      try {
        await visit(path, bytes);
      } catch (error) {
        refused.push(error);
        throw error;
      }
    };
    if (files.length > FEW_FILES) {
      try {
        return await readBlobsArchive(this.github, files, guarded, call);
      } catch (error) {
        if (refused.length > 0) throw refused[0];
        log("warn", "github_archive_failed", { message: messageOf(error), files: files.length - given.size });
      }
    }
    const rest = files.filter((file) => !given.has(file.path));
    let next = 0;
    const reader = async () => {
      for (let file = rest[next++]; file; file = rest[next++]) {
        const bytes = await this.read(file.path, call);
        if (bytes) await visit(file.path, bytes);
      }
    };
    await Promise.all(Array.from({ length: Math.min(READS_AT_ONCE, rest.length) }, reader));
  }

  squashHistory(message: string, options: SquashHistoryOptions): Promise<string | undefined> {
    return this.answering(() => squashHistory(this.github, message, options));
  }

  commitFiles(
    changes: readonly FileChange[],
    message: string,
    options: CommitFilesOptions,
  ): Promise<CommitFilesResult> {
    return commitFiles(this.github, changes, message, options);
  }

  private async answering<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw this.github.failure(error, "request");
    }
  }
}

function trimSlashes(path: string): string {
  return path.replace(/^\/+|\/+$/g, "");
}
