import { retry } from "@octokit/plugin-retry";
import { throttling } from "@octokit/plugin-throttling";
import { createAppAuth } from "@octokit/auth-app";
import { Octokit } from "@octokit/rest";
import Bottleneck from "bottleneck";
import { systemClock, type Clock } from "../clock.ts";
import type { GitHubConfig } from "../config.ts";
import { log } from "../log.ts";

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

const ThrottledOctokit = Octokit.plugin(throttling, retry);
export type GitHubClient = InstanceType<typeof ThrottledOctokit>;

/** Request options every call carries, so that a rate-limit handler knows how long the caller may wait. */
export interface DeadlineRequestOptions {
  signal: AbortSignal;
  deadline: number;
}

/**
 * An Octokit with GitHub's throttling and retry plugins. A secondary or primary rate limit is
 * waited out by the throttling plugin only when `waitOnRateLimit` is set and `retry-after` ends
 * before the caller's deadline; otherwise the 403/429 reaches the caller, who stops writing until
 * then (the flusher records it for every instance; a direct write answers 503).
 */
export function createGitHubClient(
  config: GitHubConfig,
  { clock = systemClock, waitOnRateLimit = true }: { clock?: Clock; waitOnRateLimit?: boolean } = {},
): GitHubClient {
  const waitIfItFits = (retryAfterSeconds: number, options: { request?: Partial<DeadlineRequestOptions> }) => {
    const deadline = options.request?.deadline ?? 0;
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
    },
    retry: { doNotRetry: DO_NOT_RETRY, retries: RETRIES, retryAfterBaseValue: RETRY_BASE_MS },
  });
}
