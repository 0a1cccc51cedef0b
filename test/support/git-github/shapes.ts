/**
 * What the stand-in's routes share beyond the fake's answer helpers: the links GitHub builds from the API
 * root, and git's objects in the shapes those helpers take.
 */
import { commitAnswer, type Roots } from "../fake-github/answers.ts";
import type { Entry, Person } from "../fake-github/git-objects.ts";
import { isPerson } from "../fake-github/put-validation.ts";
import type { CommitObject, TreeRow } from "./bare-repository.ts";

/** Who commits when a request names no one: the token's owner (as the in-memory fake names it). */
export const TOKEN_USER: Person = { name: "Token Owner", email: "token-owner@users.noreply.github.com" };

/** Links as a GitHub Enterprise Server without subdomains gives them: everything at the API's origin. */
export function rootsOf(origin: string, owner: string, repo: string): Roots {
  return {
    api: `${origin}/repos/${owner}/${repo}`,
    web: `${origin}/${owner}/${repo}`,
    raw: `${origin}/${owner}/${repo}/raw`,
  };
}

/** A commit as GitHub describes it, with its own author (the fake's helper gives the committer for both). */
export function commitAnswerOf(commit: CommitObject, roots: Roots): Record<string, unknown> {
  const { author, committer } = commit;
  const answer = commitAnswer({ ...commit, committer, date: committer.date }, roots);
  return { ...answer, author: { name: author.name, email: author.email, date: isoSeconds(author.date) } };
}

/** A file or folder of a tree as the fake's listing helpers take it; undefined for a submodule. */
export function entryOf(row: TreeRow, dir: string): Entry | undefined {
  if (row.type === "commit") return undefined;
  const path = dir === "" ? row.path : `${dir}/${row.path}`;
  return { type: row.type === "blob" ? "file" : "dir", path, sha: row.sha, size: row.size };
}

/** Who a request names as author and committer: GitHub takes each for the other, else the token's owner. */
export function peopleOf(body: Record<string, unknown>): { author: Person; committer: Person } {
  const author = isPerson(body.author) ? body.author : undefined;
  const committer = isPerson(body.committer) ? body.committer : undefined;
  return { author: author ?? committer ?? TOKEN_USER, committer: committer ?? author ?? TOKEN_USER };
}

export function safeDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d+Z$/, "Z");
}
