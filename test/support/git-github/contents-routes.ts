/**
 * The contents API on the bare repository: `GET /repos/{owner}/{repo}/contents/{path}` (a file, with the raw
 * media type its bytes; a folder, its entries) and `PUT` of one file, one commit on the branch's tip each.
 */
import { contentEntry, DOCS, fileAnswer, githubError, json, type Answer, type Roots } from "../fake-github/answers.ts";
import { putValidationError } from "../fake-github/put-validation.ts";
import type { BareRepository } from "./bare-repository.ts";
import { BASE64, readJsonBody } from "../github-routes/request-body.ts";
import { commitAnswerOf, entryOf, peopleOf } from "./shapes.ts";
import { putFile } from "../github-routes/tree-files.ts";

/** GitHub's contents API lists the first 1,000 entries of a folder, and no more. */
const DIRECTORY_LISTING_LIMIT = 1000;
const FILE_MODE = "100644";

export class ContentsRoutes {
  constructor(
    private readonly git: BareRepository,
    private readonly defaultBranch: string,
  ) {}

  get(path: string, ref: string | null, accept: string | null, roots: Roots): Answer {
    if (this.git.branches().size === 0) return githubError(404, "This repository is empty.", DOCS.getContent);
    const refName = ref || this.defaultBranch;
    const commit = this.git.resolve(refName);
    if (!commit) return githubError(404, `No commit found for the ref ${refName}`, DOCS.getContent);
    // Links name the branch as asked for it, or the commit.
    const linkRef = commit.branch ?? commit.sha;
    const entry = path === "" ? undefined : this.git.entryAt(commit.sha, path);
    if (entry?.type === "blob") {
      const bytes = new Uint8Array(this.git.blob(entry.sha));
      return fileAnswer(path, { bytes, sha: entry.sha }, linkRef, accept, roots);
    }
    if (path !== "" && entry?.type !== "tree") return githubError(404, "Not Found", DOCS.getContent);
    const entries = this.git.lsTree(path === "" ? commit.sha : entry!.sha).flatMap((row) => entryOf(row, path) ?? []);
    return json(
      200,
      entries.slice(0, DIRECTORY_LISTING_LIMIT).map((one) => contentEntry(one, linkRef, roots)),
    );
  }

  /**
   * GitHub checks `sha` against the file at the branch's tip, and commits on that tip. Writes reach this one
   * at a time, so a writer that read before another's write landed finds its sha stale.
   */
  async put(request: Request, path: string, roots: Roots): Promise<Answer> {
    const parsed = await readJsonBody(request, DOCS.putContent);
    if ("refused" in parsed) return parsed.refused;
    const { body } = parsed;
    const invalid = putValidationError(body);
    if (invalid) return githubError(422, invalid, DOCS.putContent);
    const content = String(body.content).replace(/\s/g, "");
    if (!BASE64.test(content)) return githubError(422, "content is not valid Base64", DOCS.putContent);
    if (path === "") return githubError(404, "Not Found", DOCS.putContent);

    const branch = typeof body.branch === "string" ? body.branch : this.defaultBranch;
    const branches = this.git.branches();
    const tip = branches.get(branch);
    // Only an empty repository's first commit may create a branch: it creates the default one.
    if (tip === undefined && !(branches.size === 0 && branch === this.defaultBranch))
      return githubError(404, `Branch ${branch} not found`, DOCS.putContent);
    const held = tip === undefined ? undefined : this.git.entryAt(tip, path);
    const existing = held?.type === "blob" ? held : undefined;
    const sha = typeof body.sha === "string" ? body.sha : undefined;
    if (existing && sha === undefined)
      return githubError(422, `Invalid request.\n\n"sha" wasn't supplied.`, DOCS.putContent);
    if (sha !== undefined && sha !== existing?.sha)
      return githubError(409, `${path} does not match ${sha}`, DOCS.putContent);

    const bytes = Buffer.from(content, "base64");
    const blob = this.git.writeBlob(bytes);
    const files = tip === undefined ? new Map() : this.git.files(tip);
    putFile(files, path, { mode: existing?.mode ?? FILE_MODE, sha: blob });
    const tree = this.git.writeTree(files);
    const commit = this.git.commitTree(tree, tip === undefined ? [] : [tip], String(body.message), peopleOf(body));
    if (!this.git.updateRef(branch, commit, tip)) {
      const now = this.git.branches().get(branch);
      return githubError(409, `is at ${now} but expected ${tip}`, DOCS.putContent);
    }
    return json(existing ? 200 : 201, {
      content: contentEntry({ type: "file", path, sha: blob, size: bytes.byteLength }, branch, roots),
      commit: commitAnswerOf(this.git.commit(commit)!, roots),
    });
  }
}
