import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { PUBLISH_SCHEDULED_BUDGET_MS } from "../lib/insights/publish-insights.ts";
import { ROLLUP_VERSION, rollupPath } from "../lib/tally/day-rollup.ts";
import { legacyRollup, uniformDay } from "./support/legacy-rollup.ts";
import type { StoredEvent } from "../lib/events/stored-event.ts";
import { dataFolder, dayFiles, lines } from "./support/data-folder.ts";
import type { FakeGitHub, RequestRecord } from "./support/fake-github/index.ts";
import { describe, expect, test as base } from "./support/fixtures.ts";
import { generateDataset } from "./support/insights-dataset.ts";
import { runCli as telemetry } from "./support/run-cli.ts";

/** Four days: two whose rollups are current, one whose rollup is an hour behind, today without a rollup. */
const it = base
  .extend("dataset", { scope: "file" }, ({ days }) => generateDataset({ installs: 120, days: days.last(4) }))
  .extend("served", ({ serveGitHub }) => serveGitHub())
  .extend("github", ({ served }) => served.fake)
  .extend("runtime", ({ served, runtimeOf }) => runtimeOf(served.env));

type Kind = "raw file" | "tarball" | "tree" | "commit" | "ref" | "other";

/** What each request the CLI made was: a raw file read, the archive's three steps, or anything else. */
function kinds(requests: readonly RequestRecord[]): Record<Kind, number> {
  const counted: Record<Kind, number> = { "raw file": 0, tarball: 0, tree: 0, commit: 0, ref: 0, other: 0 };
  for (const { method, path } of requests) {
    const kind: Kind =
      method === "GET" && /\/contents\/.*\.ndjson$/.test(path)
        ? "raw file"
        : method === "GET" && /\/tarball\/[0-9a-f]{40}$/.test(path)
          ? "tarball"
          : method === "POST" && path.endsWith("/git/trees")
            ? "tree"
            : method === "POST" && path.endsWith("/git/commits")
              ? "commit"
              : /\/git\/refs/.test(path) && method !== "GET"
                ? "ref"
                : "other";
    counted[kind] += 1;
  }
  return counted;
}

/** Seeds the four days: rolls up the first three (the third only half written), then writes the rest. */
async function seedDays(
  github: FakeGitHub,
  runtime: { publish(budgetMs: number): Promise<unknown> },
  events: readonly StoredEvent[],
  days: string[],
): Promise<Map<string, string>> {
  const [, , behind, today] = days;
  const early = events.filter((e) => !e.created_at.startsWith(today!));
  const held = early.filter((e) => e.created_at.startsWith(behind!));
  const rest = new Set(held.slice(Math.floor(held.length / 2)));
  const firstHalf = early.filter((e) => !rest.has(e));
  github.seedAll(dayFiles(firstHalf, { parts: 2 }));
  await runtime.publish(PUBLISH_SCHEDULED_BUDGET_MS);
  // An hour later: the behind day's last part grew and six parts joined it; today's twelve parts have no rollup yet.
  const final = new Map([...dayFiles(early, { parts: 2 })]);
  const [year, month, dd] = behind!.split("-");
  const folder = `telemetry/${year}/${month}/${dd}`;
  const seeded = [...dayFiles(firstHalf, { parts: 2 })].filter(([path]) => path.startsWith(folder));
  final.forEach((_, path) => path.startsWith(folder) && final.delete(path));
  seeded.forEach(([path, content]) => final.set(path, content));
  const last = seeded.at(-1)!;
  const appended = [...rest];
  final.set(last[0], `${last[1]}${lines(appended.slice(0, 5))}`);
  appended.slice(5).forEach((event, i) => {
    const part = `${folder}/${String(seeded.length + 1 + (i % 6)).padStart(4, "0")}.ndjson`;
    final.set(part, `${final.get(part) ?? ""}${lines([event])}`);
  });
  for (const [path, content] of dayFiles(
    events.filter((e) => e.created_at.startsWith(today!)),
    { parts: 12 },
  ))
    final.set(path, content);
  github.seedAll([...final].filter(([path]) => github.file(path) !== final.get(path)));
  return final;
}

describe("telemetry report --github", () => {
  it("takes current days from their rollups, continues a behind day, reads a day without one through one archive, and agrees with the raw files", async ({
    github,
    runtime,
    served,
    dataset,
    days,
  }) => {
    const DAYS = days.last(4);
    const files = await seedDays(github, runtime, dataset.events, DAYS);
    const local = await dataFolder(files);
    const period = ["--from", DAYS[0]!, "--to", DAYS[3]!, "--format", "json"];
    try {
      const raw = await telemetry(["report", "--data", local, ...period]);
      expect(raw.code, raw.stderr).toBe(0);
      const head = github.commits.length;
      const before = github.requests.length;
      const fast = await telemetry(["report", "--github", "acme/data", ...period], served.env);
      expect(fast.code, fast.stderr).toBe(0);
      expect(JSON.parse(fast.stdout)).toEqual(JSON.parse(raw.stdout));

      const made = github.requests.slice(before);
      // The current days' files are never read; the behind day's new bytes and today's parts come in one archive.
      expect(
        made
          .filter((r) => DAYS.slice(0, 2).some((day) => r.path.includes(day.replaceAll("-", "/"))))
          .filter((r) => r.path.endsWith(".ndjson")),
      ).toEqual([]);
      expect(kinds(made)).toMatchObject({ "raw file": 0, tarball: 1, tree: 1, commit: 1, ref: 0 });
      expect(made.length).toBeLessThan(25);
      // The archive's commit has no parent and moves no branch.
      expect(github.commits.length).toBe(head);
    } finally {
      await rm(local, { recursive: true, force: true });
    }
  });

  it("reads a file a request when the credential may not write, with the same figures", async ({
    serveGitHub,
    served,
    github,
    runtime,
    dataset,
    days,
  }) => {
    const DAYS = days.last(4);
    const files = await seedDays(github, runtime, dataset.events, DAYS);
    const readOnly = await serveGitHub({
      permissions: { pull: true, push: false, admin: false, maintain: false, triage: false },
    });
    readOnly.fake.seedAll(files);
    const period = ["--from", DAYS[0]!, "--to", DAYS[3]!, "--format", "json"];
    const writing = await telemetry(["report", "--github", "acme/data", ...period], served.env);
    const before = readOnly.fake.requests.length;
    const reading = await telemetry(["report", "--github", "acme/data", ...period], readOnly.env);
    expect(reading.code, reading.stderr).toBe(0);
    // No rollups there: every day from its files, each file a request once the archive is refused.
    const made = kinds(readOnly.fake.requests.slice(before));
    expect(made).toMatchObject({ tarball: 0, "raw file": files.size });
    expect(JSON.parse(reading.stdout)).toEqual(JSON.parse(writing.stdout));
  });
});

describe("telemetry dashboard --github", () => {
  it("says how each day was read: from its rollup, its rollup continued, or its files", async ({
    tempDir,
    github,
    runtime,
    served,
    dataset,
    days,
  }) => {
    const DAYS = days.last(4);
    await seedDays(github, runtime, dataset.events, DAYS);
    const out = await tempDir("dashboard-github-");
    const run = await telemetry(["dashboard", "--github", "acme/data", "--out", out, "--to", DAYS[3]!], served.env);
    expect(run.code, run.stderr).toBe(0);
    const readme = await readFile(join(out, "README.md"), "utf8");
    expect(readme).toContain(
      "from the daily rollups in `rollups/` for 2 days, the event files for 1 and rollups continued with their files' new lines for 1;",
    );
  });
});

describe("telemetry report --github, a period the data does not reach", () => {
  it("says which days the data holds from the listings it made once", async ({ github, served, dataset, days }) => {
    const DAYS = days.last(4);
    github.seedAll(dayFiles(dataset.events, { parts: 2 }));
    const before = github.requests.length;
    const run = await telemetry(
      ["report", "--github", "acme/data", "--from", "2020-01-01", "--to", "2020-01-31"],
      served.env,
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`holds ${DAYS[0]} to ${DAYS[3]})`);
    // The data's one month is listed to find its span, once from each end, and by nothing else in a period of 2020.
    const [year, month] = DAYS[3]!.split("-");
    const monthListed = github.requests
      .slice(before)
      .filter(({ method, path }) => method === "GET" && path.endsWith(`/contents/telemetry/${year}/${month}`));
    expect(monthListed.length).toBe(2);
  });
});

describe("telemetry report --github, a rollup of another version", () => {
  it("reads that day from its files, as the hourly job would rebuild it", async ({
    github,
    runtime,
    served,
    dataset,
    days,
    tempDir,
  }) => {
    const DAYS = days.last(4);
    await seedDays(github, runtime, dataset.events, DAYS);
    const path = rollupPath(DAYS[0]!);
    github.seed(path, `${JSON.stringify({ ...JSON.parse(github.file(path)!), version: ROLLUP_VERSION + 1 })}\n`);
    const local = await tempDir("report-version-");
    await rm(local, { recursive: true, force: true });
    const pulled = await telemetry(["pull", "--github", "acme/data", "--to", local], served.env);
    expect(pulled.code, pulled.stderr).toBe(0);
    const period = ["--from", DAYS[0]!, "--to", DAYS[3]!, "--format", "json"];
    const before = github.requests.length;
    const fast = await telemetry(["report", "--github", "acme/data", ...period], served.env);
    expect(fast.code, fast.stderr).toBe(0);
    const raw = await telemetry(["report", "--data", local, ...period]);
    expect(JSON.parse(fast.stdout)).toEqual(JSON.parse(raw.stdout));
    // Its files came in the archive with the others: the request count shows no file read alone.
    expect(kinds(github.requests.slice(before))).toMatchObject({ "raw file": 0, tarball: 1 });
  });
});

describe("telemetry report --github, a day whose files are gone", () => {
  it("is taken from its rollup, one of format 2 included, found though no index names it", async ({
    github,
    runtime,
    served,
    dataset,
    days,
  }) => {
    const DAYS = days.last(3);
    await seedDays(github, runtime, dataset.events, DAYS);
    const gone = days.last(10)[0]!;
    github.seed(rollupPath(gone), `${legacyRollup(uniformDay(gone, 40), gone)}\n`);
    const period = ["--from", gone, "--to", DAYS[2]!, "--format", "json"];
    const report = await telemetry(["report", "--github", "acme/data", ...period], served.env);
    expect(report.code, report.stderr).toBe(0);
    const row = (JSON.parse(report.stdout) as { days: { day: string; events: number; received: number }[] }).days.find(
      (d) => d.day === gone,
    );
    expect(row).toMatchObject({ events: 160, received: 160 });
  });
});

describe("telemetry report --verify", () => {
  it("says the rollups agree with the raw files, then names the day and figure of a doctored one, exit 1", async ({
    tempDir,
    github,
    runtime,
    served,
    dataset,
    days,
  }) => {
    const DAYS = days.last(4);
    await seedDays(github, runtime, dataset.events, DAYS);
    const period = ["--from", DAYS[0]!, "--to", DAYS[3]!];
    const good = await telemetry(["report", "--github", "acme/data", "--verify", ...period], served.env);
    expect(good.code, good.stderr).toBe(0);
    expect(good.stdout).toBe("rollups agree with the raw files for 3 days\n");
    // A pulled copy holds the same rollups: --verify reads it as well.
    const local = await tempDir("verify-pulled-");
    await telemetry(["pull", "--github", "acme/data", "--to", local], served.env);
    const pulled = await telemetry(["report", "--data", local, "--verify", ...period]);
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(pulled.stdout).toBe("rollups agree with the raw files for 3 days\n");

    const path = rollupPath(DAYS[1]!);
    const rollup = JSON.parse(github.file(path)!) as { estimated: number };
    rollup.estimated += 7;
    github.seed(path, `${JSON.stringify(rollup)}\n`);
    const bad = await telemetry(["report", "--github", "acme/data", "--verify", ...period], served.env);
    expect(bad.code).toBe(1);
    const said = bad.stdout.trim().split("\n");
    expect(said.length).toBeGreaterThan(0);
    for (const line of said)
      expect(line).toMatch(new RegExp(`^${DAYS[1]} \\S*events\\S*: rollup \\d+, raw files \\d+$`));
  });
});

describe("telemetry pull", () => {
  it("fetches many changed files in one archive, and a few a request each", async ({
    github,
    served,
    tempDir,
    dataset,
  }) => {
    const files = dayFiles(dataset.events, { parts: 12 });
    github.seedAll(files);
    const to = await tempDir("pull-archive-");
    const before = github.requests.length;
    const first = await telemetry(["pull", "--github", "acme/data", "--to", to], served.env);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(
      new RegExp(`: ${files.size} downloaded .*, 0 unchanged, 0 removed, ${files.size} files`),
    );
    expect(kinds(github.requests.slice(before))).toMatchObject({
      "raw file": 0,
      tarball: 1,
      tree: 1,
      commit: 1,
      ref: 0,
    });

    const [changed] = [...files.keys()];
    github.seed(changed!, `${files.get(changed!)}${lines(dataset.events.slice(0, 1))}`);
    const again = github.requests.length;
    const second = await telemetry(["pull", "--github", "acme/data", "--to", to], served.env);
    expect(second.stderr).toMatch(/: 1 downloaded .*, \d+ unchanged, 0 removed/);
    expect(kinds(github.requests.slice(again))).toMatchObject({ "raw file": 1, tarball: 0, tree: 0 });
  });
});

describe("the archive of just the blobs asked for, on a real git repository", () => {
  it("is served from a commit no ref points at, as GitHub serves it", async ({ serveGitGitHub, tempDir, dataset }) => {
    const { stand, env } = await serveGitGitHub();
    const files = dayFiles(dataset.events, { parts: 12 });
    stand.seed(files);
    const to = await tempDir("pull-git-archive-");
    const before = stand.requests.length;
    const pulled = await telemetry(["pull", "--github", "acme/data", "--to", to], env);
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(pulled.stderr).toMatch(new RegExp(`: ${files.size} downloaded .*, ${files.size} files`));
    expect(kinds(stand.requests.slice(before))).toMatchObject({
      "raw file": 0,
      tarball: 1,
      tree: 1,
      commit: 1,
      ref: 0,
    });
  });
});
