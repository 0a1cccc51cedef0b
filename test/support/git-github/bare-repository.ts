/**
 * The stand-in's bare repository, driven through the git CLI. Every call runs `git` with GIT_DIR set and
 * neither system nor user configuration, so that what a test sees does not depend on the machine; blob
 * contents and commit messages go on stdin. Commits are dated by a counter from a fixed instant, and name
 * their people explicitly, so that the same calls give the same shas on every run.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { devNull } from "node:os";
import { join, resolve } from "node:path";
import type { Person } from "../fake-github/git-objects.ts";
import type { TreeFiles } from "../github-routes/tree-files.ts";

const GIT = "git";
/** Room for any archive or blob a test makes. */
const MAX_OUTPUT_BYTES = 1024 ** 3;
/** The first commit's date, 2026-01-01T00:00:00Z; each later one a second after the one before. */
const FIRST_COMMIT_EPOCH_S = 1_767_225_600;
export const FULL_SHA = /^[0-9a-f]{40}$/;
const NULL_SHA = "0".repeat(40);
/** `git ls-tree -l -z`: mode, type, object, size (padded; "-" for a tree), then the path after a tab. */
const LS_TREE_ROW = /^(\d{6}) (blob|tree|commit) ([0-9a-f]{40}) +(-|\d+)\t(.+)$/s;
const SIGNATURE = /^(.*) <(.*)> (\d+) [+-]\d{4}$/;

export type ObjectType = "blob" | "tree" | "commit" | "tag";

export interface TreeRow {
  mode: string;
  type: "blob" | "tree" | "commit";
  sha: string;
  /** Bytes of a blob; 0 for a tree or a submodule. */
  size: number;
  path: string;
}

export interface Signature extends Person {
  date: Date;
}

export interface CommitObject {
  sha: string;
  tree: string;
  parents: string[];
  author: Signature;
  committer: Signature;
  message: string;
}

interface RunOptions {
  input?: string | Uint8Array;
  env?: Record<string, string>;
}

export class BareRepository {
  readonly gitDir: string;
  private readonly env: Record<string, string>;
  private commitsMade = 0;
  private indexesMade = 0;

  constructor(dir: string, initialBranch: string) {
    this.gitDir = resolve(dir);
    const isolated = {
      PATH: process.env.PATH ?? "",
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_CONFIG_GLOBAL: devNull,
      // Paths are file names, never patterns.
      GIT_LITERAL_PATHSPECS: "1",
      LC_ALL: "C",
    };
    execFileSync(GIT, ["init", "--quiet", "--bare", `--initial-branch=${initialBranch}`, this.gitDir], {
      env: isolated,
      stdio: "pipe",
    });
    this.env = { ...isolated, GIT_DIR: this.gitDir };
  }

  run(args: readonly string[], { input, env }: RunOptions = {}): Buffer {
    return execFileSync(GIT, args, {
      env: { ...this.env, ...env },
      input: input ?? "",
      maxBuffer: MAX_OUTPUT_BYTES,
      stdio: "pipe",
    });
  }

  /** The exit status, with what the command printed. */
  private attempt(args: readonly string[]): { status: number | null; stdout: string } {
    const result = spawnSync(GIT, args, { env: this.env, stdio: "pipe" });
    return { status: result.status, stdout: result.stdout?.toString() ?? "" };
  }

  private text(args: readonly string[], options?: RunOptions): string {
    return this.run(args, options).toString("utf8").replace(/\n$/, "");
  }

  /** What a full sha names, if the repository holds it. */
  objectType(sha: string): ObjectType | undefined {
    if (!FULL_SHA.test(sha)) return undefined;
    const result = this.attempt(["cat-file", "-t", sha]);
    return result.status === 0 ? (result.stdout.trim() as ObjectType) : undefined;
  }

  /** Every branch by name, with its tip, read exactly (no ref patterns or revision syntax). */
  branches(): Map<string, string> {
    const listing = this.text(["for-each-ref", "--format=%(refname)%00%(objectname)", "refs/heads/"]);
    const branches = new Map<string, string>();
    for (const line of listing.split("\n").filter(Boolean)) {
      const [ref = "", sha = ""] = line.split("\0");
      branches.set(ref.slice("refs/heads/".length), sha);
    }
    return branches;
  }

  /**
   * The commit a ref names as GitHub takes it: a branch (`main`, `refs/heads/main`) or a full commit sha.
   * `branch` is set when it named a branch.
   */
  resolve(ref: string): { sha: string; branch?: string } | undefined {
    const name = ref.replace(/^refs\/heads\//, "");
    const tip = this.branches().get(name);
    if (tip !== undefined) return { sha: tip, branch: name };
    return this.objectType(ref) === "commit" ? { sha: ref } : undefined;
  }

  blob(sha: string): Buffer {
    return this.run(["cat-file", "blob", sha]);
  }

  writeBlob(bytes: string | Uint8Array): string {
    return this.text(["hash-object", "-w", "--no-filters", "--stdin"], { input: bytes });
  }

  /** The entries of a tree (or a commit's), each folder before what it holds when `recursive`. */
  lsTree(treeish: string, { recursive = false, path }: { recursive?: boolean; path?: string } = {}): TreeRow[] {
    const args = ["ls-tree", "-l", "-z", ...(recursive ? ["-r", "-t"] : []), treeish, ...(path ? ["--", path] : [])];
    return this.text(args)
      .split("\0")
      .filter(Boolean)
      .map((row) => {
        const match = LS_TREE_ROW.exec(row);
        if (!match) throw new Error(`unexpected ls-tree row: ${row}`);
        const [, mode = "", type = "blob", sha = "", size = "-", rowPath = ""] = match;
        return { mode, type: type as TreeRow["type"], sha, size: size === "-" ? 0 : Number(size), path: rowPath };
      });
  }

  /** The entry at `path` (a file or a folder) of a tree or a commit's tree. */
  entryAt(treeish: string, path: string): TreeRow | undefined {
    return this.lsTree(treeish, { path }).find((row) => row.path === path);
  }

  /** Every file of a tree (or a commit's) by path, as an index would hold it. */
  files(treeish: string): TreeFiles {
    const rows = this.lsTree(treeish, { recursive: true }).filter((row) => row.type !== "tree");
    return new Map(rows.map((row) => [row.path, { mode: row.mode, sha: row.sha }]));
  }

  /** The tree holding exactly `files`, built on a temporary index file: folders left empty are none. */
  writeTree(files: TreeFiles): string {
    const index = join(this.gitDir, `stand-in-index-${process.pid}-${(this.indexesMade += 1)}`);
    const env = { GIT_INDEX_FILE: index };
    try {
      this.run(["read-tree", "--empty"], { env });
      const records = [...files].map(([path, { mode, sha }]) => `${mode} ${sha}\t${path}\0`).join("");
      this.run(["update-index", "-z", "--index-info"], { input: records, env });
      return this.text(["write-tree"], { env });
    } finally {
      rmSync(index, { force: true });
    }
  }

  commit(sha: string): CommitObject | undefined {
    if (this.objectType(sha) !== "commit") return undefined;
    const text = this.run(["cat-file", "commit", sha]).toString("utf8");
    const split = text.indexOf("\n\n");
    const headers = (split === -1 ? text : text.slice(0, split)).split("\n");
    const field = (name: string) =>
      headers.filter((line) => line.startsWith(`${name} `)).map((line) => line.slice(name.length + 1));
    return {
      sha,
      tree: field("tree")[0] ?? "",
      parents: field("parent"),
      author: signature(field("author")[0] ?? ""),
      committer: signature(field("committer")[0] ?? ""),
      // Stored with one newline after it, as `commitTree` writes it.
      message: split === -1 ? "" : text.slice(split + 2).replace(/\n$/, ""),
    };
  }

  /** A commit of `tree` on `parents` (none: a root commit), moving no ref. */
  commitTree(
    tree: string,
    parents: readonly string[],
    message: string,
    people: { author: Person; committer: Person },
  ): string {
    this.commitsMade += 1;
    const date = `@${FIRST_COMMIT_EPOCH_S + this.commitsMade} +0000`;
    const env = {
      GIT_AUTHOR_NAME: people.author.name,
      GIT_AUTHOR_EMAIL: people.author.email,
      GIT_AUTHOR_DATE: date,
      GIT_COMMITTER_NAME: people.committer.name,
      GIT_COMMITTER_EMAIL: people.committer.email,
      GIT_COMMITTER_DATE: date,
    };
    const args = ["commit-tree", tree, ...parents.flatMap((parent) => ["-p", parent])];
    return this.text(args, { input: `${message}\n`, env });
  }

  /** Moves `branch` to `sha` only if it is still at `expected` (undefined: only if it does not exist). */
  updateRef(branch: string, sha: string, expected: string | undefined): boolean {
    // git refuses (exit 128) when the ref is not at `expected`.
    return this.attempt(["update-ref", `refs/heads/${branch}`, sha, expected ?? NULL_SHA]).status === 0;
  }

  isAncestor(ancestor: string, descendant: string): boolean {
    const { status } = this.attempt(["merge-base", "--is-ancestor", ancestor, descendant]);
    // 1 says no; anything else is a failure of the stand-in.
    if (status !== 0 && status !== 1) throw new Error(`git merge-base failed on ${ancestor} and ${descendant}`);
    return status === 0;
  }

  archive(sha: string, prefix: string): Buffer {
    return this.run(["archive", "--format=tar.gz", `--prefix=${prefix}`, sha]);
  }
}

function signature(text: string): Signature {
  const [, name = "", email = "", seconds = "0"] = SIGNATURE.exec(text) ?? [];
  return { name, email, date: new Date(Number(seconds) * 1000) };
}
