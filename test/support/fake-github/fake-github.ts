/**
 * An HTTP-level stand-in for GitHub's REST contents API (`GET`/`PUT /repos/{owner}/{repo}/contents/{path}`),
 * its Git Database API (`/repos/{owner}/{repo}/git/…`, in ../github-routes/git-data-routes.ts, over fake-git-store.ts), `GET /repos/{owner}/{repo}`,
 * the repository's settings (a branch, its protection, its rules, the caller's permissions and the 403 of a
 * read-only token's writes: ../github-routes/settings-routes.ts),
 * GraphQL's `updateRefs` (../github-routes/graphql-routes.ts), the Issues API (../github-routes/issues-routes.ts), and
 * the tarball archive with its codeload download (`GET /repos/{owner}/{repo}/tarball/{ref}`, in archive-api.ts),
 * answering as GitHub does: status codes, JSON shapes, `message` texts, rate-limit headers, the secondary
 * rate limit on content creation, and the branch-level serialisation of writes that makes two overlapping
 * commits to one branch conflict, whichever API makes them. Use it as msw handlers (`githubHandlers`) or as
 * a loopback HTTP server (`serveFakeGitHub`) that another process reaches through a base URL.
 */
import {
  commitAnswer,
  contentEntry,
  DOCS,
  fileAnswer,
  fixed,
  githubError,
  injectedFailure,
  json,
  newRequestId,
  pushProtectionError,
  repositoryAnswer,
  toResponse,
  type Answer,
  type Roots,
  type Settle,
} from "./answers.ts";
import { ArchiveApi, type ArchivedCommit } from "./archive-api.ts";
import { GitDatabase, type Files } from "./git-database.ts";
import { GitDataRoutes } from "../github-routes/git-data-routes.ts";
import { GraphqlRoutes } from "../github-routes/graphql-routes.ts";
import { BASE64 } from "../github-routes/request-body.ts";
import { FakeGitStore, type Branch } from "./fake-git-store.ts";
import {
  commitSha,
  directoryEntries,
  treeSha,
  type CommitDetails,
  type Person,
  type StoredFile,
} from "./git-objects.ts";
import { AppTokens, type FakeApp } from "./app-tokens.ts";
import { RateLimits } from "./rate-limits.ts";
import { SettingsRoutes, type RepositorySettings } from "../github-routes/settings-routes.ts";
import { IssuesRoutes, type IssuesPermission } from "../github-routes/issues-routes.ts";
import { isPerson, isRecord, putValidationError } from "./put-validation.ts";

export const DEFAULT_API_URL = "https://api.github.com";
const DEFAULT_OWNER = "acme";
const DEFAULT_REPO = "telemetry-data";
const DEFAULT_TOKEN = "test-token";
const DEFAULT_BRANCH = "main";
/** Git's all-zero id, which GitHub reports as the expected head of a branch that does not exist yet. */
const NULL_SHA = "0".repeat(40);
/** Who commits when a write names no committer: the token's owner. */
const TOKEN_USER = { name: "Token Owner", email: "token-owner@users.noreply.github.com" };

const CONTENTS_ROUTE = /^\/repos\/([^/]+)\/([^/]+)\/contents(?:\/(.*))?$/;
/** The tarball archive of a ref (the default branch without one), the ref still percent-encoded. */
const TARBALL_ROUTE = /^\/repos\/([^/]+)\/([^/]+)\/tarball(?:\/(.+))?$/;
const FULL_SHA = /^[0-9a-f]{40}$/;
const ACCESS_TOKENS_ROUTE = /^\/app\/installations\/(\d+)\/access_tokens$/;
/** The repository itself, or one of its Git Database routes (the rest still percent-encoded). */
const REPOSITORY_ROUTE = /^\/repos\/([^/]+)\/([^/]+)(?:\/git\/(.+))?$/;
/** A route below the repository, the rest still percent-encoded (its settings: see SettingsRoutes). */
const BELOW_REPOSITORY_ROUTE = /^\/repos\/([^/]+)\/([^/]+)\/(.+)$/;
/** Writes that move a branch, which the write hooks see: a contents PUT, a ref update or creation. */
const REF_WRITE_ROUTE = /^\/repos\/[^/]+\/[^/]+\/git\/refs(?:\/|$)/;
/** GitHub's contents API lists the first 1,000 entries of a directory, and no more (the Git Trees API lists the rest). */
const DIRECTORY_LISTING_LIMIT = 1000;

/** Push protection is on when `pushProtection` names what it finds. */
export interface FakeGitHubOptions extends Omit<RepositorySettings, "pushProtection"> {
  owner?: string;
  repo?: string;
  /** Requests must send `Authorization: Bearer <token>` or `token <token>`. */
  token?: string;
  defaultBranch?: string;
  /** A repository with no commit yet: the first PUT creates the default branch. */
  empty?: boolean;
  /** Per-call delay in ms, or a [min, max] range drawn uniformly. */
  latencyMs?: number | [number, number];
  /** Secondary limit on content-creating requests (PUT/POST/PATCH/DELETE). */
  writesPerMinute?: number;
  writesPerHour?: number;
  /** `retry-after` sent with secondary-limit answers. */
  retryAfterSeconds?: number;
  /** Clock for rate windows and commit dates, so a benchmark can scale time. */
  now?: () => number;
  /** Used for latency. */
  sleep?: (ms: number) => Promise<void>;
  /** Share of API calls (0 to 1) answered 502 at random, changing nothing. */
  failureRate?: number;
  /**
   * Called when a write that moves a branch (a contents PUT, a Git Data ref update or creation) arrives,
   * before it is applied; answering "drop" discards it (the caller gets a 502). A test kills the writer
   * here to show what a death before the write leaves.
   */
  beforeWrite?: (path: string) => Promise<"drop" | void> | "drop" | void;
  /** Called when a request arrives, before the fake looks at it: where a test holds a request back on its way. */
  onArrival?: (method: string, path: string) => Promise<void> | void;
  /** Called once a write that moves a branch is applied, before it is answered: where a test kills the writer then. */
  afterWrite?: (path: string) => Promise<void> | void;
  /**
   * When the token expires: GitHub then says so on every answer to it, in
   * `GitHub-Authentication-Token-Expiration` (`2026-12-31 00:00:00 UTC`).
   */
  tokenExpiresAt?: Date;
  /**
   * Secret scanning's push protection: content in which one of these matches is refused with 409
   * and a bypass placeholder naming the token type (the key), as GitHub does for its supported secrets.
   */
  pushProtection?: Record<string, RegExp>;
  /** A GitHub App installed on the repository: its installation tokens are taken beside `token`. */
  app?: FakeApp;
  /** What the credential may do with the repository's issues (a fine-grained token's `issues` permission); default write. */
  issues?: IssuesPermission;
}

/** A commit that a write put on a branch: one per contents PUT, one per Git Data ref update or creation. */
export interface CommitRecord {
  sha: string;
  message: string;
  /** The file written; for a ref moved through the Git Data API, the first of `paths` ("" when none changed). */
  path: string;
  /** For a ref moved through the Git Data API: every path whose file it added, changed or removed. */
  paths?: string[];
  branch: string;
}

export interface RequestRecord {
  method: string;
  /** API path below the root, percent-decoded, without the query. */
  path: string;
  status: number;
  /** For a folder listing (contents or Git Trees API): how many entries it gave. */
  entries?: number;
  /** Bytes of the answer's body: what the caller downloaded. */
  bytes: number;
}

interface RepoPath {
  owner: string;
  repo: string;
  path: string;
}

export class FakeGitHub {
  readonly commits: CommitRecord[] = [];
  readonly requests: RequestRecord[] = [];

  private readonly owner: string;
  private readonly repo: string;
  private readonly token: string;
  private readonly tokenExpiresAt: Date | undefined;
  private readonly pushProtection: Record<string, RegExp>;
  /** The installed app's tokens, when there is an app. */
  readonly appTokens: AppTokens | undefined;
  private readonly appInstallationId: number | undefined;
  private readonly defaultBranch: string;
  private readonly latencyMs: [number, number];
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly failureRate: number;
  private readonly beforeWrite: FakeGitHubOptions["beforeWrite"];
  private readonly onArrival: FakeGitHubOptions["onArrival"];
  private readonly afterWrite: FakeGitHubOptions["afterWrite"];

  private readonly branches = new Map<string, Branch>();
  private readonly database = new GitDatabase(() => [...this.branches.values()].map((branch) => branch.files));
  private readonly gitStore = new FakeGitStore({
    branches: this.branches,
    database: this.database,
    tokenUser: TOKEN_USER,
    now: () => this.now(),
    secretIn: (text) => this.secretIn(text),
    countWrite: () => void (this.writes += 1),
    moveBranch: (branch, sha, files) => this.moveBranch(branch, sha, files),
  });
  private readonly gitData = new GitDataRoutes(this.gitStore);
  private readonly graphql: GraphqlRoutes;
  private readonly archives: ArchiveApi;
  private readonly settings: SettingsRoutes;
  /** The repository's issues and pull requests (../github-routes/issues-routes.ts). */
  readonly issues: IssuesRoutes;
  /** GitHub's primary and secondary rate limits, as the git-backed stand-in keeps them too. */
  private readonly limits: RateLimits;
  private writes = 0;
  private injectedFailures = 0;
  private revokedUntil = 0;
  private injectedStatus = 502;

  constructor(options: FakeGitHubOptions = {}) {
    this.owner = options.owner ?? DEFAULT_OWNER;
    this.repo = options.repo ?? DEFAULT_REPO;
    this.token = options.token ?? DEFAULT_TOKEN;
    this.tokenExpiresAt = options.tokenExpiresAt;
    this.pushProtection = options.pushProtection ?? {};
    this.appTokens = options.app && new AppTokens(options.app, () => this.now());
    this.appInstallationId = options.app?.installationId;
    this.defaultBranch = options.defaultBranch ?? DEFAULT_BRANCH;
    const latency = options.latencyMs ?? 0;
    this.latencyMs = typeof latency === "number" ? [latency, latency] : latency;
    this.now = options.now ?? Date.now;
    this.limits = new RateLimits({ ...options, now: () => this.now() });
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.failureRate = options.failureRate ?? 0;
    this.beforeWrite = options.beforeWrite;
    this.onArrival = options.onArrival;
    this.afterWrite = options.afterWrite;
    this.graphql = new GraphqlRoutes(this.gitStore, this.owner, this.repo);
    this.settings = new SettingsRoutes(
      { ...options, pushProtection: options.pushProtection !== undefined },
      `${this.owner}/${this.repo}`,
      (branch) => this.branches.get(branch)?.head,
    );
    this.issues = new IssuesRoutes(() => this.now(), options.issues);
    this.archives = new ArchiveApi({
      owner: this.owner,
      repo: this.repo,
      isEmpty: () => this.branches.size === 0,
      resolve: (ref) => this.resolveRef(ref),
      now: () => this.now(),
    });
    if (!options.empty) {
      // A repository that has commits but no files yet: one initial commit of the empty tree.
      const files = new Map<string, StoredFile>();
      this.branches.set(this.defaultBranch, { head: this.record(files, [], TOKEN_USER, "Initial commit"), files });
    }
  }

  /** Answers one API request. `basePath` is the API root's path: "" for api.github.com, "/api/v3" for GHES. */
  async handle(request: Request, basePath = ""): Promise<Response> {
    const url = new URL(request.url);
    const requestId = newRequestId();
    const apiPath = url.pathname.startsWith(basePath) ? url.pathname.slice(basePath.length) : undefined;
    await this.onArrival?.(request.method, safeDecode(apiPath ?? url.pathname) ?? url.pathname);
    const settle = await this.arrive(request, url, basePath, apiPath, requestId);
    await this.latency();
    const path = safeDecode(apiPath ?? url.pathname) ?? url.pathname;
    const movesBranch =
      request.method === "PUT" ||
      (request.method !== "GET" && (REF_WRITE_ROUTE.test(path) || GraphqlRoutes.isEndpoint(url.pathname, basePath)));
    const dropped = movesBranch && (await this.beforeWrite?.(path)) === "drop";
    const answer = dropped ? injectedFailure(502) : settle();
    if (movesBranch && answer.status < 300) await this.afterWrite?.(path);
    const bytes =
      answer.body instanceof Uint8Array ? answer.body.byteLength : Buffer.byteLength(JSON.stringify(answer.body) ?? "");
    this.requests.push({ method: request.method, path, status: answer.status, bytes, ...listingSize(answer) });
    return toResponse(answer, requestId);
  }

  file(path: string, branch = this.defaultBranch): string | undefined {
    const stored = this.branches.get(branch)?.files.get(path);
    return stored && Buffer.from(stored.bytes).toString("utf8");
  }

  paths(branch = this.defaultBranch): string[] {
    return [...(this.branches.get(branch)?.files.keys() ?? [])].sort();
  }

  /** Successful content-creating requests (contents PUTs; Git Data blobs, trees, commits, ref writes), seeds excluded. */
  writeCount(): number {
    return this.writes;
  }

  /** The git tree id of a folder ("" for the root) at the head of `branch`. */
  treeOf(dir: string, branch = this.defaultBranch): string {
    return treeSha(this.branches.get(branch)?.files ?? new Map(), dir);
  }

  /**
   * Commits many files at once, as one push: for a repository too large to seed file by file. Bytes given
   * as bytes are kept as they are, not copied, so that files of the same content share their memory.
   */
  seedAll(contents: Iterable<[path: string, content: string | Uint8Array<ArrayBuffer>]>): void {
    const branch = this.branches.get(this.defaultBranch);
    const files = new Map(branch?.files);
    for (const [path, content] of contents)
      files.set(path, this.database.addBlob(typeof content === "string" ? new TextEncoder().encode(content) : content));
    const parents = branch && branch.head !== NULL_SHA ? [branch.head] : [];
    this.branches.set(this.defaultBranch, { head: this.record(files, parents, TOKEN_USER, "Seed"), files });
  }

  /** Commits `content` at `path` directly, as a push would: a commit on `branch`, but no API request. */
  seed(path: string, content: string | Uint8Array, branch = this.defaultBranch): void {
    // A copy, so that the caller changing its array later does not change the repository.
    const bytes = typeof content === "string" ? new TextEncoder().encode(content) : new Uint8Array(content);
    if (!this.branches.has(branch)) {
      // A new branch starts from the default branch, as one created on GitHub does.
      const base = this.branches.get(this.defaultBranch);
      this.branches.set(branch, { head: base?.head ?? NULL_SHA, files: new Map(base?.files) });
    }
    this.commit(branch, path, bytes, `Seed ${path}`, TOKEN_USER);
  }

  /** The next `count` API calls (or archive downloads) answer `status` with a GitHub-like JSON body, changing nothing. */
  failNext(count: number, status = 502): void {
    this.injectedFailures = count;
    this.injectedStatus = status;
  }

  /** Every call answers 401 Bad credentials for the next `ms` of the `now` clock, as to a revoked token. */
  revokeTokenFor(ms: number): void {
    this.revokedUntil = this.now() + ms;
  }

  /** Every content write answers the secondary-limit 403 for the next `ms` of the `now` clock. */
  secondaryLimitFor(ms: number): void {
    this.limits.refuseWritesFor(ms);
  }

  /** Everything decided when a request arrives; what depends on concurrent writes is left to `Settle`. */
  private async arrive(
    request: Request,
    url: URL,
    basePath: string,
    apiPath: string | undefined,
    requestId: string,
  ): Promise<Settle> {
    if (this.injectedFailures > 0) {
      this.injectedFailures -= 1;
      return fixed(injectedFailure(this.injectedStatus));
    }
    if (this.failureRate > 0 && Math.random() < this.failureRate) return fixed(injectedFailure(502));
    // Codeload takes the token in its URL, not the API's credentials, and is outside the API's rate limit.
    if (request.method === "GET" && ArchiveApi.isDownload(url.pathname))
      return fixed(await this.archives.download(url.pathname, url.searchParams.get("token")));
    const minting = apiPath === undefined ? null : ACCESS_TOKENS_ROUTE.exec(apiPath);
    if (minting && request.method === "POST") return fixed(this.mintInstallationToken(Number(minting[1]), request));
    const credential = this.credential(request.headers.get("authorization"));
    if (credential === "bad") return fixed(githubError(401, "Bad credentials", DOCS.rest));
    // An anonymous caller cannot see a private repository: GitHub says it does not exist.
    if (credential === "missing") return fixed(githubError(404, "Not Found", DOCS.rest));

    const admission = this.limits.admit(request.method, requestId);
    const withRate =
      (settle: Settle): Settle =>
      () => {
        const answer = settle();
        return { ...answer, headers: { ...admission.headers, ...this.expiryHeader(), ...answer.headers } };
      };
    // The secondary limit's answer carries only its own headers here (retry-after).
    if (admission.refused)
      return admission.limit === "primary" ? withRate(fixed(admission.refused)) : fixed(admission.refused);

    const readOnly = this.settings.refusedWrite(request.method);
    if (readOnly) return withRate(fixed(readOnly));
    if (request.method === "POST" && GraphqlRoutes.isEndpoint(url.pathname, basePath))
      return withRate(await this.graphql.handle(request));
    const tarball = apiPath === undefined ? null : TARBALL_ROUTE.exec(apiPath);
    if (
      tarball &&
      request.method === "GET" &&
      this.isOurRepository({ owner: tarball[1]!, repo: tarball[2]!, path: "" })
    ) {
      const ref = tarball[3] === undefined ? this.defaultBranch : safeDecode(tarball[3]);
      // As a read, it answers from the state at completion.
      return withRate(() =>
        ref === undefined
          ? githubError(404, "Not Found", DOCS.downloadTarball)
          : this.archives.redirect(ref, url.origin),
      );
    }
    const below = apiPath === undefined ? null : BELOW_REPOSITORY_ROUTE.exec(apiPath);
    if (
      below &&
      request.method === "GET" &&
      SettingsRoutes.matches(below[3]!) &&
      this.isOurRepository({ owner: below[1]!, repo: below[2]!, path: "" })
    )
      return withRate(() => this.settings.handle(below[3]!, linkRoots(url, basePath, this.owner, this.repo)));
    if (
      below &&
      IssuesRoutes.matches(below[3]!) &&
      this.isOurRepository({ owner: below[1]!, repo: below[2]!, path: "" })
    )
      return withRate(
        await this.issues.handle(request, below[3]!, url, linkRoots(url, basePath, this.owner, this.repo)),
      );
    const repository = apiPath === undefined ? null : REPOSITORY_ROUTE.exec(apiPath);
    if (repository && this.isOurRepository({ owner: repository[1]!, repo: repository[2]!, path: "" })) {
      const roots = linkRoots(url, basePath, this.owner, this.repo);
      const route = repository[3] === undefined ? undefined : safeDecode(repository[3]);
      if (repository[3] === undefined && request.method === "GET")
        return withRate(
          fixed(repositoryAnswer(this.owner, this.repo, this.defaultBranch, roots, this.settings.repositoryFields())),
        );
      const settle = route === undefined ? undefined : await this.gitData.handle(request.method, route, request, roots);
      return withRate(settle ?? fixed(githubError(404, "Not Found", DOCS.rest)));
    }
    const target = apiPath === undefined ? undefined : contentsTarget(apiPath);
    if (!target || !this.isOurRepository(target)) return withRate(fixed(githubError(404, "Not Found", DOCS.rest)));
    const roots = linkRoots(url, basePath, this.owner, this.repo);
    switch (request.method) {
      case "GET":
        return withRate(
          this.getContent(target.path, url.searchParams.get("ref"), request.headers.get("accept"), roots),
        );
      case "PUT":
        return withRate(await this.putContent(request, target.path, roots));
      default:
        return withRate(fixed(githubError(404, "Not Found", DOCS.rest)));
    }
  }

  private mintInstallationToken(installationId: number, request: Request): Answer {
    const docs = "https://docs.github.com/rest/apps/apps#create-an-installation-access-token-for-an-app";
    if (!this.appTokens) return githubError(404, "Not Found", docs);
    const problem = this.appTokens.jwtProblem(request.headers.get("authorization"));
    if (problem) return githubError(401, problem, docs);
    if (installationId !== this.appInstallationId) return githubError(404, "Not Found", docs);
    const { token, expiresAt } = this.appTokens.mint();
    return json(201, {
      token,
      expires_at: expiresAt.toISOString().replace(/\.\d{3}Z$/, "Z"),
      permissions: { contents: "write", metadata: "read" },
      repository_selection: "selected",
    });
  }

  private secretIn(text: string): string | undefined {
    return Object.entries(this.pushProtection).find(([, pattern]) => pattern.test(text))?.[0];
  }

  private expiryHeader(): Record<string, string> {
    if (!this.tokenExpiresAt) return {};
    const [date, time] = this.tokenExpiresAt.toISOString().split("T");
    return { "github-authentication-token-expiration": `${date} ${time!.slice(0, 8)} UTC` };
  }

  private credential(authorization: string | null): "ok" | "bad" | "missing" {
    if (!authorization) return "missing";
    if (this.now() < this.revokedUntil) return "bad";
    const [scheme = "", value = ""] = authorization.trim().split(/\s+/, 2);
    const known = value === this.token || this.appTokens?.holds(value) === true;
    return /^(bearer|token)$/i.test(scheme) && known ? "ok" : "bad";
  }

  private isOurRepository(target: RepoPath): boolean {
    // Owner and repository names are case-insensitive on GitHub.
    return (
      target.owner.toLowerCase() === this.owner.toLowerCase() && target.repo.toLowerCase() === this.repo.toLowerCase()
    );
  }

  /** A read answers from the state at completion, as a read that GitHub serves late would. */
  private getContent(path: string, ref: string | null, accept: string | null, roots: Roots): Settle {
    return () => {
      if (this.branches.size === 0) return githubError(404, "This repository is empty.", DOCS.getContent);
      const refName = ref || this.defaultBranch;
      const branchName = refName.replace(/^refs\/heads\//, "");
      const branch = this.branches.get(branchName);
      if (!branch) return githubError(404, `No commit found for the ref ${refName}`, DOCS.getContent);

      const file = branch.files.get(path);
      if (file) return fileAnswer(path, file, branchName, accept, roots);
      const entries = directoryEntries(branch.files, path);
      if (entries.length > 0 || path === "")
        return json(
          200,
          entries.slice(0, DIRECTORY_LISTING_LIMIT).map((entry) => contentEntry(entry, branchName, roots)),
        );
      return githubError(404, "Not Found", DOCS.getContent);
    };
  }

  /**
   * GitHub checks `sha` against the branch as it is when the write arrives, builds the commit on that head,
   * then moves the branch only if the head is still the same: a write that lost the race to any other
   * write on the branch, whatever file it touched, answers 409 `is at {new} but expected {old}`.
   */
  private async putContent(request: Request, path: string, roots: Roots): Promise<Settle> {
    let body: unknown;
    try {
      body = JSON.parse(await request.text());
    } catch {
      return fixed(githubError(400, "Problems parsing JSON", DOCS.putContent));
    }
    if (!isRecord(body)) return fixed(githubError(400, "Body should be a JSON object", DOCS.putContent));
    const invalid = putValidationError(body);
    if (invalid) return fixed(githubError(422, invalid, DOCS.putContent));
    const content = String(body.content).replace(/\s/g, "");
    if (!BASE64.test(content)) return fixed(githubError(422, "content is not valid Base64", DOCS.putContent));
    const secret = this.secretIn(Buffer.from(content, "base64").toString("utf8"));
    if (secret) return fixed(pushProtectionError(secret));
    if (path === "") return fixed(githubError(404, "Not Found", DOCS.putContent));

    const branchName = typeof body.branch === "string" ? body.branch : this.defaultBranch;
    const branch = this.branches.get(branchName);
    // Only an empty repository's first commit may create a branch: it creates the default one.
    if (!branch && !(this.branches.size === 0 && branchName === this.defaultBranch)) {
      return fixed(githubError(404, `Branch ${branchName} not found`, DOCS.putContent));
    }
    const existing = branch?.files.get(path);
    const sha = typeof body.sha === "string" ? body.sha : undefined;
    if (existing && sha === undefined)
      return fixed(githubError(422, `Invalid request.\n\n"sha" wasn't supplied.`, DOCS.putContent));
    if (sha !== undefined && sha !== existing?.sha)
      return fixed(githubError(409, `${path} does not match ${sha}`, DOCS.putContent));

    const expectedHead = branch?.head ?? NULL_SHA;
    const bytes = new Uint8Array(Buffer.from(content, "base64"));
    const message = String(body.message);
    const committer = isPerson(body.committer) ? body.committer : isPerson(body.author) ? body.author : TOKEN_USER;
    return () => {
      const head = this.branches.get(branchName)?.head ?? NULL_SHA;
      if (head !== expectedHead) return githubError(409, `is at ${head} but expected ${expectedHead}`, DOCS.putContent);
      const commit = this.commit(branchName, path, bytes, message, committer);
      this.writes += 1;
      return json(existing ? 200 : 201, {
        content: contentEntry({ type: "file", path, sha: commit.blobSha, size: bytes.byteLength }, branchName, roots),
        commit: commitAnswer(commit, roots),
      });
    };
  }

  /** The commit a branch name (`main`, `refs/heads/main`) or a full commit sha names, for an archive. */
  private resolveRef(ref: string): ArchivedCommit | undefined {
    const name = ref.replace(/^refs\/heads\//, "");
    const branch = this.branches.get(name);
    const sha = branch ? branch.head : FULL_SHA.test(ref) ? ref : undefined;
    const commit = sha === undefined ? undefined : this.database.commit(sha);
    const files = branch?.files ?? (commit && this.database.tree(commit.tree));
    if (!commit || !files) return undefined;
    return { sha: commit.sha, ...(branch ? { branch: name } : {}), files, date: commit.date };
  }

  /** One commit of one file on `branchName` (created if new), moving its head. */
  private commit(
    branchName: string,
    path: string,
    bytes: Uint8Array<ArrayBuffer>,
    message: string,
    committer: Person,
  ): CommitDetails & { blobSha: string } {
    const parent = this.branches.get(branchName);
    const files = new Map(parent?.files);
    const file = this.database.addBlob(bytes);
    files.set(path, file);
    const parents = parent && parent.head !== NULL_SHA ? [parent.head] : [];
    const sha = this.record(files, parents, committer, message);
    this.branches.set(branchName, { head: sha, files });
    this.commits.push({ sha, message, path, branch: branchName });
    return { ...this.database.commit(sha)!, blobSha: file.sha };
  }

  /** Stores a commit of `files` on `parents` (and its tree) without moving any branch; returns its sha. */
  private record(files: Files, parents: string[], committer: Person, message: string): string {
    const tree = this.database.addTree(files);
    const date = new Date(this.now());
    const sha = commitSha(tree, parents, committer, message, date);
    this.database.addCommit({ sha, tree, parents, message, committer, date });
    return sha;
  }

  /** A ref moved through the Git Data API: the branch now holds commit `sha`'s files. */
  private moveBranch(branchName: string, sha: string, files: Files): void {
    const before = this.branches.get(branchName);
    if (before?.head === sha) return;
    const paths = [...new Set([...(before?.files.keys() ?? []), ...files.keys()])]
      .filter((path) => before?.files.get(path)?.sha !== files.get(path)?.sha)
      .sort();
    this.branches.set(branchName, { head: sha, files });
    const message = this.database.commit(sha)?.message ?? "";
    this.commits.push({ sha, message, path: paths[0] ?? "", paths, branch: branchName });
  }

  private async latency(): Promise<void> {
    const [min, max] = this.latencyMs;
    const ms = min + Math.random() * (max - min);
    // Even without latency, yield a macrotask between arrival and completion so overlapping writes can conflict.
    await (ms > 0 ? this.sleep(ms) : new Promise<void>((resolve) => setImmediate(resolve)));
  }
}

function listingSize(answer: Answer): { entries?: number } {
  const { body } = answer;
  if (Array.isArray(body)) return { entries: body.length };
  const tree = isRecord(body) ? body.tree : undefined;
  return Array.isArray(tree) ? { entries: tree.length } : {};
}

function contentsTarget(apiPath: string): RepoPath | undefined {
  const match = CONTENTS_ROUTE.exec(apiPath);
  if (!match) return undefined;
  // Octokit sends a path's slashes as %2F; other clients send them as they are. Both name the same file.
  const [owner, repo, path] = [match[1], match[2], match[3] ?? ""].map(safeDecode);
  if (owner === undefined || repo === undefined || path === undefined) return undefined;
  return { owner, repo, path: path.replace(/^\/+|\/+$/g, "") };
}

function linkRoots(url: URL, basePath: string, owner: string, repo: string): Roots {
  const onGitHubCom = url.hostname === new URL(DEFAULT_API_URL).hostname;
  const web = onGitHubCom ? "https://github.com" : url.origin;
  return {
    api: `${url.origin}${basePath}/repos/${owner}/${repo}`,
    web: `${web}/${owner}/${repo}`,
    raw: onGitHubCom ? `https://raw.githubusercontent.com/${owner}/${repo}` : `${url.origin}/${owner}/${repo}/raw`,
  };
}

function safeDecode(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}
