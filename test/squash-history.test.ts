/**
 * TELEMETRY_HISTORY=squash against the git-backed stand-in (a real bare repository): the squash is a
 * compare-and-swap on the branch (GraphQL `updateRefs` with `beforeOid`), so a commit that lands meanwhile is
 * never dropped; a run that lost the flusher's lease does not force; the report says what the squash did.
 */
import { execFileSync } from "node:child_process";
import { devNull } from "node:os";
import { loadConfig } from "../lib/config.ts";
import type { StoredEvent } from "../lib/events/stored-event.ts";
import { GitHubAdapter } from "../lib/storage/github/github-adapter.ts";
import { GitHubFiles } from "../lib/storage/github/github-files.ts";
import { runJob, type JobCommitted } from "../lib/jobs/run-job.ts";
import { systemClock } from "../lib/clock.ts";
import { dayFiles } from "./support/data-folder.ts";
import { describe, expect, test } from "./support/fixtures.ts";
import type { GitGitHub } from "./support/git-github/index.ts";

const SHA = /^[0-9a-f]{40}$/;
const MAINTAINER_FILE = "NOTES.md";
const LEASE_KEY = "flusher/lease";
const REF_PATCH = "/repos/acme/data/git/refs/heads/main";

/** 40 days of events up to today, two installs a day. */
const it = test.extend("DAYS", { scope: "file" }, ({ days }) => days.last(40));

function eventsOf(days: readonly string[]): StoredEvent[] {
  let n = 0;
  return days.flatMap((day) =>
    ["install-a", "install-b"].map((hwid): StoredEvent => {
      n += 1;
      return {
        event_id: `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
        created_at: `${day}T01:00:00.000Z`,
        ip: null,
        hwid,
        event_name: "app_launch",
        app_version: "1.0.0",
        client_type: "vector-inspector",
        metadata: {},
      };
    }),
  );
}

function gitOf(stand: GitGitHub) {
  return (...args: string[]) =>
    execFileSync("git", args, {
      env: { ...process.env, GIT_DIR: stand.gitDir, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: devNull },
      maxBuffer: 64 * 1024 ** 2,
    })
      .toString()
      .trim();
}

/** Whether a write is the squash's move of the branch: GraphQL's updateRefs, or the second PATCH of the ref. */
function squashMove(): (method: string, path: string) => boolean {
  let patches = 0;
  return (method, path) => path === "/graphql" || (method === "PATCH" && path === REF_PATCH && ++patches === 2);
}

describe("TELEMETRY_HISTORY=squash", () => {
  it("keeps a maintainer's commit that lands as the squash moves the branch: it squashes again on top of it", async ({
    DAYS,
    serveGitGitHub,
    runtimeOf,
  }) => {
    const isMove = squashMove();
    let pushed = false;
    // Armed once the day's rollups are published: retention removes only what a rollup covers.
    let armed = false;
    const served = await serveGitGitHub({
      onWrite: (method, path) => {
        if (!armed || pushed || !isMove(method, path)) return;
        pushed = true;
        served.stand.seed([[MAINTAINER_FILE, "a maintainer's note\n"]], "A maintainer's push");
      },
    });
    const { stand, env } = served;
    stand.seed(dayFiles(eventsOf(DAYS)));
    const git = gitOf(stand);
    const runtime = runtimeOf({ ...env, TELEMETRY_RETENTION_DAYS: "30", TELEMETRY_HISTORY: "squash" });
    expect(await runtime.publish(25_000)).toMatchObject({ outcome: "published", pending: 0 });
    armed = true;
    const report = await runtime.retain(25_000);

    expect(pushed).toBe(true);
    expect(git("show", `main:${MAINTAINER_FILE}`)).toBe("a maintainer's note");
    expect(report).toMatchObject({ outcome: "removed", squashed: expect.stringMatching(SHA), squash_error: null });
    expect(git("rev-parse", "main")).toBe(report!.squashed);
    expect(git("rev-list", "--count", "main")).toBe("1");
    const days = git("ls-tree", "-r", "--name-only", "main")
      .split("\n")
      .filter((path) => path.endsWith(".ndjson"));
    expect(days).toHaveLength(2 * 30);
  });

  it("does not force the branch once the run lost the flusher's lease, and says why it did not squash", async ({
    DAYS,
    serveGitGitHub,
    runtimeOf,
    spoolStore,
  }) => {
    let commits = 0;
    let armed = false;
    const served = await serveGitGitHub({
      onWrite: async (method, path) => {
        // The squash's root commit: another flusher takes the lease over meanwhile.
        if (armed && method === "POST" && path.endsWith("/git/commits") && ++commits === 2)
          await spoolStore.setJSON(LEASE_KEY, { holder: "another-flusher", expires_at: Date.now() + 60_000 });
      },
    });
    const { stand, env } = served;
    stand.seed(dayFiles(eventsOf(DAYS)));
    const git = gitOf(stand);
    const runtime = runtimeOf({ ...env, TELEMETRY_RETENTION_DAYS: "30", TELEMETRY_HISTORY: "squash" });
    expect(await runtime.publish(25_000)).toMatchObject({ outcome: "published", pending: 0 });
    armed = true;
    const report = await runtime.retain(25_000);

    // The retention commit stands, on top of the history, which is left as it was.
    expect(Number(git("rev-list", "--count", "main"))).toBeGreaterThan(1);
    expect(git("rev-parse", "main")).toBe(report!.commit);
    expect(report).toMatchObject({
      outcome: "removed",
      commit: expect.stringMatching(SHA),
      squashed: null,
      squash_error: expect.stringMatching(/lease/),
    });
  });

  it("is refused with the spool off, naming both settings", () => {
    const env = { GITHUB_TOKEN: "t", GITHUB_REPOSITORY: "acme/data", TELEMETRY_HISTORY: "squash" };
    expect(() => loadConfig({ ...env, TELEMETRY_SPOOL: "off" })).toThrow(/TELEMETRY_HISTORY=squash.*TELEMETRY_SPOOL/);
    expect(loadConfig(env).history).toBe("squash");
  });
});

/** A job of its own on the stand-in's files (no spool, so no lease): commits `changes`, history squashed. */
function squashingJob(url: string, token: string, changes: { path: string; content: string }[], always = false) {
  const adapter = new GitHubAdapter({
    credentials: { kind: "token", token },
    owner: "acme",
    repo: "data",
    branch: undefined,
    apiUrl: url,
  });
  const deps = {
    files: new GitHubFiles(adapter),
    clock: systemClock,
    lease: undefined,
    limits: { perMinute: 80, perHour: 500 },
  };
  return runJob<{ outcome: string; error: string | null } & JobCommitted>(deps, {
    event: "test_job",
    budgetMs: 20_000,
    commitReserveMs: 5_000,
    report: { commit: null, squashed: null, squash_error: null },
    history: "squash",
    run: async ({ underLease }) => ({
      outcome: "done",
      ...(await underLease((commit) => commit(changes, "A job's commit", always ? { squash: "always" } : {}))),
    }),
  });
}

describe("a job's squash, as its report tells it", () => {
  it('squashes with squash: "always" though nothing changed, and not without it', async ({ serveGitGitHub }) => {
    const { stand, url, env } = await serveGitGitHub();
    stand.seed([["README.md", "data\n"]]);
    stand.seed([["NOTES.md", "more\n"]]);
    const git = gitOf(stand);
    const same = [{ path: "README.md", content: "data\n" }];
    expect(await squashingJob(url, env.GITHUB_TOKEN, same)).toMatchObject({
      commit: null,
      squashed: null,
      squash_error: null,
    });
    expect(git("rev-list", "--count", "main")).toBe("2");
    const report = await squashingJob(url, env.GITHUB_TOKEN, same, true);
    expect(report).toMatchObject({
      outcome: "done",
      commit: null,
      squashed: git("rev-parse", "main"),
      squash_error: null,
    });
    expect(git("rev-list", "--count", "main")).toBe("1");
  });

  it("does not squash a branch forced away from the job's commit: the commit is reported, and why", async ({
    serveGitGitHub,
  }) => {
    let seeded = "";
    const served = await serveGitGitHub({
      onWrite: (_method, path) => {
        if (path === "/graphql") gitOf(served.stand)("update-ref", "refs/heads/main", seeded);
      },
    });
    const { stand, url, env } = served;
    stand.seed([["README.md", "data\n"]]);
    seeded = stand.seed([["NOTES.md", "more\n"]]);
    const report = await squashingJob(url, env.GITHUB_TOKEN, [{ path: "README.md", content: "erased\n" }]);
    expect(report).toMatchObject({
      outcome: "done",
      commit: expect.stringMatching(SHA),
      squashed: null,
      squash_error: expect.stringMatching(/no longer holds/),
    });
    expect(gitOf(stand)("rev-parse", "main")).toBe(seeded);
  });
});

describe("a commit of large files", () => {
  it("sends no request body over 4 MB, and makes the same one commit of every file", async ({ serveGitGitHub }) => {
    const { stand, url, env } = await serveGitGitHub();
    stand.seed([["README.md", "data\n"]]);
    const before = gitOf(stand)("rev-parse", "main");
    const adapter = new GitHubAdapter({
      credentials: { kind: "token", token: env.GITHUB_TOKEN },
      owner: "acme",
      repo: "data",
      branch: undefined,
      apiUrl: url,
    });
    const line = `${JSON.stringify({ hwid: "install-a", metadata: { pad: "x".repeat(900) } })}\n`;
    const part = (i: number) => `${i}`.padStart(6, "0") + line.repeat(1200);
    const changes = Array.from({ length: 12 }, (_, i) => ({
      path: `telemetry/2026/11/22/${i}.ndjson`,
      content: part(i),
    }));
    const sent = stand.requests.length;
    const { commit } = await new GitHubFiles(adapter).commitFiles(changes, "Erase an install", {
      deadline: Date.now() + 30_000,
    });

    const git = gitOf(stand);
    expect(Math.max(...stand.requests.slice(sent).map((request) => request.bytes))).toBeLessThanOrEqual(4 * 1024 ** 2);
    expect(git("rev-parse", "main")).toBe(commit);
    expect(git("rev-parse", "main^")).toBe(before);
    for (const { path, content } of changes) expect(git("show", `main:${path}`)).toBe(content.trimEnd());
  });
});
