import { execFileSync } from "node:child_process";
import { XMLValidator } from "fast-xml-parser";
import { systemClock } from "../lib/clock.ts";
import { dayRollupSchema, ROLLUP_VERSION } from "../lib/tally/day-rollup.ts";
import { EventTally } from "../lib/tally/event-tally.ts";
import { periodReport } from "../lib/present/period-report.ts";
import { PUBLISH_SCHEDULED_BUDGET_MS } from "../lib/insights/publish-insights.ts";
import { rollupPath } from "../lib/tally/day-rollup.ts";
import { FlushLease, LEASE_TTL_MS } from "../lib/spool/flush-lease.ts";
import type { StoredEvent } from "../lib/events/stored-event.ts";
import { dayFiles, lines } from "./support/data-folder.ts";
import type { FakeGitHub } from "./support/fake-github/index.ts";
import { describe, expect, test as base } from "./support/fixtures.ts";
import { generateDataset } from "./support/insights-dataset.ts";
import { asFormatTwo, legacyRollup, uniformDay } from "./support/legacy-rollup.ts";

/** The fake GitHub the job commits to, a runtime on it, and three days of 120 installs' events. */
const it = base
  .extend("dataset", { scope: "file" }, ({ days }) => generateDataset({ installs: 120, days: days.last(3) }))
  .extend("served", ({ serveGitHub }) => serveGitHub())
  .extend("github", ({ served }) => served.fake)
  .extend("runtime", ({ served, runtimeOf }) => runtimeOf(served.env));

function rollupOf(github: FakeGitHub, day: string) {
  return dayRollupSchema.parse(JSON.parse(github.file(rollupPath(day))!));
}

/** The figures one pass over `events` gives, to hold a rollup against (what the files weigh aside). */
function reportOf(events: readonly StoredEvent[], day: string) {
  const tally = new EventTally();
  for (const event of events.filter((e) => e.created_at.startsWith(day))) tally.add(event);
  return withoutFileSizes(periodReport([{ day, tally }], day, day));
}

function rolledUp(github: FakeGitHub, day: string) {
  return withoutFileSizes(periodReport([{ day, tally: EventTally.fromRollup(rollupOf(github, day)) }], day, day));
}

function withoutFileSizes(report: ReturnType<typeof periodReport>) {
  return { ...report, ingest: { ...report.ingest, bytes: 0, parts: 0 } };
}

describe("the hourly job", () => {
  it("rolls up every day with files, and commits rollups, index and dashboard in one commit", async ({
    github,
    runtime,
    dataset,
    days,
  }) => {
    const DAYS = days.last(3);
    github.seedAll(dayFiles(dataset.events, { parts: 3 }));
    const commits = github.commits.length;
    const report = await runtime.publish(PUBLISH_SCHEDULED_BUDGET_MS);
    expect(report).toMatchObject({ outcome: "published", pending: 0, error: null });
    // Today and yesterday first, then the rest oldest first.
    expect(report.days.map((d) => d.day)).toEqual([DAYS[1], DAYS[2], DAYS[0]]);
    expect(github.commits.length).toBe(commits + 1);
    const paths = github.commits.at(-1)!.paths!;
    expect(paths).toEqual(
      expect.arrayContaining([
        ...DAYS.map(rollupPath),
        "rollups/index.json",
        "dashboard/README.md",
        "dashboard/versions.svg",
        "dashboard/model-registry.json",
        "README.md",
      ]),
    );
    for (const day of DAYS) expect(rolledUp(github, day)).toEqual(reportOf(dataset.events, day));
    expect(rollupOf(github, days.today).ingest.parts).toBe(3);
  });

  it("rebuilds from their files the days whose rollups are of an older format (version 2)", async ({
    github,
    runtime,
    dataset,
    days,
  }) => {
    const DAYS = days.last(3);
    github.seedAll(dayFiles(dataset.events, { parts: 2 }));
    await runtime.publish(PUBLISH_SCHEDULED_BUDGET_MS);
    // As an older release left them: the index and each rollup of version 2, their sketches unreadable now.
    const older = (path: string) => {
      const json = JSON.parse(github.file(path)!) as { version: number; totals?: { installs: string } };
      github.seed(
        path,
        JSON.stringify({ ...json, version: 2, ...(json.totals && { totals: { ...json.totals, installs: "AQ4=" } }) }),
      );
    };
    for (const day of DAYS) older(rollupPath(day));
    older("rollups/index.json");

    const report = await runtime.publish(PUBLISH_SCHEDULED_BUDGET_MS);
    expect(report.outcome).toBe("published");
    expect(report.days.map((d) => d.day).sort()).toEqual(DAYS);
    for (const day of DAYS) {
      expect(rollupOf(github, day).version).toBe(ROLLUP_VERSION);
      expect(rolledUp(github, day)).toEqual(reportOf(dataset.events, day));
    }
    expect(JSON.parse(github.file("rollups/index.json")!).version).toBe(ROLLUP_VERSION);
  });

  it("keeps a day whose files are gone from its rollup of format 2 in the dashboard, and rebuilds the days with files exactly", async ({
    github,
    runtime,
    dataset,
    days,
  }) => {
    const DAYS = days.last(3);
    const GONE = days.ago(5);
    github.seedAll(dayFiles(dataset.events, { parts: 2 }));
    await runtime.publish(PUBLISH_SCHEDULED_BUDGET_MS);
    // As an older release left them: the index and every rollup of format 2, one of a day whose files retention removed.
    const hwidsOf = (day: string) =>
      new Set(dataset.events.filter((e) => e.created_at.startsWith(day)).map((e) => e.hwid));
    for (const day of DAYS) {
      github.seed(rollupPath(day), asFormatTwo(JSON.parse(github.file(rollupPath(day))!) as object, hwidsOf(day)));
    }
    const legacy = legacyRollup(uniformDay(GONE, 500), GONE);
    github.seed(rollupPath(GONE), legacy);
    const index = JSON.parse(github.file("rollups/index.json")!) as { days: Record<string, unknown> };
    github.seed(
      "rollups/index.json",
      JSON.stringify({ ...index, version: 2, days: { ...index.days, [GONE]: { source: null, complete: true } } }),
    );

    for (const run of [1, 2]) {
      const report = await runtime.publish(PUBLISH_SCHEDULED_BUDGET_MS);
      expect(report.outcome, `run ${run}`).toBe(run === 1 ? "published" : "unchanged");
      // Its days with files are read again and rebuilt exactly; the day without is left as it is, not rebuilt from nothing.
      if (run === 1) expect(report.days.map((d) => d.day).sort()).toEqual(DAYS);
      for (const day of DAYS) expect(rolledUp(github, day)).toEqual(reportOf(dataset.events, day));
      expect(github.file(rollupPath(GONE))).toBe(legacy);
      const readme = github.file("dashboard/README.md")!;
      // Drawn: its lines in the ingest table, its version among the others.
      expect(readme).toContain(`| ${GONE} | 2,000 |`);
      expect(readme).toContain("0.9.0");
      expect(readme).toContain(
        "estimated (0.8% standard error, 2.3% by version, OS, event, error group or model) on the 1 day from rollups of format 2",
      );
      expect(JSON.parse(github.file("rollups/index.json")!)).toMatchObject({
        version: ROLLUP_VERSION,
        days: { [GONE]: {} },
      });
    }
  });

  it("reads only what was appended since its last run, and counts each line once", async ({
    github,
    runtime,
    dataset,
    days,
  }) => {
    const { today } = days;
    const files = dayFiles(dataset.events, { parts: 2 });
    github.seedAll(files);
    await runtime.publish(PUBLISH_SCHEDULED_BUDGET_MS);

    const [todayParts] = [[...files.keys()].filter((path) => path.includes(today.replaceAll("-", "/"))).sort()];
    const lastPart = todayParts.at(-1)!;
    const extra = generateDataset({ installs: 30, days: [today] }).events.map((e, i) => ({
      ...e,
      event_id: `10000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
    }));
    github.seed(lastPart, files.get(lastPart)! + lines(extra.slice(0, 50)));
    const newPart = lastPart.replace(
      /\d{4}\.ndjson$/,
      (name) => `${String(Number(name.slice(0, 4)) + 1).padStart(4, "0")}.ndjson`,
    );
    github.seed(newPart, lines(extra.slice(50)));

    const before = github.requests.length;
    const report = await runtime.publish(PUBLISH_SCHEDULED_BUDGET_MS);
    expect(report.outcome).toBe("published");
    expect(report.days.map((d) => d.day)).toEqual([today]);
    const reads = github.requests.slice(before).filter((r) => r.method === "GET" && r.path.endsWith(".ndjson"));
    // The grown part and the new one; never the parts read to their end, nor the other days.
    expect(reads.map((r) => r.path.split("/contents/")[1]).sort()).toEqual([lastPart, newPart].sort());
    expect(rolledUp(github, today)).toEqual(reportOf([...dataset.events, ...extra], today));

    const idle = await runtime.publish(PUBLISH_SCHEDULED_BUDGET_MS);
    expect(idle.outcome).toBe("unchanged");
  });

  it("waits for the flusher's lease, commits nothing without it, and spends the shared write pace", async ({
    github,
    runtime,
    dataset,
    spoolStore,
    logs,
  }) => {
    github.seedAll(dayFiles(dataset.events));
    const flusher = new FlushLease(spoolStore, systemClock, LEASE_TTL_MS);
    const held = await flusher.acquire();
    expect(held).toBeDefined();
    const commits = github.commits.length;
    const busy = await runtime.publish(3_000);
    expect(busy.outcome).toBe("busy");
    expect(github.commits.length).toBe(commits);
    // The job says so in its log line, as an operator reads it.
    expect(logs.of("insights_published")).toEqual([expect.objectContaining({ level: "info", outcome: "busy" })]);
    await flusher.release(held!);

    const published = await runtime.publish(PUBLISH_SCHEDULED_BUDGET_MS);
    expect(published.outcome).toBe("published");
    const state = await runtime.spool!.lease.read();
    // One paced turn for the commit, and its tree, commit and ref requests counted against the same limits.
    expect(state.writes.length).toBe(3);
    expect(state.holder).toBeNull();
  });

  it("waits its turn in the write pace: with the minute's writes spent by flushes, it commits nothing", async ({
    github,
    runtime,
    dataset,
    spoolStore,
  }) => {
    github.seedAll(dayFiles(dataset.events));
    const flusher = new FlushLease(spoolStore, systemClock, LEASE_TTL_MS);
    const state = await flusher.acquire();
    const now = Date.now();
    await flusher.release({ ...state!, writes: Array.from({ length: 60 }, (_, i) => now - i * 100) });
    const commits = github.commits.length;
    const paced = await runtime.publish(PUBLISH_SCHEDULED_BUDGET_MS);
    expect(paced.outcome).toBe("paced");
    expect(github.commits.length).toBe(commits);
    expect((await runtime.spool!.lease.read()).writes.length).toBe(60);
  });

  it("never writes over a maintainer's own README", async ({ github, runtime, dataset }) => {
    github.seedAll([...dayFiles(dataset.events), ["README.md", "# Our data\n"]]);
    await runtime.publish(PUBLISH_SCHEDULED_BUDGET_MS);
    expect(github.file("README.md")).toBe("# Our data\n");
    expect(github.file("dashboard/README.md")).toContain("# Telemetry dashboard");
  });

  it("links only to files that exist, and commits valid SVG", async ({ github, runtime, dataset }) => {
    github.seedAll(dayFiles(dataset.events));
    await runtime.publish(PUBLISH_SCHEDULED_BUDGET_MS);
    for (const [readme, base] of [
      ["README.md", ""],
      ["dashboard/README.md", "dashboard/"],
    ] as const) {
      const links = [...github.file(readme)!.matchAll(/\]\(([^)]+)\)/g)].map((m) => `${base}${m[1]}`);
      expect(links.length).toBeGreaterThanOrEqual(6);
      for (const link of links) expect(github.file(link), link).toBeDefined();
    }
    const svgs = github.paths().filter((path) => path.endsWith(".svg"));
    expect(svgs.length).toBe(7);
    for (const svg of svgs) expect(XMLValidator.validate(github.file(svg)!), svg).toBe(true);
  });
});

describe("the hourly job's cursor", () => {
  it("rebuilds a day whose part was rewritten since it was read (an erasure), counting each line once", async ({
    serveGitGitHub,
    runtimeOf,
    dataset,
    days,
  }) => {
    const { stand, env } = await serveGitGitHub();
    const runtime = runtimeOf(env);
    const { today } = days;
    const events = dataset.events.filter((e) => e.created_at.startsWith(today)).slice(0, 200);
    expect(events).toHaveLength(200);
    const part = `telemetry/${today.replaceAll("-", "/")}/0001.ndjson`;
    stand.seed([[part, lines(events.slice(0, 100))]]);
    expect((await runtime.publish(PUBLISH_SCHEDULED_BUDGET_MS)).outcome).toBe("published");

    // 100 lines appended, and the first 50 erased: the part is longer than the cursor, but not the part it read.
    stand.seed([[part, lines(events.slice(50, 200))]], "Erase and append");
    const report = await runtime.publish(PUBLISH_SCHEDULED_BUDGET_MS);
    expect(report.outcome).toBe("published");
    expect(report.days).toEqual([expect.objectContaining({ day: today, malformed: 0, caught_up: true })]);
    const rollup = dayRollupSchema.parse(
      JSON.parse(
        execFileSync("git", ["show", `main:${rollupPath(today)}`], {
          env: { ...process.env, GIT_DIR: stand.gitDir },
          encoding: "utf8",
        }),
      ),
    );
    expect(rollup.ingest).toMatchObject({ lines: 150, malformed: 0 });
    const tally = EventTally.fromRollup(rollup);
    expect(withoutFileSizes(periodReport([{ day: today, tally }], today, today))).toEqual(
      reportOf(events.slice(50, 200), today),
    );
  });
});
