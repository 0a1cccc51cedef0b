import { commitAnswer, type Roots } from "./answers.ts";
import type { Files, GitDatabase } from "./git-database.ts";
import { commitSha, directoryEntries, type Entry, type Person } from "./git-objects.ts";
import type { GitStore } from "../github-routes/git-store.ts";
import type { TreeFiles } from "../github-routes/tree-files.ts";

/** The one file mode the fake keeps. */
const FILE_MODE = "100644";

export interface Branch {
  head: string;
  files: Files;
}

/** What the fake's Git Data API reads and changes of its repository. */
export interface FakeRepository {
  readonly branches: ReadonlyMap<string, Branch>;
  readonly database: GitDatabase;
  /** Who commits when a request names no one: the token's owner. */
  readonly tokenUser: Person;
  now(): number;
  secretIn(text: string): string | undefined;
  countWrite(): void;
  /** Points `branch` (created when new) at commit `sha`, whose files are `files`. */
  moveBranch(branch: string, sha: string, files: Files): void;
}

/** The in-memory fake's objects and branches as the shared Git Data API routes take them. */
export class FakeGitStore implements GitStore {
  readonly name = "The fake GitHub";
  readonly blobModes: ReadonlySet<string> = new Set([FILE_MODE]);

  constructor(private readonly repo: FakeRepository) {}

  branches(): ReadonlyMap<string, string> {
    return new Map([...this.repo.branches].map(([name, branch]) => [name, branch.head]));
  }

  objectType(sha: string): string | undefined {
    const { database } = this.repo;
    if (database.blob(sha)) return "blob";
    if (database.commit(sha)) return "commit";
    return database.tree(sha) ? "tree" : undefined;
  }

  blob(sha: string): Uint8Array<ArrayBuffer> | undefined {
    return this.repo.database.blob(sha)?.bytes;
  }

  treeOf(sha: string): string | undefined {
    return this.repo.database.commit(sha)?.tree;
  }

  files(sha: string): TreeFiles {
    const files = this.repo.database.tree(sha) ?? new Map();
    return new Map([...files].map(([path, file]) => [path, { mode: FILE_MODE, sha: file.sha }]));
  }

  entries(sha: string, recursive: boolean): Entry[] {
    const files = this.repo.database.tree(sha) ?? new Map();
    return recursive ? entriesUnder(files, "") : directoryEntries(files, "");
  }

  commitAnswer(sha: string, roots: Roots): Record<string, unknown> | undefined {
    const commit = this.repo.database.commit(sha);
    return commit && commitAnswer(commit, roots);
  }

  writeBlob(bytes: Uint8Array<ArrayBuffer>): string {
    return this.repo.database.addBlob(bytes).sha;
  }

  writeTree(files: TreeFiles): string {
    const { database } = this.repo;
    return database.addTree(new Map([...files].map(([path, entry]) => [path, database.blob(entry.sha)!])));
  }

  writeCommit(tree: string, parents: string[], message: string, people: { author?: Person; committer?: Person }) {
    const committer = people.committer ?? people.author ?? this.repo.tokenUser;
    const date = new Date(this.repo.now());
    const sha = commitSha(tree, parents, committer, message, date);
    this.repo.database.addCommit({ sha, tree, parents, message, committer, date });
    return sha;
  }

  isAncestor(ancestor: string, descendant: string): boolean {
    return this.repo.database.descends(descendant, ancestor);
  }

  moveBranch(branch: string, sha: string, expected: string | undefined): boolean {
    if (this.repo.branches.get(branch)?.head !== expected) return false;
    const tree = this.treeOf(sha);
    const files = tree === undefined ? undefined : this.repo.database.tree(tree);
    if (!files) return false;
    this.repo.moveBranch(branch, sha, files);
    return true;
  }

  secretIn(text: string): string | undefined {
    return this.repo.secretIn(text);
  }

  countWrite(): void {
    this.repo.countWrite();
  }
}

/** Every file and folder under `dir`, as a recursive tree listing gives them: each folder before what it holds. */
function entriesUnder(files: Files, dir: string): Entry[] {
  return directoryEntries(files, dir).flatMap((entry) =>
    entry.type === "dir" ? [entry, ...entriesUnder(files, entry.path)] : [entry],
  );
}
