/**
 * A stand-in for GitHub's REST API that keeps its data in a real bare git repository, driven by the git CLI,
 * so that a test can check what the project's clients leave behind with git itself (`git log`, `git gc`,
 * `git rev-list --all --objects`). It answers the calls lib/storage makes: `GET /repos/{owner}/{repo}`, the
 * contents API (GET, PUT), the Git Database API (refs, commits, trees, blobs), GraphQL's `updateRefs`
 * (../github-routes/graphql-routes.ts), the tarball with its codeload download, and the repository's settings
 * (a branch, its protection, its rules, the caller's permissions: ../github-routes/settings-routes.ts), in GitHub's
 * shapes, status codes and messages (the in-memory fake's answer helpers).
 * Writes are applied one at a time, so that two writers racing on a branch conflict as they do on GitHub.
 * GitHub's rate limits hold as in the in-memory fake (fake-github/rate-limits.ts, shared): the primary limit's headers on every
 * API answer, and the secondary limit on content creation (80 writes a minute, 500 an hour, unless told
 * otherwise), whose 403 with `retry-after` refuses a write before it reaches the repository.
 *
 * A test can act when a write's turn comes (`onWrite`), as a maintainer's push landing at that moment would.
 *
 * Out of scope, where the in-memory fake (../fake-github) has them: push protection, injected failures and
 * latency, GitHub App tokens, and a base path for GitHub Enterprise.
 */
import {
  DOCS,
  githubError,
  json,
  newRequestId,
  repositoryAnswer,
  toResponse,
  type Answer,
} from "../fake-github/answers.ts";
import { ArchiveRoutes } from "./archive-routes.ts";
import { BareRepository } from "./bare-repository.ts";
import { ContentsRoutes } from "./contents-routes.ts";
import { GitDataRoutes } from "../github-routes/git-data-routes.ts";
import { GraphqlRoutes } from "../github-routes/graphql-routes.ts";
import { SettingsRoutes, type RepositorySettings } from "../github-routes/settings-routes.ts";
import { BareGitStore } from "./bare-git-store.ts";
import { RateLimits, type RateLimitOptions } from "../fake-github/rate-limits.ts";
import { peopleOf, rootsOf, safeDecode } from "./shapes.ts";
import { putFile } from "../github-routes/tree-files.ts";

const DEFAULT_OWNER = "acme";
const DEFAULT_REPO = "telemetry-data";
const DEFAULT_TOKEN = "test-token";
const DEFAULT_BRANCH = "main";
const DEFAULT_SEED_MESSAGE = "Seed";
const FILE_MODE = "100644";
const WRITE_METHODS = new Set(["PUT", "POST", "PATCH", "DELETE"]);
/** The repository, then what follows it (still percent-encoded). */
const REPOSITORY_ROUTE = /^\/repos\/([^/]+)\/([^/]+)(?:\/(.*))?$/;

export interface GitGitHubOptions extends RateLimitOptions, RepositorySettings {
  /** Where the bare repository is made (`git init --bare`). */
  dir: string;
  owner?: string;
  repo?: string;
  /** Requests must send `Authorization: Bearer <token>` or `token <token>`. */
  token?: string;
  /** The default branch. */
  branch?: string;
  /** Called as each admitted write's turn comes, before it is applied: `path` below the API root, decoded. */
  onWrite?: (method: string, path: string) => Promise<void> | void;
}

export interface GitRequestRecord {
  method: string;
  /** The path below the API root, percent-decoded, without the query. */
  path: string;
  status: number;
  /** Bytes of the request's body. */
  bytes: number;
}

export class GitGitHub {
  /** The bare repository, for tests to run git against. */
  readonly gitDir: string;
  readonly requests: GitRequestRecord[] = [];

  private readonly owner: string;
  private readonly repo: string;
  private readonly token: string;
  private readonly branch: string;
  private readonly git: BareRepository;
  private readonly contents: ContentsRoutes;
  private readonly gitData: GitDataRoutes;
  private readonly graphql: GraphqlRoutes;
  private readonly onWrite: GitGitHubOptions["onWrite"];
  private readonly archives: ArchiveRoutes;
  private readonly limits: RateLimits;
  private readonly settings: SettingsRoutes;
  /** The write being applied: the next waits for it. */
  private writing: Promise<unknown> = Promise.resolve();

  constructor(options: GitGitHubOptions) {
    this.owner = options.owner ?? DEFAULT_OWNER;
    this.repo = options.repo ?? DEFAULT_REPO;
    this.token = options.token ?? DEFAULT_TOKEN;
    this.branch = options.branch ?? DEFAULT_BRANCH;
    this.git = new BareRepository(options.dir, this.branch);
    this.gitDir = this.git.gitDir;
    this.contents = new ContentsRoutes(this.git, this.branch);
    const store = new BareGitStore(this.git);
    this.gitData = new GitDataRoutes(store);
    this.graphql = new GraphqlRoutes(store, this.owner, this.repo);
    this.onWrite = options.onWrite;
    this.archives = new ArchiveRoutes(this.git, this.owner, this.repo);
    this.limits = new RateLimits(options);
    this.settings = new SettingsRoutes(options, `${this.owner}/${this.repo}`, (branch) =>
      this.git.branches().get(branch),
    );
  }

  async handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const requestId = newRequestId();
    const bytes = request.body ? (await request.clone().arrayBuffer()).byteLength : 0;
    const answer = await this.arrive(request, url, requestId);
    this.requests.push({
      method: request.method,
      path: safeDecode(url.pathname) ?? url.pathname,
      status: answer.status,
      bytes,
    });
    return toResponse(answer, requestId);
  }

  /** One commit on the default branch adding (or replacing) `files`, as a push would, with no API request. */
  seed(files: Iterable<[path: string, content: string]>, message = DEFAULT_SEED_MESSAGE): string {
    const tip = this.git.branches().get(this.branch);
    const tree = tip === undefined ? new Map() : this.git.files(tip);
    for (const [path, content] of files) putFile(tree, path, { mode: FILE_MODE, sha: this.git.writeBlob(content) });
    const sha = this.git.commitTree(this.git.writeTree(tree), tip === undefined ? [] : [tip], message, peopleOf({}));
    if (!this.git.updateRef(this.branch, sha, tip)) throw new Error(`${this.branch} moved while it was seeded`);
    return sha;
  }

  private oneAtATime(write: () => Promise<Answer>): Promise<Answer> {
    const done = this.writing.then(write);
    this.writing = done.catch(() => undefined);
    return done;
  }

  /**
   * What is decided as a request arrives: its credentials, then the rate limits, which refuse a write before
   * it waits its turn; an admitted write is then applied after the one before it.
   */
  private async arrive(request: Request, url: URL, requestId: string): Promise<Answer> {
    // Codeload takes the token in its URL, not the API's credentials, and is outside the API's rate limit.
    if (request.method === "GET" && ArchiveRoutes.isDownload(url.pathname))
      return this.guarded(() => this.archives.download(url.pathname, url.searchParams.get("token")));
    const credential = this.credential(request.headers.get("authorization"));
    if (credential === "bad") return githubError(401, "Bad credentials", DOCS.rest);
    // An anonymous caller cannot see a private repository: GitHub says it does not exist.
    if (credential === "missing") return githubError(404, "Not Found", DOCS.rest);

    const readOnly = this.settings.refusedWrite(request.method);
    if (readOnly) return readOnly;
    const { refused, headers } = this.limits.admit(request.method, requestId);
    const answer =
      refused ??
      (WRITE_METHODS.has(request.method)
        ? await this.oneAtATime(async () => {
            await this.onWrite?.(request.method, safeDecode(url.pathname) ?? url.pathname);
            return this.guarded(() => this.route(request, url));
          })
        : await this.guarded(() => this.route(request, url)));
    return { ...answer, headers: { ...headers, ...answer.headers } };
  }

  private async guarded(answer: () => Promise<Answer> | Answer): Promise<Answer> {
    try {
      return await answer();
    } catch (error) {
      return json(500, { message: `the git stand-in failed: ${String(error)}` });
    }
  }

  private async route(request: Request, url: URL): Promise<Answer> {
    if (GraphqlRoutes.isEndpoint(url.pathname))
      return request.method === "POST"
        ? (await this.graphql.handle(request))()
        : githubError(404, "Not Found", DOCS.rest);
    const [, owner = "", repo = "", rest] = REPOSITORY_ROUTE.exec(url.pathname) ?? [];
    // Owner and repository names are case-insensitive on GitHub.
    if (owner.toLowerCase() !== this.owner.toLowerCase() || repo.toLowerCase() !== this.repo.toLowerCase())
      return githubError(404, "Not Found", DOCS.rest);
    const roots = rootsOf(url.origin, this.owner, this.repo);
    if (rest === undefined)
      return request.method === "GET"
        ? repositoryAnswer(this.owner, this.repo, this.branch, roots, this.settings.repositoryFields())
        : githubError(404, "Not Found", DOCS.rest);
    if (request.method === "GET" && SettingsRoutes.matches(rest)) return this.settings.handle(rest, roots);
    const [section = "", ...inner] = rest.split("/");
    // Octokit sends a path's slashes as %2F; other clients send them as they are. Both name the same thing.
    const remainder = safeDecode(inner.join("/"));
    if (remainder === undefined) return githubError(404, "Not Found", DOCS.rest);
    const path = remainder.replace(/^\/+|\/+$/g, "");
    switch (`${request.method} ${section}`) {
      case "GET contents":
        return this.contents.get(path, url.searchParams.get("ref"), request.headers.get("accept"), roots);
      case "PUT contents":
        return this.contents.put(request, path, roots);
      case "GET tarball":
        return this.archives.redirect(path || this.branch, url.origin);
      default:
        if (section !== "git") return githubError(404, "Not Found", DOCS.rest);
        // Writes are applied one at a time already: a route's answer settles at once.
        return (
          (await this.gitData.handle(request.method, remainder, request, roots))?.() ??
          githubError(404, "Not Found", DOCS.rest)
        );
    }
  }

  private credential(authorization: string | null): "ok" | "bad" | "missing" {
    if (!authorization) return "missing";
    const [scheme = "", value = ""] = authorization.trim().split(/\s+/, 2);
    return /^(bearer|token)$/i.test(scheme) && value === this.token ? "ok" : "bad";
  }
}
