import { messageOf } from "../../log.ts";

/** Seconds to stop writing after a rate limit that gave no `retry-after`, as Octokit assumes. */
export const FALLBACK_RATE_LIMIT_SECONDS = 60;

/** What Octokit's errors carry of GitHub's answer. */
export interface OctokitError {
  status?: number;
  response?: { headers?: Record<string, string | number | undefined>; data?: unknown };
}

export function statusOf(error: unknown): number | undefined {
  const status = (error as OctokitError | undefined)?.status;
  return typeof status === "number" ? status : undefined;
}

/** Whether `error` is the caller's own time limit cutting a call short (fetch's, or as Octokit wraps it). */
export function isOwnTimeout(error: unknown): boolean {
  const names = [(error as Error | undefined)?.name, ((error as Error | undefined)?.cause as Error | undefined)?.name];
  return names.some((name) => name === "TimeoutError" || name === "AbortError");
}

/** A failure that another attempt may not meet: GitHub's 5xx, or a call cut short by its time limit. */
export function isTransient(error: unknown): boolean {
  const status = statusOf(error);
  return isOwnTimeout(error) || (status !== undefined && status >= 500);
}

/** The messages of a GraphQL answer's `errors` (Octokit's GraphqlResponseError), joined; undefined for any other error. */
export function graphqlErrorsOf(error: unknown): string | undefined {
  const { name, errors } = (error ?? {}) as { name?: unknown; errors?: unknown };
  if (name !== "GraphqlResponseError" || !Array.isArray(errors)) return undefined;
  return errors
    .map((entry) => (entry as { message?: unknown } | null)?.message)
    .map((message) => (typeof message === "string" ? message : "error"))
    .join("; ");
}

/** The token types of a push protection refusal (`metadata.secret_scanning.bypass_placeholders`), if it is one. */
export function pushProtectionFindings(error: unknown): string[] | undefined {
  const data = (error as OctokitError | undefined)?.response?.data as
    { metadata?: { secret_scanning?: { bypass_placeholders?: { token_type?: unknown }[] } } } | undefined;
  const placeholders = data?.metadata?.secret_scanning?.bypass_placeholders;
  if (!Array.isArray(placeholders)) return undefined;
  return placeholders.map((placeholder) =>
    typeof placeholder.token_type === "string" ? placeholder.token_type : "secret",
  );
}

/** Seconds to wait when `error` is one of GitHub's rate limits (secondary, or primary with its quota spent). */
export function rateLimitRetryAfter(error: unknown, now: number): number | undefined {
  const status = statusOf(error);
  if (status !== 403 && status !== 429) return undefined;
  const headers = (error as OctokitError).response?.headers ?? {};
  const secondary = /secondary rate limit/i.test(messageOf(error));
  const primary = String(headers["x-ratelimit-remaining"]) === "0";
  if (!secondary && !primary && status !== 429) return undefined;
  const retryAfter = Number(headers["retry-after"]);
  if (Number.isFinite(retryAfter) && retryAfter > 0) return retryAfter;
  const reset = Number(headers["x-ratelimit-reset"]);
  if (primary && Number.isFinite(reset)) return Math.max(1, Math.ceil(reset - now / 1000));
  return FALLBACK_RATE_LIMIT_SECONDS;
}
