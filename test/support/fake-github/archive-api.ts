/**
 * GitHub's repository archive as a tarball. `GET /repos/{owner}/{repo}/tarball/{ref}` answers 302 to codeload,
 * with a short-lived token in the URL (codeload takes no Authorization header, which fetch drops on a
 * cross-origin redirect anyway); codeload answers the gzipped tar of the commit the ref names, every path in a
 * top folder `{owner}-{repo}-{sha7}/`, folders before what they hold, in git's tree order. Codeload here is
 * `/_codeload/…` at the API's origin, as on a GitHub Enterprise Server without subdomains, so that one fake
 * serves both. GitHub's archive opens with a pax global header holding the commit's sha, which tar-stream
 * cannot write: left out, as a reader that takes the sha from the ref needs none.
 */
import { randomBytes } from "node:crypto";
import { gzipSync } from "node:zlib";
import { pack } from "tar-stream";
import { DOCS, githubError, type Answer } from "./answers.ts";
import type { Files } from "./git-database.ts";

/** How long a codeload URL works: GitHub's tokens last minutes. */
const ARCHIVE_TOKEN_TTL_MS = 5 * 60_000;
const ARCHIVE_TOKEN_BYTES = 20;
/** git archive's modes with its default umask (002), and its owner. */
const FILE_MODE = 0o664;
const DIR_MODE = 0o775;
const OWNER_NAME = "root";
const SHORT_SHA_LENGTH = 7;
const CODELOAD_ROUTE = /^\/_codeload\/([^/]+)\/([^/]+)\/legacy\.tar\.gz\/(.+)$/;

/** The commit a ref names, as an archive needs it. */
export interface ArchivedCommit {
  sha: string;
  /** The branch the ref named, if it named one. */
  branch?: string;
  files: Files;
  date: Date;
}

/** What the archive routes read of the fake's repository. */
export interface ArchivedRepository {
  readonly owner: string;
  readonly repo: string;
  /** Whether the repository has no commit yet. */
  isEmpty(): boolean;
  /** The commit a branch name (`main`, `refs/heads/main`) or a full commit sha names. */
  resolve(ref: string): ArchivedCommit | undefined;
  now(): number;
}

export class ArchiveApi {
  /** Codeload tokens handed out, with when each stops working. */
  private readonly tokens = new Map<string, number>();

  constructor(private readonly repository: ArchivedRepository) {}

  /** Whether `pathname` (at the origin's root) is a codeload download. */
  static isDownload(pathname: string): boolean {
    return CODELOAD_ROUTE.test(pathname);
  }

  /** The API's answer: a redirect to codeload for a ref that names a commit, else 404 (an empty repository too). */
  redirect(ref: string, origin: string): Answer {
    const commit = this.repository.isEmpty() ? undefined : this.repository.resolve(ref);
    if (!commit) return githubError(404, "Not Found", DOCS.downloadTarball);
    const now = this.repository.now();
    for (const [spent, expiresAt] of this.tokens) if (expiresAt <= now) this.tokens.delete(spent);
    const token = randomBytes(ARCHIVE_TOKEN_BYTES).toString("hex").toUpperCase();
    this.tokens.set(token, now + ARCHIVE_TOKEN_TTL_MS);
    // As GitHub does: a branch by its full ref name, a commit by its sha.
    const named = commit.branch === undefined ? commit.sha : `refs/heads/${commit.branch}`;
    const { owner, repo } = this.repository;
    const location = `${origin}/_codeload/${owner}/${repo}/legacy.tar.gz/${named.split("/").map(encodeURIComponent).join("/")}?token=${token}`;
    return { status: 302, body: new Uint8Array(), headers: { location, "content-type": "text/html;charset=utf-8" } };
  }

  /** Codeload's answer to `pathname`: the archive, or its plain 404 for a bad or spent token or an unknown ref. */
  async download(pathname: string, token: string | null): Promise<Answer> {
    const [, owner = "", repo = "", ref = ""] = CODELOAD_ROUTE.exec(pathname) ?? [];
    const expiresAt = token === null ? undefined : this.tokens.get(token);
    const ours =
      owner.toLowerCase() === this.repository.owner.toLowerCase() &&
      repo.toLowerCase() === this.repository.repo.toLowerCase();
    const commit =
      ours && expiresAt !== undefined && this.repository.now() < expiresAt
        ? this.repository.resolve(safeDecode(ref))
        : undefined;
    if (!commit) return { status: 404, body: new TextEncoder().encode("404: Not Found"), headers: PLAIN_TEXT };
    const top = `${this.repository.owner}-${this.repository.repo}-${commit.sha.slice(0, SHORT_SHA_LENGTH)}`;
    return {
      status: 200,
      body: await tarball(commit.files, top, commit.date),
      headers: { "content-type": "application/x-gzip", "content-disposition": `attachment; filename=${top}.tar.gz` },
    };
  }
}

const PLAIN_TEXT = { "content-type": "text/plain; charset=utf-8" };

/** The gzipped tar of `files` under folder `top`, each folder's entry before what it holds. */
async function tarball(files: Files, top: string, mtime: Date): Promise<Uint8Array<ArrayBuffer>> {
  const archive = pack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const chunk of archive) chunks.push(chunk as Buffer);
  })();
  const common = { mtime, uname: OWNER_NAME, gname: OWNER_NAME };
  archive.entry({ ...common, name: `${top}/`, type: "directory", mode: DIR_MODE });
  const folders = new Set<string>();
  // Bytewise by path is git's tree order walked whole: a folder sorts as its name followed by "/".
  const paths = [...files.keys()].sort((left, right) => Buffer.compare(Buffer.from(left), Buffer.from(right)));
  for (const path of paths) {
    const names = path.split("/");
    for (let depth = 1; depth < names.length; depth += 1) {
      const folder = names.slice(0, depth).join("/");
      if (folders.has(folder)) continue;
      folders.add(folder);
      archive.entry({ ...common, name: `${top}/${folder}/`, type: "directory", mode: DIR_MODE });
    }
    archive.entry({ ...common, name: `${top}/${path}`, type: "file", mode: FILE_MODE }, files.get(path)!.bytes);
  }
  archive.finalize();
  await collected;
  return new Uint8Array(gzipSync(Buffer.concat(chunks)));
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
