import { http, HttpResponse } from "msw";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { GitHubConfig } from "../lib/config.ts";
import { PushProtectedError, StoreUnavailableError } from "../lib/storage/event-store.ts";
import { gitBlobSha } from "../lib/storage/git-blob-sha.ts";
import { GitHubFiles } from "../lib/storage/github-files.ts";
import type { FileChange } from "../lib/storage/repository-files.ts";
import { FakeGitHub, githubHandlers, type FakeGitHubOptions } from "./support/fake-github/index.ts";

const API = "https://api.github.com";
const TOKEN = "test-token-do-not-leak";
const DAY = "telemetry/2026/11/22";
const SHA = /^[0-9a-f]{40}$/;

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterEach(() => {
  server.resetHandlers();
  vi.restoreAllMocks();
});
afterAll(() => server.close());

let fake: FakeGitHub;
function useFake(options: FakeGitHubOptions = {}) {
  fake = new FakeGitHub({ owner: "acme", repo: "data", token: TOKEN, ...options });
  server.use(...githubHandlers(fake, API));
  return fake;
}

function newFiles(overrides: Partial<GitHubConfig> = {}) {
  return new GitHubFiles({
    credentials: { kind: "token", token: TOKEN },
    owner: "acme",
    repo: "data",
    branch: undefined,
    apiUrl: API,
    ...overrides,
  });
}

const soon = () => ({ deadline: Date.now() + 4000 });
const write = (path: string, content: string): FileChange => ({ path, content });
const remove = (path: string): FileChange => ({ path, content: null });
/** The requests made, as `METHOD path` below the repository. */
const calls = () => fake.requests.map(({ method, path }) => `${method} ${path.replace("/repos/acme/data", "") || "/"}`);

/** A contents-API PUT, as a flush makes it, straight to the fake. */
async function flushWrite(path: string, text: string): Promise<void> {
  const response = await fetch(`${API}/repos/acme/data/contents/${path}`, {
    method: "PUT",
    headers: { authorization: `token ${TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ message: "Append 1 telemetry event", content: Buffer.from(text).toString("base64") }),
  });
  expect(response.status).toBe(201);
}

describe("GitHubFiles.commitFiles", () => {
  it("puts many files, in nested folders, in one commit through the Git Database API", async () => {
    useFake();
    fake.seed("README.md", "data\n");
    const before = fake.commits.length;
    const beforeWrite = vi.fn(async () => {});
    const result = await newFiles().commitFiles(
      [
        write(`${DAY}/rollup.json`, "{}\n"),
        write("insights/index.json", "[]\n"),
        write("insights/2026/11.json", "{}\n"),
      ],
      "Publish insights",
      { ...soon(), beforeWrite },
    );

    expect(result).toEqual({ commit: expect.stringMatching(SHA), writes: 3 });
    expect(beforeWrite).toHaveBeenCalledTimes(3);
    expect(fake.commits.slice(before)).toEqual([
      {
        sha: result.commit,
        message: "Publish insights",
        path: "insights/2026/11.json",
        paths: ["insights/2026/11.json", "insights/index.json", `${DAY}/rollup.json`],
        branch: "main",
      },
    ]);
    expect(fake.paths()).toEqual(["README.md", "insights/2026/11.json", "insights/index.json", `${DAY}/rollup.json`]);
    expect(fake.file("insights/index.json")).toBe("[]\n");
    // Content inline in the tree: no blob requests.
    expect(calls()).toEqual([
      "GET /",
      "GET /git/ref/heads/main",
      `GET /git/commits/${fake.commits[before - 1]!.sha}`,
      "POST /git/trees",
      "POST /git/commits",
      "PATCH /git/refs/heads/main",
    ]);
  });

  it("removes files, and a folder with its last file, and takes a file already gone as removed", async () => {
    useFake();
    fake.seedAll([
      [`${DAY}/0001.ndjson`, "{}\n"],
      [`${DAY}/0002.ndjson`, "{}\n"],
      ["telemetry/2026/11/23/0001.ndjson", "{}\n"],
    ]);
    const files = newFiles();
    const result = await files.commitFiles(
      [remove(`${DAY}/0001.ndjson`), remove(`${DAY}/0002.ndjson`), remove(`${DAY}/0003.ndjson`)],
      "Compact",
      soon(),
    );
    expect(result.commit).toMatch(SHA);
    expect(fake.paths()).toEqual(["telemetry/2026/11/23/0001.ndjson"]);
    expect((await files.list("telemetry/2026/11", soon())).map((entry) => entry.name)).toEqual(["23"]);
    expect(await files.list(DAY, soon())).toEqual([]);
  });

  it("makes no commit when every file already holds its content, or nothing is to be removed", async () => {
    useFake();
    fake.seed("insights/index.json", "[]\n");
    const before = fake.commits.length;
    const files = newFiles();
    expect(await files.commitFiles([write("insights/index.json", "[]\n")], "Same", soon())).toEqual({
      commit: undefined,
      writes: 1,
    });
    expect(await files.commitFiles([remove("insights/gone.json")], "Nothing", soon())).toEqual({
      commit: undefined,
      writes: 1,
    });
    expect(await files.commitFiles([], "Nothing at all", soon())).toEqual({ commit: undefined, writes: 0 });
    expect(fake.commits).toHaveLength(before);
    expect(calls().filter((call) => call.startsWith("POST /git/commits") || call.startsWith("PATCH"))).toEqual([]);
  });

  it("keeps a flush's commit that lands between its read of the head and its ref update", async () => {
    let flushed = false;
    useFake({
      onArrival: async (method) => {
        if (method !== "PATCH" || flushed) return;
        flushed = true;
        await flushWrite(`${DAY}/0001.ndjson`, '{"event":1}\n');
      },
    });
    const result = await newFiles().commitFiles([write("insights/index.json", "[]\n")], "Publish", soon());

    expect(fake.file(`${DAY}/0001.ndjson`)).toBe('{"event":1}\n');
    expect(fake.file("insights/index.json")).toBe("[]\n");
    expect(fake.commits.map((commit) => commit.message)).toEqual(["Append 1 telemetry event", "Publish"]);
    expect(fake.commits.at(-1)!.sha).toBe(result.commit);
    expect(result.writes).toBe(6);
    expect(fake.requests.filter((request) => request.method === "PATCH").map((request) => request.status)).toEqual([
      422, 200,
    ]);
  });

  it("does not commit twice when GitHub moved the branch but the answer was lost", async () => {
    useFake();
    let lost = 0;
    server.use(
      http.patch(`${API}/repos/acme/data/git/refs/*`, async ({ request }) => {
        if (lost > 0) return undefined;
        lost += 1;
        await fake.handle(request.clone());
        return HttpResponse.json({ message: "Server Error" }, { status: 502 });
      }),
    );
    const result = await newFiles().commitFiles([write("a.json", "{}\n")], "Once", soon());
    expect(lost).toBe(1);
    expect(fake.commits.map((commit) => commit.message)).toEqual(["Once"]);
    expect(result.commit).toBe(fake.commits[0]!.sha);
  });

  it("gives up as busy when the branch keeps moving", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    let moves = 0;
    useFake({
      onArrival: (method) => {
        if (method === "PATCH") fake.seed(`moved-${(moves += 1)}.txt`, "x\n");
      },
    });
    const error = await newFiles()
      .commitFiles([write("a.json", "{}\n")], "Never", soon())
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(error).toMatchObject({ reason: "busy" });
    expect(moves).toBe(5);
    expect(fake.file("a.json")).toBeUndefined();
  });

  it("starts an empty repository with the contents API, GitHub's only way to its first commit, and commits the rest on top", async () => {
    useFake({ empty: true });
    const result = await newFiles().commitFiles(
      [remove("nothing.json"), write("a/one.json", "1\n"), write("a/two.json", "2\n"), write("b.json", "b\n")],
      "Start",
      soon(),
    );
    expect(fake.paths()).toEqual(["a/one.json", "a/two.json", "b.json"]);
    expect(fake.commits.map((commit) => commit.message)).toEqual(["Start", "Start"]);
    // The PUT, then a tree refused for removing a path the branch never held, the tree again, the commit, the ref.
    expect(result).toEqual({ commit: fake.commits[1]!.sha, writes: 5 });

    useFake({ empty: true });
    const single = await newFiles().commitFiles([write("only.json", "1\n")], "Start", soon());
    expect(fake.commits).toHaveLength(1);
    expect(single).toEqual({ commit: fake.commits[0]!.sha, writes: 2 });

    useFake({ empty: true });
    expect(await newFiles().commitFiles([remove("x.json")], "Nothing", soon())).toEqual({
      commit: undefined,
      writes: 0,
    });
    expect(fake.commits).toEqual([]);
  });

  it("creates a configured branch that does not exist yet, holding these files alone", async () => {
    useFake();
    fake.seed("README.md", "data\n");
    const files = newFiles({ branch: "insights" });
    const result = await files.commitFiles([write("index.json", "[]\n"), remove("gone.json")], "First", soon());
    expect(fake.paths("insights")).toEqual(["index.json"]);
    expect(fake.paths()).toEqual(["README.md"]);
    expect(calls()).toContain("POST /git/refs");
    expect(fake.commits.at(-1)).toMatchObject({ sha: result.commit, branch: "insights" });

    await files.commitFiles([write("second.json", "2\n")], "Second", soon());
    expect(fake.paths("insights")).toEqual(["index.json", "second.json"]);
  });

  it("stops at a secondary rate limit with GitHub's retry-after, and calls GitHub no more until then", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    useFake({ retryAfterSeconds: 42 });
    fake.secondaryLimitFor(60_000);
    const files = newFiles();
    const error = await files
      .commitFiles([write("a.json", "{}\n")], "Limited", soon())
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(error).toMatchObject({ reason: "rate_limited", retryAfterSeconds: 42 });

    const callsBefore = fake.requests.length;
    await expect(files.commitFiles([write("a.json", "{}\n")], "Limited", soon())).rejects.toMatchObject({
      reason: "rate_limited",
    });
    await expect(files.list("", soon())).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(fake.requests.length).toBe(callsBefore);
    expect(fake.paths()).toEqual([]);
  });

  it("takes a spent primary limit as a rate limit until its reset", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    useFake();
    const reset = Math.floor(Date.now() / 1000) + 120;
    server.use(
      http.get(`${API}/repos/acme/data/git/ref/*`, () =>
        HttpResponse.json(
          { message: "API rate limit exceeded for user ID 1.", status: "403" },
          { status: 403, headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(reset) } },
        ),
      ),
    );
    const error = await newFiles()
      .commitFiles([write("a.json", "{}\n")], "Limited", soon())
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ name: "StoreUnavailableError", reason: "rate_limited" });
    expect((error as StoreUnavailableError).retryAfterSeconds).toBeGreaterThanOrEqual(119);
    expect((error as StoreUnavailableError).retryAfterSeconds).toBeLessThanOrEqual(121);
  });

  it("reports push protection's refusal as PushProtectedError, and a bad token as refused", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    useFake({ pushProtection: { example_secret: /SCAN-ME-[0-9]{6}/ } });
    const refused = await newFiles()
      .commitFiles([write("a.json", '{"key":"SCAN-ME-123456"}\n')], "Secret", soon())
      .catch((caught: unknown) => caught);
    expect(refused).toBeInstanceOf(PushProtectedError);
    expect((refused as PushProtectedError).tokenTypes).toEqual(["example_secret"]);
    expect(fake.paths()).toEqual([]);

    const wrong = newFiles({ credentials: { kind: "token", token: "wrong-token-also-secret" } });
    await expect(wrong.commitFiles([write("a.json", "{}\n")], "m", soon())).rejects.toMatchObject({
      name: "StoreUnavailableError",
      reason: "refused",
      message: expect.stringMatching(/401/),
    });
    await expect(wrong.read("a.json", soon())).rejects.toMatchObject({ reason: "refused" });
    expect(logged.mock.calls.flat().join("\n")).not.toMatch(/wrong-token-also-secret|test-token-do-not-leak/);
  });
});

describe("GitHubFiles.list and read", () => {
  it("lists a folder's files and folders with git's shas and sizes; [] for a missing folder or an empty repository", async () => {
    useFake();
    fake.seed(`${DAY}/0001.ndjson`, "{}\n");
    fake.seed("telemetry/2026/11/23/0001.ndjson", "{}\n{}\n");
    const files = newFiles();
    expect(await files.list("telemetry/2026/11", soon())).toEqual([
      { path: DAY, name: "22", type: "dir", sha: fake.treeOf(DAY), size: 0 },
      { path: "telemetry/2026/11/23", name: "23", type: "dir", sha: fake.treeOf("telemetry/2026/11/23"), size: 0 },
    ]);
    expect(await files.list(DAY, soon())).toEqual([
      { path: `${DAY}/0001.ndjson`, name: "0001.ndjson", type: "file", sha: gitBlobSha(Buffer.from("{}\n")), size: 3 },
    ]);
    expect(await files.list("telemetry/1999", soon())).toEqual([]);

    useFake({ empty: true });
    expect(await newFiles().list("", soon())).toEqual([]);
  });

  it("lists a folder of 1,000 entries or more whole, through the Git Trees API, the root too", async () => {
    useFake();
    const names = Array.from({ length: 1_200 }, (_, n) => `${String(n + 1).padStart(4, "0")}.ndjson`);
    fake.seedAll([
      ...names.map((name): [string, string] => [`${DAY}/${name}`, `${name}\n`]),
      ...names.slice(0, 1_050).map((name): [string, string] => [`top-${name}`, ""]),
    ]);
    const files = newFiles();
    const day = await files.list(DAY, soon());
    expect(day).toHaveLength(1_200);
    expect(day.at(-1)).toEqual({
      path: `${DAY}/1200.ndjson`,
      name: "1200.ndjson",
      type: "file",
      sha: gitBlobSha(Buffer.from("1200.ndjson\n")),
      size: 12,
    });
    expect(fake.requests.filter((request) => request.path.includes("/git/trees/")).at(-1)).toMatchObject({
      entries: 1_200,
    });

    const root = await files.list("", soon());
    expect(root).toHaveLength(1_051);
    expect(root.filter((entry) => entry.type === "dir")).toEqual([
      { path: "telemetry", name: "telemetry", type: "dir", sha: fake.treeOf("telemetry"), size: 0 },
    ]);
  });

  it("says so when GitHub cuts a tree listing short, rather than give part of a folder", async () => {
    useFake();
    fake.seedAll(Array.from({ length: 1_000 }, (_, n): [string, string] => [`${DAY}/${n}.ndjson`, ""]));
    server.use(
      http.get(`${API}/repos/acme/data/git/trees/*`, () =>
        HttpResponse.json({ sha: "f".repeat(40), url: "", tree: [], truncated: true }),
      ),
    );
    await expect(newFiles().list(DAY, soon())).rejects.toThrow(
      /GitHub cut the listing of telemetry\/2026\/11\/22 short/,
    );
  });

  it("reads a file's bytes, undefined for none, and a file over 1 MB through the raw media type", async () => {
    useFake();
    const big = `${JSON.stringify({ filler: "z".repeat(1_200_000) })}\n`;
    fake.seed(`${DAY}/0001.ndjson`, big);
    fake.seed("small.json", "{}\n");
    const files = newFiles();
    expect((await files.read("small.json", soon()))?.toString()).toBe("{}\n");
    expect(await files.read("missing.json", soon())).toBeUndefined();

    const bytes = await files.read(`${DAY}/0001.ndjson`, soon());
    expect(bytes?.toString()).toBe(big);
    expect(fake.requests.filter((request) => request.path.endsWith("0001.ndjson"))).toHaveLength(2);

    useFake({ empty: true });
    expect(await newFiles().read("small.json", soon())).toBeUndefined();
  });

  it("reads and writes a configured branch, and names it", async () => {
    useFake();
    fake.seed("README.md", "main\n", "main");
    fake.seed("README.md", "events\n", "events");
    const files = newFiles({ branch: "events" });
    expect((await files.read("README.md", soon()))?.toString()).toBe("events\n");
    await files.commitFiles([write("insights/index.json", "[]\n")], "Publish", soon());
    expect(fake.paths("events")).toEqual(["README.md", "insights/index.json"]);
    expect(fake.paths("main")).toEqual(["README.md"]);
    expect(files.describe()).toBe("acme/data@events");
    expect(newFiles().describe()).toBe("acme/data");
  });
});
