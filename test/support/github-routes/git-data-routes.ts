/**
 * GitHub's Git Database API, once for both stand-ins: refs (`git/ref`, `git/refs`), commits, blobs and trees,
 * read and written as GitHub does, over a `GitStore` (the in-memory fake's objects or a bare git repository).
 * As on GitHub every route answers 409 `Git Repository is empty.` until a branch has a commit, and a ref moves
 * only by a fast forward unless forced, checked when the update completes: a commit that lands meanwhile
 * makes it fail with 422 `Update is not a fast forward`.
 *
 * Each route checks the request as it arrives and answers with a `Settle`, which reads and changes the
 * repository when the request completes (the in-memory fake completes it after its latency).
 *
 * Push protection: GitHub documents it for "Create a blob" (and the contents PUT), which answer its 409. A
 * tree's inline `content` is a blob that the tree request creates, so a tree holding a secret is refused the
 * same way. A ref update is never refused: every object it can point to came through one of those.
 *
 * Not modelled, and refused with a 422 saying so: submodules, tags, file modes the store does not keep.
 */
import {
  blobAnswer,
  blobCreatedAnswer,
  DOCS,
  fixed,
  githubError,
  gitRepositoryEmpty,
  json,
  pushProtectionError,
  refAnswer,
  refObject,
  treeAnswer,
  type Answer,
  type Roots,
  type Settle,
} from "../fake-github/answers.ts";
import {
  blobValidationError,
  commitValidationError,
  refCreationValidationError,
  refUpdateValidationError,
  treeValidationError,
} from "../fake-github/git-data-validation.ts";
import { isPerson } from "../fake-github/put-validation.ts";
import type { GitStore } from "./git-store.ts";
import { BASE64, readJsonBody } from "./request-body.ts";
import { putFile, putTree, type TreeFiles } from "./tree-files.ts";

const FILE_MODE = "100644";
const TREE_MODE = "040000";
const SUBMODULE_MODE = "160000";
const FULL_SHA = /^[0-9a-f]{40}$/;
/** GitHub's answer to a tree entry naming an object it does not have, or deleting a path the tree does not hold. */
const BAD_OBJECT_STATE = "GitRPC::BadObjectState";
const BRANCH_REF = /^heads\/(.+)$/;

interface TreeItem {
  path?: string;
  mode?: string;
  type?: string;
  sha?: string | null;
  content?: string;
}

type Route = { docs: string; answer: () => Settle | Promise<Settle> };

export class GitDataRoutes {
  constructor(private readonly store: GitStore) {}

  /** Answers `method` on `route` (below `/repos/{owner}/{repo}/git/`, decoded); undefined for no such route. */
  async handle(method: string, route: string, request: Request, roots: Roots): Promise<Settle | undefined> {
    const found = this.route(method, route, request, roots);
    if (!found) return undefined;
    if (this.store.branches().size === 0) return fixed(gitRepositoryEmpty(found.docs));
    return found.answer();
  }

  private route(method: string, route: string, request: Request, roots: Roots): Route | undefined {
    const [kind = "", ...rest] = route.split("/");
    const name = rest.join("/");
    const withBody = (docs: string, answer: (body: Record<string, unknown>) => Settle): Route => ({
      docs,
      answer: async () => {
        const parsed = await readJsonBody(request, docs);
        return "body" in parsed ? answer(parsed.body) : fixed(parsed.refused);
      },
    });
    const read = (docs: string, answer: Settle): Route => ({ docs, answer: () => answer });
    switch (`${method} ${kind}${name ? "/" : ""}`) {
      case "GET ref/":
        return read(DOCS.getRef, () => this.getRef(name, true, roots));
      case "GET refs/":
        return read(DOCS.getRef, () => this.getRef(name, false, roots));
      case "PATCH refs/":
        return withBody(DOCS.updateRef, (body) => this.updateRef(name, body, roots));
      case "POST refs":
        return withBody(DOCS.createRef, (body) => this.createRef(body, roots));
      case "GET commits/":
        return read(DOCS.getCommit, () => this.getCommit(name, roots));
      case "POST commits":
        return withBody(DOCS.createCommit, (body) => this.createCommit(body, roots));
      case "GET blobs/":
        return read(DOCS.getBlob, () => this.getBlob(name, request.headers.get("accept"), roots));
      case "POST blobs":
        return withBody(DOCS.createBlob, (body) => this.createBlob(body, roots));
      case "GET trees/": {
        const recursive = new URL(request.url).searchParams.has("recursive");
        return read(DOCS.getTree, () => this.getTree(name, recursive, roots));
      }
      case "POST trees":
        return withBody(DOCS.createTree, (body) => this.createTree(body, roots));
      default:
        return undefined;
    }
  }

  /** `git/ref/{ref}` names one ref exactly; `git/refs/{ref}` answers that one, else every ref it begins. */
  private getRef(ref: string, exact: boolean, roots: Roots): Answer {
    const branches = this.store.branches();
    const name = BRANCH_REF.exec(ref)?.[1];
    const head = name === undefined ? undefined : branches.get(name);
    if (name !== undefined && head !== undefined) return refAnswer(200, name, head, roots);
    if (!exact) {
      const matching = [...branches]
        .filter(([other]) => `heads/${other}`.startsWith(ref))
        .sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      if (matching.length > 0)
        return json(
          200,
          matching.map(([other, sha]) => refObject(other, sha, roots)),
        );
    }
    return githubError(404, "Not Found", DOCS.getRef);
  }

  private getCommit(sha: string, roots: Roots): Answer {
    const answer = this.store.commitAnswer(sha, roots);
    return answer ? json(200, answer) : githubError(404, "Not Found", DOCS.getCommit);
  }

  private getBlob(sha: string, accept: string | null, roots: Roots): Answer {
    const bytes = this.store.blob(sha);
    return bytes ? blobAnswer({ bytes, sha }, accept, roots) : githubError(404, "Not Found", DOCS.getBlob);
  }

  /** The tree a sha names (a commit's tree for a commit), or a branch's head tree: GitHub takes any. */
  private getTree(shaOrBranch: string, recursive: boolean, roots: Roots): Answer {
    const head = this.store.branches().get(shaOrBranch.replace(/^refs\/heads\//, ""));
    const sha = head ?? shaOrBranch;
    const type = this.store.objectType(sha);
    const tree = type === "tree" ? sha : type === "commit" ? this.store.treeOf(sha) : undefined;
    if (tree === undefined) return githubError(404, "Not Found", DOCS.getTree);
    return treeAnswer(tree, this.store.entries(tree, recursive), "", roots);
  }

  private createBlob(body: Record<string, unknown>, roots: Roots): Settle {
    const invalid = blobValidationError(body);
    if (invalid) return fixed(githubError(422, invalid, DOCS.createBlob));
    const content = String(body.content);
    let bytes: Uint8Array<ArrayBuffer>;
    if (body.encoding === "base64") {
      const base64 = content.replace(/\s/g, "");
      if (!BASE64.test(base64)) return fixed(githubError(422, "content is not valid Base64", DOCS.createBlob));
      bytes = new Uint8Array(Buffer.from(base64, "base64"));
    } else {
      bytes = new TextEncoder().encode(content);
    }
    const secret = this.store.secretIn(Buffer.from(bytes).toString("utf8"));
    if (secret) return fixed(pushProtectionError(secret));
    return () => {
      const sha = this.store.writeBlob(bytes);
      this.store.countWrite();
      return blobCreatedAnswer(sha, roots);
    };
  }

  /**
   * Applies the entries in order on `base_tree` (or nothing): `content` or a blob `sha` writes a file, a tree
   * `sha` puts that tree at the path, `sha: null` deletes a file; git keeps no folder left empty.
   */
  private createTree(body: Record<string, unknown>, roots: Roots): Settle {
    const invalid = treeValidationError(body);
    if (invalid) return fixed(githubError(422, invalid, DOCS.createTree));
    const items = body.tree as TreeItem[];
    for (const item of items) {
      const secret = typeof item.content === "string" ? this.store.secretIn(item.content) : undefined;
      if (secret) return fixed(pushProtectionError(secret));
      const unmodelled = this.unmodelledEntry(item);
      if (unmodelled) return fixed(githubError(422, unmodelled, DOCS.createTree));
    }
    return () => {
      let files: TreeFiles = new Map();
      if (typeof body.base_tree === "string") {
        if (this.store.objectType(body.base_tree) !== "tree")
          return githubError(422, "base_tree is not a valid tree oid", DOCS.createTree);
        files = this.store.files(body.base_tree);
      }
      for (const item of items) {
        const refused = this.applyEntry(files, item);
        if (refused) return githubError(422, refused, DOCS.createTree);
      }
      const sha = this.store.writeTree(files);
      this.store.countWrite();
      return treeAnswer(sha, this.store.entries(sha, false), "", roots, 201);
    };
  }

  /** Why the stand-in cannot take a tree entry that GitHub would, if it cannot. */
  private unmodelledEntry(item: TreeItem): string | undefined {
    const mode = item.mode ?? FILE_MODE;
    if (item.type === "commit" || mode === SUBMODULE_MODE) return `${this.store.name} models no submodules`;
    if (mode !== TREE_MODE && !this.store.blobModes.has(mode))
      return `${this.store.name} models no files of mode ${mode}`;
    return undefined;
  }

  /** Applies one tree entry to `files`; why GitHub would refuse it, if it would. */
  private applyEntry(files: TreeFiles, item: TreeItem): string | undefined {
    const path = (item.path ?? "").replace(/^\/+|\/+$/g, "");
    if (path === "") return BAD_OBJECT_STATE;
    const isTree = item.type === "tree" || item.mode === TREE_MODE;
    const mode = item.mode ?? (isTree ? TREE_MODE : FILE_MODE);
    // Only a file can be deleted so; GitHub refuses to delete what the tree does not hold.
    if (item.sha === null) return files.delete(path) ? undefined : BAD_OBJECT_STATE;
    if (typeof item.content === "string") {
      if (isTree) return BAD_OBJECT_STATE;
      putFile(files, path, { mode, sha: this.store.writeBlob(new TextEncoder().encode(item.content)) });
      return undefined;
    }
    const sha = item.sha ?? "";
    if (isTree) {
      if (this.store.objectType(sha) !== "tree") return BAD_OBJECT_STATE;
      putTree(files, path, this.store.files(sha));
      return undefined;
    }
    if (this.store.objectType(sha) !== "blob") return BAD_OBJECT_STATE;
    putFile(files, path, { mode, sha });
    return undefined;
  }

  /** A commit of any tree the repository holds, on any parents (none: a root commit). */
  private createCommit(body: Record<string, unknown>, roots: Roots): Settle {
    const invalid = commitValidationError(body);
    if (invalid) return fixed(githubError(422, invalid, DOCS.createCommit));
    const tree = String(body.tree);
    const parents = (body.parents as string[] | undefined) ?? [];
    const people = {
      ...(isPerson(body.author) ? { author: body.author } : {}),
      ...(isPerson(body.committer) ? { committer: body.committer } : {}),
    };
    return () => {
      if (this.store.objectType(tree) !== "tree") return githubError(422, "Tree SHA does not exist", DOCS.createCommit);
      if (parents.some((parent) => this.store.objectType(parent) !== "commit"))
        return githubError(422, "Parent SHA does not exist or is not a commit object", DOCS.createCommit);
      const sha = this.store.writeCommit(tree, parents, String(body.message), people);
      this.store.countWrite();
      const answer = this.store.commitAnswer(sha, roots)!;
      return json(201, answer, { location: String(answer.url) });
    };
  }

  /** Moves a branch, checked against its head when the update completes, as concurrent writes see it. */
  private updateRef(ref: string, body: Record<string, unknown>, roots: Roots): Settle {
    const invalid = refUpdateValidationError(body);
    if (invalid) return fixed(githubError(422, invalid, DOCS.updateRef));
    const name = BRANCH_REF.exec(ref)?.[1];
    const sha = String(body.sha);
    const force = body.force === true;
    return () => {
      const head = name === undefined ? undefined : this.store.branches().get(name);
      if (name === undefined || head === undefined) return githubError(422, "Reference does not exist", DOCS.updateRef);
      if (this.store.objectType(sha) !== "commit") return githubError(422, "Object does not exist", DOCS.updateRef);
      if (!(force || this.store.isAncestor(head, sha)) || !this.store.moveBranch(name, sha, head))
        return githubError(422, "Update is not a fast forward", DOCS.updateRef);
      this.store.countWrite();
      return refAnswer(200, name, sha, roots);
    };
  }

  private createRef(body: Record<string, unknown>, roots: Roots): Settle {
    const invalid = refCreationValidationError(body);
    if (invalid) return fixed(githubError(422, invalid, DOCS.createRef));
    const ref = String(body.ref);
    if (!/^refs\/[^/]+\/./.test(ref))
      return fixed(
        githubError(422, "Reference name must start with 'refs/' and have at least two slashes", DOCS.createRef),
      );
    const name = /^refs\/heads\/(.+)$/.exec(ref)?.[1];
    if (name === undefined) return fixed(githubError(422, `${this.store.name} models branches only`, DOCS.createRef));
    const sha = String(body.sha);
    return () => {
      if (this.store.branches().has(name)) return githubError(422, "Reference already exists", DOCS.createRef);
      if (!FULL_SHA.test(sha) || this.store.objectType(sha) !== "commit")
        return githubError(422, "Object does not exist", DOCS.createRef);
      if (!this.store.moveBranch(name, sha, undefined))
        return githubError(422, "Reference already exists", DOCS.createRef);
      this.store.countWrite();
      return refAnswer(201, name, sha, roots);
    };
  }
}
