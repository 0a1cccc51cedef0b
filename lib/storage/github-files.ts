import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { createGunzip } from "node:zlib";
import { extract } from "tar-stream";
import { systemClock, type Clock } from "../clock.ts";
import type { GitHubConfig } from "../config.ts";
import { log, messageOf } from "../log.ts";
import { DEFAULT_RETRY_AFTER_SECONDS, PushProtectedError, StoreUnavailableError } from "./event-store.ts";
import { readContentsFile } from "./read-contents-file.ts";
import { CallGate, MIN_CALL_BUDGET_MS } from "./call-gate.ts";
import { createGitHubClient, type GitHubClient } from "./github-client.ts";
import {
  FALLBACK_RATE_LIMIT_SECONDS,
  isOwnTimeout,
  pushProtectionFindings,
  rateLimitRetryAfter,
  statusOf,
  type OctokitError,
} from "./octokit-error.ts";
import {
  HeadMovedError,
  type CommitFilesOptions,
  type CommitFilesResult,
  type FileChange,
  type FilesCallOptions,
  type RepositoryEntry,
  type RepositoryFiles,
} from "./repository-files.ts";

/** The contents API lists at most this many entries of a folder. */
const CONTENTS_LISTING_LIMIT = 1000;
/** Commits started again from the branch's new head when it moved meanwhile, or when GitHub failed. */
const MAX_COMMIT_ATTEMPTS = 5;
/** Raw reads of a file over 1 MB whose bytes did not match its sha, which means it changed between the two requests. */
const MAX_READ_ATTEMPTS = 3;
const BACKOFF_BASE_MS = 100;
const BACKOFF_MAX_MS = 1000;
const FILE_MODE = "100644" as const;
/** An attempt that made the repository's first commit, through the contents API: the rest goes on top of it. */
const AGAIN = Symbol("again");

/** Tar entry types that hold a file's bytes (git archive writes every file as the first). */
const FILE_ENTRY_TYPES = new Set(["file", "contiguous-file"]);

type Head = { sha: string; tree: string; parents: string[] } | "empty" | "missing";

/** What one content-creating request is given, and how it is counted and paced. */
type Write = <T>(send: (request: WriteRequestOptions) => Promise<T>) => Promise<T>;
type WriteRequestOptions = { signal: AbortSignal; deadline: number; retries: number };

interface CommitState {
  /** The newest commit this call put on the branch. */
  landed: string | undefined;
  /** Commits holding every change, whose ref update may have landed though its answer was lost. */
  created: Set<string>;
}

/**
 * The data repository's files through GitHub's REST API. Listings and files come from the contents API (a
 * folder of 1,000 entries or more from the Git Trees API, which lists it whole). A commit goes through the
 * Git Database API: a tree on the head's tree, a commit on the head, and the branch moved to it only as a
 * fast forward, so that a commit landing meanwhile (a flush's, through the contents API) is never undone:
 * the commit is made again on the new head (or, given the head the changes were computed from, refused).
 * A whole tree comes from one archive download, the branch's head as a gzipped tarball.
 */
export class GitHubFiles implements RepositoryFiles {
  private readonly client: GitHubClient;
  private readonly clock: Clock;
  private readonly gate: CallGate;
  private defaultBranch: Promise<string> | undefined;

  constructor(
    private readonly config: GitHubConfig,
    { clock = systemClock }: { clock?: Clock } = {},
  ) {
    this.clock = clock;
    this.gate = new CallGate(clock);
    this.client = createGitHubClient(config, { clock, waitOnRateLimit: false });
  }

  describe(): string {
    const repository = `${this.config.owner}/${this.config.repo}`;
    return this.config.branch ? `${repository}@${this.config.branch}` : repository;
  }

  list(dir: string, { deadline }: FilesCallOptions): Promise<RepositoryEntry[]> {
    return this.answering(() => this.listFolder(dir.replace(/^\/+|\/+$/g, ""), deadline));
  }

  read(path: string, { deadline }: FilesCallOptions): Promise<Buffer | undefined> {
    return this.answering(() => this.readFile(path, deadline));
  }

  async readTree(
    dir: string,
    visit: (path: string, bytes: Buffer) => Promise<void> | void,
    { deadline }: FilesCallOptions,
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
      return await this.readArchive(dir.replace(/^\/+|\/+$/g, ""), guarded, deadline);
    } catch (error) {
      // The caller's own failure stands as it is; GitHub's are told as the other reads tell them.
      if (refused.length > 0) throw refused[0];
      throw this.failure(error);
    }
  }

  async squashHistory(
    message: string,
    {
      deadline,
      expectedHead,
      beforeWrite,
    }: FilesCallOptions & { expectedHead: string; beforeWrite?: () => Promise<void> },
  ): Promise<string | undefined> {
    return this.answering(async () => {
      const branch = await this.branch(deadline);
      const head = await this.head(branch, deadline);
      if (head === "empty" || head === "missing" || head.sha !== expectedHead) {
        throw new HeadMovedError(`${branch} is no longer at ${expectedHead.slice(0, 7)}: its history is left as it is`);
      }
      await beforeWrite?.();
      const { data: root } = await this.client.rest.git.createCommit({
        ...this.repository(),
        message,
        tree: head.tree,
        parents: [],
        request: { ...this.gate.options(deadline), retries: 0 },
      });
      // Looked at again just before the forced update, which would undo a commit that landed meanwhile.
      if ((await this.headCommit(branch, deadline)) !== expectedHead) {
        throw new HeadMovedError(`${branch} moved while its history was squashed: left as it is`);
      }
      await beforeWrite?.();
      await this.client.rest.git.updateRef({
        ...this.repository(),
        ref: `heads/${branch}`,
        sha: root.sha,
        force: true,
        request: { ...this.gate.options(deadline), retries: 0 },
      });
      return root.sha;
    });
  }

  async commitFiles(
    changes: readonly FileChange[],
    message: string,
    { deadline, beforeWrite, expectedHead }: CommitFilesOptions,
  ): Promise<CommitFilesResult> {
    let writes = 0;
    const write: Write = async (send) => {
      await beforeWrite?.();
      const request = { ...this.gate.options(deadline), retries: 0 };
      writes += 1;
      // Never sent again by Octokit: each attempt is planned afresh, and paced, here.
      return send(request);
    };
    // The last change to a path is the one that counts.
    const latest = [...new Map(changes.map((change) => [change.path, change])).values()];
    const state: CommitState = { landed: undefined, created: new Set() };
    let lastError: unknown;
    for (let attempt = 0; attempt < MAX_COMMIT_ATTEMPTS; attempt += 1) {
      if (lastError !== undefined) await this.backOff(attempt, deadline, lastError);
      try {
        const outcome = await this.commitOnce(latest, message, deadline, write, state, expectedHead);
        lastError = undefined;
        if (outcome !== AGAIN) return { commit: outcome ?? state.landed, writes };
      } catch (error) {
        if (!(error instanceof BranchMovedError) && !isTransient(error)) throw this.failure(error);
        lastError = error;
      }
    }
    throw busy(lastError);
  }

  /** One attempt: the commit made, undefined when the branch already held every change, or AGAIN. */
  private async commitOnce(
    changes: readonly FileChange[],
    message: string,
    deadline: number,
    write: Write,
    state: CommitState,
    expectedHead: string | undefined,
  ): Promise<string | undefined | typeof AGAIN> {
    const branch = await this.branch(deadline);
    const head = await this.head(branch, deadline);
    if (head !== "empty" && head !== "missing" && state.created.has(head.sha)) return head.sha;
    if (expectedHead !== undefined) {
      // Ours landed though its answer was lost, and another writer's commit went on top: ours stands.
      const ours = typeof head === "string" ? undefined : head.parents.find((parent) => state.created.has(parent));
      if (ours !== undefined) return ours;
      // Before the first commit, or without the branch, there is no commit at all: not the one expected.
      if (typeof head === "string" || head.sha !== expectedHead)
        throw new HeadMovedError(`${branch} is no longer at ${expectedHead}`);
    }
    if (head === "empty") return this.firstCommit(changes, message, write, state);

    // A branch that does not exist yet is made holding these files alone, as git's orphan branch would.
    const base = head === "missing" ? undefined : head;
    const tree = await this.createTree(base?.tree, changes, deadline, write);
    if (tree === undefined || tree === base?.tree) return undefined;
    const { data: commit } = await write((request) =>
      this.client.rest.git.createCommit({
        ...this.repository(),
        message,
        tree,
        parents: base ? [base.sha] : [],
        request,
      }),
    );
    state.created.add(commit.sha);
    try {
      if (base) {
        await write((request) =>
          this.client.rest.git.updateRef({
            ...this.repository(),
            ref: `heads/${branch}`,
            sha: commit.sha,
            force: false,
            request,
          }),
        );
      } else {
        await write((request) =>
          this.client.rest.git.createRef({
            ...this.repository(),
            ref: `refs/heads/${branch}`,
            sha: commit.sha,
            request,
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
    state.landed = commit.sha;
    return commit.sha;
  }

  /**
   * GitHub's Git Database API refuses every call on a repository without a commit, and says to make the first
   * one through the contents API: the first file written is, and the rest follows on top of it.
   */
  private async firstCommit(
    changes: readonly FileChange[],
    message: string,
    write: Write,
    state: CommitState,
  ): Promise<undefined | typeof AGAIN> {
    const first = changes.find((change) => change.content !== null);
    if (!first) return undefined;
    try {
      const { data } = await write((request) =>
        this.client.rest.repos.createOrUpdateFileContents({
          ...this.repository(),
          ...(this.config.branch ? { branch: this.config.branch } : {}),
          path: first.path,
          message,
          content: Buffer.from(first.content!, "utf8").toString("base64"),
          request,
        }),
      );
      state.landed = data.commit.sha;
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
  private async createTree(
    baseTree: string | undefined,
    changes: readonly FileChange[],
    deadline: number,
    write: Write,
  ): Promise<string | undefined> {
    const wanted = baseTree === undefined ? changes.filter((change) => change.content !== null) : changes;
    const send = async (entries: readonly FileChange[]) => {
      if (entries.length === 0) return baseTree;
      // Written files go inline (GitHub makes their blobs), removed ones as `sha: null`.
      const tree = entries.map(({ path, content }) => ({
        path,
        mode: FILE_MODE,
        type: "blob" as const,
        ...(content === null ? { sha: null } : { content }),
      }));
      const { data } = await write((request) =>
        this.client.rest.git.createTree({
          ...this.repository(),
          ...(baseTree ? { base_tree: baseTree } : {}),
          tree,
          request,
        }),
      );
      return data.sha;
    };
    try {
      return await send(wanted);
    } catch (error) {
      const removed = wanted.filter((change) => change.content === null).map((change) => change.path);
      if (statusOf(error) !== 422 || removed.length === 0 || baseTree === undefined) throw error;
      // GitHub refuses to remove a path that its base tree does not hold: leave out those already gone.
      const held = await this.heldFiles(baseTree, removed, deadline);
      const kept = wanted.filter((change) => change.content !== null || held.has(change.path));
      if (kept.length === wanted.length) throw error;
      return send(kept);
    }
  }

  /** Which of `paths` are files of tree `root`, looked up folder by folder. */
  private async heldFiles(root: string, paths: readonly string[], deadline: number): Promise<Set<string>> {
    const listings = new Map<string, Promise<RepositoryEntry[] | undefined>>();
    const folder = (dir: string): Promise<RepositoryEntry[] | undefined> => {
      let listing = listings.get(dir);
      if (!listing) {
        listing = (async () => {
          if (dir === "") return this.treeEntries(root, "", deadline);
          const parent = await folder(parentOf(dir));
          const sha = parent?.find((entry) => entry.type === "dir" && entry.path === dir)?.sha;
          return sha === undefined ? undefined : this.treeEntries(sha, dir, deadline);
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

  /**
   * The entries of `dir`. The contents API lists at most 1,000 entries of a folder; a listing that long may be
   * cut, so the folder is then listed whole through the Git Trees API (100,000 entries).
   */
  private async listFolder(dir: string, deadline: number): Promise<RepositoryEntry[]> {
    let data;
    try {
      ({ data } = await this.client.rest.repos.getContent({
        ...this.contentsRef(),
        path: dir,
        request: this.gate.options(deadline),
      }));
    } catch (error) {
      // A missing folder and an empty repository (no commit yet) both answer 404.
      if (statusOf(error) === 404) return [];
      throw error;
    }
    if (!Array.isArray(data)) return [];
    if (data.length >= CONTENTS_LISTING_LIMIT) return this.listWhole(dir, deadline);
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

  /** A folder through the Git Trees API, found by its sha in its parent's listing (the root by the head's tree). */
  private async listWhole(dir: string, deadline: number): Promise<RepositoryEntry[]> {
    let sha: string | undefined;
    if (dir === "") {
      const head = await this.head(await this.branch(deadline), deadline);
      sha = typeof head === "string" ? undefined : head.tree;
    } else {
      const parent = await this.listFolder(parentOf(dir), deadline);
      sha = parent.find((entry) => entry.type === "dir" && entry.path === dir)?.sha;
    }
    // Gone since it was listed: there is no such folder now.
    if (sha === undefined) return [];
    return this.treeEntries(sha, dir, deadline);
  }

  private async treeEntries(sha: string, dir: string, deadline: number): Promise<RepositoryEntry[]> {
    const { data } = await this.client.rest.git.getTree({
      ...this.repository(),
      tree_sha: sha,
      request: this.gate.options(deadline),
    });
    if (data.truncated)
      throw new Error(`GitHub cut the listing of ${dir || "the root"} short: too many entries to list`);
    return data.tree.flatMap((entry): RepositoryEntry[] => {
      const type = entry.type === "blob" ? "file" : entry.type === "tree" ? "dir" : undefined;
      if (!type || !entry.path || !entry.sha) return [];
      const path = dir === "" ? entry.path : `${dir}/${entry.path}`;
      return [{ path, name: entry.path, type, sha: entry.sha, size: type === "file" ? (entry.size ?? 0) : 0 }];
    });
  }

  private async readFile(path: string, deadline: number): Promise<Buffer | undefined> {
    for (let attempt = 1; ; attempt += 1) {
      const file = await readContentsFile(this.client, this.contentsRef(), path, () => this.gate.options(deadline));
      if (file !== "changed") return file?.bytes;
      if (attempt >= MAX_READ_ATTEMPTS) throw new Error(`${path} kept changing while it was read`);
    }
  }

  /** The branch's head commit and its tree; "empty" for a repository without a commit, "missing" for no such branch. */
  private async head(branch: string, deadline: number): Promise<Head> {
    const sha = await this.headCommit(branch, deadline);
    if (sha === "empty" || sha === "missing") return sha;
    const { data } = await this.client.rest.git.getCommit({
      ...this.repository(),
      commit_sha: sha,
      request: this.gate.options(deadline),
    });
    return { sha, tree: data.tree.sha, parents: data.parents.map((parent) => parent.sha) };
  }

  /** The sha of the branch's head commit alone, as `head` tells it. */
  private async headCommit(branch: string, deadline: number): Promise<string | "empty" | "missing"> {
    try {
      const { data } = await this.client.rest.git.getRef({
        ...this.repository(),
        ref: `heads/${branch}`,
        request: this.gate.options(deadline),
      });
      return data.object.sha;
    } catch (error) {
      // The Git Database API answers 409 "Git Repository is empty." until the first commit.
      if (statusOf(error) === 409) return "empty";
      if (statusOf(error) === 404) return "missing";
      throw error;
    }
  }

  /**
   * Every file under `dir` at the branch's head, from GitHub's tarball of that commit (named by its sha, so
   * that the files are those of the head given back, whatever lands meanwhile). The archive is read as it downloads, one file's bytes
   * held at a time: GitHub's 302 to codeload is followed by fetch, and Octokit, told not to parse the answer,
   * gives its body as a web stream.
   */
  private async readArchive(
    dir: string,
    visit: (path: string, bytes: Buffer) => Promise<void>,
    deadline: number,
  ): Promise<{ head: string | undefined }> {
    const head = await this.headCommit(await this.branch(deadline), deadline);
    // No commit, or no such branch: no files.
    if (head === "empty" || head === "missing") return { head: undefined };
    const { data } = await this.client.rest.repos.downloadTarballArchive({
      ...this.repository(),
      ref: head,
      request: { parseSuccessResponseBody: false, ...this.gate.options(deadline) },
    });
    const body = data as unknown as WebReadableStream<Uint8Array> | null;
    if (!body) throw new Error(`GitHub sent no archive of ${head}`);
    const prefix = dir === "" ? "" : `${dir}/`;
    const entries = extract();
    const piping = pipeline(Readable.fromWeb(body), createGunzip(), entries);
    // Its failure ends the loop below with the same error; leaving the loop early ends it too.
    piping.catch(() => {});
    for await (const entry of entries) {
      // Every path sits in the archive's top folder, `{owner}-{repo}-{sha7}/`.
      const path = entry.header.name.slice(entry.header.name.indexOf("/") + 1);
      if (!FILE_ENTRY_TYPES.has(entry.header.type) || !path.startsWith(prefix) || path === "") {
        entry.resume();
        continue;
      }
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      await visit(path, Buffer.concat(chunks));
    }
    await piping;
    return { head };
  }

  /** The configured branch, else the repository's default one (asked once). */
  private async branch(deadline: number): Promise<string> {
    if (this.config.branch) return this.config.branch;
    this.defaultBranch ??= this.client.rest.repos
      .get({ ...this.repository(), request: this.gate.options(deadline) })
      .then(({ data }) => data.default_branch);
    try {
      return await this.defaultBranch;
    } catch (error) {
      this.defaultBranch = undefined;
      throw error;
    }
  }

  private repository() {
    return { owner: this.config.owner, repo: this.config.repo };
  }

  private contentsRef() {
    return { ...this.repository(), ...(this.config.branch ? { ref: this.config.branch } : {}) };
  }

  private async backOff(attempt: number, deadline: number, error: unknown): Promise<void> {
    const backoff = Math.random() * Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** attempt);
    if (this.clock.now() + backoff + MIN_CALL_BUDGET_MS > deadline) throw busy(error);
    await this.clock.sleep(backoff);
  }

  private async answering<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw this.failure(error);
    }
  }

  /** What a caller is told of `error`: why GitHub cannot be used now, push protection's refusal, or the error. */
  private failure(error: unknown): unknown {
    if (error instanceof StoreUnavailableError || error instanceof PushProtectedError) return error;
    const status = statusOf(error);
    // A 409 carrying push protection's findings: sending the same content again cannot succeed.
    const secrets = pushProtectionFindings(error);
    if (status === 409 && secrets) {
      log("warn", "github_push_protection", { token_types: secrets });
      return new PushProtectedError(secrets, { cause: error });
    }
    const retryAfter = rateLimitRetryAfter(error, this.clock.now());
    if (retryAfter !== undefined) {
      this.gate.block(retryAfter);
      log("warn", "github_rate_limited", { retry_after_s: retryAfter });
      return new StoreUnavailableError("GitHub's rate limit was reached", retryAfter, {
        cause: error,
        reason: "rate_limited",
      });
    }
    if (isTransient(error)) return busy(error);
    if (status !== undefined && status >= 400) {
      // 401, 403 without a rate limit, 404 on a write: the token, repository or branch is wrong; say so in the log.
      log("error", "github_files_refused", { status, message: messageOf(error) });
      const said = (error as OctokitError).response?.data as { message?: unknown } | undefined;
      const reason = typeof said?.message === "string" ? `: ${said.message}` : "";
      return new StoreUnavailableError(`GitHub refused the request (${status}${reason})`, FALLBACK_RATE_LIMIT_SECONDS, {
        cause: error,
        reason: "refused",
      });
    }
    return error;
  }
}

/** The branch moved (or came to be) between reading its head and moving it: try again from the new head. */
class BranchMovedError extends Error {
  override name = "BranchMovedError";
}

/** A failure that another attempt may not meet: GitHub's 5xx, the network, or a call cut short by its time limit. */
function isTransient(error: unknown): boolean {
  const status = statusOf(error);
  return isOwnTimeout(error) || (status !== undefined && status >= 500);
}

function busy(error: unknown): StoreUnavailableError {
  return new StoreUnavailableError(
    "GitHub is busy: the files could not be committed in time",
    DEFAULT_RETRY_AFTER_SECONDS,
    {
      cause: error,
      reason: isOwnTimeout(error) ? "out_of_time" : "busy",
    },
  );
}

function parentOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash === -1 ? "" : path.slice(0, slash);
}
