/**
 * GitHub's Issues API, as the in-memory fake answers it: create an issue (201; a label is created on its
 * first use), list a repository's issues by state and labels (paged: `per_page` up to 100, `page`, and a
 * `Link` header; pull requests are listed too, marked by a `pull_request` key), get one, update it (PATCH
 * `state` open or closed with `state_reason`; reopening sets `reopened`), comment on it (201) and list its
 * comments. An unknown issue is 404, a bad body 422, and a credential without the Issues permission gets 403
 * "Resource not accessible by personal access token" (a read-only one, for its writes). Creating issues and
 * comments counts against the secondary limit on content creation, as every POST and PATCH does (RateLimits).
 */
import { fixed, githubError, json, type Answer, type Roots, type Settle } from "../fake-github/answers.ts";
import { readJsonBody } from "./request-body.ts";

const DOCS = {
  create: "https://docs.github.com/rest/issues/issues#create-an-issue",
  list: "https://docs.github.com/rest/issues/issues#list-repository-issues",
  update: "https://docs.github.com/rest/issues/issues#update-an-issue",
  comment: "https://docs.github.com/rest/issues/comments#create-an-issue-comment",
};
/** `issues`, `issues/{n}` or `issues/{n}/comments` below the repository. */
const ISSUES_ROUTE = /^issues(?:\/(\d+)(\/comments)?)?$/;
const MAX_PER_PAGE = 100;
const DEFAULT_PER_PAGE = 30;
/** GitHub refuses an issue or comment body longer than this. */
const MAX_BODY_CHARS = 65_536;
const STATE_REASONS = ["completed", "not_planned", "reopened"];
const USER = { login: "token-owner", id: 1, type: "User" };

/** What the credential may do with the repository's issues. */
export type IssuesPermission = "write" | "read" | "none";

export interface FakeIssue {
  number: number;
  title: string;
  body: string | null;
  state: "open" | "closed";
  state_reason: string | null;
  labels: string[];
  comments: string[];
  created_at: number;
  closed_at: number | null;
  pull_request?: true;
}

export class IssuesRoutes {
  readonly issues: FakeIssue[] = [];
  readonly labels = new Set<string>();

  constructor(
    private readonly now: () => number,
    private readonly permission: IssuesPermission = "write",
  ) {}

  /** Whether `rest` (below `/repos/{owner}/{repo}/`) is one of these routes. */
  static matches(rest: string): boolean {
    return ISSUES_ROUTE.test(rest);
  }

  /** A pull request, which the issues listing shows beside the issues. */
  seedPullRequest(title: string, labels: string[] = []): void {
    this.add({ title, body: null, labels, pull_request: true });
  }

  async handle(request: Request, rest: string, url: URL, roots: Roots): Promise<Settle> {
    const refused = this.refused(request.method);
    if (refused) return fixed(refused);
    const [, number, comments] = ISSUES_ROUTE.exec(rest) ?? [];
    if (number === undefined) {
      if (request.method === "GET") return () => this.list(url, roots);
      if (request.method === "POST") return fixed(await this.create(request, roots));
      return fixed(githubError(404, "Not Found", DOCS.list));
    }
    const issue = this.issues.find((i) => i.number === Number(number));
    if (!issue) return fixed(githubError(404, "Not Found", comments ? DOCS.comment : DOCS.update));
    if (comments) {
      if (request.method === "GET")
        return () =>
          this.page(
            issue.comments.map((body, i) => this.commentAnswer(issue, i, body, roots)),
            url,
          );
      if (request.method === "POST") return fixed(await this.comment(issue, request, roots));
    } else {
      if (request.method === "GET") return () => json(200, this.answer(issue, roots));
      if (request.method === "PATCH") return fixed(await this.update(issue, request, roots));
    }
    return fixed(githubError(404, "Not Found", DOCS.update));
  }

  private refused(method: string): Answer | undefined {
    const writing = method !== "GET" && method !== "HEAD";
    if (this.permission === "write" || (this.permission === "read" && !writing)) return undefined;
    return githubError(403, "Resource not accessible by personal access token", DOCS.create);
  }

  private list(url: URL, roots: Roots): Answer {
    const state = url.searchParams.get("state") ?? "open";
    const labels = (url.searchParams.get("labels") ?? "").split(",").filter(Boolean);
    const chosen = this.issues
      .filter((issue) => state === "all" || issue.state === state)
      .filter((issue) => labels.every((label) => issue.labels.includes(label)))
      .sort((a, b) => b.number - a.number);
    return this.page(
      chosen.map((issue) => this.answer(issue, roots)),
      url,
    );
  }

  /** One page of `items` as `page` and `per_page` ask, with GitHub's `Link` header to the others. */
  private page(items: Record<string, unknown>[], url: URL): Answer {
    const perPage = Math.min(
      MAX_PER_PAGE,
      Number(url.searchParams.get("per_page") ?? DEFAULT_PER_PAGE) || DEFAULT_PER_PAGE,
    );
    const page = Math.max(1, Number(url.searchParams.get("page") ?? 1) || 1);
    const last = Math.max(1, Math.ceil(items.length / perPage));
    const link = (n: number, rel: string) => {
      const target = new URL(url);
      target.searchParams.set("per_page", String(perPage));
      target.searchParams.set("page", String(n));
      return `<${target.toString()}>; rel="${rel}"`;
    };
    const links = [
      ...(page > 1 ? [link(page - 1, "prev"), link(1, "first")] : []),
      ...(page < last ? [link(page + 1, "next"), link(last, "last")] : []),
    ];
    return json(
      200,
      items.slice((page - 1) * perPage, page * perPage),
      links.length > 0 ? { link: links.join(", ") } : {},
    );
  }

  private async create(request: Request, roots: Roots): Promise<Answer> {
    const read = await readJsonBody(request, DOCS.create);
    if ("refused" in read) return read.refused;
    const { title, body = null, labels = [] } = read.body;
    if (typeof title !== "string" || title === "")
      return githubError(422, `Invalid request.\n\n"title" wasn't supplied.`, DOCS.create);
    if (body !== null && typeof body !== "string")
      return githubError(
        422,
        `Invalid request.\n\nFor 'properties/body', ${JSON.stringify(body)} is not a string or null.`,
        DOCS.create,
      );
    if (!Array.isArray(labels) || !labels.every((label) => typeof label === "string"))
      return githubError(
        422,
        `Invalid request.\n\nFor 'properties/labels', ${JSON.stringify(labels)} is not an array of strings.`,
        DOCS.create,
      );
    const tooLong = tooLongBody(body);
    if (tooLong) return tooLong;
    return json(201, this.answer(this.add({ title, body, labels }), roots));
  }

  private async update(issue: FakeIssue, request: Request, roots: Roots): Promise<Answer> {
    const read = await readJsonBody(request, DOCS.update);
    if ("refused" in read) return read.refused;
    const { state, state_reason: reason } = read.body;
    if (state !== undefined && state !== "open" && state !== "closed")
      return githubError(422, "Validation Failed", DOCS.update, {
        errors: [{ resource: "Issue", code: "invalid", field: "state" }],
      });
    if (reason !== undefined && reason !== null && !(typeof reason === "string" && STATE_REASONS.includes(reason)))
      return githubError(
        422,
        `Invalid request.\n\nFor 'properties/state_reason', ${JSON.stringify(reason)} is not one of ${STATE_REASONS.join(", ")} or null.`,
        DOCS.update,
      );
    if (state === "closed" && issue.state === "open") {
      issue.state = "closed";
      issue.closed_at = this.now();
      issue.state_reason = typeof reason === "string" && reason !== "reopened" ? reason : "completed";
    } else if (state === "open" && issue.state === "closed") {
      issue.state = "open";
      issue.closed_at = null;
      issue.state_reason = "reopened";
    }
    return json(200, this.answer(issue, roots));
  }

  private async comment(issue: FakeIssue, request: Request, roots: Roots): Promise<Answer> {
    const read = await readJsonBody(request, DOCS.comment);
    if ("refused" in read) return read.refused;
    const { body } = read.body;
    if (typeof body !== "string" || body === "")
      return githubError(422, `Invalid request.\n\n"body" wasn't supplied.`, DOCS.comment);
    const tooLong = tooLongBody(body);
    if (tooLong) return tooLong;
    issue.comments.push(body);
    return json(201, this.commentAnswer(issue, issue.comments.length - 1, body, roots));
  }

  private add(fields: Pick<FakeIssue, "title" | "body" | "labels" | "pull_request">): FakeIssue {
    for (const label of fields.labels) this.labels.add(label);
    const issue: FakeIssue = {
      number: this.issues.length + 1,
      state: "open",
      state_reason: null,
      comments: [],
      created_at: this.now(),
      closed_at: null,
      ...fields,
    };
    if (!fields.pull_request) delete issue.pull_request;
    this.issues.push(issue);
    return issue;
  }

  private answer(issue: FakeIssue, roots: Roots): Record<string, unknown> {
    const url = `${roots.api}/issues/${issue.number}`;
    return {
      url,
      repository_url: roots.api,
      labels_url: `${url}/labels{/name}`,
      comments_url: `${url}/comments`,
      events_url: `${url}/events`,
      html_url: `${roots.web}/${issue.pull_request ? "pull" : "issues"}/${issue.number}`,
      id: 1000 + issue.number,
      node_id: `I_kwDO${issue.number}`,
      number: issue.number,
      title: issue.title,
      user: USER,
      labels: issue.labels.map((name, i) => ({
        id: i + 1,
        node_id: `LA_${name}`,
        url: `${roots.api}/labels/${encodeURIComponent(name)}`,
        name,
        color: "ededed",
        default: false,
        description: null,
      })),
      state: issue.state,
      locked: false,
      assignee: null,
      assignees: [],
      milestone: null,
      comments: issue.comments.length,
      created_at: iso(issue.created_at),
      updated_at: iso(this.now()),
      closed_at: issue.closed_at === null ? null : iso(issue.closed_at),
      author_association: "OWNER",
      active_lock_reason: null,
      body: issue.body,
      state_reason: issue.state_reason,
      ...(issue.pull_request
        ? {
            pull_request: {
              url: `${roots.api}/pulls/${issue.number}`,
              html_url: `${roots.web}/pull/${issue.number}`,
              merged_at: null,
            },
          }
        : {}),
    };
  }

  private commentAnswer(issue: FakeIssue, index: number, body: string, roots: Roots): Record<string, unknown> {
    const id = issue.number * 1000 + index;
    return {
      id,
      node_id: `IC_${id}`,
      url: `${roots.api}/issues/comments/${id}`,
      html_url: `${roots.web}/issues/${issue.number}#issuecomment-${id}`,
      issue_url: `${roots.api}/issues/${issue.number}`,
      body,
      user: USER,
      created_at: iso(this.now()),
      updated_at: iso(this.now()),
      author_association: "OWNER",
    };
  }
}

function tooLongBody(body: unknown): Answer | undefined {
  if (typeof body !== "string" || body.length <= MAX_BODY_CHARS) return undefined;
  return githubError(422, "Validation Failed", DOCS.create, {
    errors: [
      {
        resource: "Issue",
        code: "custom",
        field: "body",
        message: `body is too long (maximum is ${MAX_BODY_CHARS} characters)`,
      },
    ],
  });
}

/** GitHub's timestamps: seconds, UTC. */
function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}
