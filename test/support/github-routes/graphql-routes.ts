/**
 * GitHub's GraphQL endpoint (`POST /graphql`), once for both stand-ins, as far as the project uses it: the
 * `updateRefs` mutation, GitHub's one compare-and-swap on a branch. Its input is read from the request's
 * `variables.input` (the project sends it so); `repositoryId` is the repository's `node_id`.
 *
 * As GitHub documents it: every update is applied or none; `beforeOid` must be the ref's value (all zeros:
 * the ref must not exist), `force: true` allows a move that is no fast forward. As GitHub answers it: a
 * failed update is HTTP 200 with `data.updateRefs: null` and a top-level `errors` entry, a generic one when
 * `beforeOid` no longer matches (GitHub gives no code that says the ref moved; a client reads the ref again).
 *
 * Not modelled, and answered with an error saying so: any other query, deleting or creating refs, tags.
 */
import { githubError, json, repositoryNodeId, type Answer } from "../fake-github/answers.ts";
import type { GitStore } from "./git-store.ts";
import { readJsonBody } from "./request-body.ts";

const DOCS_GRAPHQL = "https://docs.github.com/graphql";
const ZERO_OID = "0".repeat(40);
const FULL_SHA = /^[0-9a-f]{40}$/;
const BRANCH_REF = /^refs\/heads\/(.+)$/;

interface RefUpdate {
  name: string;
  afterOid: string;
  beforeOid?: string;
  force?: boolean;
}

export class GraphqlRoutes {
  constructor(
    private readonly store: GitStore,
    private readonly owner: string,
    private readonly repo: string,
  ) {}

  /** Whether `path` (below the host) is the GraphQL endpoint of an API rooted at `basePath` ("" or "/api/v3"). */
  static isEndpoint(path: string, basePath = ""): boolean {
    return path === "/graphql" || (basePath !== "" && path === `${basePath.replace(/\/v3$/, "")}/graphql`);
  }

  /** Checks the request as it arrives; the answer applies the updates when it settles (the writes' turn). */
  async handle(request: Request): Promise<() => Answer> {
    const parsed = await readJsonBody(request, DOCS_GRAPHQL);
    if ("refused" in parsed) return () => parsed.refused;
    const { query, variables } = parsed.body;
    if (typeof query !== "string") return () => githubError(400, "A query attribute must be specified", DOCS_GRAPHQL);
    if (!/\bupdateRefs\s*\(/.test(query)) return () => failed(`${this.store.name} models the updateRefs mutation only`);
    const input = (variables as { input?: { repositoryId?: unknown; refUpdates?: unknown } } | undefined)?.input;
    if (!input || !Array.isArray(input.refUpdates))
      return () => failed("Variable $input of type UpdateRefsInput! was provided invalid value");
    const updates = input.refUpdates as RefUpdate[];
    if (input.repositoryId !== repositoryNodeId(this.owner, this.repo))
      return () =>
        failed(`Could not resolve to a node with the global id of '${String(input.repositoryId)}'`, "NOT_FOUND");
    return () => this.apply(updates);
  }

  private apply(updates: readonly RefUpdate[]): Answer {
    const branches = this.store.branches();
    const moves: { branch: string; after: string; before: string }[] = [];
    for (const { name, afterOid, beforeOid, force } of updates) {
      const branch = BRANCH_REF.exec(String(name))?.[1];
      if (branch === undefined) return failed(`${this.store.name} models branches only`);
      if (afterOid === ZERO_OID || !FULL_SHA.test(String(afterOid)) || this.store.objectType(afterOid) !== "commit")
        return failed(`${this.store.name} models moving a branch to a commit only`);
      const head = branches.get(branch);
      if (head === undefined) return failed(`${this.store.name} models no ref creation`);
      if (beforeOid !== undefined && beforeOid !== head) return generic();
      if (!force && !this.store.isAncestor(head, afterOid)) return generic();
      moves.push({ branch, after: afterOid, before: head });
    }
    // Writes are applied one at a time: nothing moves a branch between the checks above and these moves.
    for (const { branch, after, before } of moves) {
      if (!this.store.moveBranch(branch, after, before)) return generic();
      this.store.countWrite();
    }
    return json(200, { data: { updateRefs: { clientMutationId: null } } });
  }
}

/** A mutation GitHub refused: still HTTP 200, the reason in `errors`. */
function failed(message: string, type?: string): Answer {
  return json(200, {
    data: { updateRefs: null },
    errors: [{ ...(type ? { type } : {}), path: ["updateRefs"], locations: [{ line: 1, column: 60 }], message }],
  });
}

/** What GitHub says when an update is rejected (a stale `beforeOid`, no fast forward): nothing specific. */
function generic(): Answer {
  return failed(
    "Something went wrong while executing your query. This may be the result of a timeout, or it could be a GitHub bug.",
  );
}
