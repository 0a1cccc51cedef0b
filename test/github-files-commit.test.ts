import { http, HttpResponse } from "msw";
import { describe, expect, it, vi } from "vitest";
import { PushProtectedError, StoreUnavailableError } from "../lib/storage/event-store.ts";
import { HeadMovedError } from "../lib/storage/repository-files.ts";
import type { FakeGitHub, FakeGitHubOptions } from "./support/fake-github/index.ts";
import {
  API,
  callsTo,
  DAY,
  flushWrite,
  githubFilesServer,
  newFiles,
  remove,
  SHA,
  soon,
  write,
} from "./support/github-files-fake.ts";

const { server, useFake: fakeWith } = githubFilesServer();
let fake: FakeGitHub;
const useFake = (options: FakeGitHubOptions = {}) => (fake = fakeWith(options));
const calls = () => callsTo(fake);

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
