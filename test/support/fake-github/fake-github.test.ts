import { throttling } from "@octokit/plugin-throttling";
import { Octokit } from "@octokit/rest";
import Bottleneck from "bottleneck";
import { setupServer } from "msw/node";
import { gunzipSync } from "node:zlib";
import { extract, type Header } from "tar-stream";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { FakeGitHub, githubHandlers, serveFakeGitHub, type FakeGitHubOptions } from "./index.ts";

const TOKEN = "fake-token";
const OWNER = "acme";
const REPO = "data";
const GHES = "https://ghe.example.com/api/v3";
// Known git ids, from `git hash-object` / `git write-tree` on the same content.
const HELLO_BLOB_SHA = "ce013625030ba8dba906f756967f9e9ca394464a";
const TREE_OF_A = "226c871723760f0eead45fc502fb06db233b9a6c"; // a/b.txt "one\n", a/c/d.txt "two\n"
const TREE_OF_A_C = "4358d0ffe445b498acb216da616e44b8a88af07b";
const ROOT_TREE = "7abd1377b71284d31964b74bf2139f6ab69b274b"; // the above plus a.txt "top\n"
const SHA = /^[0-9a-f]{40}$/;

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

function useFake(options: FakeGitHubOptions = {}, baseUrl?: string): FakeGitHub {
  const fake = new FakeGitHub({ owner: OWNER, repo: REPO, token: TOKEN, ...options });
  server.use(...githubHandlers(fake, baseUrl));
  return fake;
}

// Octokit logs every refused request; here refusals are what is tested.
const QUIET = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

function octokit(options: { auth?: string; baseUrl?: string } = {}): Octokit {
  return new Octokit({ auth: TOKEN, log: QUIET, ...options });
}

const base64 = (text: string) => Buffer.from(text).toString("base64");

async function failure(
  call: Promise<unknown>,
): Promise<{ status: number; message: string; data: Record<string, unknown>; headers: Record<string, string> }> {
  const error = (await call.then(
    () => expect.fail("expected GitHub to refuse"),
    (caught: unknown) => caught,
  )) as {
    status: number;
    message: string;
    response: { data: Record<string, unknown>; headers: Record<string, string> };
  };
  return { status: error.status, message: error.message, data: error.response.data, headers: error.response.headers };
}

function put(client: Octokit, path: string, text: string, extra: { sha?: string; branch?: string } = {}) {
  return client.rest.repos.createOrUpdateFileContents({
    owner: OWNER,
    repo: REPO,
    path,
    message: `write ${path}`,
    content: base64(text),
    ...extra,
  });
}

function get(client: Octokit, path: string, extra: { ref?: string } = {}) {
  return client.rest.repos.getContent({ owner: OWNER, repo: REPO, path, ...extra });
}

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
    expect(fake.requests).toEqual([
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

describe("writing a file", () => {
  it("creates with 201, updates with the current sha with 200, one commit each", async () => {
    const fake = useFake({ empty: true });
    const created = await put(octokit(), "log/day.ndjson", "a\n");
    expect(created.status).toBe(201);
    expect(created.data.content).toMatchObject({
      path: "log/day.ndjson",
      name: "day.ndjson",
      sha: "78981922613b2afb6025042ff6bd878ac1994e85",
      size: 2,
    });
    expect(created.data.commit).toMatchObject({ message: "write log/day.ndjson", parents: [] });

    const updated = await put(octokit(), "log/day.ndjson", "a\nb\n", { sha: created.data.content!.sha! });
    expect(updated.status).toBe(200);
    expect(updated.data.commit.parents).toEqual([expect.objectContaining({ sha: created.data.commit.sha })]);
    expect(fake.file("log/day.ndjson")).toBe("a\nb\n");
    expect(fake.commits).toEqual([
      { sha: created.data.commit.sha, message: "write log/day.ndjson", path: "log/day.ndjson", branch: "main" },
      { sha: updated.data.commit.sha, message: "write log/day.ndjson", path: "log/day.ndjson", branch: "main" },
    ]);
    expect(fake.writeCount()).toBe(2);
  });

  it("builds each commit on git's tree of the whole branch", async () => {
    const fake = useFake();
    fake.seed("a/b.txt", "one\n");
    fake.seed("a.txt", "top\n");
    const { data } = await put(octokit(), "a/c/d.txt", "two\n");
    expect(data.commit.tree).toMatchObject({ sha: ROOT_TREE });
    expect(data.content!.sha).toBe("f719efd430d52bcfc8566a43b2eb655688d38871");
  });

  it("refuses to overwrite without a sha (422), and with a stale one (409)", async () => {
    const fake = useFake();
    fake.seed("f.txt", "v1\n");
    const stale = (await get(octokit(), "f.txt")).data as { sha: string };
    await put(octokit(), "f.txt", "v2\n", { sha: stale.sha });

    const noSha = await failure(put(octokit(), "f.txt", "v3\n"));
    expect(noSha.status).toBe(422);
    expect(noSha.data).toEqual({
      message: 'Invalid request.\n\n"sha" wasn\'t supplied.',
      documentation_url: "https://docs.github.com/rest/repos/contents#create-or-update-file-contents",
      status: "422",
    });
    const conflict = await failure(put(octokit(), "f.txt", "v3\n", { sha: stale.sha }));
    expect(conflict.status).toBe(409);
    expect(conflict.data.message).toBe(`f.txt does not match ${stale.sha}`);
    expect(fake.file("f.txt")).toBe("v2\n");
    expect(fake.requests.map((request) => `${request.method} ${request.status}`)).toEqual([
      "GET 200",
      "PUT 200",
      "PUT 422",
      "PUT 409",
    ]);
  });

  it("lets only one of two overlapping writes to one branch commit, even to different files", async () => {
    const fake = useFake({ latencyMs: [10, 30] });
    const results = await Promise.allSettled([put(octokit(), "one.txt", "1\n"), put(octokit(), "two.txt", "2\n")]);

    expect(results.map((result) => result.status).sort()).toEqual(["fulfilled", "rejected"]);
    const lost = results.find((result) => result.status === "rejected")!.reason as {
      status: number;
      response: { data: { message: string } };
    };
    expect(lost.status).toBe(409);
    const [head] = fake.commits.map((commit) => commit.sha);
    expect(lost.response.data.message).toMatch(new RegExp(`^is at ${head} but expected [0-9a-f]{40}$`));
    expect(fake.commits).toHaveLength(1);
    expect(fake.paths()).toHaveLength(1);
  });

  it("makes writes that arrive together conflict even without latency", async () => {
    const fake = new FakeGitHub({ token: TOKEN, empty: true });
    const request = (path: string) =>
      new Request(`https://api.github.com/repos/acme/telemetry-data/contents/${path}`, {
        method: "PUT",
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({ message: "m", content: base64(path) }),
      });
    const first = fake.handle(request("a"));
    // The second write arrives after the first was read but within the same macrotask: still in flight together.
    for (let tick = 0; tick < 50; tick += 1) await Promise.resolve();
    const responses = await Promise.all([first, fake.handle(request("b"))]);
    expect(responses.map((response) => response.status)).toEqual([201, 409]);
    expect(((await responses[1]!.json()) as { message: string }).message).toMatch(
      /^is at [0-9a-f]{40} but expected 0{40}$/,
    );
  });

  it("answers GitHub's validation errors", async () => {
    const fake = useFake();
    const send = (body: Record<string, unknown>) =>
      octokit().request("PUT /repos/{owner}/{repo}/contents/{path}", {
        owner: OWNER,
        repo: REPO,
        path: "v.txt",
        ...body,
      } as never);
    const call = (body: Record<string, unknown>) => failure(send(body));

    expect((await call({ content: base64("x") })).data.message).toBe('Invalid request.\n\n"message" wasn\'t supplied.');
    expect((await call({ message: "m", content: "%%%" })).data.message).toBe("content is not valid Base64");
    // Octokit drops null parameters, so this one goes out as another client would send it.
    const nullSha = await fetch(`https://api.github.com/repos/${OWNER}/${REPO}/contents/v.txt`, {
      method: "PUT",
      headers: { authorization: `token ${TOKEN}` },
      body: JSON.stringify({ message: "m", content: base64("x"), sha: null }),
    });
    expect([nullSha.status, ((await nullSha.json()) as { message: string }).message]).toEqual([
      422,
      "Invalid request.\n\nFor 'properties/sha', nil is not a string.",
    ]);
    expect((await send({ message: "m", content: base64("x") })).status).toBe(201);
    expect(fake.requests.map((request) => request.status)).toEqual([422, 422, 422, 201]);
  });

  it("writes to a named branch, and says an unknown one is not found", async () => {
    const fake = useFake();
    fake.seed("README.md", "hi\n", "events");
    await put(octokit(), "e.txt", "e\n", { branch: "events" });
    expect(fake.paths("events")).toEqual(["README.md", "e.txt"]);
    expect(fake.paths()).toEqual([]);

    const unknown = await failure(put(octokit(), "e.txt", "e\n", { branch: "nope" }));
    expect([unknown.status, unknown.data.message]).toEqual([404, "Branch nope not found"]);
  });
});

describe("limits, auth and faults", () => {
  it("answers the secondary-limit 403 with retry-after past 80 writes a minute, as the throttling plugin recognises", async () => {
    let clock = 1_000_000;
    const fake = useFake({ now: () => clock });
    const client = octokit();
    let sha: string | undefined;
    for (let index = 0; index < 80; index += 1) {
      sha = (await put(client, "f.txt", `${index}\n`, sha ? { sha } : {})).data.content!.sha!;
      clock += 500;
    }

    const limited = await failure(put(client, "f.txt", "81\n", { sha }));
    expect(limited.status).toBe(403);
    expect(limited.headers["retry-after"]).toBe("60");
    expect(limited.data.message).toMatch(
      /^You have exceeded a secondary rate limit\. Please wait a few minutes before you try again\./,
    );
    expect(limited.data.documentation_url).toMatch(/#about-secondary-rate-limits$/);

    const seen: number[] = [];
    const Throttled = Octokit.plugin(throttling);
    const throttled = new Throttled({
      auth: TOKEN,
      log: QUIET,
      throttle: {
        onSecondaryRateLimit: (retryAfter: number) => void seen.push(retryAfter),
        onRateLimit: () => false,
        write: new Bottleneck.Group({ maxConcurrent: 1, minTime: 0 }),
      },
    });
    expect((await failure(put(throttled, "f.txt", "81\n", { sha }))).status).toBe(403);
    expect(seen).toEqual([60]);
    expect(fake.writeCount()).toBe(80);

    // The oldest writes leave the one-minute window: writing works again, reading never stopped.
    expect((await get(client, "f.txt")).status).toBe(200);
    clock += 60_000 - 40 * 500;
    expect((await put(client, "f.txt", "81\n", { sha })).status).toBe(200);
  });

  it("holds every write at the secondary limit for the time asked, with the configured retry-after", async () => {
    let clock = 0;
    const fake = useFake({ now: () => clock, retryAfterSeconds: 42, writesPerHour: 3 });
    fake.secondaryLimitFor(10_000);
    const held = await failure(put(octokit(), "f.txt", "x\n"));
    expect([held.status, held.headers["retry-after"]]).toEqual([403, "42"]);
    clock = 10_000;
    await put(octokit(), "f.txt", "x\n");
    const { sha } = (await get(octokit(), "f.txt")).data as { sha: string };
    await put(octokit(), "f.txt", "y\n", { sha });
    await put(octokit(), "g.txt", "z\n");
    // The hour's budget (3 here) is spent, and refused writes did not count towards it.
    expect((await failure(put(octokit(), "h.txt", "w\n"))).status).toBe(403);
    expect(fake.writeCount()).toBe(3);
  });

  it("sends the primary rate-limit headers, and 403 once the hour's 5000 requests are spent", async () => {
    const fake = new FakeGitHub({ token: TOKEN, now: () => 1_700_000_000_000 });
    const call = () =>
      fake.handle(
        new Request("https://api.github.com/repos/acme/telemetry-data/contents/x", {
          headers: { authorization: `token ${TOKEN}` },
        }),
      );
    const first = await call();
    expect(Object.fromEntries([...first.headers].filter(([name]) => name.startsWith("x-ratelimit-")))).toEqual({
      "x-ratelimit-limit": "5000",
      "x-ratelimit-remaining": "4999",
      "x-ratelimit-reset": String(1_700_000_000 + 3600),
      "x-ratelimit-used": "1",
      "x-ratelimit-resource": "core",
    });
    for (let index = 1; index < 5000; index += 1) await call();
    const spent = await call();
    expect(spent.status).toBe(403);
    expect(spent.headers.get("x-ratelimit-remaining")).toBe("0");
    expect(((await spent.json()) as { message: string }).message).toMatch(/^API rate limit exceeded for user ID 1\./);
  });

  it("refuses content holding a secret with push protection's 409, telling it from a stale sha by its metadata", async () => {
    const fake = useFake({ pushProtection: { example_secret: /SCAN-ME-[0-9]{6}/ } });
    const refused = await failure(put(octokit(), "f.txt", "a line\nkey SCAN-ME-123456\n"));
    expect(refused.status).toBe(409);
    expect(refused.data).toMatchObject({
      message: expect.stringMatching(/^Repository rule violations found/),
      status: "409",
      metadata: {
        secret_scanning: {
          bypass_placeholders: [{ placeholder_id: expect.any(String), token_type: "example_secret" }],
        },
      },
    });
    expect(fake.paths()).toEqual([]);
    expect((await put(octokit(), "f.txt", "a line\n")).status).toBe(201);
  });

  it("says when the token expires on every answer, errors too, when it does", async () => {
    useFake({ tokenExpiresAt: new Date("2026-12-31T00:00:00Z") });
    const answer = await get(octokit(), "").catch(
      (error: { response: { headers: Record<string, string> } }) => error.response,
    );
    expect(answer.headers["github-authentication-token-expiration"]).toBe("2026-12-31 00:00:00 UTC");
    const missing = await failure(get(octokit(), "nope.txt"));
    expect(missing.headers["github-authentication-token-expiration"]).toBe("2026-12-31 00:00:00 UTC");
  });

  it("answers 401 Bad credentials to a wrong token, and takes either auth scheme", async () => {
    useFake();
    const bad = await failure(get(octokit({ auth: "wrong" }), "x"));
    expect(bad.status).toBe(401);
    expect(bad.data).toEqual({
      message: "Bad credentials",
      documentation_url: "https://docs.github.com/rest",
      status: "401",
    });

    for (const authorization of [`Bearer ${TOKEN}`, `token ${TOKEN}`]) {
      const response = await fetch(`https://api.github.com/repos/${OWNER}/${REPO}/contents/`, {
        headers: { authorization },
      });
      expect(response.status).toBe(200);
    }
  });

  it("fails the next calls as asked, changing nothing, then answers normally", async () => {
    const fake = useFake();
    fake.failNext(2, 502);
    expect((await failure(put(octokit(), "f.txt", "x\n"))).status).toBe(502);
    expect((await failure(get(octokit(), "f.txt"))).status).toBe(502);
    expect(fake.paths()).toEqual([]);
    expect((await put(octokit(), "f.txt", "x\n")).status).toBe(201);
  });

  it("answers Not Found for what it does not implement", async () => {
    useFake();
    const other = await failure(octokit().rest.repos.listBranches({ owner: OWNER, repo: REPO }));
    expect([other.status, other.data.message]).toEqual([404, "Not Found"]);
    const tags = await failure(octokit().rest.git.getTag({ owner: OWNER, repo: REPO, tag_sha: "0".repeat(40) }));
    expect([tags.status, tags.data.message]).toEqual([404, "Not Found"]);
  });

  it("describes the repository, with its default branch, even while it is empty", async () => {
    useFake({ defaultBranch: "trunk", empty: true });
    const { data } = await octokit().rest.repos.get({ owner: OWNER, repo: REPO.toUpperCase() });
    expect(data).toMatchObject({ name: REPO, full_name: `${OWNER}/${REPO}`, default_branch: "trunk", private: true });
    expect(data.url).toBe(`https://api.github.com/repos/${OWNER}/${REPO}`);
  });
});

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

describe("the tarball archive", () => {
  const repo = { owner: OWNER, repo: REPO };
  const LARGE = 1_500_000;

  /** Every entry of a gzipped tarball, in order, with the bytes of each file. */
  async function entriesOf(archive: ArrayBuffer | Uint8Array): Promise<{ header: Header; bytes: Buffer }[]> {
    const reading = extract();
    const entries: { header: Header; bytes: Buffer }[] = [];
    reading.end(gunzipSync(archive));
    for await (const entry of reading) {
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      entries.push({ header: entry.header, bytes: Buffer.concat(chunks) });
    }
    return entries;
  }

  const tarball = (ref: string, client = octokit()) => client.rest.repos.downloadTarballArchive({ ...repo, ref });

  it("redirects to codeload with a token, which answers the commit's tree in {owner}-{repo}-{sha7}/, folders first", async () => {
    const fake = useFake();
    fake.seed("b.txt", "bee\n");
    fake.seed("a/c/d.txt", "two\n");
    fake.seed("a/b.txt", "one\n");
    fake.seed("a.txt", Buffer.alloc(LARGE, 7));
    const head = fake.commits.at(-1)!.sha;
    const top = `${OWNER}-${REPO}-${head.slice(0, 7)}`;

    const redirect = await fetch(`https://api.github.com/repos/${OWNER}/${REPO}/tarball/main`, {
      headers: { authorization: `token ${TOKEN}` },
      redirect: "manual",
    });
    expect(redirect.status).toBe(302);
    const location = new URL(redirect.headers.get("location")!);
    expect(`${location.origin}${location.pathname}`).toBe(
      `https://api.github.com/_codeload/${OWNER}/${REPO}/legacy.tar.gz/refs/heads/main`,
    );
    expect(location.searchParams.get("token")).toMatch(/^[0-9A-F]{40}$/);

    const { status, data, headers } = await tarball("main");
    expect(status).toBe(200);
    expect(headers["content-type"]).toBe("application/x-gzip");
    expect(headers["content-disposition"]).toBe(`attachment; filename=${top}.tar.gz`);
    const entries = await entriesOf(data as ArrayBuffer);
    expect(entries.map(({ header }) => `${header.type} ${header.name}`)).toEqual([
      `directory ${top}/`,
      // Git's order: "a.txt" before the folder "a", which sorts as "a/".
      `file ${top}/a.txt`,
      `directory ${top}/a/`,
      `file ${top}/a/b.txt`,
      `directory ${top}/a/c/`,
      `file ${top}/a/c/d.txt`,
      `file ${top}/b.txt`,
    ]);
    expect(entries.find(({ header }) => header.name.endsWith("/a.txt"))!.bytes.equals(Buffer.alloc(LARGE, 7))).toBe(
      true,
    );
    expect(entries.find(({ header }) => header.name.endsWith("/a/c/d.txt"))!.bytes.toString()).toBe("two\n");
    expect(fake.requests).toEqual([
      { method: "GET", path: `/repos/${OWNER}/${REPO}/tarball/main`, status: 302 },
      { method: "GET", path: `/repos/${OWNER}/${REPO}/tarball/main`, status: 302 },
      { method: "GET", path: `/_codeload/${OWNER}/${REPO}/legacy.tar.gz/refs/heads/main`, status: 200 },
    ]);
    expect(fake.writeCount()).toBe(0);
  });

  it("gives an older commit's tree by its sha, and a path longer than tar's 100 bytes whole", async () => {
    const fake = useFake();
    const deep = `${"folder-with-a-long-name/".repeat(6)}file.ndjson`;
    fake.seed(deep, "old\n");
    const old = fake.commits.at(-1)!.sha;
    fake.seed(deep, "new\n");
    fake.seed("later.txt", "later\n");

    const { data } = await tarball(old);
    const files = (await entriesOf(data as ArrayBuffer)).filter(({ header }) => header.type === "file");
    expect(files.map(({ header, bytes }) => [header.name, bytes.toString()])).toEqual([
      [`${OWNER}-${REPO}-${old.slice(0, 7)}/${deep}`, "old\n"],
    ]);
    expect(fake.requests.at(-1)!.path).toBe(`/_codeload/${OWNER}/${REPO}/legacy.tar.gz/${old}`);
  });

  it("says Not Found for an unknown ref, an empty repository, and codeload without a good token", async () => {
    const fake = useFake();
    for (const ref of ["nope", "f".repeat(40)]) {
      expect((await failure(tarball(ref))).data).toEqual({
        message: "Not Found",
        documentation_url: "https://docs.github.com/rest/repos/contents#download-a-repository-archive-tar",
        status: "404",
      });
    }
    const codeload = `https://api.github.com/_codeload/${OWNER}/${REPO}/legacy.tar.gz/refs/heads/main`;
    for (const url of [codeload, `${codeload}?token=WRONG`]) {
      const response = await fetch(url);
      expect(response.status).toBe(404);
      expect(await response.text()).toBe("404: Not Found");
    }
    expect(fake.requests.map((request) => request.status)).toEqual([404, 404, 404, 404]);

    useFake({ empty: true });
    expect((await failure(tarball("main"))).status).toBe(404);
  });

  it("serves codeload beside GitHub Enterprise Server's /api/v3 root, and over loopback", async () => {
    const ghes = useFake({}, GHES);
    ghes.seed("e.txt", "ghes\n");
    const { data } = await tarball("main", octokit({ baseUrl: GHES }));
    expect((await entriesOf(data as ArrayBuffer)).at(-1)!.bytes.toString()).toBe("ghes\n");
    expect(ghes.requests.at(-1)!.path).toBe(`/_codeload/${OWNER}/${REPO}/legacy.tar.gz/refs/heads/main`);

    const fake = new FakeGitHub({ owner: OWNER, repo: REPO, token: TOKEN });
    fake.seed("served.txt", "loopback\n");
    const served = await serveFakeGitHub(fake);
    server.close(); // let requests reach the network instead of msw
    try {
      const loopback = await tarball("main", octokit({ baseUrl: served.url }));
      expect((await entriesOf(loopback.data as ArrayBuffer)).at(-1)!.bytes.toString()).toBe("loopback\n");
      expect(fake.requests.map((request) => request.status)).toEqual([302, 200]);
    } finally {
      await served.close();
      server.listen({ onUnhandledRequest: "error" });
    }
  });
});

describe("other API roots", () => {
  it("serves GitHub Enterprise Server's /api/v3 root through msw", async () => {
    const fake = useFake({}, GHES);
    const client = octokit({ baseUrl: GHES });
    const { data } = await put(client, "e.txt", "ghes\n");
    expect(data.content!.url).toBe(`${GHES}/repos/${OWNER}/${REPO}/contents/e.txt?ref=main`);
    expect(fake.file("e.txt")).toBe("ghes\n");
    expect(fake.requests).toEqual([{ method: "PUT", path: `/repos/${OWNER}/${REPO}/contents/e.txt`, status: 201 }]);
  });

  it("serves the API over HTTP on loopback for another process", async () => {
    const fake = new FakeGitHub({ owner: OWNER, repo: REPO, token: TOKEN, empty: true, latencyMs: [1, 5] });
    const served = await serveFakeGitHub(fake);
    server.close(); // let requests reach the network instead of msw
    try {
      expect(served.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const client = octokit({ baseUrl: served.url });
      const created = await put(client, "dir/f.ndjson", "1\n");
      expect(created.status).toBe(201);
      const read = (await get(client, "dir/f.ndjson")).data as { sha: string; content: string };
      expect(read.sha).toMatch(SHA);
      expect(Buffer.from(read.content, "base64").toString()).toBe("1\n");
      const raw = await client.rest.repos.getContent({
        owner: OWNER,
        repo: REPO,
        path: "dir/f.ndjson",
        mediaType: { format: "raw" },
      });
      expect(raw.data as unknown).toBe("1\n");
      expect((await failure(get(octokit({ auth: "wrong", baseUrl: served.url }), "x"))).status).toBe(401);
    } finally {
      await served.close();
      server.listen({ onUnhandledRequest: "error" });
    }
  });
});
