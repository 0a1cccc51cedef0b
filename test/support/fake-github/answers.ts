/**
 * The answers the fake gives, shaped as GitHub's: error bodies and their messages, the two rate-limit answers,
 * files and directory entries with their links, commits, the Git Data API's refs, blobs and trees, the
 * repository, and the `Response` an answer becomes.
 */
import { randomBytes } from "node:crypto";
import { STATUS_CODES } from "node:http";
import type { CommitDetails, Entry, StoredFile } from "./git-objects.ts";

/** "1 MB" in GitHub's docs: above it the JSON answer carries no content, only the raw media type does. */
const INLINE_CONTENT_MAX_BYTES = 1024 * 1024;
/** GitHub's Git Trees API stops a listing at 100,000 entries or 7 MB, and says `truncated`. */
const TREE_ENTRIES_LIMIT = 100_000;
const TREE_BYTES_LIMIT = 7 * 1024 * 1024;
/** Above this even the raw media type is refused. */
const RAW_CONTENT_MAX_BYTES = 100 * 1024 * 1024;
/** GitHub encodes content as Ruby's `Base64.encode64` does: a newline after every 60 characters. */
const BASE64_LINE_LENGTH = 60;

export const DOCS = {
  rest: "https://docs.github.com/rest",
  getContent: "https://docs.github.com/rest/repos/contents#get-repository-content",
  putContent: "https://docs.github.com/rest/repos/contents#create-or-update-file-contents",
  getRepository: "https://docs.github.com/rest/repos/repos#get-a-repository",
  downloadTarball: "https://docs.github.com/rest/repos/contents#download-a-repository-archive-tar",
  getRef: "https://docs.github.com/rest/git/refs#get-a-reference",
  createRef: "https://docs.github.com/rest/git/refs#create-a-reference",
  updateRef: "https://docs.github.com/rest/git/refs#update-a-reference",
  getCommit: "https://docs.github.com/rest/git/commits#get-a-commit-object",
  createCommit: "https://docs.github.com/rest/git/commits#create-a-commit",
  getBlob: "https://docs.github.com/rest/git/blobs#get-a-blob",
  createBlob: "https://docs.github.com/rest/git/blobs#create-a-blob",
  getTree: "https://docs.github.com/rest/git/trees#get-a-tree",
  createTree: "https://docs.github.com/rest/git/trees#create-a-tree",
  pushProtection:
    "https://docs.github.com/code-security/secret-scanning/working-with-secret-scanning-and-push-protection/working-with-push-protection-from-the-rest-api",
  primaryLimit: "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-the-primary-rate-limits",
  // As GitHub sends it in secondary-limit answers, locale segment included.
  secondaryLimit:
    "https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
};

export const JSON_TYPE = "application/json; charset=utf-8";
/** The raw media type in any of its spellings; Octokit's `mediaType: { format: "raw" }` sends `application/vnd.github.v3.raw`. */
const RAW_ACCEPT = /application\/vnd\.github(?:\.v3)?\.raw/i;

export interface Answer {
  status: number;
  /** Bytes are sent as they are (raw media type); anything else as JSON. */
  body: Uint8Array<ArrayBuffer> | JsonBody;
  headers: Record<string, string>;
}

type JsonBody = Record<string, unknown> | unknown[];

/** Links GitHub puts in every content entry, built from the API root the caller used. */
export interface Roots {
  api: string;
  web: string;
  raw: string;
}

/** Decides an answer at completion, from the state of the repository then. */
export type Settle = () => Answer;

export function json(status: number, body: JsonBody, headers: Record<string, string> = {}): Answer {
  return { status, body, headers };
}

export function fixed(answer: Answer): Settle {
  return () => answer;
}

/** GitHub's error shape; `status` has been part of it, as a string, since 2024. */
/**
 * Push protection's refusal of content holding a secret: 409 in the `repository-rule-violation-error`
 * shape, with a bypass placeholder per secret found.
 */
export function pushProtectionError(tokenType: string): Answer {
  return githubError(
    409,
    "Repository rule violations found\n\nPush cannot contain secrets\n\nResolve the following violations before pushing again",
    DOCS.pushProtection,
    {
      status: "409",
      metadata: {
        secret_scanning: {
          bypass_placeholders: [{ placeholder_id: randomBytes(12).toString("hex"), token_type: tokenType }],
        },
      },
    },
  );
}

export function githubError(
  status: number,
  message: string,
  documentationUrl: string,
  extra: Record<string, unknown> = {},
): Answer {
  return json(status, { message, ...extra, documentation_url: documentationUrl, status: String(status) });
}

export function injectedFailure(status: number): Answer {
  return json(status, {
    message: status >= 500 ? "Server Error" : (STATUS_CODES[status] ?? "Error"),
    status: String(status),
  });
}

/**
 * The throttling plugin recognises a secondary limit by `/\bsecondary rate\b/i` in the error message
 * (GitHub's `message` plus ` - documentation_url`) and waits `retry-after` seconds. This answer comes
 * from GitHub's abuse layer: unlike the API's errors it has no `status` field and no `x-ratelimit-*` headers.
 */
export function secondaryLimitError(requestId: string, retryAfterSeconds: number): Answer {
  return json(
    403,
    {
      documentation_url: DOCS.secondaryLimit,
      message:
        "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. " +
        `If you reach out to GitHub Support for help, please include the request ID ${requestId}.`,
    },
    { "retry-after": String(retryAfterSeconds) },
  );
}

/** The throttling plugin recognises a spent primary limit by `x-ratelimit-remaining: 0` and waits until `x-ratelimit-reset`. */
export function primaryLimitError(requestId: string, now: number): Answer {
  const timestamp = new Date(now)
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d+Z$/, " UTC");
  return githubError(
    403,
    "API rate limit exceeded for user ID 1. If you reach out to GitHub Support for help, " +
      `please include the request ID ${requestId} and timestamp ${timestamp}.`,
    DOCS.primaryLimit,
  );
}

export function fileAnswer(
  path: string,
  file: StoredFile,
  branch: string,
  accept: string | null,
  roots: Roots,
): Answer {
  const size = file.bytes.byteLength;
  if (size > RAW_CONTENT_MAX_BYTES) {
    return githubError(
      403,
      "This API returns blobs up to 100 MB in size. The requested blob is too large to fetch via the API.",
      DOCS.getContent,
      {
        errors: [{ resource: "Blob", field: "data", code: "too_large" }],
      },
    );
  }
  const raw = accept?.match(RAW_ACCEPT);
  // GitHub echoes the raw media type it was asked for, with a charset, whatever the bytes are.
  if (raw)
    return { status: 200, body: file.bytes, headers: { "content-type": `${raw[0].toLowerCase()}; charset=utf-8` } };
  const inline = size <= INLINE_CONTENT_MAX_BYTES;
  return json(200, {
    ...contentEntry({ type: "file", path, sha: file.sha, size }, branch, roots),
    content: inline ? wrapBase64(Buffer.from(file.bytes).toString("base64")) : "",
    encoding: inline ? "base64" : "none",
  });
}

function wrapBase64(base64: string): string {
  let wrapped = "";
  for (let at = 0; at < base64.length; at += BASE64_LINE_LENGTH)
    wrapped += `${base64.slice(at, at + BASE64_LINE_LENGTH)}\n`;
  return wrapped;
}

/** An entry as GitHub lists it in a directory, and describes a file (before `content`). */
export function contentEntry(entry: Entry, branch: string, roots: Roots): Record<string, unknown> {
  const encodedPath = entry.path.split("/").map(encodeURIComponent).join("/");
  const url = `${roots.api}/contents/${encodedPath}?ref=${encodeURIComponent(branch)}`;
  const gitUrl = `${roots.api}/git/${entry.type === "file" ? "blobs" : "trees"}/${entry.sha}`;
  const htmlUrl = `${roots.web}/${entry.type === "file" ? "blob" : "tree"}/${branch}/${encodedPath}`;
  return {
    name: entry.path.slice(entry.path.lastIndexOf("/") + 1),
    path: entry.path,
    sha: entry.sha,
    size: entry.size,
    url,
    html_url: htmlUrl,
    git_url: gitUrl,
    download_url: entry.type === "file" ? `${roots.raw}/${branch}/${encodedPath}` : null,
    type: entry.type,
    _links: { self: url, git: gitUrl, html: htmlUrl },
  };
}

/** A Git Trees API answer: `entries` relative to the tree, cut where GitHub cuts a recursive listing. */
export function treeAnswer(sha: string, entries: readonly Entry[], dir: string, roots: Roots, status = 200): Answer {
  const prefix = dir === "" ? "" : `${dir}/`;
  const tree: Record<string, unknown>[] = [];
  let bytes = 0;
  let truncated = false;
  for (const entry of entries) {
    const item = {
      path: entry.path.slice(prefix.length),
      mode: entry.type === "file" ? "100644" : "040000",
      type: entry.type === "file" ? "blob" : "tree",
      sha: entry.sha,
      ...(entry.type === "file" ? { size: entry.size } : {}),
      url: `${roots.api}/git/${entry.type === "file" ? "blobs" : "trees"}/${entry.sha}`,
    };
    bytes += JSON.stringify(item).length + 1;
    if (tree.length >= TREE_ENTRIES_LIMIT || bytes > TREE_BYTES_LIMIT) {
      truncated = true;
      break;
    }
    tree.push(item);
  }
  return json(status, { sha, url: `${roots.api}/git/trees/${sha}`, tree, truncated });
}

export function commitAnswer(commit: CommitDetails, roots: Roots): Record<string, unknown> {
  const signature = {
    name: commit.committer.name,
    email: commit.committer.email,
    date: commit.date.toISOString().replace(/\.\d+Z$/, "Z"),
  };
  return {
    sha: commit.sha,
    url: `${roots.api}/git/commits/${commit.sha}`,
    html_url: `${roots.web}/commit/${commit.sha}`,
    author: signature,
    committer: signature,
    tree: { sha: commit.tree, url: `${roots.api}/git/trees/${commit.tree}` },
    message: commit.message,
    parents: commit.parents.map((parent) => ({
      url: `${roots.api}/git/commits/${parent}`,
      html_url: `${roots.web}/commit/${parent}`,
      sha: parent,
    })),
    verification: { verified: false, reason: "unsigned", signature: null, payload: null, verified_at: null },
  };
}

/** The Git Database API's answer to any call on a repository without a commit. */
export function gitRepositoryEmpty(documentationUrl: string): Answer {
  return githubError(409, "Git Repository is empty.", documentationUrl);
}

/** A branch as the Git References API describes it. */
export function refAnswer(status: number, branch: string, sha: string, roots: Roots): Answer {
  const body = refObject(branch, sha, roots);
  return json(status, body, status === 201 ? { location: String(body.url) } : {});
}

export function refObject(branch: string, sha: string, roots: Roots): Record<string, unknown> {
  const ref = `refs/heads/${branch}`;
  return {
    ref,
    node_id: `REF_${Buffer.from(`${roots.api}:${ref}`).toString("base64url")}`,
    url: `${roots.api}/git/${ref}`,
    object: { sha, type: "commit", url: `${roots.api}/git/commits/${sha}` },
  };
}

export function blobCreatedAnswer(sha: string, roots: Roots): Answer {
  const url = `${roots.api}/git/blobs/${sha}`;
  return json(201, { sha, url }, { location: url });
}

/** A blob as "Get a blob" gives it: base64 as the contents API wraps it, or the bytes for the raw media type. */
export function blobAnswer(file: StoredFile, accept: string | null, roots: Roots): Answer {
  const raw = accept?.match(RAW_ACCEPT);
  if (raw)
    return { status: 200, body: file.bytes, headers: { "content-type": `${raw[0].toLowerCase()}; charset=utf-8` } };
  return json(200, {
    sha: file.sha,
    node_id: `B_${Buffer.from(file.sha, "hex").toString("base64url")}`,
    size: file.bytes.byteLength,
    url: `${roots.api}/git/blobs/${file.sha}`,
    content: wrapBase64(Buffer.from(file.bytes).toString("base64")),
    encoding: "base64",
  });
}

/** The part of "Get a repository" that a client of the contents and Git Data APIs reads. */
/** The repository's global id (REST `node_id`, GraphQL `Repository.id`). */
export function repositoryNodeId(owner: string, repo: string): string {
  return `R_${Buffer.from(`${owner}/${repo}`).toString("base64url")}`;
}

/** `fields`: what depends on the caller (its `permissions`, the `security_and_analysis` an admin sees). */
export function repositoryAnswer(
  owner: string,
  repo: string,
  defaultBranch: string,
  roots: Roots,
  fields: Record<string, unknown>,
): Answer {
  return json(200, {
    id: 1,
    node_id: repositoryNodeId(owner, repo),
    name: repo,
    full_name: `${owner}/${repo}`,
    private: true,
    owner: { login: owner, id: 1, type: "Organization" },
    html_url: roots.web,
    description: null,
    fork: false,
    url: roots.api,
    default_branch: defaultBranch,
    visibility: "private",
    ...fields,
  });
}

export function toResponse(answer: Answer, requestId: string): Response {
  const headers = new Headers({ "content-type": JSON_TYPE, ...answer.headers, "x-github-request-id": requestId });
  const body = answer.body instanceof Uint8Array ? answer.body : JSON.stringify(answer.body);
  return new Response(body, { status: answer.status, headers });
}

/** Shaped like GitHub's, e.g. "D24F:221686:28BC1:9F91F:69D56197". */
export function newRequestId(): string {
  const hex = randomBytes(14).toString("hex").toUpperCase();
  return [hex.slice(0, 4), hex.slice(4, 10), hex.slice(10, 15), hex.slice(15, 20), hex.slice(20, 28)].join(":");
}
