/**
 * The repository archive: `GET /repos/{owner}/{repo}/tarball/{ref}` answers 302 to a codeload-like URL on the
 * same server (`/_codeload/…`, as a GitHub Enterprise Server without subdomains has it) carrying a
 * short-lived token, and that URL answers `git archive --format=tar.gz` of the commit the ref names then,
 * every path under `{owner}-{repo}-{sha7}/`, as GitHub's archives are laid out.
 */
import { randomBytes } from "node:crypto";
import { DOCS, githubError, type Answer } from "../fake-github/answers.ts";
import type { BareRepository } from "./bare-repository.ts";
import { safeDecode } from "./shapes.ts";

/** How long a codeload URL works: GitHub's tokens last minutes. */
const ARCHIVE_TOKEN_TTL_MS = 5 * 60_000;
const ARCHIVE_TOKEN_BYTES = 20;
const SHORT_SHA_LENGTH = 7;
const CODELOAD_ROUTE = /^\/_codeload\/([^/]+)\/([^/]+)\/legacy\.tar\.gz\/(.+)$/;
const PLAIN_TEXT = { "content-type": "text/plain; charset=utf-8" };

export class ArchiveRoutes {
  /** Codeload tokens handed out, with when each stops working. */
  private readonly tokens = new Map<string, number>();

  constructor(
    private readonly git: BareRepository,
    private readonly owner: string,
    private readonly repo: string,
  ) {}

  /** Whether `pathname` (at the origin's root) is a codeload download, which takes no API credentials. */
  static isDownload(pathname: string): boolean {
    return CODELOAD_ROUTE.test(pathname);
  }

  /** A redirect to codeload for a ref that names a commit, else 404 (an empty repository too). */
  redirect(ref: string, origin: string): Answer {
    const commit = this.git.resolve(ref);
    if (!commit) return githubError(404, "Not Found", DOCS.downloadTarball);
    const now = Date.now();
    for (const [spent, expiresAt] of this.tokens) if (expiresAt <= now) this.tokens.delete(spent);
    const token = randomBytes(ARCHIVE_TOKEN_BYTES).toString("hex").toUpperCase();
    this.tokens.set(token, now + ARCHIVE_TOKEN_TTL_MS);
    // As GitHub does: a branch by its full ref name, a commit by its sha.
    const named = commit.branch === undefined ? commit.sha : `refs/heads/${commit.branch}`;
    const encoded = named.split("/").map(encodeURIComponent).join("/");
    const location = `${origin}/_codeload/${this.owner}/${this.repo}/legacy.tar.gz/${encoded}?token=${token}`;
    return { status: 302, body: new Uint8Array(), headers: { location, "content-type": "text/html;charset=utf-8" } };
  }

  /** Codeload's answer: the archive, or its plain 404 for a bad or spent token or an unknown ref. */
  download(pathname: string, token: string | null): Answer {
    const [, owner = "", repo = "", ref = ""] = CODELOAD_ROUTE.exec(pathname) ?? [];
    const expiresAt = token === null ? undefined : this.tokens.get(token);
    const ours = owner.toLowerCase() === this.owner.toLowerCase() && repo.toLowerCase() === this.repo.toLowerCase();
    const decoded = safeDecode(ref);
    const commit =
      ours && expiresAt !== undefined && Date.now() < expiresAt && decoded !== undefined
        ? this.git.resolve(decoded)
        : undefined;
    if (!commit) return { status: 404, body: new TextEncoder().encode("404: Not Found"), headers: PLAIN_TEXT };
    const top = `${this.owner}-${this.repo}-${commit.sha.slice(0, SHORT_SHA_LENGTH)}`;
    return {
      status: 200,
      body: new Uint8Array(this.git.archive(commit.sha, `${top}/`)),
      headers: { "content-type": "application/x-gzip", "content-disposition": `attachment; filename=${top}.tar.gz` },
    };
  }
}
