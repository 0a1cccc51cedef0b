import { messageOf } from "../log.ts";
import type { GitHubAdapter } from "./github/github-adapter.ts";
import { rateLimitRetryAfter, statusOf } from "./github/octokit-error.ts";
import type { FilesCallOptions } from "./repository-files.ts";

/** An issue of the data repository, as the alerts read it. */
export interface RepositoryIssue {
  number: number;
  title: string;
  body: string;
  state: "open" | "closed";
  /** Why it was closed (completed, not_planned) or that it was reopened; null when GitHub says nothing. */
  stateReason: string | null;
  /** When it was last closed (epoch ms); null when never. */
  closedAt: number | null;
}

export interface IssueChange {
  state: "open" | "closed";
  state_reason?: "completed" | "not_planned" | "reopened";
}

/** The data repository's issues: what the hourly job's alerts open, find again, comment on and close. */
export interface RepositoryIssues {
  /** Every issue carrying `label`, open and closed, all pages; pull requests left out. */
  list(label: string, call: FilesCallOptions): Promise<RepositoryIssue[]>;
  /** Opens an issue (GitHub creates a label on its first use). */
  create(issue: { title: string; body: string; labels: string[] }, call: FilesCallOptions): Promise<RepositoryIssue>;
  update(number: number, change: IssueChange, call: FilesCallOptions): Promise<void>;
  comment(number: number, body: string, call: FilesCallOptions): Promise<void>;
  /** The bodies of an issue's comments, oldest first. */
  comments(number: number, call: FilesCallOptions): Promise<string[]>;
  /** When the token expires, as GitHub last said (epoch ms); null when it does not, or has not said. */
  credentialsExpireAt(): number | null;
}

/** The credential may not use the repository's issues (a token without `issues: write`), or the repository has them turned off. */
export class IssuesNotPermittedError extends Error {
  override name = "IssuesNotPermittedError";
}

const PAGE = 100;

/**
 * The Issues API on the instance's one GitHub adapter (its client, its rate-limit gate, its refusals).
 * A write is sent once: a content-creating request that failed is planned again by the next run.
 */
export class GitHubIssues implements RepositoryIssues {
  constructor(private readonly github: GitHubAdapter) {}

  list(label: string, call: FilesCallOptions): Promise<RepositoryIssue[]> {
    const { client } = this.github;
    return this.answering(async () => {
      const issues = await client.paginate(client.rest.issues.listForRepo, {
        ...this.github.repository(),
        state: "all",
        labels: label,
        per_page: PAGE,
        request: this.github.request(call),
      });
      return issues.filter((issue) => !issue.pull_request).map(issueOf);
    });
  }

  create(issue: { title: string; body: string; labels: string[] }, call: FilesCallOptions): Promise<RepositoryIssue> {
    return this.answering(async () => {
      const { data } = await this.github.client.rest.issues.create({
        ...this.github.repository(),
        ...issue,
        request: this.github.writeRequest(call),
      });
      return issueOf(data);
    });
  }

  update(number: number, change: IssueChange, call: FilesCallOptions): Promise<void> {
    return this.answering(async () => {
      await this.github.client.rest.issues.update({
        ...this.github.repository(),
        issue_number: number,
        ...change,
        request: this.github.writeRequest(call),
      });
    });
  }

  comment(number: number, body: string, call: FilesCallOptions): Promise<void> {
    return this.answering(async () => {
      await this.github.client.rest.issues.createComment({
        ...this.github.repository(),
        issue_number: number,
        body,
        request: this.github.writeRequest(call),
      });
    });
  }

  comments(number: number, call: FilesCallOptions): Promise<string[]> {
    const { client } = this.github;
    return this.answering(async () => {
      const comments = await client.paginate(client.rest.issues.listComments, {
        ...this.github.repository(),
        issue_number: number,
        per_page: PAGE,
        request: this.github.request(call),
      });
      return comments.map((comment) => comment.body ?? "");
    });
  }

  credentialsExpireAt(): number | null {
    return this.github.credentialsExpireAt();
  }

  /**
   * Runs a call, telling a refusal of the issues themselves apart: GitHub answers 403 "Resource not
   * accessible by personal access token" (or "by integration") to a credential without the Issues
   * permission, and 410 when the repository has issues turned off. Anything else is told as the adapter tells it.
   */
  private async answering<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      const status = statusOf(error);
      if (status === 410) throw new IssuesNotPermittedError("the repository has issues turned off", { cause: error });
      const refused =
        (status === 403 && rateLimitRetryAfter(error, this.github.clock.now()) === undefined) || status === 404;
      if (refused && /resource not accessible|not found/i.test(messageOf(error))) {
        throw new IssuesNotPermittedError(
          "the GitHub credential may not write the repository's issues (a fine-grained token needs issues: write, a GitHub App the Issues permission)",
          { cause: error },
        );
      }
      throw this.github.failure(error, "request");
    }
  }
}

function issueOf(data: {
  number: number;
  title: string;
  body?: string | null;
  state: string;
  state_reason?: string | null;
  closed_at: string | null;
}): RepositoryIssue {
  return {
    number: data.number,
    title: data.title,
    body: data.body ?? "",
    state: data.state === "closed" ? "closed" : "open",
    stateReason: data.state_reason ?? null,
    closedAt: data.closed_at === null ? null : Date.parse(data.closed_at),
  };
}
