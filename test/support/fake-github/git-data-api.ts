/**
 * GitHub's Git Database API on the fake's repository: refs (`git/ref`, `git/refs`), commits, blobs and trees,
 * read and written as GitHub does, so that several files can change in one commit. As on GitHub, every route
 * answers 409 `Git Repository is empty.` until the repository has a commit (only the contents API makes the
 * first one), and a ref moves only by a fast forward unless forced, checked when the update completes: a
 * commit that lands meanwhile, through either API, makes it fail with 422 `Update is not a fast forward`.
 *
 * Push protection: GitHub documents it for "Create a blob" (and the contents PUT), which answer its 409. A
 * tree's inline `content` is a blob that the tree request creates, so a tree holding a secret is refused the
 * same way. A ref update is never refused: every object it can point to came through one of those.
 *
 * Not modelled, and refused with a 422 saying so: file modes other than 100644, submodules, tags. Where
 * GitHub's docs give no wording for a refusal the messages are those GitHub was seen to send, else the
 * fake's own.
 */
import {
  blobAnswer,
  blobCreatedAnswer,
  commitAnswer,
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
} from "./answers.ts";
import type { Files, GitDatabase } from "./git-database.ts";
import {
  blobValidationError,
  commitValidationError,
  refCreationValidationError,
  refUpdateValidationError,
  treeValidationError,
} from "./git-data-validation.ts";
import { commitSha, directoryEntries, treeSha, type Entry, type Person, type StoredFile } from "./git-objects.ts";
import { isPerson, isRecord } from "./put-validation.ts";

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const FILE_MODE = "100644";
const TREE_MODE = "040000";
/** GitHub's answer to a tree entry naming an object it does not have, or deleting a path the tree does not hold. */
const BAD_OBJECT_STATE = "GitRPC::BadObjectState";
const BRANCH_REF = /^heads\/(.+)$/;

export interface Branch {
  head: string;
  files: Files;
}

/** What the routes read and change of the fake's repository. */
export interface GitRepository {
  readonly branches: ReadonlyMap<string, Branch>;
  readonly database: GitDatabase;
  /** Who commits when a request names no one: the token's owner. */
  readonly tokenUser: Person;
  now(): number;
  /** The token type of a secret that push protection finds in `text`, if it finds one. */
  secretIn(text: string): string | undefined;
  /** Counts a content-creating request that succeeded. */
  countWrite(): void;
  /** Points `branch` (created when new) at commit `sha`, whose files are `files`. */
  moveBranch(branch: string, sha: string, files: Files): void;
}

interface TreeItem {
  path: string;
  mode?: string;
  type?: string;
  sha?: string | null;
  content?: string;
}

export class GitDataApi {
  constructor(private readonly repo: GitRepository) {}

  /** Answers `method` on `route` (below `/repos/{owner}/{repo}/git/`, decoded); undefined for no such route. */
  async handle(method: string, route: string, request: Request, roots: Roots): Promise<Settle | undefined> {
    const found = this.route(method, route, request, roots);
    if (!found) return undefined;
    if (this.repo.branches.size === 0) return fixed(gitRepositoryEmpty(found.docs));
    return found.answer();
  }

  private route(
    method: string,
    route: string,
    request: Request,
    roots: Roots,
  ): { docs: string; answer: () => Promise<Settle> | Settle } | undefined {
    const [kind = "", ...rest] = route.split("/");
    const name = rest.join("/");
    const withBody = (docs: string, answer: (body: Record<string, unknown>) => Settle) => ({
      docs,
      answer: async () => {
        const parsed = await readBody(request, docs);
        return "body" in parsed ? answer(parsed.body) : fixed(parsed.refused);
      },
    });
    const read = (docs: string, answer: Settle) => ({ docs, answer: () => answer });
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
    const name = BRANCH_REF.exec(ref)?.[1];
    const branch = name === undefined ? undefined : this.repo.branches.get(name);
    if (name !== undefined && branch) return refAnswer(200, name, branch.head, roots);
    if (!exact) {
      const matching = [...this.repo.branches]
        .filter(([other]) => `heads/${other}`.startsWith(ref))
        .sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      if (matching.length > 0)
        return json(
          200,
          matching.map(([other, { head }]) => refObject(other, head, roots)),
        );
    }
    return githubError(404, "Not Found", DOCS.getRef);
  }

  private getCommit(sha: string, roots: Roots): Answer {
    const commit = this.repo.database.commit(sha);
    return commit ? json(200, commitAnswer(commit, roots)) : githubError(404, "Not Found", DOCS.getCommit);
  }

  private getBlob(sha: string, accept: string | null, roots: Roots): Answer {
    const blob = this.repo.database.blob(sha);
    return blob ? blobAnswer(blob, accept, roots) : githubError(404, "Not Found", DOCS.getBlob);
  }

  /** The tree `sha` names (any tree the repository holds), or a branch's head tree: GitHub takes either. */
  private getTree(shaOrBranch: string, recursive: boolean, roots: Roots): Answer {
    const files =
      this.repo.branches.get(shaOrBranch.replace(/^refs\/heads\//, ""))?.files ?? this.repo.database.tree(shaOrBranch);
    if (!files) return githubError(404, "Not Found", DOCS.getTree);
    const entries = recursive ? entriesUnder(files, "") : directoryEntries(files, "");
    return treeAnswer(treeSha(files), entries, "", roots);
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
    const secret = this.repo.secretIn(Buffer.from(bytes).toString("utf8"));
    if (secret) return fixed(pushProtectionError(secret));
    return () => {
      const blob = this.repo.database.addBlob(bytes);
      this.repo.countWrite();
      return blobCreatedAnswer(blob.sha, roots);
    };
  }

  /**
   * Applies the entries in order on `base_tree` (or nothing): a `content` or blob `sha` writes a file, creating
   * the folders on its path; a tree `sha` puts that tree at the path; `sha: null` deletes a file, and a folder
   * left empty goes with it, as git keeps no empty folders.
   */
  private createTree(body: Record<string, unknown>, roots: Roots): Settle {
    const invalid = treeValidationError(body);
    if (invalid) return fixed(githubError(422, invalid, DOCS.createTree));
    const items = body.tree as TreeItem[];
    for (const item of items) {
      const secret = typeof item.content === "string" ? this.repo.secretIn(item.content) : undefined;
      if (secret) return fixed(pushProtectionError(secret));
      const unmodelled = unmodelledEntry(item);
      if (unmodelled) return fixed(githubError(422, unmodelled, DOCS.createTree));
    }
    return () => {
      const { database } = this.repo;
      let files = new Map<string, StoredFile>();
      if (typeof body.base_tree === "string") {
        const base = database.tree(body.base_tree);
        if (!base) return githubError(422, "base_tree is not a valid tree oid", DOCS.createTree);
        files = new Map(base);
      }
      for (const item of items) {
        const path = (item.path ?? "").replace(/^\/+|\/+$/g, "");
        if (path === "") return githubError(422, BAD_OBJECT_STATE, DOCS.createTree);
        if (item.sha === null) {
          // Only a file can be deleted so; GitHub refuses to delete what the tree does not hold.
          if (!files.delete(path)) return githubError(422, BAD_OBJECT_STATE, DOCS.createTree);
        } else if (typeof item.content === "string") {
          putFile(files, path, database.addBlob(new TextEncoder().encode(item.content)));
        } else if (item.type === "tree" || item.mode === TREE_MODE) {
          const tree = database.tree(item.sha!);
          if (!tree) return githubError(422, BAD_OBJECT_STATE, DOCS.createTree);
          putTree(files, path, tree);
        } else {
          const blob = database.blob(item.sha!);
          if (!blob) return githubError(422, BAD_OBJECT_STATE, DOCS.createTree);
          putFile(files, path, blob);
        }
      }
      const sha = database.addTree(files);
      this.repo.countWrite();
      return treeAnswer(sha, directoryEntries(files, ""), "", roots, 201);
    };
  }

  /** A commit of any tree the repository holds, on any parents (none: a root commit). */
  private createCommit(body: Record<string, unknown>, roots: Roots): Settle {
    const invalid = commitValidationError(body);
    if (invalid) return fixed(githubError(422, invalid, DOCS.createCommit));
    const tree = String(body.tree);
    const parents = (body.parents as string[] | undefined) ?? [];
    const message = String(body.message);
    const committer = isPerson(body.committer) ? body.committer : isPerson(body.author) ? body.author : undefined;
    return () => {
      const { database } = this.repo;
      if (!database.tree(tree)) return githubError(422, "Tree SHA does not exist", DOCS.createCommit);
      if (parents.some((parent) => !database.commit(parent)))
        return githubError(422, "Parent SHA does not exist or is not a commit object", DOCS.createCommit);
      const who = committer ?? this.repo.tokenUser;
      const date = new Date(this.repo.now());
      const commit = {
        sha: commitSha(tree, parents, who, message, date),
        tree,
        parents,
        message,
        committer: who,
        date,
      };
      database.addCommit(commit);
      this.repo.countWrite();
      const answer = commitAnswer(commit, roots);
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
      const branch = name === undefined ? undefined : this.repo.branches.get(name);
      if (name === undefined || !branch) return githubError(422, "Reference does not exist", DOCS.updateRef);
      const files = this.filesOfCommit(sha);
      if (!files) return githubError(422, "Object does not exist", DOCS.updateRef);
      if (!force && !this.repo.database.descends(sha, branch.head))
        return githubError(422, "Update is not a fast forward", DOCS.updateRef);
      this.repo.moveBranch(name, sha, files);
      this.repo.countWrite();
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
    if (name === undefined) return fixed(githubError(422, "The fake GitHub models branches only", DOCS.createRef));
    const sha = String(body.sha);
    return () => {
      if (this.repo.branches.has(name)) return githubError(422, "Reference already exists", DOCS.createRef);
      const files = this.filesOfCommit(sha);
      if (!files) return githubError(422, "Object does not exist", DOCS.createRef);
      this.repo.moveBranch(name, sha, files);
      this.repo.countWrite();
      return refAnswer(201, name, sha, roots);
    };
  }

  private filesOfCommit(sha: string): Files | undefined {
    const commit = this.repo.database.commit(sha);
    return commit && this.repo.database.tree(commit.tree);
  }
}

/** Why the fake cannot take a tree entry that GitHub would, if it cannot. */
function unmodelledEntry(item: TreeItem): string | undefined {
  const mode = item.mode ?? FILE_MODE;
  if (item.type === "commit" || mode === "160000") return "The fake GitHub models no submodules";
  if (mode !== FILE_MODE && mode !== TREE_MODE) return `The fake GitHub models no files of mode ${mode}`;
  return undefined;
}

/** Writes `file` at `path`, replacing a folder there, or a file where a folder on its path must be. */
function putFile(files: Map<string, StoredFile>, path: string, file: StoredFile): void {
  clearPath(files, path);
  files.set(path, file);
}

function putTree(files: Map<string, StoredFile>, path: string, tree: Files): void {
  clearPath(files, path);
  for (const [inner, file] of tree) files.set(`${path}/${inner}`, file);
}

function clearPath(files: Map<string, StoredFile>, path: string): void {
  for (let slash = path.indexOf("/"); slash !== -1; slash = path.indexOf("/", slash + 1))
    files.delete(path.slice(0, slash));
  files.delete(path);
  const prefix = `${path}/`;
  for (const key of [...files.keys()]) if (key.startsWith(prefix)) files.delete(key);
}

/** Every file and folder under `dir`, as a recursive tree listing gives them: each folder before what it holds. */
function entriesUnder(files: Files, dir: string): Entry[] {
  return directoryEntries(files, dir).flatMap((entry) =>
    entry.type === "dir" ? [entry, ...entriesUnder(files, entry.path)] : [entry],
  );
}

async function readBody(
  request: Request,
  docs: string,
): Promise<{ body: Record<string, unknown> } | { refused: Answer }> {
  let body: unknown;
  try {
    body = JSON.parse(await request.text());
  } catch {
    return { refused: githubError(400, "Problems parsing JSON", docs) };
  }
  return isRecord(body) ? { body } : { refused: githubError(400, "Body should be a JSON object", docs) };
}
