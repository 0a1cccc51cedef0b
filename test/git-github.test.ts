import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { devNull, tmpdir } from "node:os";
import { join } from "node:path";
import { v7 as uuidv7 } from "uuid";
import { afterEach, beforeEach } from "vitest";
import { describe, expect, it } from "./support/fixtures.ts";
import type { GitHubConfig } from "../lib/config.ts";
import { storedEventSchema, toStoredEvent, type StoredEvent } from "../lib/events/stored-event.ts";
import { StoreUnavailableError } from "../lib/storage/event-store.ts";
import { GitHubAdapter } from "../lib/storage/github/github-adapter.ts";
import { GitHubFiles } from "../lib/storage/github/github-files.ts";
import { GitHubStore } from "../lib/storage/github/github-store.ts";
import { HeadMovedError, type FileChange } from "../lib/storage/repository-files.ts";
import { GitGitHub, serveGitGitHub, type GitGitHubOptions } from "./support/git-github/index.ts";

const OWNER = "acme";
const REPO = "data";
const TOKEN = "test-token-do-not-leak";
const DAY = "telemetry/2026/11/22";
const DAY_FILE = `${DAY}/0001.ndjson`;
const MIB = 1024 * 1024;
const SHA = /^[0-9a-f]{40}$/;
/** Git's id of an empty file: a blob sha that the day's file does not have. */
const EMPTY_BLOB = "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391";

let workDir: string;
let stand: GitGitHub;
let served: { url: string; close(): Promise<void> };
let config: GitHubConfig;

beforeEach(async () => {
  workDir = mkdtempSync(join(tmpdir(), "git-github-"));
  await startStand({});
});

/** Serves a stand-in on a bare repository of its own. */
async function startStand(options: Omit<GitGitHubOptions, "dir">): Promise<void> {
  stand = new GitGitHub({
    dir: mkdtempSync(join(workDir, "data-")),
    owner: OWNER,
    repo: REPO,
    token: TOKEN,
    ...options,
  });
  served = await serveGitGitHub(stand);
  config = {
    credentials: { kind: "token", token: TOKEN },
    owner: OWNER,
    repo: REPO,
    branch: undefined,
    apiUrl: served.url,
  };
}

afterEach(async () => {
  await served.close();
  rmSync(workDir, { recursive: true, force: true });
});

const soon = () => ({ deadline: Date.now() + 4000 });
const write = (path: string, content: string): FileChange => ({ path, content });
const remove = (path: string): FileChange => ({ path, content: null });
const newStore = () => new GitHubStore(new GitHubAdapter(config), "telemetry", MIB);
const newFiles = () => new GitHubFiles(new GitHubAdapter(config));

function event(createdAt = "2026-11-22T10:00:00.000Z"): StoredEvent {
  return toStoredEvent(
    { hwid: "a1b2c3d4", event_name: "app_launch", app_version: "1.2.3", client_type: "vector-inspector", metadata: {} },
    { eventId: uuidv7(), createdAt: new Date(createdAt), ip: "203.0.113.7" },
  );
}

/** git itself, run against the stand-in's bare repository with no user configuration. */
const gitEnv = () => ({ ...process.env, GIT_DIR: stand.gitDir, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: devNull });
function git(...args: string[]): string {
  return execFileSync("git", args, { env: gitEnv(), encoding: "utf8" }).replace(/\n$/, "");
}
const subjects = () => git("log", "--format=%s", "main").split("\n");

/** A request straight to the stand-in, as a client other than Octokit would make it. */
async function api(method: string, path: string, body?: unknown, token = TOKEN) {
  const response = await fetch(`${served.url}/repos/${OWNER}/${REPO}${path}`, {
    method,
    headers: { authorization: `token ${token}`, "content-type": "application/json" },
    body: body === undefined ? null : JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

const putFile = (path: string, text: string, sha?: string) =>
  api("PUT", `/contents/${path}`, {
    message: `Write ${path}`,
    content: Buffer.from(text).toString("base64"),
    ...(sha ? { sha } : {}),
  });

/** Every object the bare repository holds, reachable or not. */
const allObjects = () => git("cat-file", "--batch-all-objects", "--batch-check=%(objectname)");
const rateHeaders = (headers: Headers) =>
  Object.fromEntries([...headers].filter(([name]) => name.startsWith("x-ratelimit-") || name === "retry-after"));

function idsIn(text: string): string[] {
  return text
    .split("\n")
    .filter(Boolean)
    .map((line) => storedEventSchema.parse(JSON.parse(line)).event_id);
}

describe("GitGitHub, a GitHub backed by a git repository, through the project's clients", () => {
  it("appends through the contents API, one commit per write on the branch's tip, and lists and reads it", async () => {
    const store = newStore();
    const first = [event(), event()];
    const second = [event()];
    expect(await store.commit([first], soon())).toMatchObject({ batches: 1, events: 2, path: DAY_FILE });
    expect(await store.commit([second], soon())).toMatchObject({ batches: 1, events: 1, path: DAY_FILE });

    expect(subjects()).toEqual(["Append 1 telemetry event for 2026-11-22", "Append 2 telemetry events for 2026-11-22"]);
    const [tip, parent, ...none] = git("rev-list", "--parents", "-n", "1", "main").split(" ");
    expect(none).toEqual([]);
    expect(git("rev-list", "--max-parents=0", "main")).toBe(parent);
    expect(stand.requests.filter((request) => request.method === "PUT").map((request) => request.status)).toEqual([
      201, 200,
    ]);

    const files = newFiles();
    const text = git("cat-file", "blob", `${tip}:${DAY_FILE}`) + "\n";
    expect(idsIn(text)).toEqual([...first, ...second].map((one) => one.event_id));
    expect(await files.list(DAY, soon())).toEqual([
      {
        path: DAY_FILE,
        name: "0001.ndjson",
        type: "file",
        sha: git("rev-parse", `main:${DAY_FILE}`),
        size: Buffer.byteLength(text),
      },
    ]);
    expect(await files.list("telemetry", soon())).toEqual([
      expect.objectContaining({ path: "telemetry/2026", type: "dir", sha: git("rev-parse", "main:telemetry/2026") }),
    ]);
    expect((await files.read(DAY_FILE, soon()))?.toString()).toBe(text);
    expect(await files.read(`${DAY}/0002.ndjson`, soon())).toBeUndefined();
    expect(await files.list("nowhere", soon())).toEqual([]);
  });

  it("commits several files at once, a deletion among them, and reads the tree back from the tarball", async () => {
    stand.seed([
      ["README.md", "data\n"],
      [DAY_FILE, "a\n"],
      ["telemetry/2026/11/21/0001.ndjson", "old\n"],
    ]);
    const files = newFiles();
    const { commit } = await files.commitFiles(
      [write("rollups/2026-11.json", "{}\n"), write(DAY_FILE, "a\nb\n"), remove("telemetry/2026/11/21/0001.ndjson")],
      "Roll up November",
      soon(),
    );

    expect(commit).toBe(git("rev-parse", "main"));
    expect(subjects()).toEqual(["Roll up November", "Seed"]);
    expect(git("ls-tree", "-r", "--name-only", "main").split("\n")).toEqual([
      "README.md",
      "rollups/2026-11.json",
      DAY_FILE,
    ]);
    // The folder the deletion emptied is gone with it.
    expect(git("ls-tree", "--name-only", "main", "telemetry/2026/11/")).toBe(DAY);
    expect(await files.list("telemetry/2026/11", soon())).toEqual([
      expect.objectContaining({ path: DAY, type: "dir" }),
    ]);

    const read = new Map<string, string>();
    const whole = await files.readTree("", (path, bytes) => void read.set(path, bytes.toString()), soon());
    expect(whole.head).toBe(commit);
    expect(Object.fromEntries(read)).toEqual({
      "README.md": "data\n",
      "rollups/2026-11.json": "{}\n",
      [DAY_FILE]: "a\nb\n",
    });
    const under: string[] = [];
    await files.readTree("telemetry", (path) => void under.push(path), soon());
    expect(under).toEqual([DAY_FILE]);
    expect(stand.requests.filter((request) => request.path.includes("codeload")).map((r) => r.status)).toEqual([
      200, 200,
    ]);
  });

  it("refuses a commit computed from a head that has moved since it was read", async () => {
    stand.seed([["README.md", "data\n"]]);
    const files = newFiles();
    const { head } = await files.readTree("", () => {}, soon());
    expect(head).toMatch(SHA);
    await newStore().commit([[event()]], soon());

    await expect(
      files.commitFiles([write("rollups/2026-11.json", "{}\n")], "Roll up November", { ...soon(), expectedHead: head }),
    ).rejects.toBeInstanceOf(HeadMovedError);
    expect(subjects()).toEqual(["Append 1 telemetry event for 2026-11-22", "Seed"]);

    const moved = git("rev-parse", "main");
    const { commit } = await files.commitFiles([write("rollups/2026-11.json", "{}\n")], "Roll up November", {
      ...soon(),
      expectedHead: moved,
    });
    expect(git("rev-parse", `${commit}^`)).toBe(moved);
  });

  it("answers stale, blind and racing writes, bad credentials and a move that is no fast forward as GitHub does", async () => {
    const seeded = stand.seed([[DAY_FILE, "a\n"]]);
    const sha = git("rev-parse", `main:${DAY_FILE}`);
    const stale = EMPTY_BLOB;

    expect(await putFile(DAY_FILE, "b\n", stale)).toMatchObject({
      status: 409,
      body: { message: `${DAY_FILE} does not match ${stale}` },
    });
    expect(await putFile(DAY_FILE, "b\n")).toMatchObject({
      status: 422,
      body: { message: `Invalid request.\n\n"sha" wasn't supplied.` },
    });
    expect(await api("GET", "", undefined, "wrong")).toMatchObject({
      status: 401,
      body: { message: "Bad credentials" },
    });
    expect(await api("GET", "/contents/nowhere")).toMatchObject({ status: 404, body: { message: "Not Found" } });

    // Two writers with the same sha: the one applied first wins, the other's sha is stale by then.
    const racing = await Promise.all([putFile(DAY_FILE, "a\nb\n", sha), putFile(DAY_FILE, "a\nc\n", sha)]);
    expect(racing.map((answer) => answer.status).sort()).toEqual([200, 409]);
    expect(git("rev-list", "--count", "main")).toBe("2");

    const { body: root } = await api("POST", "/git/commits", {
      message: "Elsewhere",
      tree: git("rev-parse", "main^{tree}"),
      parents: [],
    });
    expect(root.parents).toEqual([]);
    expect(await api("PATCH", "/git/refs/heads%2Fmain", { sha: root.sha, force: false })).toMatchObject({
      status: 422,
      body: { message: "Update is not a fast forward" },
    });
    expect(git("rev-parse", "main^")).toBe(seeded);
  });

  it("forgets a blob only the old history held once the branch is forced to a root commit of its tree and collected", async () => {
    stand.seed([[DAY_FILE, '{"email":"someone@example.com"}\n']]);
    const leaked = git("rev-parse", `main:${DAY_FILE}`);
    const files = newFiles();
    await files.commitFiles([write(DAY_FILE, '{"email":null}\n')], "Scrub an address", soon());
    const kept = git("rev-parse", `main:${DAY_FILE}`);

    const { body: ref } = await api("GET", "/git/ref/heads%2Fmain");
    const { body: head } = await api("GET", `/git/commits/${ref.object.sha}`);
    const { status, body: root } = await api("POST", "/git/commits", {
      message: "Squash history",
      tree: head.tree.sha,
      parents: [],
    });
    expect(status).toBe(201);
    expect(root.tree.sha).toBe(head.tree.sha);
    expect(await api("PATCH", "/git/refs/heads%2Fmain", { sha: root.sha, force: true })).toMatchObject({
      status: 200,
      body: { object: { sha: root.sha } },
    });

    git("reflog", "expire", "--expire=now", "--all");
    git("gc", "--prune=now", "--quiet");
    const reachable = git("rev-list", "--all", "--objects")
      .split("\n")
      .map((line) => line.split(" ")[0]);
    expect(reachable).toContain(kept);
    expect(reachable).not.toContain(leaked);
    expect(spawnSync("git", ["cat-file", "-e", leaked], { env: gitEnv() }).status).not.toBe(0);
    expect(subjects()).toEqual(["Squash history"]);
    expect((await files.read(DAY_FILE, soon()))?.toString()).toBe('{"email":null}\n');
  });

  it("moves a branch with GraphQL's updateRefs only while it is at beforeOid, and answers a stale one as GitHub does", async () => {
    const first = stand.seed([[DAY_FILE, "one\n"]]);
    const second = stand.seed([[DAY_FILE, "two\n"]]);
    const { body: repository } = await api("GET", "");
    const { body: head } = await api("GET", `/git/commits/${second}`);
    const { body: root } = await api("POST", "/git/commits", { message: "Squash", tree: head.tree.sha, parents: [] });
    const updateRefs = async (beforeOid: string) => {
      const response = await fetch(`${served.url}/graphql`, {
        method: "POST",
        headers: { authorization: `bearer ${TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({
          query: "mutation ($input: UpdateRefsInput!) { updateRefs(input: $input) { clientMutationId } }",
          variables: {
            input: {
              repositoryId: repository.node_id,
              refUpdates: [{ name: "refs/heads/main", beforeOid, afterOid: root.sha, force: true }],
            },
          },
        }),
      });
      return { status: response.status, body: (await response.json()) as unknown };
    };

    // A stale beforeOid: 200, a generic error, and the branch where it was.
    const stale = await updateRefs(first);
    expect(stale.status).toBe(200);
    expect(stale.body).toMatchObject({ data: { updateRefs: null }, errors: [{ message: expect.any(String) }] });
    expect(git("rev-parse", "main")).toBe(second);
    expect(await updateRefs(second)).toEqual({
      status: 200,
      body: { data: { updateRefs: { clientMutationId: null } } },
    });
    expect(git("rev-parse", "main")).toBe(root.sha);
  });

  it("refuses the fourth content write in a minute with the secondary limit's 403, writing nothing, and reads go on", async () => {
    let clock = 1_700_000_000_000;
    await served.close();
    await startStand({ writesPerMinute: 3, now: () => clock });
    stand.seed([[DAY_FILE, "a\n"]]);
    const sha = git("rev-parse", `main:${DAY_FILE}`);

    // Three content writes: a contents PUT, then a blob and a commit through the Git Data API.
    const first = await putFile(DAY_FILE, "a\nb\n", sha);
    expect(first.status).toBe(200);
    expect(rateHeaders(first.headers)).toEqual({
      "x-ratelimit-limit": "5000",
      "x-ratelimit-remaining": "4999",
      "x-ratelimit-reset": String(1_700_000_000 + 3600),
      "x-ratelimit-used": "1",
      "x-ratelimit-resource": "core",
    });
    expect((await api("POST", "/git/blobs", { content: "x", encoding: "utf-8" })).status).toBe(201);
    const tree = git("rev-parse", "main^{tree}");
    expect((await api("POST", "/git/commits", { message: "Loose", tree, parents: [] })).status).toBe(201);
    const tip = git("rev-parse", "main");
    const objects = allObjects();

    const limited = await putFile("rollups/2026-11.json", "{}\n");
    expect(limited.status).toBe(403);
    expect(limited.body.message).toMatch(
      /^You have exceeded a secondary rate limit\. Please wait a few minutes before you try again\./,
    );
    expect(limited.body.documentation_url).toMatch(/#about-secondary-rate-limits$/);
    expect(rateHeaders(limited.headers)).toMatchObject({ "retry-after": "60", "x-ratelimit-remaining": "4996" });
    expect(allObjects()).toBe(objects);
    expect(git("rev-parse", "main")).toBe(tip);

    // Reading goes on.
    const read = await api("GET", `/contents/${DAY_FILE}`);
    expect(read.status).toBe(200);
    expect(Buffer.from(read.body.content, "base64").toString()).toBe("a\nb\n");
    expect((await newFiles().read(DAY_FILE, soon()))?.toString()).toBe("a\nb\n");

    // The project's clients take it for a rate limit, and stop writing for the time GitHub asked.
    const rateLimited = { reason: "rate_limited", retryAfterSeconds: 60 };
    const stored = newStore().commit([[event()]], soon());
    await expect(stored).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(stored).rejects.toMatchObject(rateLimited);
    const committed = newFiles().commitFiles([write("rollups/2026-11.json", "{}\n")], "Roll up November", soon());
    await expect(committed).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(committed).rejects.toMatchObject(rateLimited);
    expect(allObjects()).toBe(objects);
    expect(subjects()).toEqual([`Write ${DAY_FILE}`, "Seed"]);

    // Once the minute has passed, writing works again.
    clock += 60_000;
    expect(await newStore().commit([[event()]], soon())).toMatchObject({ batches: 1, events: 1, path: DAY_FILE });
    expect(subjects()).toEqual(["Append 1 telemetry event for 2026-11-22", `Write ${DAY_FILE}`, "Seed"]);
  });
});
