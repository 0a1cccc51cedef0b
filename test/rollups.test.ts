import { describe, expect, it } from "vitest";
import type { StoredEvent } from "../lib/events/stored-event.ts";
import { dayRollupSchema, type DayRollup } from "../lib/tally/day-rollup.ts";
import { EventTally } from "../lib/tally/event-tally.ts";
import { periodReport, type DayTally, type PeriodReport } from "../lib/present/period-report.ts";
import { tallyDays } from "../lib/tally/tally-days.ts";
import { tallyLines } from "../lib/tally/tally-lines.ts";
import { rollUpDay } from "../lib/insights/roll-up-day.ts";
import { daySources } from "../lib/storage/layout/day-sources.ts";
import { LocalFiles } from "../lib/storage/local/local-files.ts";
import { rm } from "node:fs/promises";
import { dataFolder, dayFiles, lines } from "./support/data-folder.ts";
import { generateDataset, OS_STRINGS, SAMPLING_RATE, VERSIONS } from "./support/insights-dataset.ts";

const dataset = generateDataset();
const DAYS = [...dataset.expected.days.keys()].sort();
const FROM = DAYS[0]!;
const TO = DAYS.at(-1)!;

/** The dataset's days as NDJSON, tallied line by line as the rollups read their files. */
function tallies(events: readonly StoredEvent[] = dataset.events): DayTally[] {
  const byDay = new Map<string, EventTally>();
  for (const event of events) {
    const day = event.created_at.slice(0, 10);
    const tally = byDay.get(day) ?? new EventTally();
    byDay.set(day, tally);
    tallyLines(tally, Buffer.from(`${JSON.stringify(event)}\n`), { path: `${day}.ndjson`, firstLine: 1 });
  }
  return [...byDay].map(([day, tally]) => ({ day, tally }));
}

describe("a period's report from daily tallies", () => {
  const report = periodReport(tallies(), FROM, TO);
  const { expected } = dataset;

  it("counts events by name, received and sampling-weighted", () => {
    for (const [name, figures] of expected.eventCounts) {
      const row = report.events.find((e) => e.event_name === name);
      expect(row, name).toMatchObject({ received: figures.received, count: Math.round(figures.estimated) });
    }
    const queries = report.events.find((e) => e.event_name === "query.executed")!;
    // One install in ten sends its queries sampled at 0.25: each stands for four.
    expect(queries.count).toBeGreaterThan(queries.received);
    const sampled = dataset.events.filter((e) => e.metadata.sampling_rate === SAMPLING_RATE).length;
    expect(sampled).toBeGreaterThan(0);
    expect(queries.count - queries.received).toBe(sampled * (1 / SAMPLING_RATE - 1));
  });

  it("counts each day, and lists every day of the period", () => {
    expect(report.days.map((d) => d.day)).toEqual(DAYS);
    for (const day of report.days) {
      const exact = expected.days.get(day.day)!;
      expect(day.received).toBe(exact.received);
      expect(day.launches).toBe(exact.launches);
      expect(day.installs).toBe(exact.installs.size);
    }
    const padded = periodReport(tallies(), "2026-11-19", TO);
    expect(padded.days[0]).toEqual({
      day: "2026-11-19",
      events: 0,
      received: 0,
      installs: 0,
      launches: 0,
      sessions: 0,
    });
  });

  it("counts installs by version and OS family, versions newest first", () => {
    expect(report.versions.map((v) => v.app_version)).toEqual([...VERSIONS].reverse());
    for (const version of report.versions) {
      expect(version.installs).toBe(expected.versionInstalls.get(version.app_version)!.size);
    }
    const families = [...new Set(OS_STRINGS.map(([, family]) => family))];
    expect(report.os.map((o) => o.os).sort()).toEqual(families.sort());
    for (const os of report.os) {
      expect(os.installs).toBe(expected.osFamilyInstalls.get(os.os)!.size);
    }
    const windows = report.os.find((o) => o.os === "Windows")!;
    expect(windows.versions.map((v) => v.version).sort()).toEqual(["10", "11"]);
    expect(report.os.find((o) => o.os === "macOS")!.versions).toEqual([expect.objectContaining({ version: "14" })]);
  });

  it("leaves test-client traffic out of every figure, and says how much there was", () => {
    expect(report.client_types.map((c) => c.client_type)).toEqual(["vector-inspector"]);
    expect(report.totals.received).toBe([...expected.days.values()].reduce((sum, d) => sum + d.received, 0));
    expect(report.ingest.test_events).toBe(expected.testEvents);
    expect(report.ingest.lines).toBe(dataset.events.length);
  });

  it("counts sessions and crash-free sessions, in total and by version", () => {
    expect(report.totals.sessions).toBe(expected.sessions);
    expect(report.totals.crashed_sessions).toBe(expected.crashed);
    expect(report.totals.crash_free_sessions).toBeCloseTo(1 - expected.crashed / expected.sessions, 4);
    for (const version of report.versions) expect(version.crash_free_sessions).toBeGreaterThan(0.8);
  });

  it("groups errors: one group per client hash, one per message differing only in numbers and paths", () => {
    const hashed = report.errors.find((e) => e.fingerprint === "client-hash-1")!;
    expect(hashed).toMatchObject({ exception_type: "RuntimeError", received: 12, count: 12 });
    expect(hashed.versions).toEqual([...VERSIONS]);
    const masked = report.errors.filter((e) => e.exception_type === "ValueError");
    expect(masked).toHaveLength(1);
    expect(masked[0]).toMatchObject({ received: 12, first_seen: expect.stringMatching(/^2026-11-22T/) });
    expect(masked[0]!.traceback).toContain("sample_db.py");
    expect(report.errors.find((e) => e.exception_type === "QtError")).toMatchObject({ received: 1 });
    expect(report.errors).toHaveLength(3);
    // Different exception types never share a group.
    expect(new Set(report.errors.map((e) => e.fingerprint)).size).toBe(3);
  });

  it("builds the model registry with load and inference success rates", () => {
    expect(report.models).toHaveLength(1);
    const model = report.models[0]!;
    const registered = Array.from({ length: 300 }, (_, i) => i).filter((i) => i % 5 === 0);
    expect(model).toMatchObject({
      model_name: "all-MiniLM-L6-v2",
      model_source: "sentence-transformers",
      embedding_dimension: 384,
      registrations: registered.length,
      inference_success_rate: 1,
      modalities: { text: registered.length },
      device_types: {
        cuda: registered.filter((i) => i % 10 === 0).length,
        cpu: registered.filter((i) => i % 10 !== 0).length,
      },
    });
    expect(model.load_success_rate).toBeCloseTo(registered.filter((i) => i % 25 !== 0).length / registered.length, 4);
  });

  it("gives percentiles within the sketch's 1% relative accuracy", () => {
    const latency = report.performance.find((p) => p.event_name === "query.executed" && p.field === "latency_ms")!;
    const sampledOut = periodReport(
      tallies(dataset.events.filter((e) => e.metadata.sampling_rate === undefined)),
      FROM,
      TO,
    ).performance.find((p) => p.event_name === "query.executed")!;
    const sorted = [...dataset.expected.latencies].sort((a, b) => a - b);
    for (const [q, key] of [
      [0.5, "p50"],
      [0.95, "p95"],
      [0.99, "p99"],
    ] as const) {
      const exact = sorted[Math.floor(q * (sorted.length - 1))]!;
      expect(Math.abs(sampledOut[key] - exact)).toBeLessThanOrEqual(exact * 0.01 + 1);
    }
    expect(latency.count).toBe(dataset.events.filter((e) => e.event_name === "query.executed").length);
    expect(report.performance.find((p) => p.event_name === "session.end")).toMatchObject({ field: "duration_ms" });
  });

  it("names the database providers with their connection success rate", () => {
    const results = dataset.events.filter(
      (e) => e.event_name === "db.connection_result" && e.client_type !== "unit-tests",
    );
    const successes = results.filter((e) => e.metadata.success === true).length;
    expect(report.db_providers).toEqual([
      {
        db_provider: "chroma",
        connections: results.length,
        success_rate: Math.round((successes / results.length) * 1e4) / 1e4,
      },
    ]);
    expect(successes).toBeGreaterThan(0);
    expect(successes).toBeLessThan(results.length);
  });
});

describe("a rollup", () => {
  it("gives back, read again, the figures it was written from, and merges like one pass over all the events", () => {
    const [first] = tallies();
    const rollup = first!.tally.toRollup({
      day: first!.day,
      updated_at: "2026-11-21T00:00:00.000Z",
      complete: true,
      source: null,
      parts: [],
    });
    expect(dayRollupSchema.parse(JSON.parse(JSON.stringify(rollup)))).toEqual(rollup);
    const again = EventTally.fromRollup(rollup);
    expect(periodReport([{ day: first!.day, tally: again }], FROM, TO)).toEqual(periodReport([first!], FROM, TO));
    // Half the events, written and read back, then the other half: the same as all at once.
    const dayEvents = dataset.events.filter((e) => e.created_at.startsWith(first!.day));
    const half = new EventTally();
    for (const e of dayEvents.slice(0, 500)) half.add(e);
    const resumed = EventTally.fromRollup(
      half.toRollup({
        day: first!.day,
        updated_at: "2026-11-20T12:00:00.000Z",
        complete: false,
        source: null,
        parts: [],
      }),
    );
    for (const e of dayEvents.slice(500)) resumed.add(e);
    expect(periodReport([{ day: first!.day, tally: resumed }], first!.day, first!.day)).toEqual(
      periodReport([first!], first!.day, first!.day),
    );
  });

  it("reports a malformed line by file and line number and counts the rest", () => {
    const tally = new EventTally();
    const good = JSON.stringify(dataset.events[0]);
    const text = [good, "{not json", JSON.stringify({ ...dataset.events[0], hwid: 7 }), "", good, '{"half'].join("\n");
    const result = tallyLines(tally, Buffer.from(text), { path: "telemetry/2026/11/20/0001.ndjson", firstLine: 10 });
    expect(result.malformed).toEqual([
      { path: "telemetry/2026/11/20/0001.ndjson", line: 11, message: "not JSON" },
      { path: "telemetry/2026/11/20/0001.ndjson", line: 12, message: "hwid is missing or not a string" },
    ]);
    // The unfinished last line waits: the bytes taken end at the last newline.
    expect(result.bytes).toBe(text.lastIndexOf("\n") + 1);
    expect(tally.received).toBe(2);
    expect(tally.ingest.malformed).toBe(2);
  });
});

describe("the rollup format", () => {
  it("writes the same bytes for the same events: a day read whole, a day read in two runs, and days merged", async () => {
    const fields = (day: string) => ({
      day,
      updated_at: "2026-12-01T00:00:00.000Z",
      complete: true,
      source: null,
      parts: [{ name: "0001.ndjson", bytes: 1, lines: 1, prefix: "0123456789abcdef", blob: null }],
    });
    const written = (rollup: DayRollup) => dayRollupSchema.parse(JSON.parse(`${JSON.stringify(rollup)}\n`));
    const days = DAYS.map((day) => {
      const tally = new EventTally();
      const text = `${lines(dataset.events.filter((e) => e.created_at.startsWith(day)))}{not json\n`;
      tally.ingest.bytes += tallyLines(tally, Buffer.from(text), { path: day, firstLine: 1 }, { final: true }).bytes;
      tally.ingest.parts = 1;
      return tally.toRollup(fields(day));
    });
    const dayEvents = dataset.events.filter((e) => e.created_at.startsWith(FROM));
    const half = new EventTally();
    for (const e of dayEvents.slice(0, 500)) half.add(e);
    const resumed = EventTally.fromRollup(written(half.toRollup(fields(FROM))));
    for (const e of dayEvents.slice(500)) resumed.add(e);
    const merged = new EventTally();
    for (const rollup of days) merged.merge(EventTally.fromRollup(written(rollup)));
    const rollups = [...days, resumed.toRollup(fields(FROM)), merged.toRollup(fields(FROM))];
    await expect(`${JSON.stringify(rollups, null, 2)}\n`).toMatchFileSnapshot("./fixtures/day-rollups.json");
  });
});

describe("a day's rollup, read from its files", () => {
  it("goes on where the deadline stopped it, and ends with the figures of one pass over the day", async () => {
    const day = FROM;
    const dayEvents = dataset.events.filter((e) => e.created_at.startsWith(day));
    const dir = await dataFolder(dayFiles(dayEvents, { parts: 6 }));
    try {
      const files = new LocalFiles(dir);
      const source = daySources("2026-11", await files.list("telemetry/2026/11", { deadline: Infinity })).get(day)!;
      // A clock on which every look at the time costs a second: the run's budget ends after a few parts.
      let now = Date.parse("2026-12-01T00:00:00Z");
      const clock = { now: () => (now += 1000), sleep: async () => {}, timeout: () => new AbortController().signal };
      const first = await rollUpDay(files, source, undefined, { deadline: now + 4000, clock });
      expect(first.caughtUp).toBe(false);
      expect(first.filesRead).toBeGreaterThan(0);
      expect(first.filesRead).toBeLessThan(6);
      expect(first.rollup.source).toBeNull();
      let previous = first.rollup;
      let runs = 1;
      for (let read = first; !read.caughtUp; runs += 1) {
        read = await rollUpDay(files, source, previous, { deadline: now + 4000, clock });
        previous = read.rollup;
      }
      expect(runs).toBeGreaterThan(1);
      expect(previous.parts.map((p) => p.name)).toEqual([
        "20/0001.ndjson",
        "20/0002.ndjson",
        "20/0003.ndjson",
        "20/0004.ndjson",
        "20/0005.ndjson",
        "20/0006.ndjson",
      ]);
      const whole = new EventTally();
      for (const event of dayEvents) whole.add(event);
      const report = periodReport([{ day, tally: EventTally.fromRollup(previous) }], day, day);
      expect({ ...report, ingest: { ...report.ingest, bytes: 0, parts: 0 } }).toEqual(
        (({ ingest, ...rest }) => ({ ...rest, ingest: { ...ingest, bytes: 0, parts: 0 } }))(
          periodReport([{ day, tally: whole }], day, day),
        ),
      );
      expect(previous.complete).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("the days of a period, read from their files", () => {
  const clock = {
    now: () => Date.parse("2026-12-01T00:00:00Z"),
    sleep: async () => {},
    timeout: () => new AbortController().signal,
  };

  it("stops at a day whose files are gone and whose rollup is of an older format, and says which", async () => {
    const older = { version: 2, day: "2026-11-19", totals: { installs: "AQ4=" } };
    const dir = await dataFolder(
      new Map([...dayFiles(dataset.events), ["rollups/2026/2026-11-19.json", JSON.stringify(older)]]),
    );
    try {
      const read = tallyDays(new LocalFiles(dir), {
        prefix: "telemetry",
        from: "2026-11-19",
        to: TO,
        clock,
      });
      await expect(read).rejects.toThrow(
        /rollups\/2026\/2026-11-19\.json is a rollup of format version 2 \(this release reads \d+\), and its day's files are gone/,
      );
      // A period without that day is reported from its files.
      const later = await tallyDays(new LocalFiles(dir), {
        prefix: "telemetry",
        from: FROM,
        to: TO,
        clock,
      });
      expect(later.days.map((d) => d.day)).toEqual(DAYS);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("counts each day's parts as one pass over its events, and names a malformed line by file and line", async () => {
    const files = dayFiles(dataset.events, { parts: 3 });
    const broken = "telemetry/2026/11/21/0002.ndjson";
    files.set(broken, `{not json\n${files.get(broken)}`);
    const dir = await dataFolder(files);
    try {
      const read = await tallyDays(new LocalFiles(dir), {
        prefix: "telemetry",
        from: FROM,
        to: TO,
        clock,
      });
      expect(read.days.map((d) => d.day)).toEqual(DAYS);
      expect(read.malformed).toEqual([{ path: broken, line: 1, message: "not JSON" }]);
      expect(read.filesRead).toBe(9);
      expect(read.bytesRead).toBe([...files.values()].reduce((sum, text) => sum + Buffer.byteLength(text), 0));
      const report = periodReport(read.days, FROM, TO);
      expect(report.ingest).toMatchObject({ parts: 9, malformed: 1, bytes: read.bytesRead });
      const withoutIngest = ({ ingest: _, ...figures }: PeriodReport) => figures;
      expect(withoutIngest(report)).toEqual(withoutIngest(periodReport(tallies(), FROM, TO)));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
