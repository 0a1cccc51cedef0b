/**
 * GitHub's Git Database API on the bare repository: refs, commits, trees and blobs, so that several files
 * change in one commit. As on GitHub every route answers 409 `Git Repository is empty.` until a branch has a
 * commit, and a ref moves only by a fast forward (`git merge-base --is-ancestor`) unless forced. Branches
 * are the only refs modelled; submodules are refused with a 422 saying so.
 */
import {
  blobAnswer,
  blobCreatedAnswer,
  DOCS,
  githubError,
  gitRepositoryEmpty,
  json,
  refAnswer,
  refObject,
  treeAnswer,
  type Answer,
  type Roots,
} from "../fake-github/answers.ts";
import {
  blobValidationError,
  commitValidationError,
  refCreationValidationError,
  refUpdateValidationError,
  treeValidationError,
} from "../fake-github/git-data-validation.ts";
import { FULL_SHA, type BareRepository } from "./bare-repository.ts";
import { BASE64, commitAnswerOf, entryOf, peopleOf, readJsonBody } from "./shapes.ts";
import { putFile, putTree, removeFile, type TreeFiles } from "./tree-files.ts";

const FILE_MODE = "100644";
const TREE_MODE = "040000";
const SUBMODULE_MODE = "160000";
const BLOB_MODES = new Set([FILE_MODE, "100755", "120000"]);
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

type Route = { docs: string; answer: () => Answer | Promise<Answer> };

export class GitDataRoutes {
  constructor(private readonly git: BareRepository) {}

  /** Answers `method` on `route` (below `/repos/{owner}/{repo}/git/`, decoded); undefined for no such route. */
  async handle(method: string, route: string, request: Request, roots: Roots): Promise<Answer | undefined> {
    const found = this.route(method, route, request, roots);
    if (!found) return undefined;
    if (this.git.branches().size === 0) return gitRepositoryEmpty(found.docs);
    return found.answer();
  }

  private route(method: string, route: string, request: Request, roots: Roots): Route | undefined {
    const [kind = "", ...rest] = route.split("/");
    const name = rest.join("/");
    const withBody = (docs: string, answer: (body: Record<string, unknown>) => Answer): Route => ({
      docs,
      answer: async () => {
        const parsed = await readJsonBody(request, docs);
        return "body" in parsed ? answer(parsed.body) : parsed.refused;
      },
    });
    switch (`${method} ${kind}${name ? "/" : ""}`) {
      case "GET ref/":
        return { docs: DOCS.getRef, answer: () => this.getRef(name, true, roots) };
      case "GET refs/":
        return { docs: DOCS.getRef, answer: () => this.getRef(name, false, roots) };
      case "PATCH refs/":
        return withBody(DOCS.updateRef, (body) => this.updateRef(name, body, roots));
      case "POST refs":
        return withBody(DOCS.createRef, (body) => this.createRef(body, roots));
      case "GET commits/":
        return { docs: DOCS.getCommit, answer: () => this.getCommit(name, roots) };
      case "POST commits":
        return withBody(DOCS.createCommit, (body) => this.createCommit(body, roots));
      case "GET blobs/":
        return { docs: DOCS.getBlob, answer: () => this.getBlob(name, request.headers.get("accept"), roots) };
      case "POST blobs":
        return withBody(DOCS.createBlob, (body) => this.createBlob(body, roots));
      case "GET trees/": {
        const recursive = new URL(request.url).searchParams.has("recursive");
        return { docs: DOCS.getTree, answer: () => this.getTree(name, recursive, roots) };
      }
      case "POST trees":
        return withBody(DOCS.createTree, (body) => this.createTree(body, roots));
      default:
        return undefined;
    }
  }

  /** `git/ref/{ref}` names one ref exactly; `git/refs/{ref}` answers that one, else every ref it begins. */
  private getRef(ref: string, exact: boolean, roots: Roots): Answer {
    const branches = this.git.branches();
    const name = BRANCH_REF.exec(ref)?.[1];
    const tip = name === undefined ? undefined : branches.get(name);
    if (name !== undefined && tip !== undefined) return refAnswer(200, name, tip, roots);
    if (!exact) {
      const matching = [...branches].filter(([other]) => `heads/${other}`.startsWith(ref));
      if (matching.length > 0)
        return json(
          200,
          matching.map(([other, sha]) => refObject(other, sha, roots)),
        );
    }
    return githubError(404, "Not Found", DOCS.getRef);
  }

  private getCommit(sha: string, roots: Roots): Answer {
    const commit = this.git.commit(sha);
    return commit ? json(200, commitAnswerOf(commit, roots)) : githubError(404, "Not Found", DOCS.getCommit);
  }

  private getBlob(sha: string, accept: string | null, roots: Roots): Answer {
    if (this.git.objectType(sha) !== "blob") return githubError(404, "Not Found", DOCS.getBlob);
    return blobAnswer({ bytes: new Uint8Array(this.git.blob(sha)), sha }, accept, roots);
  }

  /** The tree a sha names (a commit's tree for a commit), or a branch's tip tree: GitHub takes any. */
  private getTree(shaOrBranch: string, recursive: boolean, roots: Roots): Answer {
    const tip = this.git.branches().get(shaOrBranch.replace(/^refs\/heads\//, ""));
    const sha = tip ?? shaOrBranch;
    const type = this.git.objectType(sha);
    const tree = type === "tree" ? sha : type === "commit" ? this.git.commit(sha)!.tree : undefined;
    if (tree === undefined) return githubError(404, "Not Found", DOCS.getTree);
    const entries = this.git.lsTree(tree, { recursive }).flatMap((row) => entryOf(row, "") ?? []);
    return treeAnswer(tree, entries, "", roots);
  }

  private createBlob(body: Record<string, unknown>, roots: Roots): Answer {
    const invalid = blobValidationError(body);
    if (invalid) return githubError(422, invalid, DOCS.createBlob);
    const content = String(body.content);
    let bytes: Buffer;
    if (body.encoding === "base64") {
      const base64 = content.replace(/\s/g, "");
      if (!BASE64.test(base64)) return githubError(422, "content is not valid Base64", DOCS.createBlob);
      bytes = Buffer.from(base64, "base64");
    } else {
      bytes = Buffer.from(content, "utf8");
    }
    return blobCreatedAnswer(this.git.writeBlob(bytes), roots);
  }

  /**
   * Applies the entries in order on `base_tree` (or nothing): `content` or a blob `sha` writes a file, a tree
   * `sha` puts that tree at the path, `sha: null` deletes a file; git keeps no folder left empty.
   */
  private createTree(body: Record<string, unknown>, roots: Roots): Answer {
    const invalid = treeValidationError(body);
    if (invalid) return githubError(422, invalid, DOCS.createTree);
    let files: TreeFiles = new Map();
    if (typeof body.base_tree === "string") {
      if (this.git.objectType(body.base_tree) !== "tree")
        return githubError(422, "base_tree is not a valid tree oid", DOCS.createTree);
      files = this.git.files(body.base_tree);
    }
    for (const item of body.tree as TreeItem[]) {
      const refused = this.applyEntry(files, item);
      if (refused) return githubError(422, refused, DOCS.createTree);
    }
    const sha = this.git.writeTree(files);
    const entries = this.git.lsTree(sha).flatMap((row) => entryOf(row, "") ?? []);
    return treeAnswer(sha, entries, "", roots, 201);
  }

  /** Applies one tree entry to `files`; why GitHub would refuse it, if it would. */
  private applyEntry(files: TreeFiles, item: TreeItem): string | undefined {
    const path = (item.path ?? "").replace(/^\/+|\/+$/g, "");
    const mode = item.mode ?? (item.type === "tree" ? TREE_MODE : FILE_MODE);
    if (item.type === "commit" || mode === SUBMODULE_MODE) return "The git stand-in models no submodules";
    if (path === "") return BAD_OBJECT_STATE;
    const isTree = item.type === "tree" || mode === TREE_MODE;
    if (item.sha === null) return removeFile(files, path) ? undefined : BAD_OBJECT_STATE;
    if (typeof item.content === "string") {
      if (isTree || !BLOB_MODES.has(mode)) return BAD_OBJECT_STATE;
      putFile(files, path, { mode, sha: this.git.writeBlob(item.content) });
      return undefined;
    }
    const sha = item.sha ?? "";
    if (isTree) {
      if (this.git.objectType(sha) !== "tree") return BAD_OBJECT_STATE;
      putTree(files, path, this.git.files(sha));
      return undefined;
    }
    if (this.git.objectType(sha) !== "blob" || !BLOB_MODES.has(mode)) return BAD_OBJECT_STATE;
    putFile(files, path, { mode, sha });
    return undefined;
  }

  /** A commit of any tree the repository holds, on any parents (none: a root commit). */
  private createCommit(body: Record<string, unknown>, roots: Roots): Answer {
    const invalid = commitValidationError(body);
    if (invalid) return githubError(422, invalid, DOCS.createCommit);
    const tree = String(body.tree);
    const parents = (body.parents as string[] | undefined) ?? [];
    if (this.git.objectType(tree) !== "tree") return githubError(422, "Tree SHA does not exist", DOCS.createCommit);
    if (parents.some((parent) => this.git.objectType(parent) !== "commit"))
      return githubError(422, "Parent SHA does not exist or is not a commit object", DOCS.createCommit);
    const sha = this.git.commitTree(tree, parents, String(body.message), peopleOf(body));
    const answer = commitAnswerOf(this.git.commit(sha)!, roots);
    return json(201, answer, { location: String(answer.url) });
  }

  private updateRef(ref: string, body: Record<string, unknown>, roots: Roots): Answer {
    const invalid = refUpdateValidationError(body);
    if (invalid) return githubError(422, invalid, DOCS.updateRef);
    const name = BRANCH_REF.exec(ref)?.[1];
    const tip = name === undefined ? undefined : this.git.branches().get(name);
    if (name === undefined || tip === undefined) return githubError(422, "Reference does not exist", DOCS.updateRef);
    const sha = String(body.sha);
    if (this.git.objectType(sha) !== "commit") return githubError(422, "Object does not exist", DOCS.updateRef);
    const fastForward = this.git.isAncestor(tip, sha);
    if (!(body.force === true || fastForward) || !this.git.updateRef(name, sha, tip))
      return githubError(422, "Update is not a fast forward", DOCS.updateRef);
    return refAnswer(200, name, sha, roots);
  }

  private createRef(body: Record<string, unknown>, roots: Roots): Answer {
    const invalid = refCreationValidationError(body);
    if (invalid) return githubError(422, invalid, DOCS.createRef);
    const ref = String(body.ref);
    if (!/^refs\/[^/]+\/./.test(ref))
      return githubError(422, "Reference name must start with 'refs/' and have at least two slashes", DOCS.createRef);
    const name = /^refs\/heads\/(.+)$/.exec(ref)?.[1];
    if (name === undefined) return githubError(422, "The git stand-in models branches only", DOCS.createRef);
    const sha = String(body.sha);
    if (this.git.branches().has(name)) return githubError(422, "Reference already exists", DOCS.createRef);
    if (!FULL_SHA.test(sha) || this.git.objectType(sha) !== "commit")
      return githubError(422, "Object does not exist", DOCS.createRef);
    if (!this.git.updateRef(name, sha, undefined)) return githubError(422, "Reference already exists", DOCS.createRef);
    return refAnswer(201, name, sha, roots);
  }
}
