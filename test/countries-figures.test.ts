import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { StoredEvent } from "../lib/events/stored-event.ts";
import { reportFigures } from "../lib/insights/report-figures.ts";
import { formatReport } from "../lib/present/format-report.ts";
import { periodReport, periodReportSchema, type DayTally } from "../lib/present/period-report.ts";
import { renderDashboard } from "../lib/present/render-dashboard.ts";
import { readRollup } from "../lib/tally/day-rollup.ts";
import { EventTally } from "../lib/tally/event-tally.ts";
import { forgetInstalls } from "../lib/tally/forget-installs.ts";
import { installHash } from "../lib/tally/install-set.ts";
import { tallyLines } from "../lib/tally/tally-lines.ts";
import { legacyRollup, uniformDay } from "./support/legacy-rollup.ts";
import { runCli } from "./support/run-cli.ts";

/**
 * Installs and sessions by the caller's country: counted exactly through a rollup's write and read,
 * checked against a count made here from the events themselves, and shown in the report and the dashboard.
 */
const DAYS = ["2026-12-05", "2026-12-06"];
const COUNTRIES = ["DE", "FR", "US", "BR", "JP", undefined] as const;

let sequence = 0;
function event(day: string, hwid: string, event_name: string, country: string | undefined, rate?: number): StoredEvent {
  sequence += 1;
  return {
    event_id: `20000000-0000-4000-8000-${String(sequence).padStart(12, "0")}`,
    created_at: `${day}T10:${String(sequence % 60).padStart(2, "0")}:00.000Z`,
    ip: null,
    ...(country ? { country } : {}),
    hwid,
    event_name,
    app_version: "2.0.0",
    client_type: "vector-inspector",
    metadata: rate === undefined ? { os: "Linux" } : { os: "Linux", sampling_rate: rate },
  };
}

/** 120 installs over two days: each from a country (or none), some seen from a second one the next day, sessions a few sampled. */
function dataset(): StoredEvent[] {
  const events: StoredEvent[] = [];
  for (let i = 0; i < 120; i += 1) {
    const hwid = `install-${i}`;
    const home = COUNTRIES[i % COUNTRIES.length];
    events.push(event(DAYS[0]!, hwid, "app_launch", home), event(DAYS[0]!, hwid, "session.start", home));
    if (i % 4 === 0) events.push(event(DAYS[0]!, hwid, "session.start", home, 0.25));
    // A traveller, or a VPN: the next day from elsewhere.
    const away = i % 7 === 0 ? COUNTRIES[(i + 1) % COUNTRIES.length] : home;
    if (i % 3 !== 0)
      events.push(event(DAYS[1]!, hwid, "session.start", away), event(DAYS[1]!, hwid, "feature.used", away));
  }
  return events;
}

/** The count the figure must give, made from the events alone: distinct installs and weighted session starts a country. */
function expectedRows(events: readonly StoredEvent[]) {
  const byCountry = new Map<string, { installs: Set<string>; sessions: number }>();
  for (const e of events) {
    const key = e.country ?? "unknown";
    const row = byCountry.get(key) ?? { installs: new Set(), sessions: 0 };
    row.installs.add(e.hwid);
    if (e.event_name === "session.start") row.sessions += 1 / ((e.metadata.sampling_rate as number | undefined) ?? 1);
    byCountry.set(key, row);
  }
  return [...byCountry]
    .map(([country, row]) => ({ country, installs: row.installs.size, sessions: Math.round(row.sessions) }))
    .sort(
      (a, b) =>
        b.installs - a.installs ||
        b.sessions - a.sessions ||
        Number(a.country === "unknown") - Number(b.country === "unknown") ||
        (a.country < b.country ? -1 : 1),
    );
}

/** Each day counted, written as its rollup and read back, as the hourly job and `telemetry report` do. */
function rolledUp(events: readonly StoredEvent[], drop?: (json: Record<string, unknown>) => void): DayTally[] {
  return DAYS.map((day) => {
    const tally = new EventTally();
    for (const e of events) if (e.created_at.startsWith(day)) tally.add(e);
    const rollup = tally.toRollup({ day, updated_at: `${day}T23:00:00.000Z`, complete: true, source: null, parts: [] });
    const json = JSON.parse(JSON.stringify(rollup)) as Record<string, unknown>;
    drop?.(json);
    const read = readRollup(json);
    if (!read) throw new Error(`the rollup of ${day} does not read`);
    return { day, tally: EventTally.fromRollup(read.rollup) };
  });
}

describe("installs and sessions by country", () => {
  const events = dataset();
  const report = periodReport(rolledUp(events), DAYS[0]!, DAYS[1]!);

  it("are counted exactly, through the rollups, unknown included", () => {
    expect(periodReportSchema.parse(report).countries).toEqual(expectedRows(events));
    expect(report.countries.map((c) => c.country)).toContain("unknown");
    const oneDay = periodReport(rolledUp(events), DAYS[1]!, DAYS[1]!);
    expect(oneDay.countries).toEqual(expectedRows(events.filter((e) => e.created_at.startsWith(DAYS[1]!))));
  });

  it("count a line whose country is no code (a file edited by hand) as unknown", () => {
    const tally = new EventTally();
    const lines = [5, "Germany", "de", "DE"].map((country) => ({
      ...event(DAYS[0]!, `h-${country}`, "app_launch", "DE"),
      country,
    }));
    tallyLines(tally, Buffer.from(lines.map((line) => `${JSON.stringify(line)}\n`).join("")), {
      path: "x",
      firstLine: 1,
    });
    const report = periodReport([{ day: DAYS[0]!, tally }], DAYS[0]!, DAYS[0]!);
    expect(report.countries).toEqual([
      { country: "unknown", installs: 3, sessions: 0 },
      { country: "DE", installs: 1, sessions: 0 },
    ]);
  });

  it("count sessions as the totals do, and an install seen from two countries in both", () => {
    const sum = (field: "installs" | "sessions") => report.countries.reduce((n, c) => n + c[field], 0);
    expect(sum("sessions")).toBe(report.totals.sessions);
    expect(sum("installs")).toBeGreaterThan(report.totals.installs);
  });

  it("read a rollup written before countries were kept as all of unknown country, exactly", () => {
    const before = events.map(({ country: _country, ...e }) => e);
    const old = periodReport(
      rolledUp(before, (json) => delete json.countries),
      DAYS[0]!,
      DAYS[1]!,
    );
    expect(old.countries).toEqual([
      { country: "unknown", installs: old.totals.installs, sessions: old.totals.sessions },
    ]);
    expect(old.countries).toEqual(expectedRows(before));
    expect(old.totals).toEqual(periodReport(rolledUp(before), DAYS[0]!, DAYS[1]!).totals);
  });

  it("are named by their code where report --verify tells a rollup from its files", () => {
    const [day] = rolledUp(events);
    const figures = reportFigures(day!.day, day!.tally);
    const de = expectedRows(events.filter((e) => e.created_at.startsWith(day!.day))).find((r) => r.country === "DE")!;
    expect(figures.get("countries[DE].installs")).toBe(de.installs);
    expect(figures.get("countries[unknown].sessions")).toBeGreaterThan(0);
  });

  it("read a rollup of format 2 (upgraded in memory) as all of unknown country too", () => {
    const day = DAYS[0]!;
    const read = readRollup(JSON.parse(legacyRollup(uniformDay(day, 40), day)))!;
    expect(read.upgraded).toBe(true);
    const report = periodReport([{ day, tally: EventTally.fromRollup(read.rollup) }], day, day);
    expect(report.countries).toEqual([
      { country: "unknown", installs: report.totals.installs, sessions: report.totals.sessions },
    ]);
  });

  it("forget an erased install", () => {
    const [day] = rolledUp(events);
    const rollup = day!.tally.toRollup({ day: DAYS[0]!, updated_at: "x", complete: true, source: null, parts: [] });
    const { rollup: forgotten } = forgetInstalls(rollup, new Set(), new Set([installHash("install-0")]));
    const after = periodReport([{ day: DAYS[0]!, tally: EventTally.fromRollup(forgotten) }], DAYS[0]!, DAYS[0]!);
    const de = (r: typeof report) => r.countries.find((c) => c.country === "DE")!.installs;
    expect(de(after)).toBe(de(periodReport([day!], DAYS[0]!, DAYS[0]!)) - 1);
  });
});

describe("countries in the report and the dashboard", () => {
  const events = dataset();
  const report = periodReport(rolledUp(events), DAYS[0]!, DAYS[1]!);
  const expected = expectedRows(events);

  it("are a table of the text report, and rows of its csv and Markdown", () => {
    const table = formatReport(report, "table");
    const section = table
      .slice(table.indexOf("\ncountries\n") + 1)
      .split("\n\n")[0]!
      .split("\n");
    expect(section[1]!.split(/\s+/)).toEqual(["country", "installs", "sessions"]);
    expect(section.slice(3).map((line) => line.trim().split(/\s+/))).toEqual(
      expected.map((r) => [r.country, String(r.installs), String(r.sessions)]),
    );
    expect(formatReport(report, "csv")).toContain(
      `countries,unknown,installs,${expected.find((r) => r.country === "unknown")!.installs}\r\n`,
    );
    expect(formatReport(report, "md")).toContain(
      `## countries\n\n| country | installs | sessions |\n|---|---|---|\n| ${expected[0]!.country} |`,
    );
    expect(JSON.parse(formatReport(report, "json")).countries).toEqual(expected);
  });

  it("are the dashboard's table of the top countries, unknown among them, and its chart", async () => {
    const today = DAYS[1]!;
    const dashboard = await renderDashboard(rolledUp(events), { today, updatedAt: `${today}T12:00:00.000Z` });
    const readme = dashboard.readme("");
    const section = readme.slice(readme.indexOf("## Countries")).split("\n## ")[0]!;
    expect(section).toContain("no address, city or region is kept");
    const rows = section.split("\n").filter((line) => /^\| [A-Za-z]/.test(line) && !line.startsWith("| country"));
    expect(rows).toEqual(expected.map((r) => `| ${r.country} | ${r.installs} | ${r.sessions} |`));
    expect(readme).toContain("](countries.svg)");
    const chart = dashboard.files.find((file) => file.name === "countries.svg")!.content;
    for (const r of expected.slice(0, 5)) expect(chart).toContain(`>${r.country}<`);
  });
});

describe("telemetry report over files holding countries", () => {
  it("prints them in JSON and as a table, as a maintainer runs it", async () => {
    const events = dataset();
    const data = await mkdtemp(join(tmpdir(), "telemetry-countries-cli-"));
    try {
      for (const day of DAYS) {
        const folder = join(data, "telemetry", ...day.split("-"));
        await mkdir(folder, { recursive: true });
        const lines = events.filter((e) => e.created_at.startsWith(day)).map((e) => `${JSON.stringify(e)}\n`);
        await writeFile(join(folder, "0001.ndjson"), lines.join(""));
      }
      const period = ["report", "--data", data, "--from", DAYS[0]!, "--to", DAYS[1]!];
      const json = await runCli([...period, "--format", "json"]);
      expect(json.stderr).toBe("");
      expect(JSON.parse(json.stdout).countries).toEqual(expectedRows(events));
      const table = await runCli(period);
      expect(table.stdout).toMatch(/\ncountries\ncountry +installs +sessions\n/);
      expect(table.stdout).toMatch(/\nunknown +\d+ +\d+\n/);
    } finally {
      await rm(data, { recursive: true, force: true });
    }
  });
});
