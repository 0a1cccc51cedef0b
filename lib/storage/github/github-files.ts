import type {
  CommitFilesOptions,
  CommitFilesResult,
  FileChange,
  FilesCallOptions,
  RepositoryEntry,
  RepositoryFiles,
  SquashHistoryOptions,
} from "../repository-files.ts";
import { commitFiles } from "./commit-files.ts";
import type { GitHubAdapter } from "./github-adapter.ts";
import { listFolder } from "./list-folder.ts";
import { readArchive } from "./read-archive.ts";
import { readContentsFile } from "./read-contents-file.ts";
import { squashHistory } from "./squash-history.ts";

/** Raw reads of a file over 1 MB whose bytes did not match its sha, which means it changed between the two requests. */
const MAX_READ_ATTEMPTS = 3;

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
