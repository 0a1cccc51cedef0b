import { describe, expect, it } from "vitest";
import {
  TOKEN,
  OWNER,
  REPO,
  HELLO_BLOB_SHA,
  TREE_OF_A,
  TREE_OF_A_C,
  useFake,
  octokit,
  base64,
  failure,
  get,
  useMsw,
} from "./client.ts";

useMsw();

describe("reading a file", () => {
  it("answers the git blob sha and base64 content as GitHub does", async () => {
    const fake = useFake();
    fake.seed("notes/hello.txt", "hello\n");
    const { status, data, headers } = await get(octokit(), "notes/hello.txt");

    expect(status).toBe(200);
    expect(data).toMatchObject({
      type: "file",
      name: "hello.txt",
      path: "notes/hello.txt",
      sha: HELLO_BLOB_SHA,
      size: 6,
      encoding: "base64",
      content: "aGVsbG8K\n",
      url: `https://api.github.com/repos/${OWNER}/${REPO}/contents/notes/hello.txt?ref=main`,
      git_url: `https://api.github.com/repos/${OWNER}/${REPO}/git/blobs/${HELLO_BLOB_SHA}`,
      html_url: `https://github.com/${OWNER}/${REPO}/blob/main/notes/hello.txt`,
      download_url: `https://raw.githubusercontent.com/${OWNER}/${REPO}/main/notes/hello.txt`,
    });
    expect(headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(headers["x-github-request-id"]).toMatch(/^[0-9A-F]{4}:[0-9A-F]{6}:[0-9A-F]{5}:[0-9A-F]{5}:[0-9A-F]{8}$/);
    expect(fake.requests).toMatchObject([
      { method: "GET", path: `/repos/${OWNER}/${REPO}/contents/notes/hello.txt`, status: 200 },
    ]);
  });

  it("wraps base64 content with a newline every 60 characters, and one at the end", async () => {
    const fake = useFake();
    const text = Array.from({ length: 300 }, (_, index) => String.fromCharCode(32 + (index % 90))).join("");
    fake.seed("wide.txt", text);
    const { data } = await get(octokit(), "wide.txt");
    const content = (data as { content: string }).content;

    const lines = content.split("\n");
    expect(lines.pop()).toBe("");
    expect(lines.slice(0, -1).every((line) => line.length === 60)).toBe(true);
    expect(lines.at(-1)!.length).toBeLessThanOrEqual(60);
    expect(lines.join("")).toBe(base64(text));
    expect(Buffer.from(content, "base64").toString()).toBe(text);
  });

  it("says Not Found for a missing file, and that an empty repository is empty", async () => {
    useFake();
    const missing = await failure(get(octokit(), "nope.txt"));
    expect(missing.status).toBe(404);
    expect(missing.data).toEqual({
      message: "Not Found",
      documentation_url: "https://docs.github.com/rest/repos/contents#get-repository-content",
      status: "404",
    });

    useFake({ empty: true });
    const empty = await failure(get(octokit(), "nope.txt"));
    expect(empty.status).toBe(404);
    expect(empty.data.message).toBe("This repository is empty.");
  });

  it("says no commit was found for an unknown ref, and Not Found for an unknown repository", async () => {
    const fake = useFake();
    fake.seed("a.txt", "a\n");
    const badRef = await failure(get(octokit(), "a.txt", { ref: "nope" }));
    expect([badRef.status, badRef.data.message]).toEqual([404, "No commit found for the ref nope"]);

    const otherRepo = await failure(octokit().rest.repos.getContent({ owner: OWNER, repo: "other", path: "a.txt" }));
    expect([otherRepo.status, otherRepo.data.message]).toEqual([404, "Not Found"]);
    expect((await get(octokit(), "a.txt", { ref: "refs/heads/main" })).status).toBe(200);
  });

  it("lists a directory with implicit folders, in git's order, with git's tree shas", async () => {
    const fake = useFake();
    fake.seed("a/b.txt", "one\n");
    fake.seed("a/c/d.txt", "two\n");
    fake.seed("a.txt", "top\n");

    const root = (await get(octokit(), "")).data as { type: string; name: string; sha: string; size: number }[];
    expect(root.map(({ type, name, sha, size }) => ({ type, name, sha, size }))).toEqual([
      { type: "file", name: "a.txt", sha: "bf1a1fdefa3c7f4b0180a75a951e9574662a8bc8", size: 4 },
      { type: "dir", name: "a", sha: TREE_OF_A, size: 0 },
    ]);
    const folder = (await get(octokit(), "a")).data as {
      type: string;
      path: string;
      sha: string;
      download_url: string | null;
    }[];
    expect(folder.map(({ type, path, sha }) => ({ type, path, sha }))).toEqual([
      { type: "file", path: "a/b.txt", sha: "5626abf0f72e58d7a153368ba57db4c673c0e171" },
      { type: "dir", path: "a/c", sha: TREE_OF_A_C },
    ]);
    expect(folder[1]!.download_url).toBeNull();
  });

  it("lists only the first 1,000 entries of a folder, as GitHub does, and the whole folder through the Git Trees API", async () => {
    const fake = useFake();
    fake.seedAll(Array.from({ length: 1_200 }, (_, n) => [`big/${String(n).padStart(4, "0")}.txt`, `${n}\n`]));
    const { data } = await get(octokit(), "big");
    expect(data).toHaveLength(1_000);
    expect((data as { name: string }[]).at(-1)!.name).toBe("0999.txt");

    const root = (await get(octokit(), "")).data as { path: string; sha: string }[];
    const folder = root.find((entry) => entry.path === "big")!;
    const tree = await octokit().rest.git.getTree({ owner: OWNER, repo: REPO, tree_sha: folder.sha });
    expect(tree.data.truncated).toBe(false);
    expect(tree.data.tree).toHaveLength(1_200);
    expect(tree.data.tree.at(-1)).toMatchObject({ path: "1199.txt", type: "blob", mode: "100644" });
    const whole = await octokit().rest.git.getTree({
      owner: OWNER,
      repo: REPO,
      tree_sha: fake.treeOf(""),
      recursive: "1",
    });
    expect(whole.data.tree.filter((entry) => entry.type === "blob")).toHaveLength(1_200);
    expect(whole.data.tree[0]).toMatchObject({ path: "big", type: "tree" });
  });

  it("cuts a recursive tree listing past 100,000 entries or 7 MB and says it is truncated", async () => {
    const fake = useFake();
    fake.seedAll(Array.from({ length: 100_500 }, (_, n) => [`d${Math.floor(n / 900)}/${n}.txt`, ""]));
    const whole = await octokit().rest.git.getTree({
      owner: OWNER,
      repo: REPO,
      tree_sha: fake.treeOf(""),
      recursive: "1",
    });
    expect(whole.data.truncated).toBe(true);
    expect(whole.data.tree.length).toBeLessThanOrEqual(100_000);
    expect(JSON.stringify(whole.data.tree).length).toBeLessThanOrEqual(7 * 1024 * 1024);
  }, 120_000);

  it("answers a file over 1 MB without content, and gives its bytes as raw", async () => {
    const fake = useFake();
    const big = `${"x".repeat(1_200_000)}\n`;
    fake.seed("big.ndjson", big);

    const { data } = await get(octokit(), "big.ndjson");
    expect(data).toMatchObject({ type: "file", size: big.length, encoding: "none", content: "" });
    const raw = await octokit().rest.repos.getContent({
      owner: OWNER,
      repo: REPO,
      path: "big.ndjson",
      mediaType: { format: "raw" },
    });
    expect(raw.headers["content-type"]).toBe("application/vnd.github.v3.raw; charset=utf-8");
    expect(raw.data as unknown).toBe(big);

    fake.seed("small.txt", "small\n");
    const small = await octokit().rest.repos.getContent({
      owner: OWNER,
      repo: REPO,
      path: "small.txt",
      mediaType: { format: "raw" },
    });
    expect(small.data as unknown).toBe("small\n");
  });

  it("refuses a file over 100 MB as too large, even as raw", async () => {
    const fake = useFake();
    fake.seed("huge.bin", new Uint8Array(100 * 1024 * 1024 + 1));
    for (const mediaType of [{}, { format: "raw" }]) {
      const refused = await failure(
        octokit().rest.repos.getContent({ owner: OWNER, repo: REPO, path: "huge.bin", mediaType }),
      );
      expect(refused.status).toBe(403);
      expect(refused.data.errors).toEqual([{ resource: "Blob", field: "data", code: "too_large" }]);
    }
  });

  it("takes a path's slashes encoded (as Octokit sends them) or literal", async () => {
    const fake = useFake();
    fake.seed("x/y z.txt", "spaced\n");
    await get(octokit(), "x/y z.txt");
    const literal = await fetch(`https://api.github.com/repos/${OWNER}/${REPO}/contents/x/y%20z.txt`, {
      headers: { authorization: `token ${TOKEN}` },
    });
    expect(literal.status).toBe(200);
    expect(((await literal.json()) as { path: string }).path).toBe("x/y z.txt");
    expect(fake.requests.map((request) => request.path)).toEqual([
      `/repos/${OWNER}/${REPO}/contents/x/y z.txt`,
      `/repos/${OWNER}/${REPO}/contents/x/y z.txt`,
    ]);
  });
});
