import { http, HttpResponse } from "msw";
import { describe, expect, it, vi } from "vitest";
import { gitBlobSha } from "../lib/storage/git-blob-sha.ts";
import type { GitHubFiles } from "../lib/storage/github/github-files.ts";
import { FakeGitHub, serveFakeGitHub, type FakeGitHubOptions } from "./support/fake-github/index.ts";
import {
  API,
  callsTo,
  DAY,
  flushWrite,
  githubFilesServer,
  newFiles,
  SHA,
  soon,
  TOKEN,
  write,
} from "./support/github-files-fake.ts";

const { server, useFake: fakeWith } = githubFilesServer();
let fake: FakeGitHub;
const useFake = (options: FakeGitHubOptions = {}) => (fake = fakeWith(options));
const calls = () => callsTo(fake);

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
