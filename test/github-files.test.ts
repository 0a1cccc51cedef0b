import { http, HttpResponse } from "msw";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { GitHubConfig } from "../lib/config.ts";
import { PushProtectedError, StoreUnavailableError } from "../lib/storage/event-store.ts";
import { gitBlobSha } from "../lib/storage/git-blob-sha.ts";
import { GitHubAdapter } from "../lib/storage/github/github-adapter.ts";
import { GitHubFiles } from "../lib/storage/github/github-files.ts";
import { HeadMovedError, type FileChange } from "../lib/storage/repository-files.ts";
import { FakeGitHub, githubHandlers, serveFakeGitHub, type FakeGitHubOptions } from "./support/fake-github/index.ts";

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
  return new GitHubFiles(
    new GitHubAdapter({
      credentials: { kind: "token", token: TOKEN },
      owner: "acme",
      repo: "data",
      branch: undefined,
      apiUrl: API,
      ...overrides,
    }),
  );
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

describe("GitHubFiles.readTree", () => {
  /** Every file readTree gives under `dir`, by path, as text, and the head it says it read. */
  async function readAll(files: GitHubFiles, dir: string) {
    const seen: [string, Buffer][] = [];
    const { head } = await files.readTree(dir, (path, bytes) => void seen.push([path, bytes]), soon());
    return { head, seen };
  }

  it("gives every file under the folder with its bytes, a file over 1 MB and nested folders too, and the head read", async () => {
    useFake();
    const big = Buffer.from(`${JSON.stringify({ filler: "z".repeat(1_200_000) })}\n`);
    const binary = Buffer.from([0, 255, 10, 13, 128, 0]);
    fake.seedAll([
      ["README.md", "data\n"],
      ["telemetry2/elsewhere.ndjson", "{}\n"],
      [`${DAY}/0002.ndjson`, '{"n":2}\n'],
      ["telemetry/2026/11/23/0001.ndjson", '{"n":3}\n'],
    ]);
    fake.seed(`${DAY}/0001.ndjson`, big);
    fake.seed(`${DAY}/raw.bin`, binary);
    const head = fake.commits.at(-1)!.sha;

    const files = newFiles();
    const { head: read, seen } = await readAll(files, "telemetry/");
    expect(read).toBe(head);
    expect(seen.map(([path]) => path)).toEqual([
      `${DAY}/0001.ndjson`,
      `${DAY}/0002.ndjson`,
      `${DAY}/raw.bin`,
      "telemetry/2026/11/23/0001.ndjson",
    ]);
    expect(seen[0]![1].equals(big)).toBe(true);
    expect(seen[1]![1].toString()).toBe('{"n":2}\n');
    expect(seen[2]![1].equals(binary)).toBe(true);
    expect(calls()).toEqual([
      "GET /",
      "GET /git/ref/heads/main",
      `GET /tarball/${head}`,
      `GET /_codeload/acme/data/legacy.tar.gz/${head}`,
    ]);

    const all = await readAll(files, "");
    expect(all.seen.map(([path]) => path)).toEqual([
      "README.md",
      ...seen.map(([path]) => path),
      "telemetry2/elsewhere.ndjson",
    ]);
    expect((await readAll(files, "telemetry/1999")).seen).toEqual([]);
  });

  it("costs the same few requests however many files there are", async () => {
    const requestsFor = async (count: number) => {
      useFake();
      fake.seedAll(Array.from({ length: count }, (_, n): [string, string] => [`${DAY}/${n}/${n}.ndjson`, `${n}\n`]));
      const { seen } = await readAll(newFiles({ branch: "main" }), "telemetry");
      expect(seen).toHaveLength(count);
      expect(seen.find(([path]) => path === `${DAY}/7/7.ndjson`)?.[1].toString()).toBe("7\n");
      return fake.requests.length;
    };
    const few = await requestsFor(10);
    expect(few).toBe(3);
    expect(await requestsFor(2_000)).toBe(few);
  });

  it("streams the archive over HTTP, following the redirect as fetch does, handing over one file at a time", async () => {
    const github = new FakeGitHub({ owner: "acme", repo: "data", token: TOKEN });
    github.seedAll(Array.from({ length: 50 }, (_, n): [string, string] => [`${DAY}/${n}.ndjson`, `${n}\n`]));
    const served = await serveFakeGitHub(github);
    server.close(); // let requests reach the network instead of msw
    try {
      let visiting = 0;
      let most = 0;
      const seen: string[] = [];
      const { head } = await newFiles({ apiUrl: served.url }).readTree(
        DAY,
        async (path, bytes) => {
          most = Math.max(most, (visiting += 1));
          await new Promise((resolve) => setTimeout(resolve, 1));
          seen.push(`${path} ${bytes.toString().trim()}`);
          visiting -= 1;
        },
        soon(),
      );
      expect(head).toMatch(SHA);
      expect(seen).toHaveLength(50);
      expect(seen).toContain(`${DAY}/49.ndjson 49`);
      expect(most).toBe(1);
      expect(github.requests.map((request) => request.status)).toEqual([200, 200, 302, 200]);
    } finally {
      await served.close();
      server.listen({ onUnhandledRequest: "error" });
    }
  });

  it("reads one snapshot: a commit landing while the archive is asked for is not in it", async () => {
    let flushed = false;
    useFake({
      onArrival: async (_method, path) => {
        if (!path.includes("/tarball/") || flushed) return;
        flushed = true;
        await flushWrite(`${DAY}/0002.ndjson`, '{"event":2}\n');
      },
    });
    fake.seed(`${DAY}/0001.ndjson`, '{"event":1}\n');
    const before = fake.commits.at(-1)!.sha;
    const { head, seen } = await readAll(newFiles(), DAY);
    expect(head).toBe(before);
    expect(seen.map(([path]) => path)).toEqual([`${DAY}/0001.ndjson`]);
    expect(fake.paths()).toEqual([`${DAY}/0001.ndjson`, `${DAY}/0002.ndjson`]);
  });

  it("gives no head and no files for an empty repository or a branch not made yet", async () => {
    useFake({ empty: true });
    expect(await readAll(newFiles(), "")).toEqual({ head: undefined, seen: [] });
    expect(calls()).toEqual(["GET /", "GET /git/ref/heads/main"]);

    useFake();
    fake.seed("README.md", "data\n");
    expect(await readAll(newFiles({ branch: "insights" }), "")).toEqual({ head: undefined, seen: [] });
  });

  it("hands back the visitor's own failure as it is, and tells GitHub's as the other reads do", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    useFake();
    fake.seedAll([
      ["a.json", "1\n"],
      ["b.json", "2\n"],
    ]);
    const mine = Object.assign(new Error("visitor failed"), { status: 500 });
    const visited: string[] = [];
    const failed = newFiles().readTree(
      "",
      (path) => {
        visited.push(path);
        throw mine;
      },
      soon(),
    );
    await expect(failed).rejects.toBe(mine);
    expect(visited).toEqual(["a.json"]);

    const wrong = newFiles({ credentials: { kind: "token", token: "wrong-token-also-secret" } });
    await expect(wrong.readTree("", () => {}, soon())).rejects.toMatchObject({
      name: "StoreUnavailableError",
      reason: "refused",
    });

    // The download itself failing, twice (Octokit tries a 5xx once more): GitHub is busy.
    server.use(http.get(`${API}/_codeload/*`, () => HttpResponse.json({ message: "Server Error" }, { status: 502 })));
    await expect(newFiles().readTree("", () => {}, soon())).rejects.toMatchObject({
      name: "StoreUnavailableError",
      reason: "busy",
    });
  });
});

describe("GitHubFiles.commitFiles with expectedHead", () => {
  it("refuses to commit once another writer's contents-API PUT moved the branch, leaving that file intact", async () => {
    useFake();
    fake.seed(`${DAY}/0001.ndjson`, '{"event":1}\n');
    const files = newFiles();
    const { head } = await files.readTree(DAY, () => {}, soon());
    await flushWrite(`${DAY}/0002.ndjson`, '{"event":2}\n');
    const commitsBefore = fake.commits.length;

    const error = await files
      .commitFiles([remove(`${DAY}/0001.ndjson`), write(`${DAY}/rollup.json`, "{}\n")], "Compact", {
        ...soon(),
        expectedHead: head,
      })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(HeadMovedError);
    expect(fake.commits).toHaveLength(commitsBefore);
    expect(fake.file(`${DAY}/0002.ndjson`)).toBe('{"event":2}\n');
    expect(fake.paths()).toEqual([`${DAY}/0001.ndjson`, `${DAY}/0002.ndjson`]);
    expect(fake.writeCount()).toBe(1);
  });

  it("refuses, without trying again, when the PUT lands between its read of the head and its ref update", async () => {
    let flushed = false;
    useFake({
      onArrival: async (method) => {
        if (method !== "PATCH" || flushed) return;
        flushed = true;
        await flushWrite(`${DAY}/0002.ndjson`, '{"event":2}\n');
      },
    });
    fake.seed(`${DAY}/0001.ndjson`, '{"event":1}\n');
    const files = newFiles();
    const { head } = await files.readTree("", () => {}, soon());
    await expect(
      files.commitFiles([remove(`${DAY}/0001.ndjson`)], "Compact", { ...soon(), expectedHead: head }),
    ).rejects.toBeInstanceOf(HeadMovedError);
    expect(fake.requests.filter((request) => request.method === "PATCH").map((request) => request.status)).toEqual([
      422,
    ]);
    expect(fake.paths()).toEqual([`${DAY}/0001.ndjson`, `${DAY}/0002.ndjson`]);
    expect(fake.commits.at(-1)!.message).toBe("Append 1 telemetry event");
  });

  it("commits on top of the expected head, even when the answer to its ref update was lost", async () => {
    useFake();
    fake.seed(`${DAY}/0001.ndjson`, '{"event":1}\n');
    const files = newFiles();
    const { head } = await files.readTree("", () => {}, soon());
    const result = await files.commitFiles([write(`${DAY}/rollup.json`, "{}\n")], "Roll up", {
      ...soon(),
      expectedHead: head,
    });
    expect(result.commit).toMatch(SHA);
    expect(fake.commits.at(-1)).toMatchObject({ sha: result.commit, message: "Roll up" });
    expect(fake.paths()).toEqual([`${DAY}/0001.ndjson`, `${DAY}/rollup.json`]);

    let lost = 0;
    server.use(
      http.patch(`${API}/repos/acme/data/git/refs/*`, async ({ request }) => {
        if (lost > 0) return undefined;
        lost += 1;
        await fake.handle(request.clone());
        return HttpResponse.json({ message: "Server Error" }, { status: 502 });
      }),
    );
    const again = await files.commitFiles([write("b.json", "{}\n")], "Once", {
      ...soon(),
      expectedHead: result.commit,
    });
    expect(lost).toBe(1);
    expect(fake.commits.at(-1)).toMatchObject({ sha: again.commit, message: "Once" });
    expect(fake.commits.filter((commit) => commit.message === "Once")).toHaveLength(1);
  });

  it("reports its own commit when its ref update landed unanswered and a PUT went on top before it looked again", async () => {
    useFake();
    fake.seed(`${DAY}/0001.ndjson`, '{"event":1}\n');
    const files = newFiles();
    const { head } = await files.readTree("", () => {}, soon());
    let lost = 0;
    server.use(
      http.patch(`${API}/repos/acme/data/git/refs/*`, async ({ request }) => {
        if (lost > 0) return undefined;
        lost += 1;
        await fake.handle(request.clone());
        await flushWrite(`${DAY}/0002.ndjson`, '{"event":2}\n');
        return HttpResponse.json({ message: "Server Error" }, { status: 502 });
      }),
    );
    const result = await files.commitFiles([write(`${DAY}/rollup.json`, "{}\n")], "Roll up", {
      ...soon(),
      expectedHead: head,
    });
    expect(fake.commits.map((commit) => commit.message)).toEqual([
      `Seed ${DAY}/0001.ndjson`,
      "Roll up",
      "Append 1 telemetry event",
    ]);
    expect(result.commit).toBe(fake.commits[1]!.sha);
    expect(fake.paths()).toEqual([`${DAY}/0001.ndjson`, `${DAY}/0002.ndjson`, `${DAY}/rollup.json`]);
  });

  it("takes an empty repository or a missing branch as moved, and commits nothing", async () => {
    useFake({ empty: true });
    const expectedHead = "a".repeat(40);
    await expect(
      newFiles().commitFiles([write("a.json", "{}\n")], "First", { ...soon(), expectedHead }),
    ).rejects.toBeInstanceOf(HeadMovedError);
    expect(fake.commits).toEqual([]);

    useFake();
    await expect(
      newFiles({ branch: "insights" }).commitFiles([write("a.json", "{}\n")], "First", { ...soon(), expectedHead }),
    ).rejects.toBeInstanceOf(HeadMovedError);
    expect(fake.paths("insights")).toEqual([]);
    expect(fake.writeCount()).toBe(0);
  });
});
