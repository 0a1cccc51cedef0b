import type { Roots } from "../fake-github/answers.ts";
import type { Entry, Person } from "../fake-github/git-objects.ts";
import type { TreeFiles } from "./tree-files.ts";

/**
 * What the Git Data API's routes read and write of a repository: the in-memory fake's objects
 * (fake-github/fake-git-store.ts) or a real bare repository (git-github/bare-git-store.ts).
 */
export interface GitStore {
  /** How a refusal of what the stand-in does not model names it: "The fake GitHub". */
  readonly name: string;
  /** The file modes it stores: 100644, and in a real repository 100755 and 120000 too. */
  readonly blobModes: ReadonlySet<string>;
  /** Each branch's head commit, by branch name. */
  branches(): ReadonlyMap<string, string>;
  objectType(sha: string): string | undefined;
  blob(sha: string): Uint8Array<ArrayBuffer> | undefined;
  /** The tree of commit `sha`. */
  treeOf(sha: string): string | undefined;
  /** The files of tree `sha`, path by path. */
  files(sha: string): TreeFiles;
  /** The entries of tree `sha` as a listing gives them: its own, or (recursive) everything under it. */
  entries(sha: string, recursive: boolean): Entry[];
  commitAnswer(sha: string, roots: Roots): Record<string, unknown> | undefined;
  writeBlob(bytes: Uint8Array<ArrayBuffer>): string;
  writeTree(files: TreeFiles): string;
  /** A commit of `tree` on `parents`; whom the request does not name is the token's owner. */
  writeCommit(
    tree: string,
    parents: string[],
    message: string,
    people: { author?: Person; committer?: Person },
  ): string;
  /** Whether `descendant` is `ancestor` or descends from it: what makes a ref update a fast forward. */
  isAncestor(ancestor: string, descendant: string): boolean;
  /** Points `branch` at `sha` if its head is still `expected` (undefined: no such branch yet); false if it moved. */
  moveBranch(branch: string, sha: string, expected: string | undefined): boolean;
  /** The token type of a secret that push protection finds in `text`, if it finds one. */
  secretIn(text: string): string | undefined;
  /** Counts a content-creating request that succeeded. */
  countWrite(): void;
}
