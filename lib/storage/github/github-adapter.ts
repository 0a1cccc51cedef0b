import { createHash } from "node:crypto";
import { retry } from "@octokit/plugin-retry";
import { throttling } from "@octokit/plugin-throttling";
import { createAppAuth } from "@octokit/auth-app";
import { Octokit } from "@octokit/rest";
import Bottleneck from "bottleneck";
import { systemClock, type Clock } from "../../clock.ts";
import type { GitHubConfig } from "../../config.ts";
import { log, messageOf } from "../../log.ts";
import { DEFAULT_RETRY_AFTER_SECONDS, PushProtectedError, StoreUnavailableError } from "../event-store.ts";
import { CallGate, MIN_CALL_BUDGET_MS, type CallOptions } from "./call-gate.ts";
import {
  FALLBACK_RATE_LIMIT_SECONDS,
  graphqlErrorsOf,
  isOwnTimeout,
  isTransient,
  pushProtectionFindings,
  rateLimitRetryAfter,
  statusOf,
  type OctokitError,
} from "./octokit-error.ts";

const USER_AGENT = "telemetry-ndjson-github";
// 409 is a stale sha: sending the same body again cannot succeed, the writer must re-read first.
const DO_NOT_RETRY = [400, 401, 403, 404, 409, 410, 422, 451];
// A client waits 5 s at most, so transient 5xx get one quick retry, not Octokit's default 1 s, 4 s, 9 s.
const RETRIES = 1;
const RETRY_BASE_MS = 200;
// The throttling plugin spaces a process's writes 1 s apart by default. That wait falls between a
// writer's read and its write, widening the window in which the sha goes stale, and it cannot keep
// a token within GitHub's per-token limit across function instances anyway: pacing commits is the
// job of whatever batches them, not of each request.
const WRITE_SPACING_MS = 0;
// Requests that notify people (a new issue, a comment) are spaced as GitHub's docs ask of mutative
// requests, a second apart, not the plugin's 3 s: five new issues would take 12 s of a 25 s run.
const NOTIFYING_SPACING_MS = 1000;
const BACKOFF_BASE_MS = 100;
const BACKOFF_MAX_MS = 1000;
/** Hex characters of a digest that tell one set of credentials from another, and nothing of them. */
const CREDENTIALS_ID_CHARS = 12;
/** GitHub's answer header naming when the token expires, as `2026-12-31 00:00:00 UTC`. */
const TOKEN_EXPIRATION_HEADER = "github-authentication-token-expiration";
const TOKEN_EXPIRATION = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?: ?(?:UTC|Z|\+0000|\+00:00))?$/;
/** The log line a refusal is told in, by what was refused. */
const REFUSED_EVENTS = { write: "github_write_refused", request: "github_files_refused" } as const;

/** One call's limits: the deadline (epoch ms of the instance's clock), and whether a rate limit that ends before it is waited out. */
export interface GitHubCall {
  deadline: number;
  waitOnRateLimit?: boolean;
}

const ThrottledOctokit = Octokit.plugin(throttling, retry);
export type GitHubClient = InstanceType<typeof ThrottledOctokit>;

/**
 * The one way an instance talks to the data repository on GitHub: its one Octokit (GitHub's
 * throttling and retry plugins), its one CallGate, and the one place GitHub's refusals become
 * ours. A rate limit any caller meets closes the gate for every other caller of the instance, the
 * flusher's store and the read path alike. The verbs (listing, reading, committing, the archive)
 * are functions of their own over it.
 */
export class GitHubAdapter {
  readonly client: GitHubClient;
  private readonly gate: CallGate;
  private expiresAt: number | null = null;
  /** GET /repos/{owner}/{repo}, asked once: the default branch, and the node id GraphQL names the repository by. */
  private repositoryData: Promise<{ default_branch: string; node_id: string }> | undefined;

  constructor(
    readonly config: GitHubConfig,
    readonly clock: Clock = systemClock,
  ) {
    this.gate = new CallGate(clock);
    this.client = createClient(config, clock);
    // GitHub says when a personal access token expires on every answer to it, errors included.
    this.client.hook.after("request", (response) => this.noteExpiry(response.headers));
    this.client.hook.error("request", (error) => {
      this.noteExpiry((error as OctokitError).response?.headers ?? {});
      throw error;
    });
  }

  /**
   * What a call carries (see CallGate); throws at once while GitHub's rate limit holds or too
   * little time is left.
   */
  request({ deadline, waitOnRateLimit = false }: GitHubCall): CallOptions & { waitOnRateLimit: boolean } {
    return { ...this.gate.options(deadline), waitOnRateLimit };
  }

  /** A content-creating request's options: never sent again by Octokit, since each attempt is planned afresh. */
  writeRequest(call: GitHubCall): CallOptions & { waitOnRateLimit: boolean; retries: number } {
    return { ...this.request(call), retries: 0 };
  }

  repository(): { owner: string; repo: string } {
    return { owner: this.config.owner, repo: this.config.repo };
  }

  /** The repository, and the configured branch as the contents API names it. */
  contentsRef(): { owner: string; repo: string; ref?: string } {
    return { ...this.repository(), ...(this.config.branch ? { ref: this.config.branch } : {}) };
  }

  /** The configured branch, else the repository's default one (asked once). */
  async branch(call: GitHubCall): Promise<string> {
    if (this.config.branch) return this.config.branch;
    return (await this.repositoryDetails(call)).default_branch;
  }

  /** The repository's global id (REST `node_id`), which GraphQL's mutations take as `repositoryId`. */
  async repositoryId(call: GitHubCall): Promise<string> {
    return (await this.repositoryDetails(call)).node_id;
  }

  /** `owner/repo@branch`, or `owner/repo` on the default branch: never a secret. */
  describe(): string {
    const repository = `${this.config.owner}/${this.config.repo}`;
    return this.config.branch ? `${repository}@${this.config.branch}` : repository;
  }

  /** Which credentials are used, as a short digest that tells nothing of them. */
  credentialsId(): string {
    const { credentials } = this.config;
    const secret = credentials.kind === "token" ? credentials.token : `${credentials.appId}\n${credentials.privateKey}`;
    return createHash("sha256").update(secret).digest("hex").slice(0, CREDENTIALS_ID_CHARS);
  }

  /** When the token expires, as GitHub last said (epoch ms); null when it does not, or has not said. */
  credentialsExpireAt(): number | null {
    return this.expiresAt;
  }

  /**
   * What a caller is told of `error`: ours as it is; push protection's refusal; a rate limit
   * (after which the gate stays shut for every caller); GitHub busy (a 5xx, or our own time limit);
   * a refusal (401, 403 without a rate limit, 404, 422: the token, repository or branch is wrong,
   * logged); anything else (no answer from GitHub) as it is. A verb first takes out what an answer
   * means to it alone (a stale sha's 409, a 422 when the branch moved).
   */
  failure(error: unknown, refused: keyof typeof REFUSED_EVENTS): unknown {
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
    if (isTransient(error)) return this.busy(error, "the files could not be committed");
    // GraphQL answers a refused mutation with 200 and its reasons in `errors`.
    const graphqlErrors = graphqlErrorsOf(error);
    if (graphqlErrors) {
      log("error", REFUSED_EVENTS[refused], { status: 200, message: graphqlErrors });
      return new StoreUnavailableError(
        `GitHub refused the ${refused} (GraphQL: ${graphqlErrors})`,
        FALLBACK_RATE_LIMIT_SECONDS,
        {
          cause: error,
          reason: "refused",
        },
      );
    }
    if (status === undefined || status < 400) return error;
    log("error", REFUSED_EVENTS[refused], { status, message: messageOf(error) });
    const said = (error as OctokitError).response?.data as { message?: unknown } | undefined;
    const reason = typeof said?.message === "string" ? `: ${said.message}` : "";
    return new StoreUnavailableError(
      `GitHub refused the ${refused} (${status}${reason})`,
      FALLBACK_RATE_LIMIT_SECONDS,
      {
        cause: error,
        reason: "refused",
      },
    );
  }

  /** Waits before attempt `attempt` (from 0), growing and jittered; GitHub busy when that leaves no time for it. */
  async backOff(attempt: number, { deadline }: GitHubCall, error: unknown, what: string): Promise<void> {
    const backoff = Math.random() * Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** attempt);
    if (this.clock.now() + backoff + MIN_CALL_BUDGET_MS > deadline) throw this.busy(error, what);
    await this.clock.sleep(backoff);
  }

  /** GitHub could not be used in time: `what` could not be done (out of time when our own limit cut the call short). */
  busy(error: unknown, what: string): StoreUnavailableError {
    return new StoreUnavailableError(`GitHub is busy: ${what} in time`, DEFAULT_RETRY_AFTER_SECONDS, {
      cause: error,
      reason: isOwnTimeout(error) ? "out_of_time" : "busy",
    });
  }

  private async repositoryDetails(call: GitHubCall): Promise<{ default_branch: string; node_id: string }> {
    this.repositoryData ??= this.client.rest.repos
      .get({ ...this.repository(), request: this.request(call) })
      .then(({ data }) => data);
    try {
      return await this.repositoryData;
    } catch (error) {
      this.repositoryData = undefined;
      throw error;
    }
  }

  private noteExpiry(headers: Record<string, string | number | undefined>): void {
    const match = TOKEN_EXPIRATION.exec(String(headers[TOKEN_EXPIRATION_HEADER] ?? ""));
    if (match) this.expiresAt = Date.parse(`${match[1]}T${match[2]}Z`);
  }
}

/**
 * The instance's one Octokit. A secondary or primary rate limit is waited out by the throttling
 * plugin only for a call that asks it to (`waitOnRateLimit`) and when `retry-after` ends before the
 * call's deadline; otherwise the 403/429 reaches the caller, who stops calling until then (the
 * flusher records it for every instance; a direct write answers 503).
 */
function createClient(config: GitHubConfig, clock: Clock): GitHubClient {
  const waitIfItFits = (
    retryAfterSeconds: number,
    options: { request?: Partial<CallOptions> & { waitOnRateLimit?: boolean } },
  ) => {
    const { deadline = 0, waitOnRateLimit = false } = options.request ?? {};
    return waitOnRateLimit && clock.now() + retryAfterSeconds * 1000 < deadline;
  };
  const { credentials } = config;
  return new ThrottledOctokit({
    // An app's installation token lasts an hour: auth-app mints one from the private key, and again when it runs out.
    ...(credentials.kind === "token"
      ? { auth: credentials.token }
      : {
          authStrategy: createAppAuth,
          auth: {
            appId: credentials.appId,
            privateKey: credentials.privateKey,
            installationId: credentials.installationId,
          },
        }),
    baseUrl: config.apiUrl,
    userAgent: USER_AGENT,
    log: {
      debug: () => {},
      info: () => {},
      warn: (message: string) => log("warn", "github_client", { message }),
      error: (message: string) => log("error", "github_client", { message }),
    },
    throttle: {
      id: `${config.owner}/${config.repo}`,
      onRateLimit: waitIfItFits,
      onSecondaryRateLimit: waitIfItFits,
      write: new Bottleneck.Group({ maxConcurrent: 1, minTime: WRITE_SPACING_MS }),
      notifications: new Bottleneck.Group({ maxConcurrent: 1, minTime: NOTIFYING_SPACING_MS }),
    },
    retry: { doNotRetry: DO_NOT_RETRY, retries: RETRIES, retryAfterBaseValue: RETRY_BASE_MS },
  });
}
