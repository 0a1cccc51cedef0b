import { rm } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { addDays, daysFrom } from "../lib/day.ts";
import type { StoredEvent } from "../lib/events/stored-event.ts";
import { planErasure } from "../lib/lifecycle/plan-erasure.ts";
import { periodReport, periodReportSchema, type DayTally } from "../lib/present/period-report.ts";
import { PERIOD_DAYS, renderDashboard } from "../lib/present/render-dashboard.ts";
import { LocalFiles } from "../lib/storage/local/local-files.ts";
import { rollupPath } from "../lib/tally/day-rollup.ts";
import { EventTally } from "../lib/tally/event-tally.ts";
import { versionOrder } from "../lib/tally/figures/app-versions.ts";
import { dataFolder, dayFiles } from "./support/data-folder.ts";
import { test } from "./support/fixtures.ts";
import { runCli as telemetry } from "./support/run-cli.ts";
import { svgTexts } from "./support/svg-texts.ts";

/** Six ISO weeks, Monday to Sunday, and the week before them, whose installs are returning. */
const FROM = "2026-10-05";
const TO = "2026-11-15";
const BEFORE = "2026-09-28";
const VERSIONS = ["1.9.1", "1.10.0", "1.2.0"];

/** A small deterministic generator (mulberry32): the same dataset every run. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), seed | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

let n = 0;
export function launch(hwid: string, day: string, app_version: string): StoredEvent {
  n += 1;
  return {
    event_id: `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
    created_at: `${day}T12:00:00.000Z`,
    ip: null,
    hwid,
    event_name: "app_launch",
    app_version,
    client_type: "vector-inspector",
    metadata: { os: "Linux-6.1" },
  };
}

/** Installs each first seen on a known day with one or two versions, then back on some later days. */
function dataset(installs: number, seed: number): StoredEvent[] {
  const next = random(seed);
  const days = daysFrom(BEFORE, TO);
  const events: StoredEvent[] = [];
  for (let i = 0; i < installs; i += 1) {
    const hwid = `install-${seed}-${i}`;
    const first = Math.floor(next() * days.length);
    const pick = () => VERSIONS[Math.floor(next() * VERSIONS.length)]!;
    events.push(launch(hwid, days[first]!, pick()));
    if (next() < 0.3) events.push(launch(hwid, days[first]!, pick()));
    for (let d = first + 1; d < days.length; d += 1) if (next() < 0.15) events.push(launch(hwid, days[d]!, pick()));
  }
  return events;
}

export function tallies(events: readonly StoredEvent[]): DayTally[] {
  const byDay = new Map<string, EventTally>();
  for (const event of events) {
    const day = event.created_at.slice(0, 10);
    if (!byDay.has(day)) byDay.set(day, new EventTally());
    byDay.get(day)!.add(event);
  }
  return [...byDay].map(([day, tally]) => ({ day, tally }));
}

/** Each day's rollup of `events`, as the hourly job writes it, added to a data folder's `files`. */
function addRollups(files: Map<string, string>, events: readonly StoredEvent[]): void {
  for (const { day, tally } of tallies(events)) {
    const rollup = tally.toRollup({ day, updated_at: `${day}T23:00:00.000Z`, complete: true, source: null, parts: [] });
    files.set(rollupPath(day), JSON.stringify(rollup));
  }
}

/** The figures counted over the raw events with JS Sets: each install's first day and first version. */
export function expected(events: readonly StoredEvent[], from: string, to: string) {
  const first = new Map<string, { day: string; version: string }>();
  const seenOn = new Map<string, Set<string>>();
  for (const e of [...events].sort((a, b) => (a.created_at < b.created_at ? -1 : 1))) {
    const day = e.created_at.slice(0, 10);
    const known = first.get(e.hwid);
    if (!known) first.set(e.hwid, { day, version: e.app_version });
    else if (known.day === day && versionOrder(e.app_version, known.version) < 0) known.version = e.app_version;
    if (!seenOn.has(day)) seenOn.set(day, new Set());
    seenOn.get(day)!.add(e.hwid);
  }
  const on = (days: string[]) => new Set(days.flatMap((day) => (day <= to ? [...(seenOn.get(day) ?? [])] : [])));
  const isNew = (hwid: string, days: string[]) => days.includes(first.get(hwid)!.day);
  const weeks = daysFrom(from, to).filter((_, i) => i % 7 === 0);
  const weekDays = (monday: string) => daysFrom(monday, addDays(monday, 6));
  const row = (days: string[]) => {
    const seen = [...on(days)];
    return { new: seen.filter((h) => isNew(h, days)).length, returning: seen.filter((h) => !isNew(h, days)).length };
  };
  const cohorts = weeks.flatMap((week) => {
    const byVersion = new Map<string, string[]>();
    for (const [hwid, f] of first)
      if (weekDays(week).includes(f.day)) byVersion.set(f.version, [...(byVersion.get(f.version) ?? []), hwid]);
    return [...byVersion]
      .sort(([a], [b]) => versionOrder(a, b))
      .map(([first_version, hwids]) => {
        const kept = (after: number) => {
          const monday = addDays(week, 7 * after);
          if (addDays(monday, 6) > to) return null;
          const later = on(weekDays(monday));
          return Math.round((hwids.filter((h) => later.has(h)).length / hwids.length) * 1e4) / 1e4;
        };
        return { week, first_version, new_installs: hwids.length, week_1: kept(1), week_4: kept(4) };
      });
  });
  return {
    days: daysFrom(from, to).map((day) => ({ day, ...row([day]) })),
    weeks: weeks.map((week) => ({ week, ...row(weekDays(week)) })),
    period: row(daysFrom(from, to)),
    cohorts,
  };
}

/** The report's figures in the shape `expected` gives them. */
export function figures(report: ReturnType<typeof periodReport>) {
  return {
    days: report.new_installs.days.map((d, i) => ({
      day: d.day,
      new: d.installs,
      returning: report.returning_installs.days[i]!.installs,
    })),
    weeks: report.new_installs.weeks.map((w, i) => ({
      week: w.week,
      new: w.installs,
      returning: report.returning_installs.weeks[i]!.installs,
    })),
    period: { new: report.new_installs.total, returning: report.returning_installs.total },
    cohorts: report.retention.cohorts,
  };
}

describe("new and returning installs", () => {
  const events = dataset(600, 1);

  it("counts new and returning installs by day and week, and retention by first version, exactly", () => {
    const report = periodReport(tallies(events), FROM, TO);
    expect(report.new_installs.exact).toBe(true);
    expect(report.new_installs.since).toBe(BEFORE);
    expect(figures(report)).toEqual(expected(events, FROM, TO));
    // The lowest version of a first day, by version order: 1.2.0 before 1.9.1 before 1.10.0.
    expect(new Set(report.retention.cohorts.map((c) => c.first_version))).toEqual(new Set(VERSIONS));
    // Week 4 of the last weeks has not come by `to`.
    expect(
      report.retention.cohorts
        .filter((c) => c.week_4 === null)
        .map((c) => c.week)
        .sort()[0],
    ).toBe("2026-10-19");
  });

  it("counts an install seen before the period as returning, not new", () => {
    const period = periodReport(tallies(events), FROM, TO);
    const alone = periodReport(tallies(events.filter((e) => e.created_at >= FROM)), FROM, TO);
    expect(alone.new_installs.since).toBeNull();
    expect(period.new_installs.total).toBeLessThan(alone.new_installs.total);
    expect(period.new_installs.total + period.returning_installs.total).toBe(alone.new_installs.total);
    expect(period.returning_installs.total).toBeGreaterThan(0);
  });

  it("gives new and returning installs by the report's grain, as its days", () => {
    const byWeek = periodReport(tallies(events), FROM, TO, "week");
    const want = expected(events, FROM, TO).weeks;
    expect(byWeek.new_installs.days).toEqual(want.map((w) => ({ day: w.week, installs: w.new })));
    expect(byWeek.returning_installs.days).toEqual(want.map((w) => ({ day: w.week, installs: w.returning })));
    const byMonth = periodReport(tallies(events), FROM, TO, "month");
    expect(byMonth.new_installs.days.map((d) => d.day)).toEqual(byMonth.days.map((d) => d.day));
    expect(byMonth.new_installs.days.reduce((sum, d) => sum + d.installs, 0)).toBe(byMonth.new_installs.total);
  });

  it("leaves an erased install out of new, returning and retained installs: the erasure takes it out of every day's sets", async () => {
    // Installs first seen before the period and in it, back in later weeks or not.
    const erased = Array.from({ length: 20 }, (_, i) => `install-1-${i}`);
    const files = dayFiles(events);
    addRollups(files, events);
    const dir = await dataFolder(files);
    try {
      const plan = await planErasure(new LocalFiles(dir), {
        prefix: "telemetry",
        hwids: erased,
        installs: new Set(),
        deadline: Infinity,
      });
      expect(plan.forgotten).toBeGreaterThan(0);
      const days = [...plan.rollups.values()].map((rollup) => ({
        day: rollup.day,
        tally: EventTally.fromRollup(rollup),
      }));
      const left = events.filter((e) => !erased.includes(e.hwid));
      expect(figures(periodReport(days, FROM, TO))).toEqual(expected(left, FROM, TO));
      expect(expected(left, FROM, TO)).not.toEqual(expected(events, FROM, TO));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("telemetry report: new and returning installs", () => {
  const events = dataset(300, 3);

  it("counts the installs of the rollups kept before the period (their raw files gone) as returning, in every format", async () => {
    const files = dayFiles(events.filter((e) => e.created_at >= FROM));
    addRollups(
      files,
      events.filter((e) => e.created_at < FROM),
    );
    const dir = await dataFolder(files);
    try {
      const json = await telemetry(["report", "--data", dir, "--from", FROM, "--to", TO, "--format", "json"]);
      expect(json.stderr).toBe("");
      const report = periodReportSchema.parse(JSON.parse(json.stdout));
      expect(report.new_installs.since).toBe(BEFORE);
      expect(figures(report)).toEqual(expected(events, FROM, TO));
      const table = await telemetry(["report", "--data", dir, "--from", FROM, "--to", TO]);
      const cohort = report.retention.cohorts[0]!;
      expect(table.stdout).toContain(
        `new_and_returning_installs\nsince       new_installs  returning_installs  exact\n`,
      );
      expect(table.stdout).toMatch(
        new RegExp(
          `${cohort.week}  ${cohort.first_version} +${cohort.new_installs} +${cohort.week_1} +${cohort.week_4}\n`,
        ),
      );
      const md = await telemetry(["report", "--data", dir, "--from", FROM, "--to", TO, "--format", "md"]);
      expect(md.stdout).toContain("## retention\n\n| week | first_version | new_installs | week_1 | week_4 |");
      const csv = await telemetry(["report", "--data", dir, "--from", FROM, "--to", TO, "--format", "csv"]);
      expect(csv.stdout).toContain(
        `new_and_returning_by_week,${FROM},new_installs,${report.new_installs.weeks[0]!.installs}\r\n`,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("telemetry report --github: new and returning installs", () => {
  test("reads the rollups kept before the period in one archive, and counts their installs as returning", async ({
    serveGitHub,
  }) => {
    const events = dataset(300, 4);
    const { fake, env } = await serveGitHub();
    const files = dayFiles(events.filter((e) => e.created_at >= FROM));
    addRollups(
      files,
      events.filter((e) => e.created_at < FROM),
    );
    fake.seedAll(files);
    const before = fake.requests.length;
    const run = await telemetry(
      ["report", "--github", "acme/data", "--from", FROM, "--to", TO, "--format", "json"],
      env,
    );
    expect(run.stderr).toBe("");
    const report = periodReportSchema.parse(JSON.parse(run.stdout));
    expect(report.new_installs.since).toBe(BEFORE);
    expect(figures(report)).toEqual(expected(events, FROM, TO));
    const made = fake.requests.slice(before);
    const rollupsRead = made.filter(
      (r) => r.method === "GET" && /\/contents\/rollups\/\d{4}\/[\d-]+\.json$/.test(r.path),
    );
    // The period's files and the earlier rollups: an archive each (a tree, a commit, a tarball), no rollup a request.
    expect(rollupsRead).toEqual([]);
    expect(made.filter((r) => r.method === "POST" && r.path.endsWith("/git/trees"))).toHaveLength(2);
    expect(made.filter((r) => /\/tarball\//.test(r.path))).toHaveLength(2);
  });
});

describe("the dashboard: new and returning installs", () => {
  it("charts new and returning installs by day and tables retention by cohort week and first version, a week not over as —", async () => {
    const events = dataset(600, 1);
    const days = tallies(events);
    const { files } = await renderDashboard(days, { today: TO, updatedAt: `${TO}T12:00:00.000Z` });
    const report = periodReport(days, addDays(TO, -(PERIOD_DAYS - 1)), TO);
    const readme = files.find((f) => f.name === "README.md")!.content;
    expect(readme).toContain("![New and returning installs per day](new-returning-installs.svg)");
    const part = readme.split("## New and returning installs")[1]!.split("\n## ")[0]!;
    expect(part).toContain(
      `${report.new_installs.total.toLocaleString("en-US")} new installs (not seen in the 30 days before) and ${report.returning_installs.total.toLocaleString("en-US")} returning`,
    );
    expect(part).toContain("| cohort week | first version | new installs | week 1 | week 4 |");
    const percent = (rate: number | null) => (rate === null ? "—" : `${(rate * 100).toFixed(1)}%`);
    for (const c of report.retention.cohorts)
      expect(part).toContain(
        `| ${c.week} | ${c.first_version} | ${c.new_installs} | ${percent(c.week_1)} | ${percent(c.week_4)} |`,
      );
    expect(
      report.retention.cohorts.some((c) => c.week_4 === null) &&
        report.retention.cohorts.some((c) => c.week_1 !== null),
    ).toBe(true);
    const svg = files.find((f) => f.name === "new-returning-installs.svg")!.content;
    expect(svgTexts(svg)).toEqual(expect.arrayContaining(["New and returning installs per day", "new", "returning"]));
  });
});

describe("new and returning installs above 10,000", () => {
  /** 11,000 installs the week before, then 300 new a day, each back on some later days, some of the earlier ones too. */
  const from = "2026-10-05";
  const to = "2026-10-25";
  const next = random(7);
  const events: StoredEvent[] = [];
  for (let i = 0; i < 11_000; i += 1) events.push(launch(`old-${i}`, addDays(from, -1 - (i % 7)), "1.0.0"));
  daysFrom(from, to).forEach((day, d) => {
    for (let i = 0; i < 300; i += 1) {
      const hwid = `new-${d}-${i}`;
      events.push(launch(hwid, day, VERSIONS[i % 3]!));
      for (const later of daysFrom(day, to).slice(1)) if (next() < 0.1) events.push(launch(hwid, later, "1.10.0"));
    }
    for (let i = 0; i < 500; i += 1) events.push(launch(`old-${Math.floor(next() * 11_000)}`, day, "1.0.0"));
  });

  it("marks the figures estimates, each within 1% of the installs known by then (the README's bound)", () => {
    const report = periodReport(tallies(events), from, to);
    const truth = expected(events, from, to);
    expect([report.new_installs.exact, report.returning_installs.exact, report.retention.exact]).toEqual([
      false,
      false,
      false,
    ]);
    const got = figures(report);
    got.days.forEach((row, d) => {
      const known = 11_000 + 300 * (d + 1);
      expect(Math.abs(row.new - truth.days[d]!.new)).toBeLessThanOrEqual(0.01 * known);
      expect(Math.abs(row.returning - truth.days[d]!.returning)).toBeLessThanOrEqual(0.01 * known);
    });
    // A week is the sum of its days: within 1% of the installs known by its end, each day.
    got.weeks.forEach((row, w) => {
      const known = 11_000 + 300 * 7 * (w + 1);
      expect(Math.abs(row.new - truth.weeks[w]!.new)).toBeLessThanOrEqual(7 * 0.01 * known);
    });
    expect(got.cohorts.map((c) => [c.week, c.first_version])).toEqual(
      truth.cohorts.map((c) => [c.week, c.first_version]),
    );
    got.cohorts.forEach((cohort, i) => {
      const want = truth.cohorts[i]!;
      const known = 11_000 + 300 * 7 * 3;
      expect(Math.abs(cohort.new_installs - want.new_installs)).toBeLessThanOrEqual(7 * 0.01 * known);
      // A share's error: three estimated differences, each within 1% of the installs known, over the cohort.
      if (want.week_1 !== null) expect(Math.abs(cohort.week_1! - want.week_1)).toBeLessThanOrEqual(0.02);
    });
  });
});
