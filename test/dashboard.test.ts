import { describe, expect, it } from "vitest";
import { addDays } from "../lib/day.ts";
import type { StoredEvent } from "../lib/events/stored-event.ts";
import { periodReport, type DayTally } from "../lib/present/period-report.ts";
import { renderDashboard } from "../lib/present/render-dashboard.ts";
import { dayRollupSchema } from "../lib/tally/day-rollup.ts";
import { EventTally } from "../lib/tally/event-tally.ts";
import { generateDataset } from "./support/insights-dataset.ts";
import { parseSvg, svgTexts, textsIn } from "./support/svg-texts.ts";

/**
 * The dashboard as its reader sees it on the first day of a deployment: one day of data, today,
 * which is not over yet. Every check reads the rendered README or SVG, as GitHub would show them.
 */
const TODAY = "2026-12-07";
const FIRST_SHOWN = addDays(TODAY, -29);
const UPDATED_AT = `${TODAY}T15:00:00.000Z`;
/** Event names busier than any error, more than the events chart ranks. */
const BUSY_NAMES = Array.from({ length: 16 }, (_, i) => `feature.f${String(i + 1).padStart(2, "0")}`);
const SESSION_MS = 1_544_830.9;

let sequence = 0;
function event(day: string, hwid: string, event_name: string, metadata: Record<string, unknown>, version = "1.2.0") {
  sequence += 1;
  const second = String(sequence % 60).padStart(2, "0");
  return {
    event_id: `10000000-0000-4000-8000-${String(sequence).padStart(12, "0")}`,
    created_at: `${day}T09:00:${second}.000Z`,
    ip: null,
    hwid,
    event_name,
    app_version: version,
    client_type: "vector-inspector",
    metadata,
  } satisfies StoredEvent;
}

function tallies(events: readonly StoredEvent[]): DayTally[] {
  const byDay = new Map<string, EventTally>();
  for (const e of events) {
    const day = e.created_at.slice(0, 10);
    const tally = byDay.get(day) ?? new EventTally();
    tally.add(e);
    byDay.set(day, tally);
  }
  return [...byDay].map(([day, tally]) => ({ day, tally }));
}

const firstDay = [
  ...generateDataset({ installs: 41, days: [TODAY] }).events,
  ...BUSY_NAMES.flatMap((name) => Array.from({ length: 40 }, (_, i) => event(TODAY, `install-${i}`, name, {}))),
  ...[1, 2, 3].map((i) => event(TODAY, `install-${i}`, "app.closed", { duration_ms: SESSION_MS })),
];
const days = tallies(firstDay);
const dashboard = renderDashboard(days, { today: TODAY, updatedAt: UPDATED_AT });

async function file(name: string): Promise<string> {
  const found = (await dashboard).files.find((f) => f.name === name);
  if (!found) throw new Error(`no ${name}`);
  return found.content;
}

const TIME_CHARTS = ["active-installs.svg", "versions.svg", "errors.svg"];

describe("the dashboard's time charts", () => {
  it.each(TIME_CHARTS)("%s spans the same 30 days, whatever day the data starts", async (name) => {
    const svg = await file(name);
    expect(axisLabel(svg, "X")).toContain(`from ${spelled(FIRST_SHOWN)} to ${spelled(TODAY)}`);
    // Dated ticks across the weeks, the first within a week of the period's start.
    const ticks = axisTicks(svg, "X").map((label) => Date.parse(`${label}, ${TODAY.slice(0, 4)} 00:00 UTC`));
    expect(ticks.length).toBeGreaterThanOrEqual(4);
    for (const tick of ticks) expect(tick).toBeGreaterThanOrEqual(Date.parse(FIRST_SHOWN));
    for (const tick of ticks) expect(tick).toBeLessThanOrEqual(Date.parse(TODAY));
    expect(ticks[0]! - Date.parse(FIRST_SHOWN)).toBeLessThan(7 * 86_400_000);
    expect(Date.parse(TODAY) - ticks.at(-1)!).toBeLessThan(7 * 86_400_000);
  });

  it("shows version adoption on the first day, as marks of some width", async () => {
    const marks = marksOf(await file("versions.svg")).filter((m) => m.role !== "symbol");
    expect(marks.length).toBeGreaterThan(0);
    for (const mark of marks) expect(widthOf(mark.d)).toBeGreaterThan(5);
  });

  it("draws no zeros before the first day with data", async () => {
    const svg = await file("active-installs.svg");
    const lines = marksOf(svg).filter((m) => m.role === "line mark");
    expect(lines.length).toBe(2);
    for (const line of lines) expect(widthOf(line.d)).toBe(0);
    expect(marksOf(svg).filter((m) => m.role === "point").length).toBe(2);
  });

  it.each(TIME_CHARTS)("%s marks today as a day so far", async (name) => {
    const svg = await file(name);
    expect(svgTexts(svg).some((text) => /today so far/i.test(text))).toBe(true);
    const band = marksOf(svg).find((m) => m.label?.includes("today so far"));
    expect(band, "a band over today").toBeDefined();
  });

  it.each([
    ["a day to come", addDays(TODAY, 3)],
    ["a day gone", addDays(TODAY, -3)],
  ])("marks no day as so far when the period ends on %s", async (_, to) => {
    const rendered = await renderDashboard(days, { today: to, updatedAt: UPDATED_AT });
    const { files } = rendered;
    for (const name of TIME_CHARTS) {
      const svg = files.find((f) => f.name === name)!.content;
      expect(svgTexts(svg).some((text) => /today so far/i.test(text))).toBe(false);
    }
    expect(rendered.readme("")).not.toContain("today so far");
  });
});

describe("the dashboard's other charts", () => {
  it("ticks the operating systems' installs in whole numbers", async () => {
    const few = tallies([
      event(TODAY, "a", "app_launch", { os: "Windows-10-10.0.19045-SP0" }),
      event(TODAY, "b", "app_launch", { os: "Windows-10-10.0.19045-SP0" }),
      event(TODAY, "c", "app_launch", { os: "Linux-6.1-x86_64-with-glibc2.36" }),
    ]);
    const { files } = await renderDashboard(few, { today: TODAY, updatedAt: UPDATED_AT });
    const svg = files.find((f) => f.name === "operating-systems.svg")!.content;
    const ticks = axisTicks(svg, "X");
    expect(ticks.length).toBeGreaterThan(1);
    for (const tick of ticks) expect(tick).toMatch(/^\d[\d,]*$/);
  });

  it("never leaves an error event out of the events chart", async () => {
    const texts = svgTexts(await file("events.svg"));
    // More names than the chart ranks, each busier than any error.
    expect(BUSY_NAMES.filter((name) => texts.includes(name)).length).toBeLessThan(BUSY_NAMES.length);
    expect(texts).toContain("UncaughtException");
    expect(texts).toContain("QtError");
  });

  it("names each error group so that two of one type differ, and draws each line's points", async () => {
    const both = tallies([
      ...firstDay,
      event(TODAY, "z", "UncaughtException", { exception_type: "RuntimeError", message: "lost the index" }),
    ]);
    const { files } = await renderDashboard(both, { today: TODAY, updatedAt: UPDATED_AT });
    const svg = files.find((f) => f.name === "errors.svg")!.content;
    const legend = legendOf(svg);
    const runtime = legend.filter((label) => label.includes("RuntimeError"));
    expect(runtime.length).toBe(2);
    expect(new Set(runtime).size).toBe(2);
    expect(runtime.some((label) => label.includes("boom"))).toBe(true);
    expect(runtime.some((label) => label.includes("lost the index"))).toBe(true);
    // One day of data: a line has no length, each series shows as points.
    expect(marksOf(svg).filter((m) => m.role === "point").length).toBeGreaterThanOrEqual(legend.length);
  });
});

describe("the dashboard's README", () => {
  it("averages the daily installs over the days with data", async () => {
    const installs = periodReport(days, TODAY, TODAY).totals.installs;
    expect(installs).toBeGreaterThan(30);
    const cells = rowOf(await file("README.md"), "Active installs, daily");
    expect(cells[0]).toMatch(/since the first day with data/);
    expect(cells[1]).toBe(String(installs));
  });

  it("shows no change where there was nothing before, and new where something began", async () => {
    const errorsOnly = tallies([event(TODAY, "a", "QtError", { message: "x" })]);
    const { files } = await renderDashboard(errorsOnly, { today: TODAY, updatedAt: UPDATED_AT });
    const readme = files.find((f) => f.name === "README.md")!.content;
    expect(rowOf(readme, "Launches")).toEqual(["Launches", "0", "—", "—"]);
    expect(rowOf(readme, "Events").at(-1)).toBe("new");
    expect(readme).not.toMatch(/\| 0% \|/);
  });

  it("shows a period before that holds no data as nothing, in every row alike, and says what each column holds", async () => {
    const firstDay = tallies([event(TODAY, "a", "app_launch", {}), event(TODAY, "b", "app_launch", {})]);
    const { files } = await renderDashboard(firstDay, { today: TODAY, updatedAt: UPDATED_AT });
    const readme = files.find((f) => f.name === "README.md")!.content;
    for (const label of ["Active installs, daily", "Active installs, weekly", "Active installs, monthly", "Launches"]) {
      const cells = rowOf(readme, label);
      expect(cells.slice(2), label).toEqual(["—", "new"]);
    }
    expect(readme).toMatch(/\| \| last 30 days \| the 30 days before \| change \|/);
    expect(rowOf(readme, "Active installs, weekly")[0]).toMatch(/last 7 days of each/);
  });

  it("gives each day's stored size in a unit that shows it", async () => {
    const ingest = (await file("README.md")).split("## Ingest")[1]!;
    const size = rowOf(ingest, TODAY).at(3)!;
    expect(size).toMatch(/^\d+(\.\d)? (KB|MB|bytes)$/);
    expect(size).not.toBe("0.0 MB");
  });

  it("says that events are sampling-weighted", async () => {
    const readme = await file("README.md");
    expect(rowOf(readme, "Events (sampling-weighted)")[0]).toBe("Events (sampling-weighted)");
    expect(readme).toMatch(/sampling_rate.*counts 1\/r/);
  });

  it("shows durations as a person would say them", async () => {
    const readme = await file("README.md");
    const [, , , p50] = rowOf(readme, "app.closed");
    expect(p50).toMatch(/^2[45]m \d\d?s$/);
    const [, , , latency] = rowOf(readme, "query.executed");
    expect(latency).toMatch(/^\d{1,3} ms$/);
    expect(readme).not.toMatch(/\d,\d{3}(\.\d)? ms/);
  });

  it("gives each error group its first version and its traceback, folded", async () => {
    const readme = await file("README.md");
    expect(readme).toMatch(/\| # \|.*\| first version \|/);
    const group = rowOf(readme, "ValueError");
    expect(group).toContain("1.2.0");
    const details = readme.match(/<details>[\s\S]*?<\/details>/g) ?? [];
    const sampleDb = details.find((d) => d.includes("could not read"));
    expect(sampleDb).toBeDefined();
    // GitHub reads Markdown in <details> only after a blank line.
    expect(sampleDb).toMatch(
      /<\/summary>\n\n(`{3,})text\nTraceback \(most recent call last\):\n[\s\S]*\n\1\n\n<\/details>/,
    );
    expect(sampleDb).toContain('File "/app/vector_inspector/sample_db.py"');
  });

  it("states the installs' accuracy as it is: exact up to 10,000, then a standard error", async () => {
    const readme = await file("README.md");
    expect(readme).toContain("installs are exact up to 10,000; above, estimated with 0.41% standard error");
    expect(readme).not.toMatch(/estimated within 1%/);
  });

  it("says where its figures come from: the rollups for the hourly job, as each day was read for a local run", async () => {
    expect(await file("README.md")).toMatch(/Updated \S+ from the daily rollups in `rollups\/`;/);
    const local = await renderDashboard(
      days.map((d) => ({ ...d, read: "files" as const })),
      { today: TODAY, updatedAt: UPDATED_AT },
    );
    expect(local.readme("")).toMatch(/Updated \S+ from the event files;/);
    const reads = ["rollup", "files", "rollup", "rollup"] as const;
    const mixed = await renderDashboard(
      reads.map((read, i) => ({ day: addDays(TODAY, -i), tally: days[0]!.tally, read })),
      { today: TODAY, updatedAt: UPDATED_AT },
    );
    expect(mixed.readme("")).toContain("from the daily rollups in `rollups/` for 3 days and the event files for 1;");
  });
});

describe("an error group's first version", () => {
  const occurrence = (day: string, version: string) =>
    event(day, `h-${version}`, "UncaughtException", { exception_type: "KeyError", error_hash: "e1" }, version);

  it("is the version of the earliest occurrence, whichever order days are merged in", () => {
    const later = tallies([occurrence(TODAY, "2.0.0"), occurrence(TODAY, "1.9.0")]);
    const earlier = tallies([occurrence(addDays(TODAY, -3), "1.10.0")]);
    for (const order of [
      [...later, ...earlier],
      [...earlier, ...later],
    ]) {
      const [error] = periodReport(order, addDays(TODAY, -29), TODAY).errors;
      expect(error?.first_version).toBe("1.10.0");
    }
    expect(periodReport(later, TODAY, TODAY).errors[0]?.first_version).toBe("2.0.0");
  });

  it("survives the rollup", () => {
    const [day] = tallies([occurrence(TODAY, "1.4.0"), occurrence(TODAY, "1.5.0")]);
    const rollup = day!.tally.toRollup({
      day: TODAY,
      updated_at: UPDATED_AT,
      complete: false,
      source: null,
      parts: [],
    });
    const back = EventTally.fromRollup(dayRollupSchema.parse(JSON.parse(JSON.stringify(rollup))));
    expect(periodReport([{ day: TODAY, tally: back }], TODAY, TODAY).errors[0]?.first_version).toBe("1.4.0");
  });
});

/** "December 7, 2026", as the axis's description spells a day. */
function spelled(day: string): string {
  return new Date(`${day}T00:00:00Z`).toLocaleDateString("en-US", {
    year: "numeric",
    month: "long",
    day: "numeric",
    timeZone: "UTC",
  });
}

type Node = Record<string, unknown>;

/** Every element of the document, depth first. */
function elements(node: unknown, out: Node[] = []): Node[] {
  if (Array.isArray(node)) node.forEach((child) => elements(child, out));
  else if (node && typeof node === "object") {
    out.push(node as Node);
    for (const [key, value] of Object.entries(node)) if (!key.startsWith("@_")) elements(value, out);
  }
  return out;
}

function axisOf(svg: string, which: "X" | "Y"): Node {
  const axis = elements(parseSvg(svg)).find(
    (n) => n["@_aria-roledescription"] === "axis" && String(n["@_aria-label"]).startsWith(`${which}-axis`),
  );
  if (!axis) throw new Error(`no ${which} axis`);
  return axis;
}

function axisLabel(svg: string, which: "X" | "Y"): string {
  return String(axisOf(svg, which)["@_aria-label"]);
}

/** An axis's tick labels (its title aside). */
function axisTicks(svg: string, which: "X" | "Y"): string[] {
  const labels = elements(axisOf(svg, which)).find((n) => String(n["@_class"]).includes("role-axis-label"));
  return textsIn(labels);
}

function legendOf(svg: string): string[] {
  const legend = elements(parseSvg(svg)).find((n) => n["@_aria-roledescription"] === "legend");
  if (!legend) throw new Error("no legend");
  return elements(legend)
    .filter((n) => String(n["@_class"]).includes("role-legend-label"))
    .flatMap((labels) => textsIn(labels));
}

/** The chart's drawn marks: bars, areas, lines and points, with their path and description. */
function marksOf(svg: string): { role: string; d: string; label: string | undefined }[] {
  return elements(parseSvg(svg))
    .filter((n) => n["@_role"] === "graphics-symbol" && typeof n["@_d"] === "string")
    .map((n) => ({
      role: String(n["@_aria-roledescription"]),
      d: String(n["@_d"]),
      label: typeof n["@_aria-label"] === "string" ? n["@_aria-label"] : undefined,
    }));
}

/** The horizontal extent of a path of moves, lines and horizontal and vertical steps. */
function widthOf(d: string): number {
  const tokens = d.match(/[a-zA-Z]|-?\d*\.?\d+(?:e-?\d+)?/g) ?? [];
  let x = 0;
  let y = 0;
  const xs: number[] = [];
  let command = "";
  for (let i = 0; i < tokens.length;) {
    if (/[a-zA-Z]/.test(tokens[i]!)) command = tokens[i++]!;
    const n = () => Number(tokens[i++]);
    switch (command) {
      case "M":
      case "L":
        x = n();
        y = n();
        break;
      case "m":
      case "l":
        x += n();
        y += n();
        break;
      case "H":
        x = n();
        break;
      case "h":
        x += n();
        break;
      case "V":
        y = n();
        break;
      case "v":
        y += n();
        break;
      case "Z":
      case "z":
        continue;
      default:
        throw new Error(`a path this test does not read: ${command} in ${d}`);
    }
    xs.push(x);
    void y;
  }
  return Math.max(...xs) - Math.min(...xs);
}

/** The cells of the first table row with a cell that starts with `label`. */
function rowOf(readme: string, label: string): string[] {
  const rows = readme
    .split("\n")
    .filter((line) => line.startsWith("| "))
    .map((line) =>
      line
        .slice(2, -2)
        .split(" | ")
        .map((c) => c.trim()),
    );
  const row = rows.find((cells) => cells.some((c) => c.startsWith(label)));
  if (!row) throw new Error(`no row ${label}`);
  return row;
}
