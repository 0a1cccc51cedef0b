import { createHash } from "node:crypto";
import { systemClock, type Clock } from "../clock.ts";
import type { GitHubConfig } from "../config.ts";
import type { StoredEvent } from "../events/stored-event.ts";
import { readContentsFile } from "./read-contents-file.ts";
import { CallGate, MIN_CALL_BUDGET_MS } from "./call-gate.ts";
import { createGitHubClient, type GitHubClient } from "./github-client.ts";
import { log, messageOf } from "../log.ts";
import { appendToDay, type DayFiles } from "./append-to-day.ts";
import {
  FALLBACK_RATE_LIMIT_SECONDS,
  isOwnTimeout,
  pushProtectionFindings,
  rateLimitRetryAfter,
  statusOf,
  type OctokitError,
} from "./octokit-error.ts";
import {
  DEFAULT_RETRY_AFTER_SECONDS,
  PushProtectedError,
  StoreUnavailableError,
  type CommitOptions,
  type CommitResult,
  type EventStore,
  type StoreDescription,
} from "./event-store.ts";

const BACKOFF_BASE_MS = 100;
/** Hex characters of a digest that tell one set of credentials from another, and nothing of them. */
const CREDENTIALS_ID_CHARS = 12;
/** The contents API lists at most this many entries of a folder. */
const CONTENTS_LISTING_LIMIT = 1000;
/** GitHub's answer header naming when the token expires, as `2026-12-31 00:00:00 UTC`. */
const TOKEN_EXPIRATION_HEADER = "github-authentication-token-expiration";
const TOKEN_EXPIRATION = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?: ?(?:UTC|Z|\+0000|\+00:00))?$/;
const BACKOFF_MAX_MS = 1000;

interface FileState {
  sha: string;
  text: string;
}

/**
 * Appends NDJSON lines to files in a GitHub repository through the contents API: read the file,
 * append, write the whole file back with the sha read. A write that loses a race (409, or 422 when
 * the file appeared meanwhile) is retried from a fresh read, and every attempt first drops the
 * events the file already holds, so that a write whose answer was lost is not repeated.
 */
export class GitHubStore implements EventStore {
  private readonly client: GitHubClient;
  private readonly clock: Clock;
  private readonly gate: CallGate;
  private expiresAt: number | null = null;

  constructor(
    private readonly config: GitHubConfig,
    private readonly prefix: string,
    private readonly maxFileBytes: number,
    { clock = systemClock, waitOnRateLimit = true }: { clock?: Clock; waitOnRateLimit?: boolean } = {},
  ) {
    this.clock = clock;
    this.gate = new CallGate(clock);
    this.client = createGitHubClient(config, { clock, waitOnRateLimit });
    // GitHub says when a personal access token expires on every answer to it, errors included.
    this.client.hook.after("request", (response) => this.noteExpiry(response.headers));
    this.client.hook.error("request", (error) => {
      this.noteExpiry((error as OctokitError).response?.headers ?? {});
      throw error;
    });
  }

  credentialsId(): string {
    const { credentials } = this.config;
    const secret = credentials.kind === "token" ? credentials.token : `${credentials.appId}\n${credentials.privateKey}`;
    return createHash("sha256").update(secret).digest("hex").slice(0, CREDENTIALS_ID_CHARS);
  }

  credentialsExpireAt(): number | null {
    return this.expiresAt;
  }

  private noteExpiry(headers: Record<string, string | number | undefined>): void {
    const match = TOKEN_EXPIRATION.exec(String(headers[TOKEN_EXPIRATION_HEADER] ?? ""));
    if (match) this.expiresAt = Date.parse(`${match[1]}T${match[2]}Z`);
  }

  describe(): StoreDescription {
    return {
      storage: "github",
      repository: `${this.config.owner}/${this.config.repo}`,
      branch: this.config.branch ?? "(default branch)",
      prefix: this.prefix,
      api_url: this.config.apiUrl,
      max_file_bytes: this.maxFileBytes,
    };
  }

  async commit(batches: readonly (readonly StoredEvent[])[], options: CommitOptions): Promise<CommitResult> {
    const { deadline } = options;
    let failures = 0;
    for (;;) {
      try {
        return await appendToDay(
          this.files(deadline),
          batches,
          { prefix: this.prefix, maxFileBytes: this.maxFileBytes },
          options,
        );
      } catch (error) {
        this.giveUpUnlessRetryable(error);
        const backoff = Math.random() * Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** failures);
        failures += 1;
        if (this.clock.now() + backoff + MIN_CALL_BUDGET_MS > deadline) {
          // Our own time limit cut the call short: no sign that GitHub is in trouble.
          const ownTimeout = isOwnTimeout(error);
          throw new StoreUnavailableError(
            "GitHub is busy: the events could not be written in time",
            DEFAULT_RETRY_AFTER_SECONDS,
            {
              cause: error,
              reason: ownTimeout ? "out_of_time" : "busy",
            },
          );
        }
        await this.clock.sleep(backoff);
      }
    }
  }

  /** The repository's files as appendToDay uses them, every call within `deadline`. */
  private files(deadline: number): DayFiles {
    return {
      list: (dir) => this.listFolder(dir, deadline),
      read: async (path) => {
        const file = await this.readFile(path, deadline);
        return file && { text: file.text, version: file.sha };
      },
      write: async (path, { text, version, message }) => {
        await this.writeFile(path, text, version, { message, deadline });
        return Buffer.byteLength(text);
      },
    };
  }

  /**
   * The names of the files in `dir`. The contents API lists at most 1,000 entries of a folder; a
   * listing that long may be cut, so the folder is then listed whole through the Git Trees API
   * (100,000 entries), and a listing that even that cuts stops the write rather than guess.
   */
  private async listFolder(dir: string, deadline: number): Promise<string[]> {
    try {
      const { data } = await this.client.rest.repos.getContent({
        ...this.repoRef(),
        path: dir,
        request: this.gate.options(deadline),
      });
      if (!Array.isArray(data)) return [];
      if (data.length >= CONTENTS_LISTING_LIMIT) return await this.listTree(dir, deadline);
      return data.filter((entry) => entry.type === "file").map((entry) => entry.name);
    } catch (error) {
      // A missing folder and an empty repository (no commit yet) both answer 404: nothing written yet.
      if (statusOf(error) === 404) return [];
      throw error;
    }
  }

  private async listTree(dir: string, deadline: number): Promise<string[]> {
    const slash = dir.lastIndexOf("/");
    const { data: parent } = await this.client.rest.repos.getContent({
      ...this.repoRef(),
      path: slash === -1 ? "" : dir.slice(0, slash),
      request: this.gate.options(deadline),
    });
    const folder = Array.isArray(parent)
      ? parent.find((entry) => entry.path === dir && entry.type === "dir")
      : undefined;
    if (!folder) throw new ConcurrentChangeError(`${dir} changed while it was listed`);
    const { data } = await this.client.rest.git.getTree({
      owner: this.config.owner,
      repo: this.config.repo,
      tree_sha: folder.sha,
      request: this.gate.options(deadline),
    });
    if (data.truncated) throw new Error(`GitHub cut the listing of ${dir} short: a folder too large to write to`);
    return data.tree.filter((entry) => entry.type === "blob").map((entry) => entry.path ?? "");
  }

  private async readFile(path: string, deadline: number): Promise<FileState | undefined> {
    const file = await readContentsFile(this.client, this.repoRef(), path, () => this.gate.options(deadline));
    if (file === "changed") throw new ConcurrentChangeError(`${path} changed while it was read`);
    return file && { sha: file.sha, text: file.bytes.toString("utf8") };
  }

  private async writeFile(
    path: string,
    text: string,
    sha: string | undefined,
    { message, deadline }: { message: string; deadline: number },
  ): Promise<void> {
    await this.client.rest.repos.createOrUpdateFileContents({
      owner: this.config.owner,
      repo: this.config.repo,
      ...(this.config.branch ? { branch: this.config.branch } : {}),
      path,
      message,
      content: Buffer.from(text, "utf8").toString("base64"),
      ...(sha ? { sha } : {}),
      // Never sent again by Octokit: each attempt is planned afresh, and paced, by commit().
      request: { ...this.gate.options(deadline), retries: 0 },
    });
  }

  private repoRef() {
    return {
      owner: this.config.owner,
      repo: this.config.repo,
      ...(this.config.branch ? { ref: this.config.branch } : {}),
    };
  }

  /** Returns when `error` is worth another attempt (a lost race, a 5xx, a timeout); throws the error to answer otherwise. */
  private giveUpUnlessRetryable(error: unknown): void {
    if (error instanceof StoreUnavailableError) throw error;
    if (error instanceof ConcurrentChangeError) return;
    const status = statusOf(error);
    // A 409 is a stale sha, unless it carries push protection's findings: then no retry can succeed.
    const secrets = pushProtectionFindings(error);
    if (status === 409 && secrets) {
      log("warn", "github_push_protection", { token_types: secrets });
      throw new PushProtectedError(secrets, { cause: error });
    }
    if (status === undefined || status >= 500 || status === 409) return;
    if (status === 422 && /sha/i.test(messageOf(error))) return;

    const retryAfter = rateLimitRetryAfter(error, this.clock.now());
    if (retryAfter !== undefined) {
      this.gate.block(retryAfter);
      log("warn", "github_rate_limited", { retry_after_s: retryAfter });
      throw new StoreUnavailableError("GitHub's rate limit was reached", retryAfter, {
        cause: error,
        reason: "rate_limited",
      });
    }
    // 401, 403 without a rate limit, 404 on a write: the token, repository or branch is wrong; say so in the log.
    log("error", "github_write_refused", { status, message: messageOf(error) });
    throw new StoreUnavailableError(`GitHub refused the write (${status})`, FALLBACK_RATE_LIMIT_SECONDS, {
      cause: error,
      reason: "refused",
    });
  }
}

class ConcurrentChangeError extends Error {
  override name = "ConcurrentChangeError";
}
