import type { Roots } from "../fake-github/answers.ts";
import type { Entry, Person } from "../fake-github/git-objects.ts";
import type { GitStore } from "../github-routes/git-store.ts";
import type { TreeFiles } from "../github-routes/tree-files.ts";
import type { BareRepository } from "./bare-repository.ts";
import { commitAnswerOf, entryOf, peopleOf } from "./shapes.ts";

/** A bare git repository as the shared Git Data API routes take it; it has no push protection. */
export class BareGitStore implements GitStore {
  readonly name = "The git stand-in";
  readonly blobModes: ReadonlySet<string> = new Set(["100644", "100755", "120000"]);

  constructor(private readonly git: BareRepository) {}

  branches(): ReadonlyMap<string, string> {
    return this.git.branches();
  }

  objectType(sha: string): string | undefined {
    return this.git.objectType(sha);
  }

  blob(sha: string): Uint8Array<ArrayBuffer> | undefined {
    return this.git.objectType(sha) === "blob" ? new Uint8Array(this.git.blob(sha)) : undefined;
  }

  treeOf(sha: string): string | undefined {
    return this.git.commit(sha)?.tree;
  }

  files(sha: string): TreeFiles {
    return this.git.files(sha);
  }

  entries(sha: string, recursive: boolean): Entry[] {
    return this.git.lsTree(sha, { recursive }).flatMap((row) => entryOf(row, "") ?? []);
  }

  commitAnswer(sha: string, roots: Roots): Record<string, unknown> | undefined {
    const commit = this.git.commit(sha);
    return commit && commitAnswerOf(commit, roots);
  }

  writeBlob(bytes: Uint8Array<ArrayBuffer>): string {
    return this.git.writeBlob(bytes);
  }

  writeTree(files: TreeFiles): string {
    return this.git.writeTree(files);
  }

  writeCommit(tree: string, parents: string[], message: string, people: { author?: Person; committer?: Person }) {
    return this.git.commitTree(tree, parents, message, peopleOf(people));
  }

  isAncestor(ancestor: string, descendant: string): boolean {
    return this.git.isAncestor(ancestor, descendant);
  }

  moveBranch(branch: string, sha: string, expected: string | undefined): boolean {
    return this.git.updateRef(branch, sha, expected);
  }

  secretIn(): undefined {
    return undefined;
  }

  countWrite(): void {}
}
