import { execFileSync, spawnSync } from "node:child_process";
import { devNull } from "node:os";
import type { StoredEvent } from "../lib/events/stored-event.ts";
import { dayFiles } from "./support/data-folder.ts";
import type { FakeGitHub } from "./support/fake-github/index.ts";
import { describe, expect, test } from "./support/fixtures.ts";

const INSTALLS = ["install-a", "install-b", "install-c"];
const ERASED = "install-b";

let sequence = 0;
function eventOf(day: string, hwid: string, hour = 1): StoredEvent {
  sequence += 1;
  return {
    event_id: `00000000-0000-4000-8000-${String(sequence).padStart(12, "0")}`,
    created_at: `${day}T${String(hour).padStart(2, "0")}:00:00.${String(sequence % 1000).padStart(3, "0")}Z`,
    ip: null,
    hwid,
    event_name: "app_launch",
    app_version: "1.0.0",
    client_type: "vector-inspector",
    metadata: { os: "Linux-6.1", n: sequence },
  };
}

/** Three installs over five days, four events each a day, the days in several parts (one in the old layout); a fake GitHub holding them, and a runtime on it. */
const it = test
  .extend("stored", { scope: "file" }, ({ days }) =>
    days.last(5).flatMap((day) => INSTALLS.flatMap((hwid) => [1, 2, 3, 4].map((hour) => eventOf(day, hwid, hour)))),
  )
  .extend("files", { scope: "file" }, ({ stored, days }) => dayFiles(stored, { parts: 3, oldLayout: [days.ago(4)] }))
  .extend("served", async ({ serveGitHub, files }) => {
    const served = await serveGitHub();
    served.fake.seedAll(files);
    return served;
  })
  .extend("github", ({ served }) => served.fake)
  .extend("runtime", ({ served, runtimeOf }) => runtimeOf(served.env));

/** Every stored line at the branch's head, by file. */
function linesAtHead(github: FakeGitHub): Map<string, string[]> {
  return new Map(
    github
      .paths()
      .filter((path) => path.endsWith(".ndjson"))
      .map((path) => [path, github.file(path)!.split("\n").filter(Boolean)]),
  );
}

describe("erasure by hwid", () => {
  it("removes every line of the install from every day and part in one commit, every other line unchanged and in order", async ({
    github,
    runtime,
    files,
    days,
    spoolStore,
  }) => {
    const { today } = days;
    const waiting = [eventOf(today, ERASED, 5), eventOf(today, "install-a", 5), eventOf(today, ERASED, 6)];
    await runtime.spool!.spool.add(waiting.slice(0, 2));
    await runtime.spool!.spool.add(waiting.slice(2));
    const request = await runtime.erasure!.requests.submit([ERASED]);
    const commits = github.commits.length;

    const run = await runtime.erasure!.run(60_000);
    expect(run).toMatchObject({
      outcome: "erased",
      requests: 1,
      lines_removed: 20,
      spool_events_dropped: 2,
      error: null,
    });
    expect(github.commits.length).toBe(commits + 1);
    expect(github.commits.at(-1)!.message).not.toContain(ERASED);

    const head = linesAtHead(github);
    for (const [path, content] of files) {
      const expected = content.split("\n").filter((line) => line && !line.includes(`"hwid":"${ERASED}"`));
      // A part left with no line is removed.
      expect(head.get(path), path).toEqual(expected.length > 0 ? expected : undefined);
    }
    expect([...head.values()].flat().some((line) => line.includes(ERASED))).toBe(false);

    // Its waiting events are dropped from the spool; the others' stay, and are stored by the next flush.
    const left = (await runtime.spool!.spool.read(await runtime.spool!.spool.list())).flatMap(
      (record) => record.events,
    );
    expect(left.map((event) => event.hwid)).toEqual(["install-a"]);

    const status = await runtime.erasure!.requests.status(request.request_id);
    expect(status).toMatchObject({ status: "done", lines_removed: 20 });
    // The erasure log keeps what was done, not the id.
    const log = JSON.stringify(await spoolStore.get(`erasure/done/${request.request_id}`, { type: "json" }));
    expect(log).not.toContain(ERASED);
    expect(await runtime.erasure!.requests.pending()).toEqual([]);
  });

  it("loses nothing and stores nothing twice when a flush runs during the erasure", async ({
    github,
    runtime,
    stored,
    days,
  }) => {
    const { today } = days;
    const waiting = INSTALLS.map((hwid) => eventOf(today, hwid, 7));
    await runtime.spool!.spool.add(waiting);
    await runtime.erasure!.requests.submit([ERASED]);
    const [erasure] = await Promise.all([runtime.erasure!.run(60_000), runtime.spool!.flush(7000)]);
    expect(erasure.outcome).toBe("erased");
    // Whatever ran first, the flush's events of the others are stored once, the erased install's never.
    for (let i = 0; i < 5 && (await runtime.spool!.spool.list()).length > 0; i += 1) await runtime.spool!.flush(7000);
    const ids = [...linesAtHead(github).values()].flat().map((line) => JSON.parse(line) as StoredEvent);
    const expected = [...stored, ...waiting].filter((event) => event.hwid !== ERASED).map((event) => event.event_id);
    expect(ids.map((event) => event.event_id).sort()).toEqual(expected.sort());
    expect(ids.some((event) => event.hwid === ERASED)).toBe(false);
  });

  it("with TELEMETRY_HISTORY=squash, leaves the branch one commit with no parent, holding the erased tree", async ({
    github,
    served,
    runtimeOf,
  }) => {
    const squashing = runtimeOf({ ...served.env, TELEMETRY_HISTORY: "squash" });
    await squashing.erasure!.requests.submit([ERASED]);
    const run = await squashing.erasure!.run(60_000);
    expect(run).toMatchObject({
      outcome: "erased",
      lines_removed: 20,
      squashed: expect.stringMatching(/^[0-9a-f]{40}$/),
    });
    const api = async (path: string) =>
      (
        await fetch(`${served.url}/repos/acme/data/${path}`, {
          headers: { authorization: `token ${served.env.GITHUB_TOKEN}` },
        })
      ).json();
    const ref = await api("git/ref/heads/main");
    expect(ref.object.sha).toBe(run.squashed);
    const root = await api(`git/commits/${run.squashed}`);
    expect(root.parents).toEqual([]);
    const erasedTree = await api(`git/commits/${run.commit}`);
    expect(root.tree.sha).toBe(erasedTree.tree.sha);
    expect([...linesAtHead(github).values()].flat().some((line) => line.includes(ERASED))).toBe(false);
  });

  it("does nothing, and commits nothing, with no request waiting", async ({ github, runtime }) => {
    const commits = github.commits.length;
    expect(await runtime.erasure!.run(10_000)).toMatchObject({ outcome: "nothing" });
    expect(github.commits.length).toBe(commits);
  });
});

describe("erasure and the history, in a real git repository", () => {
  /** Every blob reachable from any ref of the bare repository, after the history's unreachable objects are collected. */
  function reachableBlobs(gitDir: string): string[] {
    const env = { ...process.env, GIT_DIR: gitDir, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: devNull };
    const git = (...args: string[]) => execFileSync("git", args, { env, encoding: "utf8", maxBuffer: 1 << 28 });
    git("reflog", "expire", "--expire=now", "--all");
    git("gc", "--prune=now", "--quiet");
    const objects = git("rev-list", "--all", "--objects").trim().split("\n");
    return objects
      .map((line) => line.split(" ")[0]!)
      .filter((sha) => git("cat-file", "-t", sha).trim() === "blob")
      .map((sha) => git("cat-file", "-p", sha));
  }

  it.for(["keep", "squash"] as const)(
    "TELEMETRY_HISTORY=%s: the head never holds the install; only squash leaves no object of it behind",
    async (history, { serveGitGitHub, runtimeOf, files }) => {
      const { stand, env: github } = await serveGitGitHub();
      stand.seed(files, "Three installs over five days");
      const made = runtimeOf({ ...github, TELEMETRY_HISTORY: history });
      await made.erasure!.requests.submit([ERASED]);
      const run = await made.erasure!.run(60_000);
      expect(run).toMatchObject({ outcome: "erased", lines_removed: 20, error: null });
      const blobsLeft = reachableBlobs(stand.gitDir);
      const env = { ...process.env, GIT_DIR: stand.gitDir };
      const atHead = execFileSync("git", ["ls-tree", "-r", "--name-only", "main"], { env, encoding: "utf8" });
      expect(atHead).toContain("telemetry/");
      // git grep exits 1 when nothing at the head matches.
      expect(spawnSync("git", ["grep", "-q", `"hwid":"${ERASED}"`, "main"], { env }).status).toBe(1);
      expect(spawnSync("git", ["grep", "-q", '"hwid":"install-a"', "main"], { env }).status).toBe(0);
      const holding = blobsLeft.filter((blob) => blob.includes(`"hwid":"${ERASED}"`));
      if (history === "squash") expect(holding).toEqual([]);
      else expect(holding.length).toBeGreaterThan(0);
    },
  );
});
