import type { StoredEvent } from "../../events/stored-event.ts";
import { messageOf } from "../../log.ts";
import { appendToDay, type DayFiles } from "../append-to-day.ts";
import {
  StoreUnavailableError,
  type CommitOptions,
  type CommitResult,
  type EventStore,
  type StoreDescription,
} from "../event-store.ts";
import type { GitHubAdapter, GitHubCall } from "./github-adapter.ts";
import { listFolder } from "./list-folder.ts";
import { pushProtectionFindings, statusOf } from "./octokit-error.ts";
import { readContentsFile } from "./read-contents-file.ts";
import { writeContentsFile } from "./write-contents-file.ts";

const BUSY = "the events could not be written";

/**
 * Appends NDJSON lines to files in a GitHub repository through the contents API, on the instance's
 * GitHub adapter: read the file, append, write the whole file back with the sha read. A write that
 * loses a race (409, or 422 when the file appeared meanwhile) is retried from a fresh read, and every
 * attempt first drops the events the file already holds, so that a write whose answer was lost is
 * not repeated.
 */
export class GitHubStore implements EventStore {
  private readonly waitOnRateLimit: boolean;

  /** `waitOnRateLimit`: a rate limit that ends before a commit's deadline is waited out rather than reported. */
  constructor(
    private readonly github: GitHubAdapter,
    private readonly prefix: string,
    private readonly maxFileBytes: number,
    { waitOnRateLimit = true }: { waitOnRateLimit?: boolean } = {},
  ) {
    this.waitOnRateLimit = waitOnRateLimit;
  }

  credentialsId(): string {
    return this.github.credentialsId();
  }

  credentialsExpireAt(): number | null {
    return this.github.credentialsExpireAt();
  }

  describe(): StoreDescription {
    const { config } = this.github;
    return {
      storage: "github",
      repository: `${config.owner}/${config.repo}`,
      branch: config.branch ?? "(default branch)",
      prefix: this.prefix,
      api_url: config.apiUrl,
      max_file_bytes: this.maxFileBytes,
    };
  }

  async commit(batches: readonly (readonly StoredEvent[])[], options: CommitOptions): Promise<CommitResult> {
    const call = { deadline: options.deadline, waitOnRateLimit: this.waitOnRateLimit };
    for (let failures = 0; ; failures += 1) {
      try {
        return await appendToDay(
          this.files(call),
          batches,
          { prefix: this.prefix, maxFileBytes: this.maxFileBytes },
          options,
        );
      } catch (error) {
        if (!isLostRace(error)) throw this.github.failure(error, "write");
        await this.github.backOff(failures, call, error, BUSY);
      }
    }
  }

  /** The repository's files as appendToDay uses them, every call within `call`'s deadline. */
  private files(call: GitHubCall): DayFiles {
    return {
      list: async (dir) =>
        (await listFolder(this.github, dir, call)).filter((entry) => entry.type === "file").map((entry) => entry.name),
      read: async (path) => {
        const file = await readContentsFile(this.github, path, call);
        if (file === "changed") throw new ConcurrentChangeError(`${path} changed while it was read`);
        return file && { text: file.bytes.toString("utf8"), version: file.sha };
      },
      write: async (path, { text, version, message }) => {
        await writeContentsFile(this.github, { path, text, sha: version, message }, call);
        return Buffer.byteLength(text);
      },
    };
  }
}

/**
 * Whether another attempt, from a fresh read, may succeed: a file that changed meanwhile, a stale
 * sha (409 without push protection's findings), a file that appeared (422 naming the sha), GitHub's
 * 5xx, or no answer at all (the network, our own time limit).
 */
function isLostRace(error: unknown): boolean {
  if (error instanceof StoreUnavailableError) return false;
  if (error instanceof ConcurrentChangeError) return true;
  const status = statusOf(error);
  if (status === undefined || status >= 500) return true;
  if (status === 409) return !pushProtectionFindings(error);
  return status === 422 && /sha/i.test(messageOf(error));
}

class ConcurrentChangeError extends Error {
  override name = "ConcurrentChangeError";
}
