import { throttling } from "@octokit/plugin-throttling";
import { Octokit } from "@octokit/rest";
import Bottleneck from "bottleneck";
import { setupServer } from "msw/node";
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
    const other = await failure(octokit().rest.repos.get({ owner: OWNER, repo: REPO }));
    expect([other.status, other.data.message]).toEqual([404, "Not Found"]);
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
