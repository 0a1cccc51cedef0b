import { describe, expect, it } from "vitest";
import {
  OWNER,
  REPO,
  HELLO_BLOB_SHA,
  TREE_OF_A,
  TREE_OF_A_C,
  ROOT_TREE,
  useFake,
  octokit,
  base64,
  failure,
  put,
  get,
  useMsw,
} from "./client.ts";

useMsw();

describe("the Git Database API", () => {
  const repo = { owner: OWNER, repo: REPO };
  const git = () => octokit().rest.git;
  const headOf = async (branch = "main") => (await git().getRef({ ...repo, ref: `heads/${branch}` })).data.object.sha;
  const treeOfCommit = async (sha: string) => (await git().getCommit({ ...repo, commit_sha: sha })).data.tree.sha;
  type TreeEntry = { path: string; mode: "100644"; type: "blob"; sha?: string | null; content?: string };
  const file = (path: string, content: string): TreeEntry => ({ path, mode: "100644", type: "blob", content });
  const removal = (path: string): TreeEntry => ({ path, mode: "100644", type: "blob", sha: null });

  /** Tree, commit and ref update on the branch's head: the three content-creating requests of one commit. */
  async function commitOnHead(entries: TreeEntry[], options: { branch?: string; force?: boolean } = {}) {
    const branch = options.branch ?? "main";
    const head = await headOf(branch);
    const tree = await git().createTree({ ...repo, base_tree: await treeOfCommit(head), tree: entries });
    const commit = await git().createCommit({
      ...repo,
      message: "several files",
      tree: tree.data.sha,
      parents: [head],
    });
    return git().updateRef({ ...repo, ref: `heads/${branch}`, sha: commit.data.sha, force: options.force ?? false });
  }

  it("reads a branch's ref (singular and plural routes), its commit and its tree as GitHub gives them", async () => {
    const fake = useFake();
    fake.seed("a.txt", "top\n");
    const [seeded] = fake.commits;
    const ref = await git().getRef({ ...repo, ref: "heads/main" });
    expect(ref.data).toEqual({
      ref: "refs/heads/main",
      node_id: expect.any(String),
      url: `https://api.github.com/repos/${OWNER}/${REPO}/git/refs/heads/main`,
      object: {
        sha: seeded!.sha,
        type: "commit",
        url: `https://api.github.com/repos/${OWNER}/${REPO}/git/commits/${seeded!.sha}`,
      },
    });
    const plural = await octokit().request("GET /repos/{owner}/{repo}/git/refs/heads/{branch}", {
      ...repo,
      branch: "main",
    });
    expect(plural.data).toEqual(ref.data);
    const matching = await octokit().request("GET /repos/{owner}/{repo}/git/refs/heads/{prefix}", {
      ...repo,
      prefix: "ma",
    });
    expect(matching.data).toEqual([ref.data]);

    const commit = await git().getCommit({ ...repo, commit_sha: seeded!.sha });
    expect(commit.data).toMatchObject({ sha: seeded!.sha, message: "Seed a.txt", tree: { sha: fake.treeOf("") } });
    expect(commit.data.parents).toHaveLength(1);
    const tree = await git().getTree({ ...repo, tree_sha: commit.data.tree.sha });
    expect(tree.data.tree.map((entry) => entry.path)).toEqual(["a.txt"]);

    for (const missing of [
      git().getRef({ ...repo, ref: "heads/nope" }),
      octokit().request("GET /repos/{owner}/{repo}/git/refs/heads/{branch}", { ...repo, branch: "nope" }),
    ]) {
      expect((await failure(missing)).data).toEqual({
        message: "Not Found",
        documentation_url: "https://docs.github.com/rest/git/refs#get-a-reference",
        status: "404",
      });
    }
    expect((await failure(git().getCommit({ ...repo, commit_sha: "f".repeat(40) }))).status).toBe(404);
  });

  it("creates blobs from utf-8 or base64 and gives them back as base64 with their size", async () => {
    const fake = useFake();
    const text = await git().createBlob({ ...repo, content: "hello\n" });
    expect(text.status).toBe(201);
    expect(text.data).toEqual({
      sha: HELLO_BLOB_SHA,
      url: `https://api.github.com/repos/${OWNER}/${REPO}/git/blobs/${HELLO_BLOB_SHA}`,
    });
    const encoded = await git().createBlob({ ...repo, content: base64("hello\n"), encoding: "base64" });
    expect(encoded.data.sha).toBe(HELLO_BLOB_SHA);
    const blob = await git().getBlob({ ...repo, file_sha: HELLO_BLOB_SHA });
    expect(blob.data).toMatchObject({ sha: HELLO_BLOB_SHA, size: 6, encoding: "base64", content: "aGVsbG8K\n" });
    expect((await failure(git().getBlob({ ...repo, file_sha: "0".repeat(40) }))).status).toBe(404);
    // Objects alone change no branch.
    expect(fake.paths()).toEqual([]);
    expect(fake.commits).toEqual([]);
    expect(fake.writeCount()).toBe(2);
  });

  it("builds nested paths into git's trees, folder by folder", async () => {
    useFake();
    const tree = await git().createTree({
      ...repo,
      tree: [file("a/b.txt", "one\n"), file("a/c/d.txt", "two\n"), file("a.txt", "top\n")],
    });
    expect(tree.status).toBe(201);
    expect(tree.data.sha).toBe(ROOT_TREE);
    expect(tree.data.truncated).toBe(false);
    expect(tree.data.tree.map(({ path, type, sha }) => ({ path, type, sha }))).toEqual([
      { path: "a.txt", type: "blob", sha: "bf1a1fdefa3c7f4b0180a75a951e9574662a8bc8" },
      { path: "a", type: "tree", sha: TREE_OF_A },
    ]);
    // A tree no branch holds yet is still there to read, whole or a folder of it.
    const recursive = await git().getTree({ ...repo, tree_sha: ROOT_TREE, recursive: "1" });
    expect(recursive.data.tree.map((entry) => entry.path)).toEqual(["a.txt", "a", "a/b.txt", "a/c", "a/c/d.txt"]);
    const folder = await git().getTree({ ...repo, tree_sha: TREE_OF_A_C });
    expect(folder.data.tree.map((entry) => entry.path)).toEqual(["d.txt"]);
  });

  it("commits several files at once: the branch, the contents API and the helpers all hold them after the ref update", async () => {
    const fake = useFake();
    fake.seed("keep.txt", "kept\n");
    const blob = await git().createBlob({ ...repo, content: "by sha\n" });
    const head = await headOf();
    const tree = await git().createTree({
      ...repo,
      base_tree: await treeOfCommit(head),
      tree: [
        file("log/2026/11/22.ndjson", "{}\n"),
        { path: "by-sha.txt", mode: "100644", type: "blob", sha: blob.data.sha },
      ],
    });
    const commit = await git().createCommit({ ...repo, message: "two files", tree: tree.data.sha, parents: [head] });
    expect(commit.status).toBe(201);
    expect(commit.data).toMatchObject({ message: "two files", tree: { sha: tree.data.sha }, parents: [{ sha: head }] });
    // Made, but not on the branch until the ref moves.
    expect(fake.paths()).toEqual(["keep.txt"]);

    const moved = await git().updateRef({ ...repo, ref: "heads/main", sha: commit.data.sha });
    expect(moved.status).toBe(200);
    expect(moved.data.object.sha).toBe(commit.data.sha);
    expect(fake.paths()).toEqual(["by-sha.txt", "keep.txt", "log/2026/11/22.ndjson"]);
    expect(fake.file("log/2026/11/22.ndjson")).toBe("{}\n");
    expect(fake.treeOf("")).toBe(tree.data.sha);
    expect(fake.commits.at(-1)).toEqual({
      sha: commit.data.sha,
      message: "two files",
      path: "by-sha.txt",
      paths: ["by-sha.txt", "log/2026/11/22.ndjson"],
      branch: "main",
    });
    const read = (await get(octokit(), "log/2026/11/22.ndjson")).data as { content: string };
    expect(Buffer.from(read.content, "base64").toString()).toBe("{}\n");
    expect((await git().getTree({ ...repo, tree_sha: "main", recursive: "1" })).data.sha).toBe(tree.data.sha);
  });

  it("deletes a path with sha: null, a folder going with its last file, and refuses to delete what is not there", async () => {
    const fake = useFake();
    fake.seed("a/b.txt", "one\n");
    fake.seed("a/c/d.txt", "two\n");
    fake.seed("a.txt", "top\n");
    await commitOnHead([removal("a/c/d.txt"), file("a/new.txt", "new\n")]);
    expect(fake.paths()).toEqual(["a.txt", "a/b.txt", "a/new.txt"]);
    const root = (await get(octokit(), "a")).data as { path: string }[];
    expect(root.map((entry) => entry.path)).toEqual(["a/b.txt", "a/new.txt"]);

    const base = await treeOfCommit(await headOf());
    const refused = await failure(git().createTree({ ...repo, base_tree: base, tree: [removal("a/gone.txt")] }));
    expect(refused.status).toBe(422);
    expect(refused.data).toEqual({
      message: "GitRPC::BadObjectState",
      documentation_url: "https://docs.github.com/rest/git/trees#create-a-tree",
      status: "422",
    });
  });

  it("moves a branch only by a fast forward, unless forced", async () => {
    const fake = useFake();
    fake.seed("f.txt", "v1\n");
    const head = await headOf();
    const tree = await git().createTree({ ...repo, base_tree: await treeOfCommit(head), tree: [file("g.txt", "g\n")] });
    const commit = await git().createCommit({ ...repo, message: "late", tree: tree.data.sha, parents: [head] });
    fake.seed("f.txt", "v2\n"); // lands after the commit was made on the old head

    const refused = await failure(git().updateRef({ ...repo, ref: "heads/main", sha: commit.data.sha }));
    expect(refused.status).toBe(422);
    expect(refused.data).toEqual({
      message: "Update is not a fast forward",
      documentation_url: "https://docs.github.com/rest/git/refs#update-a-reference",
      status: "422",
    });
    expect(fake.file("f.txt")).toBe("v2\n");

    await git().updateRef({ ...repo, ref: "heads/main", sha: commit.data.sha, force: true });
    expect(fake.file("f.txt")).toBe("v1\n");
    expect(fake.file("g.txt")).toBe("g\n");
    const unknown = await failure(git().updateRef({ ...repo, ref: "heads/nope", sha: commit.data.sha }));
    expect([unknown.status, unknown.data.message]).toEqual([422, "Reference does not exist"]);
  });

  it("serialises ref updates with contents PUTs on the branch, either way round", async () => {
    const fake = useFake({
      onArrival: async (method) => {
        // A contents PUT lands while the ref update is on its way.
        if (method === "PATCH" && !fake.file("flush.txt")) await put(octokit(), "flush.txt", "flushed\n");
      },
    });
    fake.seed("f.txt", "v1\n");
    const stale = ((await get(octokit(), "f.txt")).data as { sha: string }).sha;

    const lost = await failure(commitOnHead([file("f.txt", "v2\n")]));
    expect([lost.status, lost.data.message]).toEqual([422, "Update is not a fast forward"]);
    expect(fake.file("flush.txt")).toBe("flushed\n");
    expect(fake.file("f.txt")).toBe("v1\n");

    // Made again on the new head, it lands; then a PUT with the sha read before it conflicts.
    await commitOnHead([file("f.txt", "v2\n")]);
    const conflict = await failure(put(octokit(), "f.txt", "v3\n", { sha: stale }));
    expect([conflict.status, conflict.data.message]).toEqual([409, `f.txt does not match ${stale}`]);
    expect(fake.file("f.txt")).toBe("v2\n");
    expect(fake.paths()).toEqual(["f.txt", "flush.txt"]);
  });

  it("answers 409 Git Repository is empty until the contents API makes the first commit", async () => {
    const fake = useFake({ empty: true });
    const calls: [Promise<unknown>, string][] = [
      [git().getRef({ ...repo, ref: "heads/main" }), "refs#get-a-reference"],
      [git().createBlob({ ...repo, content: "x" }), "blobs#create-a-blob"],
      [git().createTree({ ...repo, tree: [file("x.txt", "x")] }), "trees#create-a-tree"],
      [git().getTree({ ...repo, tree_sha: "main" }), "trees#get-a-tree"],
    ];
    for (const [call, docs] of calls) {
      expect((await failure(call)).data).toEqual({
        message: "Git Repository is empty.",
        documentation_url: `https://docs.github.com/rest/git/${docs}`,
        status: "409",
      });
    }
    await put(octokit(), "first.txt", "1\n");
    await commitOnHead([file("second.txt", "2\n")]);
    expect(fake.paths()).toEqual(["first.txt", "second.txt"]);
  });

  it("makes a root commit, and a branch of it with POST /git/refs, once", async () => {
    const fake = useFake();
    fake.seed("main.txt", "main\n");
    const tree = await git().createTree({ ...repo, tree: [file("only.txt", "only\n")] });
    const root = await git().createCommit({ ...repo, message: "orphan", tree: tree.data.sha, parents: [] });
    expect(root.data.parents).toEqual([]);
    const created = await git().createRef({ ...repo, ref: "refs/heads/orphan", sha: root.data.sha });
    expect(created.status).toBe(201);
    expect(created.data).toMatchObject({ ref: "refs/heads/orphan", object: { sha: root.data.sha } });
    expect(fake.paths("orphan")).toEqual(["only.txt"]);
    expect(fake.paths()).toEqual(["main.txt"]);

    const again = await failure(git().createRef({ ...repo, ref: "refs/heads/orphan", sha: root.data.sha }));
    expect([again.status, again.data.message]).toEqual([422, "Reference already exists"]);
    const unknown = await failure(git().createRef({ ...repo, ref: "refs/heads/x", sha: "e".repeat(40) }));
    expect([unknown.status, unknown.data.message]).toEqual([422, "Object does not exist"]);
  });

  it("counts blobs, trees, commits and ref updates as content writes against the secondary limit", async () => {
    let clock = 1_000_000;
    const fake = useFake({ now: () => clock, writesPerMinute: 4 });
    await git().createBlob({ ...repo, content: "x" });
    await commitOnHead([file("a.txt", "a\n")]);
    expect(fake.writeCount()).toBe(4);

    const limited = await failure(git().createBlob({ ...repo, content: "y" }));
    expect(limited.status).toBe(403);
    expect(limited.data.message).toMatch(/^You have exceeded a secondary rate limit/);
    expect(limited.headers["retry-after"]).toBe("60");
    // Reading goes on.
    expect((await git().getRef({ ...repo, ref: "heads/main" })).status).toBe(200);
    clock += 60_000;
    expect((await git().createBlob({ ...repo, content: "y" })).status).toBe(201);
  });

  it("refuses a blob, or a tree's inline content, holding a secret with push protection's 409", async () => {
    const fake = useFake({ pushProtection: { example_secret: /SCAN-ME-[0-9]{6}/ } });
    const secret = "key SCAN-ME-123456\n";
    for (const call of [
      git().createBlob({ ...repo, content: secret }),
      git().createBlob({ ...repo, content: base64(secret), encoding: "base64" }),
      git().createTree({ ...repo, tree: [file("f.txt", secret)] }),
    ]) {
      const refused = await failure(call);
      expect(refused.status).toBe(409);
      expect(refused.data).toMatchObject({
        message: expect.stringMatching(/^Repository rule violations found/),
        metadata: { secret_scanning: { bypass_placeholders: [{ token_type: "example_secret" }] } },
      });
    }
    expect(fake.writeCount()).toBe(0);
  });

  it("answers GitHub's validation errors for trees, commits and refs", async () => {
    const fake = useFake();
    fake.seed("a.txt", "a\n");
    const head = await headOf();
    const send = (route: string, body: Record<string, unknown>) =>
      failure(octokit().request(route, { ...repo, ...body } as never));

    const neither = await send("POST /repos/{owner}/{repo}/git/trees", {
      tree: [{ path: "x", mode: "100644", type: "blob" }],
    });
    expect([neither.status, neither.data.message]).toEqual([
      422,
      "Must supply either tree.sha or tree.content. Request will be rejected if both are present.",
    ]);
    const base = await send("POST /repos/{owner}/{repo}/git/trees", { base_tree: "f".repeat(40), tree: [] });
    expect(base.data.message).toBe("base_tree is not a valid tree oid");
    const noTree = await send("POST /repos/{owner}/{repo}/git/commits", { message: "m", tree: "f".repeat(40) });
    expect(noTree.data.message).toBe("Tree SHA does not exist");
    const noParent = await send("POST /repos/{owner}/{repo}/git/commits", {
      message: "m",
      tree: fake.treeOf(""),
      parents: ["f".repeat(40)],
    });
    expect(noParent.data.message).toBe("Parent SHA does not exist or is not a commit object");
    const noMessage = await send("POST /repos/{owner}/{repo}/git/commits", { parents: [] });
    expect(noMessage.data.message).toBe('Invalid request.\n\n"message", "tree" weren\'t supplied.');
    const noSha = await send("PATCH /repos/{owner}/{repo}/git/refs/heads/main", { force: false });
    expect(noSha.data.message).toBe('Invalid request.\n\n"sha" wasn\'t supplied.');
    expect(await headOf()).toBe(head);
    expect(fake.writeCount()).toBe(0);
  });
});
